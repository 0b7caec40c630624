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

/// The process's `MKOPO_*` variables, sorted by how each is read.
struct EnvVars {
    /// Scalars, parsed as numbers or booleans where they look like one.
    parsed: HashMap<String, String>,
    /// Fractional numbers, kept as text.
    exact: HashMap<String, String>,
    /// List settings by key path, split on commas.
    lists: Vec<(String, Vec<String>)>,
}

impl EnvVars {
    fn sort(env: &HashMap<String, String>) -> Self {
        let mut vars = EnvVars { parsed: HashMap::new(), exact: HashMap::new(), lists: Vec::new() };
        for (name, value) in env {
            // MKOPO_TEST_* belong to the test harness (scripts/test), not to the gateway's settings.
            if name == "MKOPO_CONFIG_DIR" || name.starts_with("MKOPO_TEST_") || is_service_link(name) {
                continue;
            }
            let Some(rest) = name.strip_prefix("MKOPO_") else { continue };
            let key = rest.to_ascii_lowercase().replace("__", ".");
            let wallet_secrets = key.starts_with("wallets.generic.") && key.ends_with(".webhook_secrets");
            if LIST_KEYS.contains(&key.as_str()) || wallet_secrets {
                let items = value.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect();
                vars.lists.push((key, items));
            } else if value.contains('.') && value.parse::<f64>().is_ok() && value.parse::<i64>().is_err() {
                vars.exact.insert(name.clone(), value.clone());
            } else {
                vars.parsed.insert(name.clone(), value.clone());
            }
        }
        vars.lists.sort();
        vars
    }
}

/// Variables the kubelet injects for a Service whose name starts with `mkopo` (service links):
/// `MKOPO[_<REST>]_SERVICE_HOST`, `..._SERVICE_PORT[_<NAME>]`, `..._PORT` and
/// `..._PORT_<port>_<TCP|UDP|SCTP>[_PROTO|_PORT|_ADDR]`. Settings always use `__` between parts, so no
/// setting has one of these shapes; everything else is still checked for typos.
fn is_service_link(name: &str) -> bool {
    if name.contains("__") {
        return false;
    }
    let Some(rest) = name.strip_prefix("MKOPO") else { return false };
    let parts: Vec<&str> = rest.split('_').skip(1).collect();
    let is_proto = |p: &str| matches!(p, "TCP" | "UDP" | "SCTP");
    (0..parts.len()).any(|i| match &parts[i..] {
        ["SERVICE", "HOST"] | ["SERVICE", "PORT"] | ["PORT"] => true,
        ["SERVICE", "PORT", name @ ..] => !name.is_empty(),
        ["PORT", port, proto] => port.parse::<u16>().is_ok() && is_proto(proto),
        ["PORT", port, proto, "PROTO" | "PORT" | "ADDR"] => port.parse::<u16>().is_ok() && is_proto(proto),
        _ => false,
    })
}

fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|cause| LoadError::Read { path: path.to_owned(), cause })
}

/// Loads and validates the settings the process was started with.
pub fn load() -> Result<Settings, LoadError> {
    load_from(&ConfigSource::from_process())
}

/// Loads the settings for a tool that needs none of production's (`check-menus`, the standalone
/// sandboxes, `dial`): the layers are read and unknown keys refused, but nothing is validated, so a
/// production pod's environment without its secrets still runs them.
pub fn load_for_tools() -> Result<Settings, LoadError> {
    read_layers(&ConfigSource::from_process(), false)
}

/// Loads and validates settings from an explicit source; the single entry point tests use too.
pub fn load_from(source: &ConfigSource) -> Result<Settings, LoadError> {
    read_layers(source, true)
}

fn read_layers(source: &ConfigSource, validate: bool) -> Result<Settings, LoadError> {
    let environment = source.environment()?;
    let vars = EnvVars::sort(&source.env);
    let env_layer = EnvSource::with_prefix("MKOPO")
        .prefix_separator("_")
        .separator("__")
        .try_parsing(true)
        .source(Some(vars.parsed));
    // Values like "0.11" would be parsed as binary floats, which the money deserializer refuses: they are
    // layered again, as text, on top (amounts and rates are parsed exactly from that text).
    let exact_layer = EnvSource::with_prefix("MKOPO").prefix_separator("_").separator("__").source(Some(vars.exact));
    let mut builder = source.files(environment)?.add_source(env_layer).add_source(exact_layer);
    // Lists are split here, so one element works like many (the config crate would read "1" as an integer).
    for (key, items) in vars.lists {
        builder = builder.set_override(key, items)?;
    }
    let merged = builder.build()?;

    let mut problems = Vec::new();
    let settings: Settings = serde_ignored::deserialize(merged, |path| {
        problems.push(format!("unknown key `{path}` (check its spelling in config/base.toml)"))
    })?;

    if validate && environment == Environment::Production {
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
    if validate {
        problems.extend(super::validate(&settings));
    }
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(LoadError::Invalid(problems))
    }
}
