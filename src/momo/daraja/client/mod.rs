//! The Daraja API client (docs/money.md): one `reqwest::Client`, one OAuth token
//! cache, typed bodies, and a pure classification of every answer into what the state machines need.
//!
//! Every call sends at most twice: once, and once more only when Daraja says the token was invalid
//! (a request refused for its token was not accepted). Nothing here retries on its own; in particular
//! an ambiguous B2C request is never resent, because Daraja does not deduplicate
//! `OriginatorConversationID`.

mod collection;
mod error;
mod payout;
mod token;

#[cfg(test)]
mod tests_collection;
#[cfg(test)]
mod tests_payout;
#[cfg(test)]
mod tests_support;
#[cfg(test)]
mod tests_token;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

pub use collection::{CollectionSubmit, StkQuery};
pub use error::DarajaError;
pub use payout::{PayoutSubmit, StatusSubmit};

use self::error::Answer;
use self::token::Tokens;
use super::settings::DarajaSettings;
use super::urls::CallbackUrls;
use crate::domain::clock::Clock;

/// The settings the calls need, resolved once.
struct Config {
    base_url: String,
    shortcode: String,
    b2c_shortcode: String,
    initiator_name: String,
    security_credential: SecretString,
    stk_shortcode: String,
    stk_passkey: SecretString,
    currency: String,
    timeout: Duration,
}

struct Inner {
    http: reqwest::Client,
    tokens: Tokens,
    urls: CallbackUrls,
    config: Config,
    clock: Clock,
}

/// Cheap to clone; clones share the connection pool and the token.
#[derive(Clone)]
pub struct DarajaClient {
    inner: Arc<Inner>,
}

impl DarajaClient {
    /// Builds the client. Fails when a callback URL would contain a word Daraja rejects (the startup
    /// check of docs/money.md) or the HTTP client cannot be set up.
    pub fn new(settings: &DarajaSettings, clock: Clock) -> Result<Self, DarajaError> {
        let urls = CallbackUrls::new(&settings.callback_base_url, &settings.path_token)?;
        let http = reqwest::Client::builder()
            .connect_timeout(settings.request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("mkopo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DarajaError::Setup(e.to_string()))?;
        let base_url = settings.base_url.trim_end_matches('/').to_owned();
        let tokens = Tokens::new(
            http.clone(),
            format!("{base_url}/oauth/v1/generate?grant_type=client_credentials"),
            settings.consumer_key.clone(),
            settings.consumer_secret.clone(),
            settings.request_timeout,
            clock.clone(),
        );
        let config = Config {
            base_url,
            shortcode: settings.shortcode.clone(),
            b2c_shortcode: settings.b2c_shortcode.clone(),
            initiator_name: settings.initiator_name.clone(),
            security_credential: settings.security_credential.clone(),
            stk_shortcode: settings.stk_shortcode.clone(),
            stk_passkey: settings.stk_passkey.clone(),
            currency: settings.currency.clone(),
            timeout: settings.request_timeout,
        };
        Ok(Self { inner: Arc::new(Inner { http, tokens, urls, config, clock }) })
    }

    /// How many OAuth requests this client has sent (metrics and tests).
    pub fn token_fetch_count(&self) -> u64 {
        self.inner.tokens.fetch_count()
    }

    /// Obtains a token if none is cached: the readiness probe's Daraja check.
    pub async fn check_token(&self) -> Result<(), DarajaError> {
        self.inner.tokens.get().await.map(|_| ())
    }

    /// Registers the C2B validation and confirmation URLs for the paybill (docs/money.md), once per
    /// shortcode. `ResponseType` is `Completed`: if validation cannot be reached, the payment goes through.
    #[tracing::instrument(name = "daraja.register_c2b_urls", skip_all)]
    pub async fn register_c2b_urls(&self) -> Result<(), DarajaError> {
        use super::urls::CallbackPath;
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Register<'a> {
            short_code: &'a str,
            response_type: &'a str,
            #[serde(rename = "ConfirmationURL")]
            confirmation_url: String,
            #[serde(rename = "ValidationURL")]
            validation_url: String,
        }
        let body = Register {
            short_code: &self.inner.config.shortcode,
            response_type: "Completed",
            confirmation_url: self.inner.urls.url(CallbackPath::C2bConfirmation),
            validation_url: self.inner.urls.url(CallbackPath::C2bValidation),
        };
        const ENDPOINT: &str = "POST /mpesa/c2b/v1/registerurl";
        let answer = self.post(ENDPOINT, "/mpesa/c2b/v1/registerurl", &body).await?;
        match answer.response_code() {
            Some(code) if code == "0" && answer.is_success() => Ok(()),
            _ => Err(answer.into_error(ENDPOINT)),
        }
    }

    /// One POST with the cached token, repeated once with a new token if Daraja refused the token.
    async fn post<B: Serialize>(&self, endpoint: &'static str, path: &str, body: &B) -> Result<Answer, DarajaError> {
        let bytes = serde_json::to_vec(body).map_err(|e| DarajaError::Setup(format!("{endpoint} body: {e}")))?;
        let token = self.inner.tokens.get().await.map_err(DarajaError::token)?;
        let answer = self.send(endpoint, path, &bytes, &token.value).await?;
        if !answer.is_invalid_token() {
            return Ok(answer);
        }
        tracing::info!(endpoint, "Daraja refused the access token; fetching a new one and sending once more");
        let fresh = self.inner.tokens.replace(token.generation).await.map_err(DarajaError::token)?;
        self.send(endpoint, path, &bytes, &fresh.value).await
    }

    async fn send(
        &self,
        endpoint: &'static str,
        path: &str,
        body: &[u8],
        token: &SecretString,
    ) -> Result<Answer, DarajaError> {
        let config = &self.inner.config;
        let started = Instant::now();
        let response = self
            .inner
            .http
            .post(format!("{}{path}", config.base_url))
            .bearer_auth(token.expose_secret())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .timeout(config.timeout)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| DarajaError::from_reqwest(endpoint, config.timeout, e))?;
        let status = response.status().as_u16();
        let body: Bytes = response.bytes().await.map_err(|e| DarajaError::from_reqwest(endpoint, config.timeout, e))?;
        tracing::debug!(endpoint, status, elapsed_ms = started.elapsed().as_millis() as u64, "Daraja answered");
        Ok(Answer { status, body })
    }
}
