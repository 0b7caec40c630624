//! Settings of one generic wallet (`[wallets.<name>]` or similar; the caller picks the section).
//! Secrets are `SecretString`; [`GenericWalletSettings::validate`] words every problem for the operator.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::momo::signature::{SecretError, WebhookSecret, DEFAULT_TOLERANCE_SECS};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericWalletSettings {
    /// The wallet's API base URL, e.g. `https://wallet.example.com/v1`; a trailing slash is dropped.
    pub base_url: String,
    /// Sent as `Authorization: Bearer <api_key>`.
    pub api_key: SecretString,
    /// `whsec_…` secrets that may sign callbacks; several while a rotation is in progress.
    pub webhook_secrets: Vec<SecretString>,
    /// Allowed skew between `webhook-timestamp` and our clock.
    #[serde(default = "default_tolerance", with = "humantime_serde")]
    pub timestamp_tolerance: Duration,
    /// Per request, connection included.
    #[serde(default = "default_request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Prefix used to normalise national MSISDNs (`0712…` → `255712…`).
    #[serde(default = "default_country_code")]
    pub country_code: String,
}

fn default_tolerance() -> Duration {
    Duration::from_secs(DEFAULT_TOLERANCE_SECS.unsigned_abs())
}
fn default_request_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_currency() -> String {
    "TZS".into()
}
fn default_country_code() -> String {
    "255".into()
}

/// Empty URL and credentials (fill them in, then [`validate`](GenericWalletSettings::validate)),
/// contract defaults for the rest.
impl Default for GenericWalletSettings {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            api_key: SecretString::default(),
            webhook_secrets: Vec::new(),
            timestamp_tolerance: default_tolerance(),
            request_timeout: default_request_timeout(),
            currency: default_currency(),
            country_code: default_country_code(),
        }
    }
}

impl GenericWalletSettings {
    /// The decoded webhook secrets, in configured order.
    pub fn secrets(&self) -> Result<Vec<WebhookSecret>, SecretError> {
        self.webhook_secrets.iter().map(|s| WebhookSecret::parse(s.expose_secret())).collect()
    }

    /// The tolerance in whole seconds, as [`super::callback::authenticate`] takes it.
    pub fn tolerance_secs(&self) -> i64 {
        i64::try_from(self.timestamp_tolerance.as_secs()).unwrap_or(i64::MAX)
    }

    /// Every problem with these settings, worded for the operator who has to fix it.
    pub fn validate(&self) -> Vec<String> {
        let url = self.base_url.trim();
        let checks = [
            (url.starts_with("https://") || url.starts_with("http://"), "base_url must be an http(s) URL"),
            (!self.api_key.expose_secret().trim().is_empty(), "api_key must be set"),
            (!self.webhook_secrets.is_empty(), "webhook_secrets must list at least one whsec_… secret"),
            (self.timestamp_tolerance.as_secs() > 0, "timestamp_tolerance must be at least 1s"),
            (!self.request_timeout.is_zero(), "request_timeout must be above zero"),
            (
                self.currency.len() == 3 && self.currency.bytes().all(|b| b.is_ascii_uppercase()),
                "currency must be an ISO 4217 code in upper case, e.g. TZS",
            ),
            (
                (1..=3).contains(&self.country_code.len()) && self.country_code.bytes().all(|b| b.is_ascii_digit()),
                "country_code must be 1 to 3 digits, e.g. 255",
            ),
        ];
        let mut problems: Vec<String> =
            checks.into_iter().filter(|(ok, _)| !ok).map(|(_, problem)| problem.to_owned()).collect();
        if let Err(e) = self.secrets() {
            problems.push(format!("webhook_secrets: {e}"));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_bWtvcG8tdGVzdC12ZWN0b3Itc2VjcmV0LTMyYnl0ZXM=";

    #[test]
    fn defaults_fill_everything_but_the_url_and_credentials() {
        let s: GenericWalletSettings = toml::from_str(&format!(
            "base_url = \"https://wallet.example.com/\"\napi_key = \"k\"\nwebhook_secrets = [\"{SECRET}\"]"
        ))
        .unwrap();
        assert_eq!(s.timestamp_tolerance, Duration::from_secs(300));
        assert_eq!(s.request_timeout, Duration::from_secs(10));
        assert_eq!((s.currency.as_str(), s.country_code.as_str()), ("TZS", "255"));
        assert_eq!(s.tolerance_secs(), 300);
        assert_eq!(s.secrets().unwrap().len(), 1);
        assert!(s.validate().is_empty(), "{:?}", s.validate());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_readable_reasons() {
        let typo = toml::from_str::<GenericWalletSettings>("base_url = \"x\"\napi_key = \"k\"\nwebhook_secret = []");
        assert!(typo.is_err());
        let mut s = GenericWalletSettings {
            webhook_secrets: vec![SecretString::from("whsec_!!")],
            currency: "tzs".into(),
            ..GenericWalletSettings::default()
        };
        let problems = s.validate().join("\n");
        for expected in ["base_url", "api_key", "webhook_secrets: ", "currency"] {
            assert!(problems.contains(expected), "{expected} missing from {problems}");
        }
        s.webhook_secrets.clear();
        assert!(s.validate().iter().any(|p| p.contains("at least one")));
    }

    #[test]
    fn debug_output_does_not_show_secrets() {
        let s = GenericWalletSettings {
            api_key: "super-secret-key".into(),
            webhook_secrets: vec![SECRET.into()],
            ..GenericWalletSettings::default()
        };
        let text = format!("{s:?}");
        assert!(!text.contains("super-secret-key") && !text.contains("bWtv"), "{text}");
    }
}
