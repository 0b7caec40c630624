//! Settings: the local defaults, environment overrides, and production's refusals with readable reasons.

use std::collections::HashMap;
use std::path::PathBuf;

use mkopo::config::{load_from, ConfigSource, Environment, LmsMode, LogFormat, Settings};
use secrecy::ExposeSecret;

fn repo_config() -> ConfigSource {
    ConfigSource { dir: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")), env: HashMap::new() }
}

fn production() -> ConfigSource {
    repo_config()
        .with_env("MKOPO_ENVIRONMENT", "production")
        .with_env("MKOPO_REDIS__URL", "redis://redis.internal:6379")
        .with_env("MKOPO_LMS__AUTH_BASE_URL", "https://api.dev.auth.bsa.ai")
        .with_env("MKOPO_LMS__API_BASE_URL", "https://api.dev.bsa.ai")
        .with_env("MKOPO_LMS__PARTNER_EMAIL", "ops@lender.example")
        .with_env("MKOPO_LMS__PARTNER_PASSWORD", "123456")
        .with_env("MKOPO_ADMIN__TOKEN", "ops-token")
        .with_env("MKOPO_WALLETS__DEFAULT", "halopesa")
        .with_env("MKOPO_WALLETS__GENERIC__HALOPESA__BASE_URL", "https://wallet.example.com/v1")
        .with_env("MKOPO_WALLETS__GENERIC__HALOPESA__API_KEY", "wallet-key")
        .with_env(
            "MKOPO_WALLETS__GENERIC__HALOPESA__WEBHOOK_SECRETS",
            "whsec_bWtvcG8tdGVzdC12ZWN0b3Itc2VjcmV0LTMyYnl0ZXM=,whsec_bWtvcG8tdGVzdC12ZWN0b3ItcmV0aXJlZC1zZWNyZXQ=",
        )
        .with_env("MKOPO_USSD__PATH_MAC_KEY", "a-production-mac-key-of-some-length")
        .with_env("MKOPO_USSD__DIALECTS__AFRICASTALKING__ENABLED", "true")
        .with_env("MKOPO_USSD__DIALECTS__AFRICASTALKING__PATH_TOKEN", "Zq8v0bXw3kT6yN1mR4pL7sD9fH2jC5gA")
}

fn problems(source: &ConfigSource) -> String {
    load_from(source).expect_err("the settings should be refused").to_string()
}

#[test]
fn a_fresh_checkout_runs_locally_on_the_sandbox_with_memory_stores() {
    let s = load_from(&repo_config()).unwrap();
    assert_eq!(s.environment, Environment::Local);
    assert_eq!((s.server.host.as_str(), s.server.port), ("127.0.0.1", 8080));
    assert_eq!(s.lms.mode, LmsMode::Sandbox);
    assert!(s.redis.url.as_ref().is_none_or(|u| u.expose_secret().is_empty()));
    assert_eq!(s.telemetry.format, LogFormat::Pretty);
    assert_eq!(s.sandbox.lms.partner_email, "partner@sandbox.local");
}

#[test]
fn the_embedded_files_match_the_repository_files() {
    let embedded = load_from(&ConfigSource::embedded(Environment::Local)).unwrap();
    let files = load_from(&repo_config()).unwrap();
    assert_eq!(format!("{:?}", embedded.server), format!("{:?}", files.server));
    assert_eq!(format!("{:?}", embedded.lms.product_ids), format!("{:?}", files.lms.product_ids));
}

#[test]
fn environment_variables_override_any_key() {
    let s = load_from(
        &repo_config()
            .with_env("MKOPO_SERVER__PORT", "9000")
            .with_env("MKOPO_LMS__MODE", "http")
            .with_env("MKOPO_LMS__AUTH_BASE_URL", "http://127.0.0.1:8090")
            .with_env("MKOPO_LMS__API_BASE_URL", "http://127.0.0.1:8090")
            .with_env("MKOPO_LMS__PRODUCT_IDS", "2,3")
            .with_env("MKOPO_LMS__REQUEST_TIMEOUT", "750ms")
            .with_env("MKOPO_REDIS__URL", "redis://127.0.0.1:6379")
            .with_env("MKOPO_SANDBOX__LMS__DEFAULT_CREDIT_LIMIT", "75000"),
    )
    .unwrap();
    assert_eq!(s.server.port, 9000);
    assert_eq!(s.lms.mode, LmsMode::Http);
    assert_eq!(s.lms.api_base_url, "http://127.0.0.1:8090");
    assert_eq!(s.lms.product_ids, ["2", "3"]);
    assert_eq!(s.lms.request_timeout, std::time::Duration::from_millis(750));
    assert_eq!(s.redis.url.unwrap().expose_secret(), "redis://127.0.0.1:6379");
    assert_eq!(s.sandbox.lms.default_credit_limit, rust_decimal::Decimal::from(75000));
}

#[test]
fn production_boots_with_everything_from_the_environment() {
    let s = load_from(&production()).unwrap();
    assert_eq!(s.environment, Environment::Production);
    assert_eq!(s.lms.mode, LmsMode::Http);
    assert_eq!(s.telemetry.format, LogFormat::Json);
    assert_eq!(s.lms.partner_password.expose_secret(), "123456", "numeric-looking secrets stay strings");
    let wallet = &s.wallets.generic["halopesa"];
    assert_eq!(wallet.secrets().unwrap().len(), 2, "a rotation's two secrets come from one variable");
    assert!(!s.wallets.uses_sandbox());
}

/// Secrets as the Python and npm `standardwebhooks` libraries mint them: `whsec_` + unpadded base64.
const UNPADDED_SECRETS: &str =
    "whsec_bWtvcG8tdGVzdC12ZWN0b3Itc2VjcmV0LTMyYnl0ZXM,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[test]
fn production_boots_with_unpadded_webhook_secrets_as_the_standard_webhooks_libraries_make_them() {
    const VAR: &str = "MKOPO_WALLETS__GENERIC__HALOPESA__WEBHOOK_SECRETS";
    let s = load_from(&production().with_env(VAR, UNPADDED_SECRETS)).unwrap();
    assert_eq!(s.wallets.generic["halopesa"].secrets().unwrap().len(), 2);
    let one = load_from(&production().with_env(VAR, "whsec_bWtvcG8tdGVzdC12ZWN0b3Itc2VjcmV0LTMyYnl0ZXM")).unwrap();
    assert_eq!(one.wallets.generic["halopesa"].secrets().unwrap().len(), 1);
    let text = problems(&production().with_env(VAR, "whsec_bWtvcG8tdGVzdC12ZWN0b3Itc2VjcmV0LTMyYnl0ZXM-_w"));
    assert!(text.contains("webhook_secrets: a webhook secret must use the standard base64 alphabet"), "{text}");
}

#[test]
fn check_config_accepts_an_unpadded_webhook_secret_from_the_environment() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mkopo"))
        .arg("check-config")
        .env_remove("RUST_LOG")
        .env("MKOPO_WALLETS__GENERIC__HALOPESA__BASE_URL", "https://wallet.example.com/v1")
        .env("MKOPO_WALLETS__GENERIC__HALOPESA__API_KEY", "wallet-key")
        .env("MKOPO_WALLETS__GENERIC__HALOPESA__WEBHOOK_SECRETS", UNPADDED_SECRETS)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn trusted_proxies_live_under_server_and_the_old_ussd_key_is_still_read() {
    let one = load_from(&repo_config().with_env("MKOPO_SERVER__TRUSTED_PROXIES", "10.0.0.0/8")).unwrap();
    assert_eq!(one.trusted_proxies(), ("server.trusted_proxies", &["10.0.0.0/8".to_owned()][..]));
    let two = load_from(&repo_config().with_env("MKOPO_SERVER__TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8")).unwrap();
    assert_eq!(two.server.trusted_proxies, ["10.0.0.0/8", "fd00::/8"]);
    let old = load_from(&repo_config().with_env("MKOPO_USSD__TRUSTED_PROXIES", "10.0.0.0/8")).unwrap();
    assert_eq!(old.trusted_proxies(), ("ussd.trusted_proxies", &["10.0.0.0/8".to_owned()][..]));
    let same = repo_config()
        .with_env("MKOPO_USSD__TRUSTED_PROXIES", "10.0.0.0/8")
        .with_env("MKOPO_SERVER__TRUSTED_PROXIES", "10.0.0.0/8");
    assert!(load_from(&same).is_ok(), "a deployment mid-rename may set both alike");
    let text = problems(&same.with_env("MKOPO_SERVER__TRUSTED_PROXIES", "172.16.0.0/12"));
    assert!(text.contains("ussd.trusted_proxies has moved to server.trusted_proxies"), "{text}");
    let text = problems(&repo_config().with_env("MKOPO_SERVER__TRUSTED_PROXIES", "10.0.0.0/8,ingress"));
    assert!(text.contains("server.trusted_proxies: \"ingress\" is neither an IP address nor a CIDR range"), "{text}");
}

#[test]
fn production_refuses_the_sandbox_wallet() {
    let text = problems(&production().with_env("MKOPO_WALLETS__DEFAULT", "sandbox"));
    assert!(text.contains("wallets.default = \"sandbox\" names no wallet"), "{text}");
}

#[test]
fn production_lists_every_missing_setting_at_once() {
    let text = problems(&repo_config().with_env("MKOPO_ENVIRONMENT", "production"));
    for needle in [
        "lms.auth_base_url is required",
        "lms.api_base_url is required",
        "lms.partner_email is required",
        "lms.partner_password is required",
        "redis.url is required in production",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn production_keeps_the_browser_phone_off_and_refuses_it_on() {
    assert!(!load_from(&production()).unwrap().simulator.enabled, "production.toml turns it off");
    assert!(Settings::local_defaults().simulator.enabled, "local runs have it");
    let text = problems(&production().with_env("MKOPO_SIMULATOR__ENABLED", "true"));
    assert!(text.contains("simulator.enabled is refused in production"), "{text}");
}

#[test]
fn production_refuses_africas_talking_hops_by_get() {
    const ON: (&str, &str) = ("MKOPO_USSD__DIALECTS__AFRICASTALKING__ACCEPT_GET", "true");
    assert_eq!(load_from(&production()).unwrap().ussd.dialects["africastalking"].accept_get, Some(false));
    let text = problems(&production().with_env(ON.0, ON.1));
    assert!(text.contains("ussd.dialects.africastalking.accept_get is refused in production"), "{text}");
    let local = load_from(&repo_config().with_env(ON.0, ON.1)).expect("emulators may use it locally");
    assert_eq!(local.ussd.dialects["africastalking"].accept_get, Some(true));
}

#[test]
fn production_refuses_the_sandbox() {
    let text = problems(&production().with_env("MKOPO_LMS__MODE", "sandbox"));
    assert!(text.contains("lms.mode = sandbox is refused in production"), "{text}");
}

#[test]
fn production_refuses_secrets_in_config_files() {
    let dir = std::env::temp_dir().join(format!("mkopo-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config");
    for file in ["base.toml", "local.toml", "production.toml"] {
        std::fs::copy(repo.join(file), dir.join(file)).unwrap();
    }
    let mut prod = std::fs::read_to_string(dir.join("production.toml")).unwrap();
    prod = prod.replace("mode = \"http\"", "mode = \"http\"\npartner_password = \"hunter2\"");
    std::fs::write(dir.join("production.toml"), prod).unwrap();
    let mut source = production();
    source.dir = Some(dir.clone());
    let text = problems(&source);
    std::fs::remove_dir_all(dir).unwrap();
    assert!(text.contains("`lms.partner_password` is a secret"), "{text}");
    assert!(text.contains("MKOPO_LMS__PARTNER_PASSWORD"), "{text}");
    assert!(!text.contains("hunter2"), "the secret itself is never echoed");
}

#[test]
fn unknown_keys_are_reported_by_their_path() {
    let text = problems(&repo_config().with_env("MKOPO_SERVER__PROT", "9000"));
    assert!(text.contains("unknown key `server.prot`"), "{text}");
}

#[test]
fn an_unknown_environment_is_refused() {
    let text = problems(&repo_config().with_env("MKOPO_ENVIRONMENT", "staging"));
    assert!(text.contains("\"staging\" is not an environment"), "{text}");
}

#[test]
fn base_urls_must_not_carry_v1_or_a_trailing_slash() {
    let text = problems(&production().with_env("MKOPO_LMS__API_BASE_URL", "https://api.dev.bsa.ai/v1"));
    assert!(text.contains("lms.api_base_url") && text.contains("`/v1`"), "{text}");
}

#[test]
fn impossible_numbers_are_refused() {
    let text = problems(
        &repo_config().with_env("MKOPO_LMS__PAGE_ROWS", "500").with_env("MKOPO_LMS__BUSINESS_TIMEZONE", "Mars/Olympus"),
    );
    assert!(text.contains("lms.page_rows = 500"), "{text}");
    assert!(text.contains("Mars/Olympus"), "{text}");
}

#[test]
fn production_serves_only_the_dialects_it_enables_each_behind_a_guard() {
    let s = load_from(&production()).unwrap();
    let enabled: Vec<&String> = s.ussd.dialects.iter().filter(|(_, d)| d.enabled).map(|(n, _)| n).collect();
    assert_eq!(enabled, ["africastalking"]);
    let open = production().with_env("MKOPO_USSD__DIALECTS__BEEM__ENABLED", "true");
    let text = problems(&open);
    assert!(text.contains("ussd.dialects.beem is enabled without a path_token or ip_allow"), "{text}");
    let allowed = open.with_env("MKOPO_USSD__DIALECTS__BEEM__IP_ALLOW", "196.201.214.0/24,196.201.213.44");
    assert!(load_from(&allowed).is_ok(), "an allow-list from a comma list is enough");
}

#[test]
fn production_refuses_a_missing_mac_key_and_a_short_path_token() {
    let text = problems(&production().with_env("MKOPO_USSD__PATH_MAC_KEY", ""));
    assert!(text.contains("ussd.path_mac_key must be at least 16 characters"), "{text}");
    let text = problems(&production().with_env("MKOPO_USSD__DIALECTS__AFRICASTALKING__PATH_TOKEN", "x7Qk9"));
    assert!(text.contains("ussd.dialects.africastalking.path_token"), "{text}");
    assert!(!text.contains("x7Qk9"), "the token is never echoed: {text}");
}

#[test]
fn the_lms_generation_and_quote_rules_come_from_config_and_the_environment() {
    let s = load_from(
        &repo_config()
            .with_env("MKOPO_LMS__GENERATION", "legacy")
            .with_env("MKOPO_SANDBOX__LMS__GENERATION", "legacy")
            .with_env("MKOPO_LMS__QUOTES__1__RULE", "daily")
            .with_env("MKOPO_LMS__QUOTES__1__RATE_PERCENT", "0.11"),
    )
    .unwrap();
    assert_eq!(s.lms.generation, mkopo::lms::Generation::Legacy);
    let rule = &s.lms.quotes["1"];
    assert_eq!(rule.rule, mkopo::lms::quote::QuoteKind::Daily);
    assert_eq!(rule.rate_percent, Some("0.11".parse().unwrap()));
    assert_eq!(load_from(&repo_config()).unwrap().lms.generation, mkopo::lms::Generation::Current, "the default");
}

#[test]
fn impossible_lms_generation_and_quote_settings_are_refused() {
    let mismatch = problems(&repo_config().with_env("MKOPO_LMS__GENERATION", "legacy"));
    assert!(mismatch.contains("sandbox.lms.generation"), "{mismatch}");
    let unknown = problems(&repo_config().with_env("MKOPO_LMS__GENERATION", "v3"));
    assert!(unknown.contains("generation"), "{unknown}");
    let stranger = problems(&repo_config().with_env("MKOPO_LMS__QUOTES__9__RULE", "flat"));
    assert!(stranger.contains("lms.quotes.\"9\" names a product not in lms.product_ids"), "{stranger}");
    let table = problems(&repo_config().with_env("MKOPO_LMS__QUOTES__1__RULE", "fee_table"));
    assert!(table.contains("needs at least one band"), "{table}");
}

#[test]
fn a_one_element_list_comes_from_the_environment_like_a_longer_one() {
    for (value, want) in [("1", vec!["1"]), ("2,3", vec!["2", "3"]), ("p-7", vec!["p-7"])] {
        let s = load_from(&repo_config().with_env("MKOPO_LMS__PRODUCT_IDS", value)).unwrap();
        assert_eq!(s.lms.product_ids, want, "{value}");
    }
    let s = load_from(&repo_config().with_env("MKOPO_USSD__AMOUNT_PRESETS", "5000")).unwrap();
    assert_eq!(s.ussd.amount_presets, [5000]);
    let s = load_from(&repo_config().with_env("MKOPO_MONEY__PAYOUT_POLL_SCHEDULE", "30s")).unwrap();
    assert_eq!(s.money.payout_poll_schedule, [std::time::Duration::from_secs(30)]);
}

#[test]
fn kubernetes_service_links_are_ignored_and_real_keys_still_checked() {
    let links = [
        ("MKOPO_SERVICE_HOST", "10.0.0.11"),
        ("MKOPO_SERVICE_PORT", "8080"),
        ("MKOPO_SERVICE_PORT_HTTP", "8080"),
        ("MKOPO_PORT", "tcp://10.0.0.11:8080"),
        ("MKOPO_PORT_8080_TCP", "tcp://10.0.0.11:8080"),
        ("MKOPO_PORT_8080_TCP_PROTO", "tcp"),
        ("MKOPO_PORT_8080_TCP_PORT", "8080"),
        ("MKOPO_PORT_8080_TCP_ADDR", "10.0.0.11"),
        ("MKOPO_REDIS_SERVICE_HOST", "10.0.0.12"),
        ("MKOPO_REDIS_PORT_6379_TCP_ADDR", "10.0.0.12"),
    ];
    let mut source = repo_config();
    for (k, v) in links {
        source = source.with_env(k, v);
    }
    load_from(&source).expect("service links do not stop the boot");
    let typo = problems(&source.with_env("MKOPO_SERVER__PROT", "9000"));
    assert!(typo.contains("unknown key `server.prot`"), "{typo}");
}
