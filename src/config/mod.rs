//! Typed, layered settings: embedded defaults < `config/base.toml` < `config/{environment}.toml` <
//! `MKOPO_<SECTION>__<KEY>` environment variables. `MKOPO_ENVIRONMENT` (`local` when unset) picks the
//! file. One [`validate`] pass at boot turns impossible combinations into readable messages.

mod load;
mod ussd;
mod validate;

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

pub use crate::momo::generic::GenericWalletSettings;
pub use crate::momo::service::MoneySettings;
pub use crate::sandbox::lms::SandboxLmsSettings;
pub use crate::sandbox::wallet::SandboxWalletSettings;
pub use load::{load, load_from, ConfigSource, LoadError};
pub use ussd::{DialectSettings, PinSettings, ScreenSettings, UssdSettings};
pub use validate::validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Local,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Local => "local",
            Environment::Production => "production",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub environment: Environment,
    pub server: ServerSettings,
    pub telemetry: TelemetrySettings,
    pub redis: RedisSettings,
    pub lms: LmsSettings,
    pub money: MoneySettings,
    pub wallets: WalletsSettings,
    pub admin: AdminSettings,
    pub sandbox: SandboxSettings,
    pub ussd: UssdSettings,
    pub simulator: SimulatorSettings,
    pub metrics: MetricsSettings,
    pub readiness: ReadinessSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReadinessSettings {
    /// `/readyz` reports the LMS down when this many of its latest attempts, all within `lms_window`,
    /// were outages (503/5xx, timeouts, no connection); 0 turns that check off.
    pub lms_failures: usize,
    #[serde(with = "humantime_serde")]
    pub lms_window: Duration,
    /// A background task is stalled after 3 of its intervals plus this without a finished loop.
    #[serde(with = "humantime_serde")]
    pub worker_stall_margin: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WalletsSettings {
    /// The wallet that pays loans out and runs collections.
    pub default: String,
    /// Wallets speaking mkopo's generic contract, by name; callbacks arrive at `/v1/callbacks/{name}`.
    #[serde(default)]
    pub generic: std::collections::BTreeMap<String, GenericWalletSettings>,
    /// Safaricom M-Pesa Daraja; its callbacks arrive at `/v1/callbacks/daraja/{path_token}/...`.
    #[serde(default)]
    pub daraja: Option<crate::momo::daraja::DarajaSettings>,
}

impl WalletsSettings {
    /// The local sandbox wallet is used when the default wallet is `sandbox` with no URL of its own.
    pub fn uses_sandbox(&self) -> bool {
        self.default == "sandbox" && self.generic.get("sandbox").is_some_and(|w| w.base_url.trim().is_empty())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SimulatorSettings {
    /// Serves the browser phone at `/simulator` (local only: it shows any subscriber's loans unguarded).
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MetricsSettings {
    /// Serves Prometheus metrics at `/metrics`.
    pub enabled: bool,
    /// Bearer token a scraper must send; empty = none (restrict `/metrics` at the ingress instead).
    pub token: SecretString,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AdminSettings {
    /// Bearer token of the operators' JSON API under `/admin`; empty turns the API off.
    pub token: SecretString,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Actix worker threads; 0 means one per core.
    pub workers: usize,
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetrySettings {
    pub format: LogFormat,
    /// `tracing` filter directives; `RUST_LOG` overrides it when set.
    pub filter: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    /// Empty: in-memory stores (local only, not durable). A URL may carry a password, hence secret.
    pub url: Option<SecretString>,
    pub key_prefix: String,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Longest wait between two attempts to reconnect after Redis went away.
    #[serde(with = "humantime_serde")]
    pub reconnect_max_delay: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LmsMode {
    Http,
    Sandbox,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LmsSettings {
    pub mode: LmsMode,
    /// Empty in sandbox mode: the gateway points the client at its own `/sandbox/lms` mount.
    pub auth_base_url: String,
    pub api_base_url: String,
    pub partner_email: String,
    pub partner_password: SecretString,
    #[serde(with = "humantime_serde")]
    pub token_refresh_margin: Duration,
    #[serde(with = "humantime_serde")]
    pub token_max_age_fallback: Duration,
    /// Scheduled token rotation period; 0 turns the timer off.
    #[serde(with = "humantime_serde")]
    pub token_rotation_interval: Duration,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub worker_request_timeout: Duration,
    pub retry: RetrySettings,
    pub business_timezone: String,
    pub page_rows: u32,
    pub product_ids: Vec<String>,
    #[serde(with = "humantime_serde")]
    pub products_cache_ttl: Duration,
    pub currency: String,
    /// Which documentation generation the LMS follows (`current` or `legacy`).
    #[serde(default)]
    pub generation: crate::lms::Generation,
    /// Quote rules by product id; products without one are quoted by their own terms.
    #[serde(default)]
    pub quotes: std::collections::BTreeMap<String, crate::lms::QuoteRule>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RetrySettings {
    pub max_attempts: u32,
    #[serde(with = "humantime_serde")]
    pub base: Duration,
    #[serde(with = "humantime_serde")]
    pub cap: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SandboxSettings {
    pub lms: SandboxLmsSettings,
    pub wallet: SandboxWalletSettings,
}

impl Settings {
    /// The local settings exactly as a fresh checkout runs them, for tests and tools.
    pub fn local_defaults() -> Self {
        load_from(&ConfigSource::embedded(Environment::Local)).expect("the embedded local settings are valid")
    }
}

/// `#[serde(with = "crate::config::duration_list")]` for a list of humantime durations (`["30s", "2m"]`).
pub mod duration_list {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| humantime::parse_duration(s).map_err(|e| serde::de::Error::custom(format!("{s:?}: {e}"))))
            .collect()
    }

    pub fn serialize<S: Serializer>(list: &[Duration], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(list.iter().map(|d| humantime::format_duration(*d).to_string()))
    }
}
