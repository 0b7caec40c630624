//! The generic wallet's wire format (docs/money.md): the transaction object, the
//! callback envelope and the request bodies, as typed DTOs.
//!
//! The same types serve both ends: the gateway reads them from wallets, and the sandbox wallet writes
//! them. So every field of the transaction object is always serialised, `null` where not applicable,
//! in the contract's field order. On reading, unknown fields are ignored (v1 changes are additive) and
//! a nullable field that is missing reads as `null`.

mod fields;
mod requests;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use fields::{is_wire_id, rfc3339, Currency, WireAmount, WireReference};
pub use requests::{CollectionRequest, PayoutRequest, RequestError, DESCRIPTION_MAX_CHARS};

use crate::momo::{Money, Outcome};
use crate::telemetry::redact_digits;

/// Longest receipt we accept, so `receipt#n` still fits the LMS `idempotencyKey` limit of 100.
pub const RECEIPT_MAX_CHARS: usize = 96;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxKind {
    Payout,
    Collection,
    /// Wallet-initiated, e.g. a paybill payment typed in the wallet menu.
    Payment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxStatus {
    Pending,
    /// Final.
    Completed,
    /// Final and definite: no money moved, and none will under this reference.
    Failed,
}

/// Why a transaction failed. Codes this version does not know read as [`FailureCode::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    InsufficientFunds,
    InsufficientFloat,
    RecipientInvalid,
    LimitExceeded,
    CancelledByUser,
    WrongPin,
    Expired,
    Rejected,
    #[serde(other)]
    Other,
}

impl FailureCode {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCode::InsufficientFunds => "insufficient_funds",
            FailureCode::InsufficientFloat => "insufficient_float",
            FailureCode::RecipientInvalid => "recipient_invalid",
            FailureCode::LimitExceeded => "limit_exceeded",
            FailureCode::CancelledByUser => "cancelled_by_user",
            FailureCode::WrongPin => "wrong_pin",
            FailureCode::Expired => "expired",
            FailureCode::Rejected => "rejected",
            FailureCode::Other => "other",
        }
    }
}

/// The docs/money.md transaction object. Field order is the contract's, so serialising reproduces it exactly.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionObject {
    pub kind: TxKind,
    /// Our reference; `null` for `payment`.
    #[serde(default)]
    pub reference: Option<WireReference>,
    /// The wallet's transaction id; non-null when `completed`.
    #[serde(default)]
    pub receipt: Option<String>,
    /// Collections: the echoed loan externalId. Payments: what the subscriber typed (may be an MSISDN).
    #[serde(default)]
    pub account: Option<String>,
    /// Kept as sent: the gateway normalises it with the deployment's country code, not the DTO.
    pub msisdn: String,
    pub amount: WireAmount,
    pub currency: Currency,
    pub status: TxStatus,
    #[serde(default)]
    pub failure_code: Option<FailureCode>,
    #[serde(default)]
    pub failure_message: Option<String>,
    /// The value time of the final status; `null` while pending.
    #[serde(default, with = "rfc3339::option")]
    pub occurred_at: Option<DateTime<Utc>>,
}

impl TransactionObject {
    /// Cross-field rules of docs/money.md that the types alone cannot hold. Deliberately lenient where a
    /// violation changes nothing for us (a receipt on a failure, an account on a payout), strict where
    /// money depends on it: a completion needs its receipt (the dedupe key) and its value time.
    pub fn validate(&self) -> Result<(), String> {
        if matches!(self.kind, TxKind::Payout | TxKind::Collection) && self.reference.is_none() {
            return Err(format!("a {} needs a reference", self.kind_str()));
        }
        if self.status == TxStatus::Completed {
            let receipt = self.receipt.as_deref().ok_or("a completed transaction needs a receipt")?;
            let chars = receipt.chars().count();
            if chars == 0 || chars > RECEIPT_MAX_CHARS || receipt.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!("the receipt must be 1 to {RECEIPT_MAX_CHARS} visible characters"));
            }
            if self.occurred_at.is_none() {
                return Err("a completed transaction needs occurred_at".into());
            }
        }
        Ok(())
    }

    /// What the object says about the transaction, in the neutral model.
    pub fn outcome(&self) -> Outcome {
        match self.status {
            TxStatus::Pending => Outcome::Pending,
            TxStatus::Completed => Outcome::Succeeded {
                receipt: self.receipt.clone(),
                amount: Some(self.money()),
                occurred_at: self.occurred_at,
            },
            TxStatus::Failed => Outcome::Failed {
                code: self.failure_code.unwrap_or(FailureCode::Other).as_str().to_owned(),
                message: self.failure_message.clone(),
            },
        }
    }

    pub fn money(&self) -> Money {
        Money::new(self.amount.value(), self.currency.as_str())
    }

    /// The callback `type` announcing this object's final state, if there is one.
    pub fn callback_type(&self) -> Option<&'static str> {
        match (self.kind, self.status) {
            (TxKind::Payment, TxStatus::Completed) => Some(event_type::PAYMENT_RECEIVED),
            (TxKind::Collection, TxStatus::Completed) => Some(event_type::COLLECTION_COMPLETED),
            (TxKind::Collection, TxStatus::Failed) => Some(event_type::COLLECTION_FAILED),
            (TxKind::Payout, TxStatus::Completed) => Some(event_type::PAYOUT_COMPLETED),
            (TxKind::Payout, TxStatus::Failed) => Some(event_type::PAYOUT_FAILED),
            _ => None,
        }
    }

    fn kind_str(&self) -> &'static str {
        match self.kind {
            TxKind::Payout => "payout",
            TxKind::Collection => "collection",
            TxKind::Payment => "payment",
        }
    }
}

