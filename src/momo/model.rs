//! The neutral mobile-money model (docs/money.md). Every provider adapter translates its wire
//! format into these types and back; nothing above the adapters knows a provider's field names.
//!
//! Deviation from the spec: amounts are `rust_decimal::Decimal` (the house rule for money), not `i64`
//! minor units. Both are exact; `Decimal` keeps one money type across the LMS and wallet sides.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::reference::Reference;
use crate::domain::Msisdn;
use crate::lms::LoanKey;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    #[serde(with = "crate::domain::money::number")]
    pub amount: Decimal,
    pub currency: String,
}

impl Money {
    pub fn new(amount: Decimal, currency: &str) -> Self {
        Self { amount, currency: currency.to_ascii_uppercase() }
    }

    /// The generic wire form: a decimal string with exactly two decimals (`"11100.00"`).
    pub fn wire_amount(&self) -> String {
        format!("{:.2}", self.amount.round_dp(2))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// A wallet speaking mkopo's published contract, by its configured name (e.g. `sandbox`).
    Generic {
        wallet: String,
    },
    Daraja,
}

impl Provider {
    /// The dedupe namespace: the wallet name, or `daraja` for every Daraja endpoint.
    pub fn namespace(&self) -> &str {
        match self {
            Provider::Generic { wallet } => wallet,
            Provider::Daraja => "daraja",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Payout,
    Collection,
}

/// What a provider says about one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded {
        receipt: Option<String>,
        amount: Option<Money>,
        occurred_at: Option<DateTime<Utc>>,
    },
    /// Definite: no money moved and none will under this reference.
    Failed {
        code: String,
        message: Option<String>,
    },
    Pending,
    /// Timeout, queue timeout, an ambiguous answer: never treated as a failure.
    Unknown {
        why: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Payment,
    CollectionResult,
    PayoutResult,
    Other(String),
}

/// A callback exactly as received, kept with the event for audits and re-parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawCallback {
    #[serde(with = "base64_bytes")]
    pub body: Vec<u8>,
    /// Lower-cased header names; only the ones adapters need are kept.
    pub headers: BTreeMap<String, String>,
    pub received_at: DateTime<Utc>,
    pub source_ip: Option<String>,
}

impl RawCallback {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

/// One normalised callback event. `key` is the dedupe key within the provider's namespace:
/// the receipt for completions, `failed:{reference}` for failures, `other:{id}` for unknown types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundEvent {
    pub provider: Provider,
    pub key: String,
    pub kind: EventKind,
    pub reference: Option<Reference>,
    pub receipt: Option<String>,
    /// The account as typed or echoed: a loan reference, an MSISDN, or free text.
    pub account: Option<String>,
    pub msisdn: Option<Msisdn>,
    pub amount: Option<Money>,
    pub outcome: Outcome,
    pub occurred_at: Option<DateTime<Utc>>,
}

/// One repayment posting planned from an inbound payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationPart {
    /// The loan's externalId; empty for a loan that has none (then `lms_loan_id` names it).
    pub loan_external_id: String,
    /// The LMS id of a loan without externalId (one the lender's back office created).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lms_loan_id: Option<String>,
    pub amount: Money,
    pub idempotency_key: String,
}

impl AllocationPart {
    pub fn new(loan: &LoanKey, amount: Money, idempotency_key: String) -> Self {
        let (loan_external_id, lms_loan_id) = match loan {
            LoanKey::External(x) => (x.clone(), None),
            LoanKey::Id(id) => (String::new(), Some(id.clone())),
        };
        Self { loan_external_id, lms_loan_id, amount, idempotency_key }
    }

    /// How to address the loan on the LMS.
    pub fn loan(&self) -> LoanKey {
        match &self.lms_loan_id {
            Some(id) if self.loan_external_id.is_empty() => LoanKey::Id(id.clone()),
            _ => LoanKey::External(self.loan_external_id.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    Parts(Vec<AllocationPart>),
    Suspense { reason: String },
}

/// An outbound payout or collection request, as the gateway asks a wallet for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundRequest {
    pub reference: Reference,
    pub direction: Direction,
    pub msisdn: Msisdn,
    pub amount: Money,
    /// Collections: the loan externalId the money is for.
    pub account: Option<String>,
    pub description: Option<String>,
}

/// Raw bodies are stored as base64 so any bytes survive exactly (a JSON array of numbers would too,
/// at four times the size).
mod base64_bytes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        STANDARD.decode(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}
