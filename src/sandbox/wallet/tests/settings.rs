//! Settings: defaults, a TOML file with durations and rules, and what construction refuses.

use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::json;

use super::{fast, rule};
use crate::sandbox::wallet::{Behaviour, SandboxWallet, SandboxWalletSettings, DEFAULT_WEBHOOK_SECRET};

const URL: &str = "http://127.0.0.1:8080/v1/callbacks/sandbox";

fn from_toml(text: &str) -> Result<SandboxWalletSettings, toml::de::Error> {
    toml::from_str(text)
}

#[test]
fn an_empty_table_gives_the_documented_defaults() {
    let s = from_toml("").unwrap();
    assert_eq!(
        (s.api_key.as_str(), s.webhook_secret.as_str(), s.currency.as_str()),
        ("sandbox-wallet-key", DEFAULT_WEBHOOK_SECRET, "TZS")
    );
    assert_eq!((s.payout_delay, s.collection_approve_delay), (Duration::from_millis(200), Duration::from_secs(2)));
    assert_eq!(s.delivery_retry_delays, [0, 1, 2, 5, 10].map(Duration::from_secs));
    assert_eq!((s.duplicate_deliveries, s.rules.len()), (0, 0));
    assert!(SandboxWallet::new(&s, URL.to_owned()).is_ok());
}

#[test]
fn a_toml_table_sets_durations_and_rules() {
    let s = from_toml(
        r#"
        payout_delay = "50ms"
        collection_approve_delay = "1s"
        delivery_retry_delays = ["0s", "500ms", "1m"]
        duplicate_deliveries = 1

        [[rules]]
        msisdn = "255712345678"
        amount = "500.50"
        direction = "payout"
        behaviour = { fail = { code = "insufficient_funds" } }

        [[rules]]
        behaviour = "stay_pending"
        "#,
    )
    .unwrap();
    assert_eq!(s.delivery_retry_delays, [Duration::ZERO, Duration::from_millis(500), Duration::from_secs(60)]);
    assert_eq!(s.rules[0].amount, Some(Decimal::new(50050, 2)));
    assert_eq!(s.rules[0].behaviour, Behaviour::Fail { code: "insufficient_funds".to_owned() });
    assert_eq!(s.rules[1].behaviour, Behaviour::StayPending);
    let wallet = SandboxWallet::new(&s, URL.to_owned()).unwrap();
    assert_eq!(wallet.rules().len(), 2);
}

#[test]
fn bad_settings_are_refused_at_construction() {
    assert!(from_toml("colour = \"red\"").is_err(), "unknown keys");
    assert!(from_toml("[[rules]]\nbehaviour = \"reject\"\nspeed = 1").is_err(), "unknown rule keys");
    let cases = [
        SandboxWalletSettings { api_key: " ".to_owned(), ..fast() },
        SandboxWalletSettings { webhook_secret: "not-a-secret".to_owned(), ..fast() },
        SandboxWalletSettings { webhook_secret: "whsec_bWtvcG8=".to_owned(), ..fast() },
        SandboxWalletSettings { currency: "tzs".to_owned(), ..fast() },
        SandboxWalletSettings { delivery_retry_delays: vec![], ..fast() },
        SandboxWalletSettings { rules: vec![rule(json!({"direction": "both", "behaviour": "reject"}))], ..fast() },
        SandboxWalletSettings { rules: vec![rule(json!({"direction": "payout", "behaviour": "decline"}))], ..fast() },
    ];
    for settings in cases {
        assert!(SandboxWallet::new(&settings, URL.to_owned()).is_err(), "{settings:?}");
    }
    for url in ["not a url", "ftp://127.0.0.1/cb", ""] {
        assert!(SandboxWallet::new(&fast(), url.to_owned()).is_err(), "{url}");
    }
}

#[test]
fn debug_never_shows_the_key_or_the_secret() {
    let text = format!("{:?}", SandboxWalletSettings::default());
    assert!(!text.contains("sandbox-wallet-key") && !text.contains("whsec_"), "{text}");
    assert!(text.contains("<redacted>"));
}
