//! Sending one logical call: bearer token, one re-authentication on a 401, retries by policy, timeouts,
//! and the mapping of answers to [`LmsError`]. Log lines name the endpoint template, never the concrete
//! path, because paths carry MSISDNs.

use std::time::{Duration, Instant};

use bytes::Bytes;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::{header, Method};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use super::error::LmsError;
use super::retry::{Decision, Idempotency};
use super::{transport_error, LmsClient};

/// Everything but RFC 3986 unreserved characters is escaped in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

pub(super) fn segment(raw: &str) -> String {
    utf8_percent_encode(raw, SEGMENT).to_string()
}

/// One logical API call, resent as is on every attempt.
pub(super) struct Call {
    pub method: Method,
    /// The route template for logs and metrics, e.g. `GET /v1/loans/external/{id}`.
    pub endpoint: &'static str,
    /// The concrete path under the API base, segments already encoded.
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<serde_json::Value>,
    pub idempotency: Idempotency,
}

impl Call {
    pub fn get(endpoint: &'static str, path: String) -> Self {
        Self { method: Method::GET, endpoint, path, query: Vec::new(), body: None, idempotency: Idempotency::Safe }
    }

    pub fn post(endpoint: &'static str, path: String, body: serde_json::Value) -> Self {
        Self {
            method: Method::POST,
            endpoint,
            path,
            query: Vec::new(),
            body: Some(body),
            idempotency: Idempotency::Safe,
        }
    }

    pub fn query(mut self, key: &'static str, value: impl ToString) -> Self {
        self.query.push((key, value.to_string()));
        self
    }
}

/// Decodes an answer. A failure names the endpoint and the field path (`items[0].nextDueDate`) and the
/// kind of error, never a value: serde's own messages quote the offending text, which can be an MSISDN.
pub(super) fn decode<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T, LmsError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let kind = match inner.classify() {
            serde_json::error::Category::Data => "unexpected value or missing field",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Eof => "truncated body",
            serde_json::error::Category::Io => "read error",
        };
        let what = if inner.to_string().starts_with("missing field") { "missing field" } else { kind };
        LmsError::Decode { endpoint: endpoint.to_owned(), detail: format!("field `{path}`: {what}") }
    })
}

impl LmsClient {
    /// Runs `call` and decodes a 2xx body as `T`.
    pub(super) async fn json<T: DeserializeOwned>(&self, call: &Call) -> Result<T, LmsError> {
        let body = self.execute(call).await?;
        decode(call.endpoint, &body)
    }

    /// Runs `call` with retries, inside one `lms` span; returns the body of the first 2xx answer.
    pub(super) async fn execute(&self, call: &Call) -> Result<Bytes, LmsError> {
        let span = tracing::info_span!("lms", endpoint = call.endpoint);
        self.with_retries(call).instrument(span).await
    }

    async fn with_retries(&self, call: &Call) -> Result<Bytes, LmsError> {
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            let error = match self.authenticated(call).await {
                Ok(body) => return Ok(body),
                Err(error) => error,
            };
            let retry_after = match &error {
                LmsError::Unavailable { retry_after, .. } => *retry_after,
                _ => None,
            };
            let decision =
                self.inner.policy.decide(error.code(), retry_after, attempt, call.idempotency, rand::random::<f64>());
            let delay = match decision {
                Decision::RetryAfter(delay) if self.within_budget(started, delay) => delay,
                _ => {
                    tracing::warn!(endpoint = call.endpoint, attempt, code = error.label(), %error, "LMS call failed");
                    return Err(error);
                }
            };
            tracing::info!(endpoint = call.endpoint, attempt, code = error.label(), ?delay, "retrying LMS call");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn within_budget(&self, started: Instant, delay: Duration) -> bool {
        self.budget.is_none_or(|budget| started.elapsed() + delay < budget)
    }

    /// One attempt, plus exactly one resend with a new token if the API answered 401.
    async fn authenticated(&self, call: &Call) -> Result<Bytes, LmsError> {
        let tokens = &self.inner.tokens;
        let token = tokens.get().await?;
        match self.send(call, &token.bearer()).await {
            Err(LmsError::Unauthenticated { .. }) => {
                tracing::info!(
                    endpoint = call.endpoint,
                    "LMS refused the token; fetching a new one and resending once"
                );
                let fresh = tokens.replace(token.generation).await?;
                self.send(call, &fresh.bearer()).await
            }
            other => other,
        }
    }

    /// One HTTP attempt, its outcome noted for readiness.
    async fn send(&self, call: &Call, bearer: &str) -> Result<Bytes, LmsError> {
        let outcome = self.attempt(call, bearer).await;
        self.inner.health.record(call.endpoint, outcome.as_ref().err());
        outcome
    }

    async fn attempt(&self, call: &Call, bearer: &str) -> Result<Bytes, LmsError> {
        // The query is encoded into the URL text here (as `RequestBuilder::query` would), so the URL is
        // parsed once rather than parsed, re-serialised and parsed again.
        let mut url = format!("{}{}", self.inner.api_base_url, call.path);
        if !call.query.is_empty() {
            url.push('?');
            let start = url.len();
            let mut query = form_urlencoded::Serializer::for_suffix(url, start);
            query.extend_pairs(call.query.iter().map(|(k, v)| (*k, v.as_str())));
            url = query.finish();
        }
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), url)
            .header(header::AUTHORIZATION, bearer)
            .header(header::ACCEPT, "application/json")
            .timeout(self.timeout);
        if let Some(body) = &call.body {
            // serde_json renders Decimal-backed numbers as their exact text (arbitrary_precision).
            let bytes = serde_json::to_vec(body)
                .map_err(|e| LmsError::Decode { endpoint: call.endpoint.into(), detail: e.to_string() })?;
            request = request.header(header::CONTENT_TYPE, "application/json").body(bytes);
        }
        let started = Instant::now();
        let metrics = &self.inner.metrics;
        let failed = |e: reqwest::Error| {
            let error = transport_error(call.endpoint.to_owned(), self.timeout, e);
            let code = if matches!(error, LmsError::Timeout { .. }) { "timeout" } else { "transport" };
            metrics.lms_attempt(call.endpoint, code, false, started.elapsed());
            error
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.map_err(failed)?;
        metrics.lms_attempt(call.endpoint, status.as_str(), status.is_success(), started.elapsed());
        tracing::debug!(
            endpoint = call.endpoint,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "LMS answered"
        );
        if status.is_success() {
            Ok(body)
        } else {
            Err(LmsError::from_response(status.as_u16(), &body, retry_after))
        }
    }
}
