//! The two published generations of the partner API and the quirks of its docs, as switches of one
//! sandbox instance, so that gateway code can be run against each shape a lender's LMS may have.
//!
//! The generations disagree on loan create's `customerId` (an externalId today, the integer LMS id
//! before), on what a repayment body honours (amount, date and `idempotencyKey` today; the amount only
//! before) and on which routes exist (the older one has neither rollback nor a repayment list). The
//! quirks are things the docs themselves show that the Fineract-shaped default output does not. Every
//! place that differs asks this module, so the differences stay listed in one file.

use serde::Deserialize;
use serde_json::Value;

use super::params::Problems;

/// Which documentation generation the sandbox reproduces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxGeneration {
    /// The newest pages: `customerId` is the customer's externalId, repayments take a date and dedupe
    /// on `idempotencyKey`, rollback and the repayment list exist.
    #[default]
    Current,
    /// The older pages: `customerId` is the integer LMS id, repayments honour only the amount (dated
    /// by the service, never deduped), and there is no rollback and no repayment list route.
    Legacy,
}

impl SandboxGeneration {
    /// Whether `POST .../rollback` and `GET .../repayments` (the list) are served at all.
    pub(crate) fn has_rollback_and_repayment_list(self) -> bool {
        self == SandboxGeneration::Current
    }
}

/// Quirks of the published docs, each off by default (off = today's Fineract-shaped output).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxQuirks {
    /// Repayments ignore `idempotencyKey`: every POST is a new transaction. The legacy generation always
    /// behaves this way.
    pub ignore_idempotency_key: bool,
    /// Loans with nothing due show `"nextDueDate": ""` and `"nextDueAmount": 0` instead of `null`.
    pub empty_next_due: bool,
    /// The fee and penalty roll-up uses the docs' names (`feeCharged`, …, `penaltyOutstanding`) instead
    /// of Fineract's (`feeChargesCharged`, …, `penaltyChargesOutstanding`).
    pub docs_fee_names: bool,
}

/// What a repayment body honours beyond `transactionAmount`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RepaymentRules {
    /// `transactionDate` is read; otherwise the business date is used whatever the body says.
    pub honour_date: bool,
    /// `idempotencyKey` is read and dedupes; otherwise every post is a new transaction.
    pub honour_key: bool,
}

impl RepaymentRules {
    pub fn of(generation: SandboxGeneration, quirks: SandboxQuirks) -> Self {
        match generation {
            // "The transaction date and payment method are filled in by the service."
            SandboxGeneration::Legacy => RepaymentRules { honour_date: false, honour_key: false },
            SandboxGeneration::Current => {
                RepaymentRules { honour_date: true, honour_key: !quirks.ignore_idempotency_key }
            }
        }
    }
}

/// How loan create names the borrower.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CustomerRef {
    /// The customer's externalId (current generation, and the seed hook).
    External(String),
    /// The LMS customer id as decimal digits (legacy generation); kept as text so that a number too big
    /// for any id is simply not found rather than refused.
    Id(String),
}

/// Reads loan create's `customerId` the way `generation` documents it; a problem is recorded on
/// `problems` and gives `None`.
pub(crate) fn customer_ref(
    generation: SandboxGeneration,
    value: Value,
    problems: &mut Problems,
) -> Option<CustomerRef> {
    const FIELD: &str = "customerId";
    match (generation, value) {
        (_, Value::Null) => {
            problems.add(FIELD, "required");
            None
        }
        (_, Value::String(s)) if s.is_empty() => {
            problems.add(FIELD, "required");
            None
        }
        (SandboxGeneration::Current, Value::String(s)) => Some(CustomerRef::External(s)),
        (SandboxGeneration::Current, _) => {
            problems.add(FIELD, "must be the customer's externalId (a string)");
            None
        }
        (SandboxGeneration::Legacy, Value::String(s)) if s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(CustomerRef::Id(s))
        }
        (SandboxGeneration::Legacy, Value::Number(n)) if n.to_string().bytes().all(|b| b.is_ascii_digit()) => {
            Some(CustomerRef::Id(n.to_string()))
        }
        (SandboxGeneration::Legacy, _) => {
            problems.add(FIELD, "must be an integer customer id");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(generation: SandboxGeneration, value: Value) -> Option<CustomerRef> {
        customer_ref(generation, value, &mut Problems::default())
    }

    #[test]
    fn the_current_generation_takes_an_external_id_string_only() {
        let current = SandboxGeneration::Current;
        assert_eq!(read(current, json!("255712345678")), Some(CustomerRef::External("255712345678".into())));
        assert_eq!(read(current, json!(42)), None);
        assert_eq!(read(current, json!("")), None);
    }

    #[test]
    fn the_legacy_generation_takes_an_integer_or_digit_string() {
        let legacy = SandboxGeneration::Legacy;
        assert_eq!(read(legacy, json!(42)), Some(CustomerRef::Id("42".into())));
        assert_eq!(read(legacy, json!("42")), Some(CustomerRef::Id("42".into())));
        for refused in [json!("ext-ada-001"), json!(-1), json!(4.2), json!(true), json!(null)] {
            assert_eq!(read(legacy, refused.clone()), None, "{refused}");
        }
    }

    #[test]
    fn legacy_repayments_honour_neither_date_nor_key_and_the_quirk_drops_only_the_key() {
        let all_quirks = SandboxQuirks { ignore_idempotency_key: true, ..SandboxQuirks::default() };
        assert_eq!(
            RepaymentRules::of(SandboxGeneration::Legacy, SandboxQuirks::default()),
            RepaymentRules { honour_date: false, honour_key: false }
        );
        assert_eq!(
            RepaymentRules::of(SandboxGeneration::Current, all_quirks),
            RepaymentRules { honour_date: true, honour_key: false }
        );
        assert_eq!(
            RepaymentRules::of(SandboxGeneration::Current, SandboxQuirks::default()),
            RepaymentRules { honour_date: true, honour_key: true }
        );
    }

    #[test]
    fn generations_and_quirks_read_from_config_text() {
        let legacy: SandboxGeneration = serde_json::from_str(r#""legacy""#).unwrap();
        assert_eq!(legacy, SandboxGeneration::Legacy);
        assert!(serde_json::from_str::<SandboxGeneration>(r#""Legacy""#).is_err());
        let quirks: SandboxQuirks = serde_json::from_str(r#"{"empty_next_due": true}"#).unwrap();
        assert_eq!(quirks, SandboxQuirks { empty_next_due: true, ..SandboxQuirks::default() });
        assert!(serde_json::from_str::<SandboxQuirks>(r#"{"empty_next_date": true}"#).is_err());
    }
}
