//! Daraja callbacks (docs/money.md): pure parsers and the exact acknowledgements.
//!
//! Nothing here does IO. A handler checks [`path_token_matches`] and the source address
//! ([`crate::domain::netguard`]) first (Daraja does not sign callbacks), then parses the raw bytes with one of the functions below, runs the inbox
//! script, and only then answers with the ack constant for that path. Malformed bodies give a
//! [`CallbackError`]; semantic oddities (a success without a receipt) become `Outcome::Unknown`, never
//! `Failed`, because a definite failure triggers a loan rollback.

mod auth;
mod c2b;
mod results;
mod stk;
mod wire;

pub use auth::path_token_matches;
pub use c2b::{classify_bill_ref, parse_c2b_confirmation, validate_c2b, BillRef, C2bValidation};
pub use results::{parse_b2c_result, parse_queue_timeout, parse_status_result, CorrelationKey, PayoutResult};
pub(crate) use stk::stk_failure;
pub use stk::{parse_stk_callback, stk_failure_code, StkCallback};

use super::msisdn::{PatternError, UsableMsisdn};
use super::settings::DarajaSettings;
use crate::telemetry::redact_digits;

/// `/c2b/validation`, accepting. `ResultCode` is the *string* `"0"` here, as Daraja documents it.
pub const ACK_VALIDATION_ACCEPTED: &[u8] = br#"{"ResultCode":"0","ResultDesc":"Accepted"}"#;
/// `/c2b/validation`, rejecting: `C2B00012` is "invalid account number".
pub const ACK_VALIDATION_REJECTED: &[u8] = br#"{"ResultCode":"C2B00012","ResultDesc":"Rejected"}"#;
/// `/c2b/confirmation`, new or duplicate alike. `ResultCode` is the *number* `0` here.
pub const ACK_CONFIRMATION: &[u8] = br#"{"ResultCode":0,"ResultDesc":"Success"}"#;
/// `/stk`, `/b2c/result`, `/b2c/timeout`, `/status/result`, `/status/timeout`.
pub const ACK_ACCEPTED: &[u8] = br#"{"ResultCode":0,"ResultDesc":"Accepted"}"#;

/// The deployment facts the parsers need: which numbers are usable, and the currency of amounts.
#[derive(Debug, Clone)]
pub struct CallbackRules {
    pub usable: UsableMsisdn,
    pub currency: String,
}

impl CallbackRules {
    pub fn from_settings(settings: &DarajaSettings) -> Result<Self, PatternError> {
        Ok(Self { usable: settings.usable_msisdn()?, currency: settings.currency.clone() })
    }
}

impl Default for CallbackRules {
    /// Kenya, KES.
    fn default() -> Self {
        Self { usable: UsableMsisdn::kenya(), currency: "KES".into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// The body is not JSON of the expected shape. Digit runs are masked: bodies carry MSISDNs.
    #[error("the Daraja callback body is malformed: {0}")]
    Malformed(String),
    #[error("the Daraja callback has no usable {0}")]
    Missing(&'static str),
    #[error("the Daraja callback field {field} is invalid: {detail}")]
    Invalid { field: &'static str, detail: String },
}

impl CallbackError {
    fn json(error: serde_json::Error) -> Self {
        CallbackError::Malformed(redact_digits(&error.to_string()))
    }
}

#[cfg(test)]
mod robustness_tests;
