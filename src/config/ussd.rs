//! `[ussd]` settings: the hop deadline, sessions, screens, navigation keys, PINs, menus, and one
//! `[ussd.dialects.<name>]` table per aggregator (docs/ussd.md).

use std::collections::BTreeMap;
use std::time::Duration;

use rust_decimal::Decimal;
use secrecy::SecretString;
use serde::Deserialize;

use crate::menu::NavKeys;
use crate::ussd::guard::BasicAuthSettings;

#[derive(Debug, Clone, Deserialize)]
pub struct UssdSettings {
    /// From receipt to the last byte written (R3).
    #[serde(with = "humantime_serde")]
    pub hop_budget: Duration,
    /// Kept back from the budget for rendering and writing the reply.
    #[serde(with = "humantime_serde")]
    pub render_reserve: Duration,
    /// Idle lifetime of a session's state, refreshed on every hop.
    #[serde(with = "humantime_serde")]
    pub session_ttl: Duration,
    /// A subscriber who dials again within this window may continue a broken-off session; 0 turns it off.
    #[serde(with = "humantime_serde")]
    pub resume_window: Duration,
    /// How long a dial remembers that the subscriber is an LMS customer (no lookup meanwhile); 0 asks
    /// the LMS on every dial.
    #[serde(with = "humantime_serde")]
    pub registered_ttl: Duration,
    pub max_body_bytes: usize,
    /// Keys the MAC of stored AT paths, Beem inputs and staged PINs, so no raw input is stored (secret).
    pub path_mac_key: SecretString,
    /// `msisdn.default_country_code` of the spec: a leading 0 becomes this (overridable per dialect).
    pub country_code: String,
    /// Directory with `menu.toml` and `<lang>.ftl`; empty uses the menus built into the binary.
    pub menus_dir: String,
    /// Languages offered, the default first; each needs `<lang>.ftl`.
    pub languages: Vec<String>,
    /// Moved to `server.trusted_proxies`, which every allow-list shares; still read when that is empty.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// How long the borrow screen waits for the payout before saying "you will get an SMS".
    #[serde(with = "humantime_serde")]
    pub borrow_wait: Duration,
    /// Delay before a repay prompt is sent, so it does not collide with the closing USSD screen.
    #[serde(with = "humantime_serde")]
    pub collection_delay: Duration,
    /// Smallest "other amount" a subscriber may repay (whole currency units).
    #[serde(with = "crate::domain::money::number")]
    pub repay_min: Decimal,
    /// Preset borrow amounts offered when they fall in the product's range (plus its minimum and maximum).
    pub amount_presets: Vec<u64>,
    /// Per product id, the exact presets offered instead (those inside the subscriber's range, 1 to 4).
    #[serde(default)]
    pub amount_presets_by_product: BTreeMap<String, Vec<u64>>,
    /// Currency shown on screens.
    pub currency: String,
    /// Every amount on every screen shows the currency (`TZS 1,000`); off, bare numbers.
    pub show_currency: bool,
    /// How dates are shown on screens (chrono strftime).
    pub date_format: String,
    /// My payments also offers loans repaid in full within this window; 0 shows active loans only.
    #[serde(with = "humantime_serde")]
    pub history_closed_window: Duration,
    /// A deep-dial suffix (`*150*88*2#`) picks that option of the home menu; off by default (docs/ussd.md).
    pub deep_dial: bool,
    pub screen: ScreenSettings,
    pub nav: NavKeys,
    pub pin: PinSettings,
    pub dialects: BTreeMap<String, DialectSettings>,
}

impl UssdSettings {
    /// The one rule amounts and dates are shown by on every screen.
    pub fn formats(&self) -> crate::menu::Formats {
        crate::menu::Formats {
            currency: self.currency.clone(),
            show_currency: self.show_currency,
            date_format: self.date_format.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ScreenSettings {
    /// GSM-7 septets per screen, without the `CON `/`END ` prefix.
    pub budget: usize,
    /// UTF-16 units per screen when a character forces UCS-2.
    pub ucs2_budget: usize,
    /// Per-operator GSM-7 budgets by network code or name (`64009`, `vodafone`).
    #[serde(default)]
    pub operators: BTreeMap<String, usize>,
}

impl ScreenSettings {
    /// The tightest budget any operator gets: what the menus are checked against at boot and by
    /// `mkopo check-menus`, so no operator's subscriber ever sees a cut screen.
    pub fn strictest(&self) -> crate::ussd::ScreenBudget {
        let gsm7 = self.operators.values().copied().chain([self.budget]).min().unwrap_or(self.budget);
        crate::ussd::ScreenBudget { gsm7, ucs2: self.ucs2_budget }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct PinSettings {
    /// Ask for a PIN at registration and before every borrow.
    pub enabled: bool,
    /// Wrong PINs before the subscriber is locked out.
    pub max_failures: u32,
    #[serde(with = "humantime_serde")]
    pub lockout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DialectSettings {
    pub enabled: bool,
    /// Overrides `ussd.country_code` (Hubtel deployments use 233).
    #[serde(default)]
    pub country_code: String,
    /// Base service codes, for deep-dial suffixes (`384*1234`).
    #[serde(default)]
    pub base_codes: Vec<String>,
    /// Secret path segment: the route becomes `/ussd/<dialect>/{token}` (secret, ≥ 32 URL-safe characters).
    #[serde(default)]
    pub path_token: Option<SecretString>,
    /// Source addresses (CIDRs) allowed to call; empty allows any.
    #[serde(default)]
    pub ip_allow: Vec<String>,
    #[serde(default)]
    pub basic_auth: Option<BasicAuthSettings>,
    /// Africa's Talking only: also serve hops sent as `GET` with the form in the query string [false].
    #[serde(default)]
    pub accept_get: Option<bool>,
    /// Africa's Talking only: replies name the shown menu node in `at-ussd-hop-metadata` [false].
    #[serde(default)]
    pub hop_metadata: Option<bool>,
    /// Beem only: in sessions where Beem has echoed our `request_id`, a `continue` repeating the stored
    /// `(request_id, input)` is a duplicate [true]; `false` never treats one as a duplicate.
    #[serde(default)]
    pub request_id_echo: Option<bool>,
    /// Hubtel only: camelCase field names (`sessionId`, `type`) are accepted besides PascalCase [true].
    #[serde(default)]
    pub accept_camel_case: Option<bool>,
}

impl DialectSettings {
    /// The dialect-only keys (docs/ussd.md) set under a dialect they do not belong to, worded for the operator.
    pub fn misplaced_keys(&self, dialect: &str) -> Vec<String> {
        [
            ("accept_get", "africastalking", self.accept_get.is_some()),
            ("hop_metadata", "africastalking", self.hop_metadata.is_some()),
            ("request_id_echo", "beem", self.request_id_echo.is_some()),
            ("accept_camel_case", "hubtel", self.accept_camel_case.is_some()),
        ]
        .into_iter()
        .filter(|&(_, owner, set)| set && owner != dialect)
        .map(|(key, owner, _)| {
            format!("ussd.dialects.{dialect}.{key} applies only to ussd.dialects.{owner}: remove it from {dialect}")
        })
        .collect()
    }
}
