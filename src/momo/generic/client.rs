//! The gateway's client of a generic wallet (docs/money.md): submit a payout or a
//! collection under our reference, and look a reference up.
//!
//! Answers are classified by the pure functions in [`super::classify`], exactly per the table in docs/money.md;
//! this file only moves bytes. One span per call names the route template and our reference, never
//! the subscriber's number, and the API key is only ever exposed into the `Authorization` header.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::{header, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use tracing::Instrument;

use super::classify::{classify_status, classify_submit, describe, transport_failure};
use super::settings::GenericWalletSettings;
use super::wire::{CollectionRequest, PayoutRequest, RequestError};
use crate::momo::wallet::{StatusAnswer, SubmitResult, WalletApi};
use crate::momo::{Direction, OutboundRequest, Outcome, Provider, Reference};

/// Wallet answers are one small JSON object; anything longer is not one and is not read further.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct GenericWalletClient {
    http: reqwest::Client,
    wallet: String,
    base_url: String,
    api_key: SecretString,
    timeout: Duration,
}

/// What one HTTP exchange produced, before classification.
enum Exchange {
    Answered { status: StatusCode, body: Option<Vec<u8>> },
    Failed(reqwest::Error),
}

impl GenericWalletClient {
    /// `wallet` is the configured wallet name: the dedupe namespace and the label in logs.
    pub fn new(wallet: impl Into<String>, settings: &GenericWalletSettings) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("mkopo/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            wallet: wallet.into(),
            base_url: settings.base_url.trim().trim_end_matches('/').to_owned(),
            api_key: settings.api_key.clone(),
            timeout: settings.request_timeout,
        })
    }

    pub fn wallet(&self) -> &str {
        &self.wallet
    }

    pub fn provider(&self) -> Provider {
        Provider::Generic { wallet: self.wallet.clone() }
    }

    /// `POST /payouts` or `POST /collections`, by the request's direction, classified per docs/money.md.
    /// A request with no valid wire form is not sent and comes back `Rejected` with code `not_sent`.
    pub async fn submit(&self, request: &OutboundRequest) -> SubmitResult {
        let (route, path) = match request.direction {
            Direction::Payout => ("POST /payouts", "/payouts"),
            Direction::Collection => ("POST /collections", "/collections"),
        };
        let span = tracing::info_span!(
            "wallet",
            wallet = %self.wallet,
            route,
            reference = %request.reference,
            http_status = tracing::field::Empty,
        );
        async {
            let body = match request_body(request) {
                Ok(body) => body,
                Err(message) => {
                    tracing::error!(message, "wallet request not sent: it has no valid wire form");
                    return SubmitResult::Rejected { code: "not_sent".into(), message };
                }
            };
            let exchange = self
                .send(self.http.post(self.url(path)).body(body).header(header::CONTENT_TYPE, "application/json"))
                .await;
            let result = match exchange {
                Exchange::Answered { status, body } => {
                    if status == StatusCode::UNAUTHORIZED {
                        // Retried like a 429, but no retry fixes a wrong key: the operator must.
                        tracing::error!("wallet refused our API key: check the configured api_key");
                    }
                    classify_submit(status.as_u16(), body.as_deref(), request)
                }
                Exchange::Failed(error) => transport_failure(&error),
            };
            log_submit(&result);
            result
        }
        .instrument(span)
        .await
    }

    /// `GET /transactions/{reference}`, classified per docs/money.md.
    pub async fn status(&self, reference: &Reference) -> StatusAnswer {
        let span = tracing::info_span!(
            "wallet",
            wallet = %self.wallet,
            route = "GET /transactions/{reference}",
            reference = %reference,
            http_status = tracing::field::Empty,
        );
        async {
            // Our references are letters and digits only: nothing to escape in the path.
            let path = format!("/transactions/{reference}");
            let answer = match self.send(self.http.get(self.url(&path))).await {
                Exchange::Answered { status, body } => classify_status(status.as_u16(), body.as_deref(), reference),
                Exchange::Failed(error) => StatusAnswer::Unclear(describe(&error)),
            };
            match &answer {
                StatusAnswer::Found(outcome) => tracing::info!(outcome = label(outcome), "wallet status"),
                StatusAnswer::NotFound => {
                    tracing::info!("wallet has no such transaction: re-submit the same reference")
                }
                StatusAnswer::Unclear(why) => tracing::warn!(why, "wallet status unclear"),
            }
            answer
        }
        .instrument(span)
        .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends with the bearer key and the per-request timeout, and reads a bounded body.
    async fn send(&self, request: reqwest::RequestBuilder) -> Exchange {
        let started = Instant::now();
        let sent = request
            .bearer_auth(self.api_key.expose_secret())
            .header(header::ACCEPT, "application/json")
            .timeout(self.timeout)
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => return Exchange::Failed(error),
        };
        let status = response.status();
        tracing::Span::current().record("http_status", status.as_u16());
        let mut body = Vec::new();
        let complete = loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() <= MAX_RESPONSE_BYTES => body.extend_from_slice(&chunk),
                Ok(Some(_)) => break false,
                Ok(None) => break true,
                // A reset or a timeout mid-body: the status stands, the body is unknown.
                Err(_) => break false,
            }
        };
        tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "wallet answered");
        Exchange::Answered { status, body: complete.then_some(body) }
    }
}

fn request_body(request: &OutboundRequest) -> Result<Vec<u8>, String> {
    let encoded = match request.direction {
        Direction::Payout => PayoutRequest::from_outbound(request).map(|b| serde_json::to_vec(&b)),
        Direction::Collection => CollectionRequest::from_outbound(request).map(|b| serde_json::to_vec(&b)),
    };
    // Serialising these string-only DTOs cannot fail; it is mapped anyway rather than unwrapped.
    encoded.map_err(|e: RequestError| e.to_string())?.map_err(|e| e.to_string())
}

fn log_submit(result: &SubmitResult) {
    match result {
        SubmitResult::Accepted(outcome) => tracing::info!(outcome = label(outcome), "wallet accepted the request"),
        SubmitResult::Rejected { code, message } => tracing::warn!(code, message, "wallet rejected the request"),
        SubmitResult::RetryLater { why } => tracing::warn!(why, "wallet asked us to retry later"),
        SubmitResult::Unknown { why } => tracing::error!(why, "wallet outcome unknown: resolve by status query"),
    }
}

/// The outcome for a log line: its kind and failure code, never the wallet's free text (which may
/// quote a subscriber's number).
fn label(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Succeeded { .. } => "succeeded",
        Outcome::Failed { code, .. } => code,
        Outcome::Pending => "pending",
        Outcome::Unknown { .. } => "unknown",
    }
}

#[async_trait]
impl WalletApi for GenericWalletClient {
    fn name(&self) -> &str {
        &self.wallet
    }

    async fn submit(&self, request: &OutboundRequest) -> SubmitResult {
        GenericWalletClient::submit(self, request).await
    }

    async fn status(&self, request: &OutboundRequest) -> StatusAnswer {
        GenericWalletClient::status(self, &request.reference).await
    }
}
