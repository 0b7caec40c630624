//! Configuration of the sandbox LMS: partner credentials, token lifetime, business time zone, scorecard
//! entries, the seeded loan products, and which documentation generation and doc quirks to reproduce.
//!
//! [`SandboxLmsSettings`] is what the config file holds; [`SandboxLmsSettings::validate`] turns it into the
//! checked [`Config`] the running sandbox uses, so a bad time zone or an impossible product fails at boot
//! rather than on the first request.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::generation::{SandboxGeneration, SandboxQuirks};
use super::interest::InterestRule;
use super::products::Product;

/// Longest scorecard key the API accepts.
pub(crate) const MAX_SCORECARD_KEY: usize = 128;

/// Longest token lifetime accepted; keeps expiry arithmetic far from `SystemTime`'s limits.
const MAX_TOKEN_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Settings of one sandbox LMS instance. Every field has a default, so an empty table works.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxLmsSettings {
    /// HTTP Basic user accepted by `GET /v1/auth/token`.
    pub partner_email: String,
    /// HTTP Basic password accepted by `GET /v1/auth/token`. Redacted from `Debug`.
    pub partner_password: String,
    /// Lifetime of issued tokens (`exp - iat`).
    #[serde(with = "humantime_serde")]
    pub token_ttl: Duration,
    /// IANA zone whose calendar date is "today", unless the clock hook pinned a date.
    pub business_timezone: String,
    /// Scorecard grade for every externalId without its own entry.
    pub default_grade: String,
    /// Scorecard score for every externalId without its own entry.
    pub default_credit_score: u32,
    /// Scorecard `finalCreditLimit` for every externalId without its own entry.
    #[serde(with = "crate::domain::money::number")]
    pub default_credit_limit: Decimal,
    /// Per-number scorecard entries keyed by customer externalId (e.g. unscored numbers).
    pub scorecards: BTreeMap<String, ScorecardEntry>,
    /// Loan products to serve; `None` seeds the three docs/lms.md products.
    pub products: Option<Vec<SeedProduct>>,
    /// Which documented generation of the partner API to reproduce.
    pub generation: SandboxGeneration,
    /// Quirks of the published docs to reproduce (table `[sandbox.lms.quirks]`).
    pub quirks: SandboxQuirks,
}

impl Default for SandboxLmsSettings {
    fn default() -> Self {
        Self {
            partner_email: "partner@sandbox.local".to_owned(),
            partner_password: "sandbox".to_owned(),
            token_ttl: Duration::from_secs(365 * 24 * 60 * 60),
            business_timezone: "Africa/Dar_es_Salaam".to_owned(),
            default_grade: "B".to_owned(),
            default_credit_score: 700,
            default_credit_limit: Decimal::from(50_000),
            scorecards: BTreeMap::new(),
            products: None,
            generation: SandboxGeneration::default(),
            quirks: SandboxQuirks::default(),
        }
    }
}

// Written by hand so that the partner password never reaches a log line.
impl fmt::Debug for SandboxLmsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxLmsSettings")
            .field("partner_email", &self.partner_email)
            .field("partner_password", &"<redacted>")
            .field("token_ttl", &self.token_ttl)
            .field("business_timezone", &self.business_timezone)
            .field("default_grade", &self.default_grade)
            .field("default_credit_score", &self.default_credit_score)
            .field("default_credit_limit", &self.default_credit_limit)
            .field("scorecards", &self.scorecards)
            .field("products", &self.products)
            .field("generation", &self.generation)
            .field("quirks", &self.quirks)
            .finish()
    }
}

/// One number's scorecard. An unscored number is grade `XX`, score 100, limit 0.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorecardEntry {
    pub grade: String,
    pub credit_score: u32,
    #[serde(with = "crate::domain::money::number")]
    pub credit_limit: Decimal,
}

/// A loan product as configured. Enum-like fields hold Fineract's labels: `repayment_frequency_type` is one
/// of `Days`, `Weeks`, `Months`, `Years`; `interest_rate_frequency_type` is `Whole term` or `Per day|week|
/// month|year`. In TOML, write fractional amounts or rates as strings (`"1.5"`): a bare float would be a
/// binary double, which the money deserializer refuses.
///
/// `min_principal` / `max_principal` may be left out (the product then shows `null` there) and `status`
/// may be other than `active`, as on the docs' older pages; such a product is served but refuses loans.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedProduct {
    pub id: String,
    pub name: String,
    pub short_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_currency")]
    pub currency_code: String,
    #[serde(with = "crate::domain::money::number")]
    pub principal: Decimal,
    #[serde(default, with = "crate::domain::money::option")]
    pub min_principal: Option<Decimal>,
    #[serde(default, with = "crate::domain::money::option")]
    pub max_principal: Option<Decimal>,
    pub number_of_repayments: u32,
    pub repayment_every: u32,
    pub repayment_frequency_type: String,
    #[serde(with = "crate::domain::money::number")]
    pub interest_rate_per_period: Decimal,
    pub interest_rate_frequency_type: String,
    #[serde(default = "default_amortization")]
    pub amortization_type: String,
    #[serde(default = "default_interest_type")]
    pub interest_type: String,
    #[serde(default = "default_calculation_period")]
    pub interest_calculation_period_type: String,
    #[serde(default = "default_product_status")]
    pub status: String,
    /// How interest is charged; `flat` is the contract's rule.
    #[serde(default)]
    pub interest_rule: InterestRule,
}

