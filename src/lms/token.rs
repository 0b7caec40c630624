//! The LMS bearer token: fetched with HTTP Basic from the auth host, refreshed before it expires, shared
//! by every caller, and replaced exactly once when the API says it is no longer valid (docs/lms.md).
//!
//! * Single flight: one token request per process at a time; concurrent callers wait for its result.
//! * Proactive: inside the refresh margin a background refresh starts while callers keep the current
//!   token; near expiry (or with no token) callers wait for the new one.
//! * Reactive: a 401 replaces the token only if the failed call used the current generation, so a burst
//!   of 401s causes one refresh.
//! * A 401 from the auth host means bad credentials: it is not retried more than once a minute.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::error::LmsError;
use crate::domain::clock::Clock;

/// How long a credentials rejection from the auth host is remembered before we ask again.
const REJECTION_BACKOFF: Duration = Duration::from_secs(60);
/// Past `exp` minus this, callers wait for a new token rather than use the old one.
const HARD_EDGE: TimeDelta = TimeDelta::seconds(30);

pub struct TokenSettings {
    pub token_url: String,
    pub email: String,
    pub password: SecretString,
    pub margin: Duration,
    pub fallback_age: Duration,
    pub timeout: Duration,
    pub metrics: crate::metrics::Metrics,
}

/// A token and the moments at which it should be renewed. The value is secret: no `Debug`.
pub struct Token {
    value: SecretString,
    pub generation: u64,
    /// From here on a background refresh starts.
    refresh_at: DateTime<Utc>,
    /// From here on callers wait for a new token.
    expires_at: DateTime<Utc>,
}

impl Token {
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.value.expose_secret())
    }
}

#[derive(Default)]
struct State {
    current: Option<Arc<Token>>,
    generation: u64,
    rejected: Option<(Instant, String)>,
}

enum Want {
    /// Any token that is not about to expire.
    Usable,
    /// A token outside the refresh margin (background refresh).
    Fresh,
    /// A token other than the given generation (after a 401).
    Replace(u64),
}

pub struct TokenProvider {
    http: reqwest::Client,
    settings: TokenSettings,
    clock: Clock,
    state: Mutex<State>,
    refresh_lock: tokio::sync::Mutex<()>,
    background: AtomicBool,
    fetches: AtomicU64,
}

impl TokenProvider {
    pub fn new(http: reqwest::Client, settings: TokenSettings, clock: Clock) -> Arc<Self> {
        Arc::new(Self {
            http,
            settings,
            clock,
            state: Mutex::default(),
            refresh_lock: tokio::sync::Mutex::new(()),
            background: AtomicBool::new(false),
            fetches: AtomicU64::new(0),
        })
    }

    /// How many token requests this provider has sent (for metrics and tests).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A token to send now. Inside the margin it also starts a background refresh.
    pub async fn get(self: &Arc<Self>) -> Result<Arc<Token>, LmsError> {
        let now = self.clock.now();
        if let Some(token) = self.current() {
            if now < token.refresh_at {
                return Ok(token);
            }
            if now < token.expires_at {
                self.spawn_background_refresh();
                return Ok(token);
            }
        }
        self.refresh(Want::Usable).await
    }

    /// Called after a 401 from the API host with the generation the failed call used.
    pub async fn replace(self: &Arc<Self>, failed_generation: u64) -> Result<Arc<Token>, LmsError> {
        self.refresh(Want::Replace(failed_generation)).await
    }

    /// Fetches a new token now unless one is being fetched (scheduled rotation).
    pub async fn rotate(self: &Arc<Self>) -> Result<Arc<Token>, LmsError> {
        let generation = self.current().map_or(0, |t| t.generation);
        self.refresh(Want::Replace(generation)).await
    }

    fn current(&self) -> Option<Arc<Token>> {
        self.state.lock().expect("token state lock").current.clone()
    }

