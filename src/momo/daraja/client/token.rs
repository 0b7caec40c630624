//! The OAuth token cache (docs/money.md). `GET /oauth/v1/generate?grant_type=client_credentials`
//! with Basic `consumerKey:consumerSecret` answers `{"access_token":"…","expires_in":"3599"}` — note
//! `expires_in` is a string.
//!
//! One async mutex guards the cache and is held across the fetch, so concurrent callers coalesce into
//! one request and every waiter re-checks the cache after the lock (the stampede the house style warns of).
//! A token is refreshed 60 s before it expires.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::error::DarajaError;
use crate::domain::clock::Clock;
use crate::telemetry::redact_digits;

const ENDPOINT: &str = "GET /oauth/v1/generate";
const REFRESH_MARGIN: TimeDelta = TimeDelta::seconds(60);
/// Used if Daraja ever omits or garbles `expires_in`: its tokens live an hour.
const DEFAULT_LIFETIME_SECS: i64 = 3599;

/// A token; the value is secret, so no `Debug`.
pub(super) struct AccessToken {
    pub value: SecretString,
    pub generation: u64,
    refresh_at: DateTime<Utc>,
}

#[derive(Default)]
struct State {
    current: Option<Arc<AccessToken>>,
    generation: u64,
}

pub(super) struct Tokens {
    http: reqwest::Client,
    url: String,
    key: SecretString,
    secret: SecretString,
    timeout: Duration,
    clock: Clock,
    state: tokio::sync::Mutex<State>,
    fetches: AtomicU64,
}

impl Tokens {
    pub fn new(
        http: reqwest::Client,
        url: String,
        key: SecretString,
        secret: SecretString,
        timeout: Duration,
        clock: Clock,
    ) -> Self {
        Self { http, url, key, secret, timeout, clock, state: Default::default(), fetches: AtomicU64::new(0) }
    }

    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A token that is not within 60 s of expiry, fetched if needed.
    pub async fn get(&self) -> Result<Arc<AccessToken>, DarajaError> {
        let mut state = self.state.lock().await;
        if let Some(token) = &state.current {
            if self.clock.now() < token.refresh_at {
                return Ok(Arc::clone(token));
            }
        }
        self.fetch_into(&mut state).await
    }

    /// Called when Daraja refused the token of `failed_generation`. If another caller already replaced
    /// it, that newer token is used instead of fetching again.
    pub async fn replace(&self, failed_generation: u64) -> Result<Arc<AccessToken>, DarajaError> {
        let mut state = self.state.lock().await;
        if let Some(token) = &state.current {
            if token.generation != failed_generation && self.clock.now() < token.refresh_at {
                return Ok(Arc::clone(token));
            }
        }
        self.fetch_into(&mut state).await
    }

    async fn fetch_into(&self, state: &mut State) -> Result<Arc<AccessToken>, DarajaError> {
        let (value, lifetime) = self.fetch().await?;
        let lifetime = TimeDelta::seconds(lifetime);
        // A short-lived token is renewed halfway rather than on every call.
        let usable_for = if lifetime > REFRESH_MARGIN * 2 { lifetime - REFRESH_MARGIN } else { lifetime / 2 };
        state.generation += 1;
        let token =
            Arc::new(AccessToken { value, generation: state.generation, refresh_at: self.clock.now() + usable_for });
        state.current = Some(Arc::clone(&token));
        tracing::info!(generation = token.generation, refresh_at = %token.refresh_at, "obtained a Daraja access token");
        Ok(token)
    }

    async fn fetch(&self) -> Result<(SecretString, i64), DarajaError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let response = self
            .http
            .get(&self.url)
            .basic_auth(self.key.expose_secret(), Some(self.secret.expose_secret()))
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| DarajaError::from_reqwest(ENDPOINT, self.timeout, e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| DarajaError::from_reqwest(ENDPOINT, self.timeout, e))?;
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        if !(200..300).contains(&status) {
            let detail = json
                .as_ref()
                .and_then(|v| v.get("errorMessage").or_else(|| v.get("resultDesc")))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned());
            tracing::error!(status, "Daraja refused the OAuth request: check daraja.consumer_key and consumer_secret");
            return Err(DarajaError::Auth { status, detail: redact_digits(&detail) });
        }
        let json = json.ok_or(DarajaError::Decode { endpoint: ENDPOINT, detail: "not JSON".into() })?;
        let token = json
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or(DarajaError::Decode { endpoint: ENDPOINT, detail: "no access_token".into() })?;
        let lifetime = match json.get("expires_in") {
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            Some(Value::Number(n)) => n.to_string().parse::<i64>().ok(),
            _ => None,
        }
        .filter(|secs| *secs > 0)
        .unwrap_or_else(|| {
            tracing::warn!("Daraja token answer without a readable expires_in; assuming one hour");
            DEFAULT_LIFETIME_SECS
        });
        Ok((SecretString::from(token.to_owned()), lifetime))
    }
}