fn default_currency() -> String {
    "TZS".to_owned()
}
fn default_amortization() -> String {
    "Equal installments".to_owned()
}
fn default_interest_type() -> String {
    "Flat".to_owned()
}
fn default_calculation_period() -> String {
    "Same as repayment period".to_owned()
}
fn default_product_status() -> String {
    "active".to_owned()
}

impl SeedProduct {
    /// The three docs/lms.md products.
    pub fn defaults() -> Vec<SeedProduct> {
        let product = |id: &str, name: &str, short: &str, description: &str, amounts: [i64; 3]| SeedProduct {
            id: id.to_owned(),
            name: name.to_owned(),
            short_name: short.to_owned(),
            description: description.to_owned(),
            currency_code: default_currency(),
            principal: Decimal::from(amounts[0]),
            min_principal: Some(Decimal::from(amounts[1])),
            max_principal: Some(Decimal::from(amounts[2])),
            number_of_repayments: 1,
            repayment_every: 1,
            repayment_frequency_type: String::new(),
            interest_rate_per_period: Decimal::ZERO,
            interest_rate_frequency_type: String::new(),
            amortization_type: default_amortization(),
            interest_type: default_interest_type(),
            interest_calculation_period_type: default_calculation_period(),
            status: default_product_status(),
            interest_rule: InterestRule::Flat,
        };
        vec![
            SeedProduct {
                repayment_every: 7,
                repayment_frequency_type: "Days".to_owned(),
                interest_rate_per_period: Decimal::from(11),
                interest_rate_frequency_type: "Whole term".to_owned(),
                ..product("1", "Halotel 7-Day Loan", "H7D", "One repayment after 7 days", [10_000, 1_000, 100_000])
            },
            SeedProduct {
                repayment_every: 30,
                repayment_frequency_type: "Days".to_owned(),
                interest_rate_per_period: Decimal::from(15),
                interest_rate_frequency_type: "Whole term".to_owned(),
                ..product("2", "Halotel 30-Day Loan", "H30D", "One repayment after 30 days", [50_000, 5_000, 500_000])
            },
            SeedProduct {
                number_of_repayments: 3,
                repayment_frequency_type: "Months".to_owned(),
                interest_rate_per_period: Decimal::from(6),
                interest_rate_frequency_type: "Per month".to_owned(),
                ..product("3", "Halotel 3-Month Loan", "H3M", "Three monthly repayments", [150_000, 50_000, 1_500_000])
            },
        ]
    }
}

/// The checked, immutable configuration of a running sandbox.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub partner_email: String,
    pub partner_password: String,
    pub token_ttl: Duration,
    pub timezone: Tz,
    pub default_scorecard: ScorecardEntry,
    pub scorecards: BTreeMap<String, ScorecardEntry>,
    pub products: Vec<Product>,
    pub generation: SandboxGeneration,
    pub quirks: SandboxQuirks,
}