    fn spawn_background_refresh(self: &Arc<Self>) {
        if self.background.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(error) = this.refresh(Want::Fresh).await {
                tracing::warn!(%error, "background LMS token refresh failed; the current token stays in use");
            }
            this.background.store(false, Ordering::Release);
        });
    }

    async fn refresh(&self, want: Want) -> Result<Arc<Token>, LmsError> {
        let _flight = self.refresh_lock.lock().await;
        // Another caller may have refreshed while we waited for the lock.
        if let Some(token) = self.current() {
            let now = self.clock.now();
            let satisfied = match want {
                Want::Usable => now < token.expires_at,
                Want::Fresh => now < token.refresh_at,
                Want::Replace(generation) => token.generation != generation && now < token.expires_at,
            };
            if satisfied {
                return Ok(token);
            }
        }
        if let Some((at, message)) = &self.state.lock().expect("token state lock").rejected {
            if at.elapsed() < REJECTION_BACKOFF {
                return Err(LmsError::Unauthenticated {
                    message: format!("{message} (not asking again for {REJECTION_BACKOFF:?})"),
                });
            }
        }
        let value = self.fetch().await;
        self.settings.metrics.token_refresh(value.is_ok());
        let token = self.install(value?);
        tracing::info!(generation = token.generation, refresh_at = %token.refresh_at, "obtained LMS token");
        Ok(token)
    }

    async fn fetch(&self) -> Result<SecretString, LmsError> {
        let s = &self.settings;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let endpoint = "GET /v1/auth/token".to_owned();
        let response = self
            .http
            .get(&s.token_url)
            .basic_auth(&s.email, Some(s.password.expose_secret()))
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(s.timeout)
            .send()
            .await
            .map_err(|source| super::transport_error(endpoint.clone(), s.timeout, source))?;
        let status = response.status();
        let body =
            response.bytes().await.map_err(|source| super::transport_error(endpoint.clone(), s.timeout, source))?;
        if !status.is_success() {
            let error = LmsError::from_response(status.as_u16(), &body, None);
            if status.as_u16() == 401 {
                tracing::error!("the LMS auth host refused the partner credentials: check lms.partner_email and lms.partner_password");
                self.state.lock().expect("token state lock").rejected = Some((Instant::now(), error.to_string()));
            }
            return Err(error);
        }
        #[derive(Deserialize)]
        struct TokenBody {
            token: String,
        }
        let parsed: TokenBody = serde_json::from_slice(&body)
            .map_err(|e| LmsError::Decode { endpoint, detail: format!("token body: {e}") })?;
        Ok(SecretString::from(parsed.token))
    }

    fn install(&self, value: SecretString) -> Arc<Token> {
        let now = self.clock.now();
        let (refresh_at, expires_at) = match read_claims(value.expose_secret()) {
            Some(Claims { exp: Some(exp), iat }) => {
                let exp = DateTime::from_timestamp(exp, 0).unwrap_or(now);
                let iat = iat.and_then(|i| DateTime::from_timestamp(i, 0)).unwrap_or(now).min(exp);
                let lifetime = exp - iat;
                let margin = TimeDelta::from_std(self.settings.margin).unwrap_or(TimeDelta::MAX).min(lifetime / 2);
                (exp - margin, exp - HARD_EDGE.min(lifetime / 4))
            }
            _ => {
                tracing::warn!("LMS token has no readable `exp`; refreshing it by age (lms.token_max_age_fallback)");
                let age = TimeDelta::from_std(self.settings.fallback_age).unwrap_or(TimeDelta::days(1));
                (now + age, now + age)
            }
        };
        let mut state = self.state.lock().expect("token state lock");
        state.generation += 1;
        state.rejected = None;
        let token = Arc::new(Token { value, generation: state.generation, refresh_at, expires_at });
        state.current = Some(Arc::clone(&token));
        token
    }
}

#[derive(Debug, Deserialize, PartialEq)]
struct Claims {
    exp: Option<i64>,
    iat: Option<i64>,
}

/// Reads `exp` and `iat` from a JWT's payload without verifying it (no JWKS is published).
fn read_claims(jwt: &str) -> Option<Claims> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_read_from_the_payload_segment() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"iss":"service-project","iat":1779659075,"exp":1811195075,"roles":["ADMIN"]}"#);
        let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.sig");
        assert_eq!(read_claims(&jwt), Some(Claims { exp: Some(1811195075), iat: Some(1779659075) }));
    }

    #[test]
    fn opaque_tokens_have_no_claims() {
        assert_eq!(read_claims("not-a-jwt"), None);
        assert_eq!(read_claims("a.!!!.c"), None);
    }
}