/// Hand-written so that no log line can print a subscriber's number: the MSISDN, the typed account
/// (which may be an MSISDN) and the wallet's free text are masked.
impl fmt::Debug for TransactionObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransactionObject")
            .field("kind", &self.kind)
            .field("reference", &self.reference)
            .field("receipt", &self.receipt)
            .field("account", &self.account.as_deref().map(redact_digits))
            .field("msisdn", &redact_digits(&self.msisdn))
            .field("amount", &self.amount.to_string())
            .field("currency", &self.currency.as_str())
            .field("status", &self.status)
            .field("failure_code", &self.failure_code)
            .field("failure_message", &self.failure_message.as_deref().map(redact_digits))
            .field("occurred_at", &self.occurred_at)
            .finish()
    }
}

/// The callback `type` values of docs/money.md.
pub mod event_type {
    pub const PAYMENT_RECEIVED: &str = "payment.received";
    pub const COLLECTION_COMPLETED: &str = "collection.completed";
    pub const COLLECTION_FAILED: &str = "collection.failed";
    pub const PAYOUT_COMPLETED: &str = "payout.completed";
    pub const PAYOUT_FAILED: &str = "payout.failed";
}

/// A Standard Webhooks payload carrying a transaction object (the known `type`s of docs/money.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackEnvelope {
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event was created (not when this attempt was sent).
    #[serde(with = "rfc3339")]
    pub timestamp: DateTime<Utc>,
    pub data: TransactionObject,
}

/// The `{"error":…,"message":…}` body of every generic-wallet error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default)]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYOUT_202: &str = r#"{"kind":"payout","reference":"L0000123455","receipt":null,"account":null,"msisdn":"255712345678","amount":"50000.00","currency":"TZS","status":"pending","failure_code":null,"failure_message":null,"occurred_at":null}"#;

    fn object(json: &str) -> TransactionObject {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_spec_payout_object_round_trips_byte_for_byte() {
        let tx = object(PAYOUT_202);
        assert_eq!(tx.outcome(), Outcome::Pending);
        assert_eq!(tx.validate(), Ok(()));
        assert_eq!(serde_json::to_string(&tx).unwrap(), PAYOUT_202);
    }

    #[test]
    fn unknown_failure_codes_read_as_other_and_unknown_fields_are_ignored() {
        let json = PAYOUT_202
            .replace(r#""status":"pending""#, r#""status":"failed""#)
            .replace(r#""failure_code":null"#, r#""failure_code":"account_frozen","extra":{"v":2}"#);
        let tx = object(&json);
        assert_eq!(tx.failure_code, Some(FailureCode::Other));
        assert_eq!(tx.outcome(), Outcome::Failed { code: "other".into(), message: None });
    }

    #[test]
    fn a_completion_without_receipt_or_value_time_is_invalid() {
        let completed = PAYOUT_202.replace(r#""status":"pending""#, r#""status":"completed""#);
        assert!(object(&completed).validate().unwrap_err().contains("receipt"));
        let with_receipt = completed.replace(r#""receipt":null"#, r#""receipt":"HP1""#);
        assert!(object(&with_receipt).validate().unwrap_err().contains("occurred_at"));
        let without_reference = PAYOUT_202.replace(r#""reference":"L0000123455""#, r#""reference":null"#);
        assert!(object(&without_reference).validate().is_err());
    }

    #[test]
    fn debug_output_never_shows_a_whole_msisdn() {
        let text = format!("{:?}", object(PAYOUT_202));
        assert!(!text.contains("255712345678"), "{text}");
        assert!(text.contains("25571****678"), "{text}");
    }
}
