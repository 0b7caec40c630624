//! `[daraja]` settings and their one validation pass (the house style). Secrets are `SecretString`.
//!
//! `security_credential` is the initiator password already RSA-encrypted with Safaricom's certificate
//! and Base64-encoded, exactly as the Daraja portal produces it. The gateway never sees the plain
//! password and does no RSA itself; sandbox and production certificates differ, so the credential is
//! generated once per environment and stored as a secret.

use std::time::Duration;

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::msisdn::{UsableMsisdn, KE_COUNTRY_CODE, KE_PATTERN};
use super::urls::CallbackUrls;
use crate::domain::netguard::AllowList;

pub const SANDBOX_BASE_URL: &str = "https://sandbox.safaricom.co.ke";
pub const PRODUCTION_BASE_URL: &str = "https://api.safaricom.co.ke";

/// 22 base64url characters carry 132 bits, the shortest token that meets the documented 128.
pub const MIN_PATH_TOKEN_CHARS: usize = 22;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DarajaSettings {
    /// Daraja API host, without a trailing slash.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    pub consumer_key: SecretString,
    pub consumer_secret: SecretString,
    /// The paybill receiving C2B payments.
    pub shortcode: String,
    /// The B2C shortcode paying out loans (`PartyA`).
    pub b2c_shortcode: String,
    pub initiator_name: String,
    /// Pre-encrypted, Base64 (see the module docs).
    pub security_credential: SecretString,
    /// The Lipa na M-Pesa Online shortcode and its passkey, for STK push.
    pub stk_shortcode: String,
    pub stk_passkey: SecretString,
    /// ≥128 random bits in base64url; the only proof a callback came from Daraja.
    pub path_token: SecretString,
    /// Source addresses or CIDR ranges allowed to call back; empty allows all (sandbox).
    #[serde(default)]
    pub allowed_ips: Vec<String>,
    /// The gateway's public base URL, e.g. `https://gw.example.com`.
    pub callback_base_url: String,
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    #[serde(default = "default_pattern")]
    pub usable_msisdn_pattern: String,
    #[serde(default = "default_country_code")]
    pub country_code: String,
    #[serde(default = "default_currency")]
    pub currency: String,
}

fn default_base_url() -> String {
    SANDBOX_BASE_URL.into()
}
fn default_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_pattern() -> String {
    KE_PATTERN.into()
}
fn default_country_code() -> String {
    KE_COUNTRY_CODE.into()
}
fn default_currency() -> String {
    "KES".into()
}

impl DarajaSettings {
    /// Every problem with these settings, worded for the operator who has to fix it.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut need = |ok: bool, message: String| {
            if !ok {
                problems.push(message);
            }
        };
        let base = self.base_url.as_str();
        need(
            (base.starts_with("https://") || base.starts_with("http://")) && !base.ends_with('/'),
            format!("daraja.base_url = {base:?} must be an http(s) URL without a trailing slash"),
        );
        for (key, value) in [("consumer_key", &self.consumer_key), ("consumer_secret", &self.consumer_secret)] {
            need(!value.expose_secret().trim().is_empty(), format!("daraja.{key} is required"));
        }
        for (key, value) in [
            ("shortcode", &self.shortcode),
            ("b2c_shortcode", &self.b2c_shortcode),
            ("stk_shortcode", &self.stk_shortcode),
        ] {
            need(
                (5..=7).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()),
                format!("daraja.{key} = {value:?} must be a 5 to 7 digit shortcode"),
            );
        }
        need(!self.initiator_name.trim().is_empty(), "daraja.initiator_name is required".into());
        let credential = self.security_credential.expose_secret();
        need(
            !credential.is_empty() && base64::engine::general_purpose::STANDARD.decode(credential).is_ok(),
            "daraja.security_credential must be the Base64 RSA-encrypted initiator password from the Daraja portal"
                .into(),
        );
        need(!self.stk_passkey.expose_secret().trim().is_empty(), "daraja.stk_passkey is required".into());
        let token = self.path_token.expose_secret();
        need(
            token.len() >= MIN_PATH_TOKEN_CHARS,
            format!("daraja.path_token must be at least {MIN_PATH_TOKEN_CHARS} base64url characters (128 random bits)"),
        );
        if let Err(error) = CallbackUrls::new(&self.callback_base_url, &self.path_token) {
            need(false, error.to_string());
        }
        if let Err(bad) = AllowList::parse("daraja.allowed_ips", &self.allowed_ips) {
            bad.into_iter().for_each(|problem| need(false, problem));
        }
        need(!self.request_timeout.is_zero(), "daraja.request_timeout must be more than 0".into());
        if let Err(error) = UsableMsisdn::new(&self.usable_msisdn_pattern, &self.country_code) {
            need(false, format!("daraja: {error}"));
        }
        need(self.currency == "KES", format!("daraja.currency = {:?}: Daraja moves only KES", self.currency));
        problems
    }

    /// The usable-MSISDN rule from these settings (call after [`Self::validate`]).
    pub fn usable_msisdn(&self) -> Result<UsableMsisdn, super::msisdn::PatternError> {
        UsableMsisdn::new(&self.usable_msisdn_pattern, &self.country_code)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Valid settings aimed at `base_url`, with Daraja's public sandbox values.
    pub(crate) fn sample(base_url: &str) -> DarajaSettings {
        let toml = format!(
            r#"
            base_url = "{base_url}"
            consumer_key = "key"
            consumer_secret = "secret"
            shortcode = "600638"
            b2c_shortcode = "600996"
            initiator_name = "mkopo_api"
            security_credential = "c2VjdXJpdHktY3JlZGVudGlhbA=="
            stk_shortcode = "174379"
            stk_passkey = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
            path_token = "k3Jt9QwZp2Lx7VbN4mRc8A"
            callback_base_url = "https://gw.example.com"
            request_timeout = "2s"
            "#
        );
        toml::from_str(&toml).unwrap()
    }

    #[test]
    fn omitted_keys_take_the_kenyan_sandbox_defaults() {
        let mut s = sample("x");
        s.base_url = default_base_url();
        assert_eq!(s.base_url, SANDBOX_BASE_URL);
        assert_eq!((s.country_code.as_str(), s.currency.as_str()), ("254", "KES"));
        assert_eq!(s.usable_msisdn_pattern, KE_PATTERN);
        assert!(s.allowed_ips.is_empty());
        assert_eq!(s.validate(), Vec::<String>::new());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<DarajaSettings>("consumer_key = \"k\"\nshort_code = \"1\"").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn a_short_or_forbidden_path_token_and_bad_values_are_reported_together() {
        let mut s = sample("https://sandbox.safaricom.co.ke/");
        s.path_token = "shortCMDtoken".into();
        s.allowed_ips = vec!["196.201.214.0/24".into(), "not-an-ip".into()];
        s.currency = "TZS".into();
        s.usable_msisdn_pattern = "254".into();
        s.b2c_shortcode = "60x996".into();
        let problems = s.validate().join("\n");
        for expected in ["base_url", "at least 22", "`cmd`", "not-an-ip", "only KES", "anchored", "b2c_shortcode"] {
            assert!(problems.contains(expected), "missing {expected:?} in:\n{problems}");
        }
        assert!(!problems.contains("196.201.214.0/24"), "{problems}");
        assert!(!problems.contains("shortCMDtoken"), "the token must never be echoed:\n{problems}");
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let shown = format!("{:?}", sample("https://sandbox.safaricom.co.ke"));
        for secret in ["bfb279f9", "k3Jt9QwZ", "c2VjdXJpdHkt", "\"secret\""] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
    }
}
