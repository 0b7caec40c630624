//! Reading the layers. The files under `config/` are embedded in the binary too, so `mkopo` runs with the
//! documented defaults even when started away from the repository (a container, `cargo install`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use config::{Config, Environment as EnvSource, File, FileFormat};

use super::{Environment, Settings};

const BASE: &str = include_str!("../../config/base.toml");
const LOCAL: &str = include_str!("../../config/local.toml");
const PRODUCTION: &str = include_str!("../../config/production.toml");

/// Keys whose values are secrets: in production they may only come from the environment.
pub(super) const SECRET_KEYS: &[&str] = &[
    "lms.partner_password",
    "admin.token",
    "metrics.token",
    "wallets.daraja.consumer_key",
    "wallets.daraja.consumer_secret",
    "wallets.daraja.security_credential",
    "wallets.daraja.stk_passkey",
    "wallets.daraja.path_token",
    "ussd.path_mac_key",
    "ussd.dialects.africastalking.path_token",
    "ussd.dialects.africastalking.basic_auth.password",
    "ussd.dialects.beem.path_token",
    "ussd.dialects.beem.basic_auth.password",
    "ussd.dialects.hubtel.path_token",
    "ussd.dialects.hubtel.basic_auth.password",
];
/// Secret fields of every `[wallets.generic.<name>]` table.
const WALLET_SECRET_FIELDS: &[&str] = &["api_key", "webhook_secrets"];

/// Keys that an environment variable may give as a comma-separated list.
const LIST_KEYS: &[&str] = &[
    "lms.product_ids",
    "money.payout_poll_schedule",
    "sandbox.wallet.delivery_retry_delays",
    "wallets.daraja.allowed_ips",
    "ussd.languages",
    "ussd.trusted_proxies",
    "ussd.amount_presets",
    "ussd.dialects.africastalking.ip_allow",
    "ussd.dialects.africastalking.base_codes",
    "ussd.dialects.beem.ip_allow",
    "ussd.dialects.beem.base_codes",
    "ussd.dialects.hubtel.ip_allow",
    "ussd.dialects.hubtel.base_codes",
];

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("MKOPO_ENVIRONMENT={0:?} is not an environment: use `local` or `production`")]
    UnknownEnvironment(String),
    // The causes are part of the message and deliberately not `source`s, so an `{:#}` chain (anyhow)
    // does not print them twice.
    #[error("cannot read {path}: {cause}")]
    Read { path: PathBuf, cause: std::io::Error },
    #[error("configuration is not valid: {0}")]
    Parse(config::ConfigError),
    #[error("configuration has problems:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

/// Where the layers come from: a directory (or the embedded copies) and an environment map.
impl From<config::ConfigError> for LoadError {
    fn from(error: config::ConfigError) -> Self {
        LoadError::Parse(error)
    }
}

#[derive(Debug, Clone)]
pub struct ConfigSource {
    pub dir: Option<PathBuf>,
    pub env: HashMap<String, String>,
}

impl ConfigSource {
    /// The process environment and `MKOPO_CONFIG_DIR` (default `./config` when it exists, else embedded).
    pub fn from_process() -> Self {
        let env: HashMap<String, String> = std::env::vars().collect();
        let dir = env
            .get("MKOPO_CONFIG_DIR")
            .map(PathBuf::from)
            .or_else(|| Some(PathBuf::from("config")).filter(|d| d.join("base.toml").is_file()));
        Self { dir, env }
    }

