//! Configuration of the sandbox wallet: the API key the gateway must present, the secret that signs
//! callbacks, the currency, how long transactions take, the delivery schedule and the behaviour rules.
//!
//! [`SandboxWalletSettings`] is what the config file holds; [`SandboxWalletSettings::config`] checks it
//! once into the [`Config`] the running wallet uses, so a bad secret or rule fails at boot.

use std::fmt;
use std::time::Duration;

use super::rules::BehaviourRule;
use crate::momo::signature::WebhookSecret;

/// The published test-vector secret (docs/money.md): callbacks verify with the default gateway
/// settings out of the box.
pub const DEFAULT_WEBHOOK_SECRET: &str = "whsec_bWtvcG8tdGVzdC12ZWN0b3Itc2VjcmV0LTMyYnl0ZXM=";

/// Settings of one sandbox wallet. Every field has a default, so an empty table works.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxWalletSettings {
    /// The gateway sends `Authorization: Bearer <api_key>`. Redacted from `Debug`.
    pub api_key: String,
    /// `whsec_…` secret signing every callback. Redacted from `Debug`.
    pub webhook_secret: String,
    /// The only currency accepted (ISO 4217, upper case).
    pub currency: String,
    /// Time from acceptance until a payout completes (or fails, under a `fail` rule).
    #[serde(with = "humantime_serde")]
    pub payout_delay: Duration,
    /// Time until a collection prompt is answered, as if the subscriber typed the wallet PIN.
    #[serde(with = "humantime_serde")]
    pub collection_approve_delay: Duration,
    /// Wait before each delivery attempt: the first entry precedes the first attempt (normally `0s`),
    /// so the list length is the number of attempts. A short sandbox version of docs/money.md guarantee 5.
    #[serde(with = "durations")]
    pub delivery_retry_delays: Vec<Duration>,
    /// Extra identical deliveries of each callback once one got a 2xx (same `webhook-id`, fresh
    /// timestamp and signature), to exercise the gateway's dedupe.
    pub duplicate_deliveries: u32,
    /// Behaviour rules, consulted before those added at runtime (see [`BehaviourRule`]).
    pub rules: Vec<BehaviourRule>,
}

impl Default for SandboxWalletSettings {
    fn default() -> Self {
        Self {
            api_key: "sandbox-wallet-key".to_owned(),
            webhook_secret: DEFAULT_WEBHOOK_SECRET.to_owned(),
            currency: "TZS".to_owned(),
            payout_delay: Duration::from_millis(200),
            collection_approve_delay: Duration::from_secs(2),
            delivery_retry_delays: [0, 1, 2, 5, 10].map(Duration::from_secs).to_vec(),
            duplicate_deliveries: 0,
            rules: Vec::new(),
        }
    }
}

// Written by hand so that the API key and the webhook secret never reach a log line.
impl fmt::Debug for SandboxWalletSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxWalletSettings")
            .field("api_key", &"<redacted>")
            .field("webhook_secret", &"<redacted>")
            .field("currency", &self.currency)
            .field("payout_delay", &self.payout_delay)
            .field("collection_approve_delay", &self.collection_approve_delay)
            .field("delivery_retry_delays", &self.delivery_retry_delays)
            .field("duplicate_deliveries", &self.duplicate_deliveries)
            .field("rules", &self.rules)
            .finish()
    }
}

/// The checked settings a running wallet uses.
pub(crate) struct Config {
    pub api_key: String,
    pub secret: WebhookSecret,
    pub currency: String,
    pub payout_delay: Duration,
    pub collection_approve_delay: Duration,
    pub delivery_retry_delays: Vec<Duration>,
    pub duplicate_deliveries: u32,
}

impl SandboxWalletSettings {
    /// Checks the settings; the configured rules are returned apart because they become mutable state.
    pub(crate) fn config(&self) -> Result<(Config, Vec<BehaviourRule>), String> {
        if self.api_key.trim().is_empty() {
            return Err("sandbox wallet api_key must not be empty".to_owned());
        }
        let secret =
            WebhookSecret::parse(&self.webhook_secret).map_err(|e| format!("sandbox wallet webhook_secret: {e}"))?;
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!("sandbox wallet currency {:?} must be three upper-case letters", self.currency));
        }
        if self.delivery_retry_delays.is_empty() {
            return Err("sandbox wallet delivery_retry_delays needs at least one entry (the first attempt)".to_owned());
        }
        for (i, rule) in self.rules.iter().enumerate() {
            rule.check().map_err(|e| format!("sandbox wallet rules[{i}]: {e}"))?;
        }
        let config = Config {
            api_key: self.api_key.clone(),
            secret,
            currency: self.currency.clone(),
            payout_delay: self.payout_delay,
            collection_approve_delay: self.collection_approve_delay,
            delivery_retry_delays: self.delivery_retry_delays.clone(),
            duplicate_deliveries: self.duplicate_deliveries,
        };
        Ok((config, self.rules.clone()))
    }
}

/// `#[serde(with = "durations")]`: a list of humantime durations (`["0s", "1s", "500ms"]`).
mod durations {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
        let list = Vec::<humantime_serde::Serde<Duration>>::deserialize(d)?;
        Ok(list.into_iter().map(humantime_serde::Serde::into_inner).collect())
    }
}
