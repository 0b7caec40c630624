//! Currency is part of the money: the settings loader (and `mkopo check-config`) refuses a wallet whose
//! currency differs from the lending currency, naming the wallet and both currencies.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use mkopo::config::{load_from, ConfigSource, LoadError};

fn repo_config() -> ConfigSource {
    ConfigSource { dir: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")), env: HashMap::new() }
}

/// A complete Daraja configuration, as an operator sets it: `MKOPO_WALLETS__DARAJA__<KEY>`.
pub(crate) const DARAJA_ENV: [(&str, &str); 10] = [
    ("CONSUMER_KEY", "daraja-key"),
    ("CONSUMER_SECRET", "daraja-secret"),
    ("SHORTCODE", "600000"),
    ("B2C_SHORTCODE", "600001"),
    ("STK_SHORTCODE", "174379"),
    ("INITIATOR_NAME", "testapi"),
    ("SECURITY_CREDENTIAL", "c2VjdXJpdHktY3JlZGVudGlhbA=="),
    ("STK_PASSKEY", "stk-passkey"),
    ("PATH_TOKEN", "Zq8v0bXw3kT6yN1mR4pL7sD9fH2jC5gA"),
    ("CALLBACK_BASE_URL", "https://gw.example.com"),
];

fn with_daraja(source: ConfigSource) -> ConfigSource {
    DARAJA_ENV.into_iter().fold(source, |s, (k, v)| s.with_env(&format!("MKOPO_WALLETS__DARAJA__{k}"), v))
}

fn problems(source: &ConfigSource) -> Vec<String> {
    match load_from(source) {
        Err(LoadError::Invalid(problems)) => problems,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_generic_wallet_in_another_currency_is_refused_naming_it_and_both_currencies() {
    let refused = problems(&repo_config().with_env("MKOPO_WALLETS__GENERIC__SANDBOX__CURRENCY", "KES"));
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert!(
        refused[0].starts_with(r#"wallets.generic.sandbox.currency = "KES" differs from lms.currency = "TZS""#),
        "{}",
        refused[0]
    );
}

#[test]
fn daraja_for_a_lender_in_another_currency_is_refused_and_accepted_for_a_kes_lender() {
    let refused = problems(&with_daraja(repo_config()));
    assert_eq!(refused.len(), 1, "the Daraja settings are otherwise complete: {refused:#?}");
    assert!(refused[0].starts_with("wallets.daraja is enabled, but Daraja"), "{}", refused[0]);
    assert!(refused[0].contains(r#""KES""#) && refused[0].contains(r#"lms.currency = "TZS""#), "{}", refused[0]);

    let kes = with_daraja(repo_config())
        .with_env("MKOPO_LMS__CURRENCY", "KES")
        .with_env("MKOPO_WALLETS__GENERIC__SANDBOX__CURRENCY", "KES")
        .with_env("MKOPO_SANDBOX__WALLET__CURRENCY", "KES");
    let settings = load_from(&kes).unwrap_or_else(|e| panic!("a KES lender may use Daraja: {e}"));
    assert_eq!(settings.wallets.daraja.unwrap().currency, "KES");
}

#[test]
fn the_sandbox_wallet_must_move_the_lending_currency_too() {
    let refused = problems(&repo_config().with_env("MKOPO_SANDBOX__WALLET__CURRENCY", "USD"));
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert!(
        refused[0].starts_with(r#"sandbox.wallet.currency = "USD" differs from lms.currency = "TZS""#),
        "{}",
        refused[0]
    );
}

#[test]
fn check_config_fails_the_boot_with_the_wallet_and_both_currencies() {
    let output = Command::new(env!("CARGO_BIN_EXE_mkopo"))
        .arg("check-config")
        .env("MKOPO_WALLETS__GENERIC__SANDBOX__CURRENCY", "USD")
        .env_remove("MKOPO_ENVIRONMENT")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(r#"wallets.generic.sandbox.currency = "USD" differs from lms.currency = "TZS""#),
        "{stderr}"
    );
}