    /// The embedded files for one environment, with no environment overrides.
    pub fn embedded(environment: Environment) -> Self {
        let env = HashMap::from([("MKOPO_ENVIRONMENT".to_owned(), environment.as_str().to_owned())]);
        Self { dir: None, env }
    }

    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.to_owned(), value.to_owned());
        self
    }

    fn environment(&self) -> Result<Environment, LoadError> {
        match self.env.get("MKOPO_ENVIRONMENT").map(|s| s.trim().to_ascii_lowercase()) {
            None => Ok(Environment::Local),
            Some(s) if s == "local" || s.is_empty() => Ok(Environment::Local),
            Some(s) if s == "production" => Ok(Environment::Production),
            Some(other) => Err(LoadError::UnknownEnvironment(other)),
        }
    }

    fn file(
        &self,
        name: &str,
        embedded: &'static str,
    ) -> Result<File<config::FileSourceString, FileFormat>, LoadError> {
        let text = match &self.dir {
            Some(dir) => read(&dir.join(name))?,
            None => embedded.to_owned(),
        };
        Ok(File::from_str(&text, FileFormat::Toml))
    }

    fn files(
        &self,
        environment: Environment,
    ) -> Result<config::ConfigBuilder<config::builder::DefaultState>, LoadError> {
        let env_file = match environment {
            Environment::Local => self.file("local.toml", LOCAL)?,
            Environment::Production => self.file("production.toml", PRODUCTION)?,
        };
        Ok(Config::builder()
            .add_source(self.file("base.toml", BASE)?)
            .add_source(env_file)
            .set_override("environment", environment.as_str())?)
    }
}

fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|cause| LoadError::Read { path: path.to_owned(), cause })
}

/// Loads and validates the settings the process was started with.
pub fn load() -> Result<Settings, LoadError> {
    load_from(&ConfigSource::from_process())
}

/// Loads and validates settings from an explicit source; the single entry point tests use too.
pub fn load_from(source: &ConfigSource) -> Result<Settings, LoadError> {
    let environment = source.environment()?;
    let mut env_layer = EnvSource::with_prefix("MKOPO")
        .prefix_separator("_")
        .separator("__")
        .try_parsing(true)
        .list_separator(",")
        .source(Some(
            source
                .env
                .iter()
                .filter(|(k, _)| k.as_str() != "MKOPO_CONFIG_DIR")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ));
    for key in LIST_KEYS {
        env_layer = env_layer.with_list_parse_key(key);
    }
    // Wallet names are free, so their secret lists are found by the variable's suffix.
    for var in
        source.env.keys().filter(|k| k.starts_with("MKOPO_WALLETS__GENERIC__") && k.ends_with("__WEBHOOK_SECRETS"))
    {
        let key = var["MKOPO_".len()..].to_ascii_lowercase().replace("__", ".");
        env_layer = env_layer.with_list_parse_key(&key);
    }
    // Values like "0.11" would be parsed as binary floats, which the money deserializer refuses: they are
    // layered again, as text, on top (amounts and rates are parsed exactly from that text).
    let fractional = |v: &str| v.contains('.') && v.parse::<f64>().is_ok() && v.parse::<i64>().is_err();
    let exact_layer = EnvSource::with_prefix("MKOPO").prefix_separator("_").separator("__").source(Some(
        source
            .env
            .iter()
            .filter(|(k, v)| k.as_str() != "MKOPO_CONFIG_DIR" && fractional(v) && !v.contains(','))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    ));
    let merged = source.files(environment)?.add_source(env_layer).add_source(exact_layer).build()?;

    let mut problems = Vec::new();
    let settings: Settings = serde_ignored::deserialize(merged, |path| {
        problems.push(format!("unknown key `{path}` (check its spelling in config/base.toml)"))
    })?;

    if environment == Environment::Production {
        let files_only = source.files(environment)?.build()?;
        let wallet_keys: Vec<String> = files_only
            .get_table("wallets.generic")
            .map(|t| {
                t.keys()
                    .flat_map(|name| WALLET_SECRET_FIELDS.iter().map(move |f| format!("wallets.generic.{name}.{f}")))
                    .collect()
            })
            .unwrap_or_default();
        for key in SECRET_KEYS.iter().map(|k| k.to_string()).chain(wallet_keys) {
            let key = key.as_str();
            let in_file = files_only.get_string(key).is_ok_and(|v| !v.is_empty())
                || files_only.get_array(key).is_ok_and(|v| !v.is_empty());
            if in_file {
                let var = format!("MKOPO_{}", key.to_ascii_uppercase().replace('.', "__"));
                problems.push(format!("`{key}` is a secret: in production set it with {var}, not in a config file"));
            }
        }
    }
    problems.extend(super::validate(&settings));
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(LoadError::Invalid(problems))
    }
}