impl SandboxLmsSettings {
    /// Checks every setting and builds the runtime [`Config`]; the error names the offending setting.
    pub(crate) fn validate(&self) -> Result<Config, String> {
        let timezone = Tz::from_str(&self.business_timezone)
            .map_err(|e| format!("sandbox lms: business_timezone {:?}: {e}", self.business_timezone))?;
        if self.token_ttl > MAX_TOKEN_TTL {
            return Err("sandbox lms: token_ttl must be at most 100 years".to_owned());
        }
        if self.partner_email.is_empty() {
            return Err("sandbox lms: partner_email must not be empty".to_owned());
        }
        if let Some(key) = self.scorecards.keys().find(|k| k.is_empty() || k.len() > MAX_SCORECARD_KEY) {
            return Err(format!("sandbox lms: scorecard key {key:?} must have 1 to {MAX_SCORECARD_KEY} characters"));
        }
        let seeds = self.products.clone().unwrap_or_else(SeedProduct::defaults);
        let mut seen = HashSet::new();
        let mut products = Vec::with_capacity(seeds.len());
        for seed in &seeds {
            if !seen.insert(seed.id.as_str()) {
                return Err(format!("sandbox lms: product id {:?} appears twice", seed.id));
            }
            products.push(Product::from_seed(seed).map_err(|e| format!("sandbox lms: product {:?}: {e}", seed.id))?);
        }
        Ok(Config {
            partner_email: self.partner_email.clone(),
            partner_password: self.partner_password.clone(),
            token_ttl: self.token_ttl,
            timezone,
            default_scorecard: ScorecardEntry {
                grade: self.default_grade.clone(),
                credit_score: self.default_credit_score,
                credit_limit: self.default_credit_limit,
            },
            scorecards: self.scorecards.clone(),
            products,
            generation: self.generation,
            quirks: self.quirks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_table_gives_the_documented_defaults() {
        let settings: SandboxLmsSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings.partner_email, "partner@sandbox.local");
        assert_eq!(settings.token_ttl, Duration::from_secs(31_536_000));
        assert_eq!(settings.default_credit_limit, Decimal::from(50_000));
        let config = settings.validate().unwrap();
        assert_eq!(config.products.len(), 3);
    }

    #[test]
    fn settings_read_humane_durations_and_exact_limits() {
        let json = r#"{"token_ttl": "30s", "scorecards": {"255700000001": {"grade": "XX", "credit_score": 100, "credit_limit": 0}}}"#;
        let settings: SandboxLmsSettings = serde_json::from_str(json).unwrap();
        assert_eq!(settings.token_ttl, Duration::from_secs(30));
        assert_eq!(settings.scorecards["255700000001"].grade, "XX");
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(serde_json::from_str::<SandboxLmsSettings>(r#"{"partner_mail": "x"}"#).is_err());
    }

    #[test]
    fn a_bad_time_zone_fails_validation() {
        let settings = SandboxLmsSettings { business_timezone: "Mars/Olympus".to_owned(), ..Default::default() };
        assert!(settings.validate().unwrap_err().contains("business_timezone"));
    }

    #[test]
    fn duplicate_product_ids_fail_validation() {
        let mut products = SeedProduct::defaults();
        products[1].id = "1".to_owned();
        let settings = SandboxLmsSettings { products: Some(products), ..Default::default() };
        assert!(settings.validate().unwrap_err().contains("appears twice"));
    }

    #[test]
    fn debug_output_hides_the_password_and_shows_the_generation_and_quirks() {
        let settings = SandboxLmsSettings { partner_password: "hunter2".to_owned(), ..Default::default() };
        let debug = format!("{settings:?}");
        assert!(!debug.contains("hunter2"));
        assert!(debug.contains("generation: Current") && debug.contains("docs_fee_names: false"), "{debug}");
    }

    #[test]
    fn the_generation_and_quirks_default_to_today_and_read_from_the_table() {
        let settings: SandboxLmsSettings = serde_json::from_str("{}").unwrap();
        assert_eq!((settings.generation, settings.quirks), (SandboxGeneration::Current, SandboxQuirks::default()));
        let json = r#"{"generation": "legacy", "quirks": {"ignore_idempotency_key": true, "docs_fee_names": true}}"#;
        let settings: SandboxLmsSettings = serde_json::from_str(json).unwrap();
        assert_eq!(settings.generation, SandboxGeneration::Legacy);
        assert!(settings.quirks.ignore_idempotency_key && settings.quirks.docs_fee_names);
        assert!(!settings.quirks.empty_next_due);
        assert!(serde_json::from_str::<SandboxLmsSettings>(r#"{"generation": "older"}"#).is_err());
        assert!(serde_json::from_str::<SandboxLmsSettings>(r#"{"quirks": {"nope": true}}"#).is_err());
    }

    fn seed(json: &str) -> SeedProduct {
        let base = r#""id": "9", "name": "N", "short_name": "N", "principal": 5000, "number_of_repayments": 1,
            "repayment_every": 7, "repayment_frequency_type": "Days", "interest_rate_per_period": 11,
            "interest_rate_frequency_type": "Whole term""#;
        serde_json::from_str(&format!("{{{base}{json}}}")).unwrap()
    }

    #[test]
    fn a_product_may_lack_its_bounds_and_defaults_to_active_and_flat() {
        let product = seed("");
        assert_eq!((product.min_principal, product.max_principal), (None, None));
        assert_eq!((product.status.as_str(), product.interest_rule), ("active", InterestRule::Flat));
        let product = seed(r#", "min_principal": null, "max_principal": 9000, "interest_rule": "daily_basis_points""#);
        assert_eq!((product.min_principal, product.max_principal), (None, Some(Decimal::from(9000))));
        assert_eq!(product.interest_rule, InterestRule::DailyBasisPoints);
        let other = SeedProduct { id: "10".to_owned(), ..seed("") };
        let settings = SandboxLmsSettings { products: Some(vec![other, product]), ..Default::default() };
        assert_eq!(settings.validate().unwrap().products.len(), 2);
    }

    #[test]
    fn impossible_bounds_fail_validation() {
        for bounds in [
            r#", "min_principal": 6000, "max_principal": 5500"#,
            r#", "min_principal": 0"#,
            r#", "max_principal": 4000"#,
            r#", "min_principal": 6000"#,
        ] {
            let settings = SandboxLmsSettings { products: Some(vec![seed(bounds)]), ..Default::default() };
            assert!(settings.validate().is_err(), "{bounds}");
        }
    }
}
