//! B2C payouts and their status query (docs/money.md).

use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::Number;

use super::error::{Answer, DarajaError};
use super::DarajaClient;
use crate::momo::daraja::urls::CallbackPath;
use crate::momo::{Money, OutboundRequest, Reference};

/// What the synchronous B2C answer means for the payout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutSubmit {
    /// `ResponseCode "0"`: accepted; the result arrives on `/b2c/result`. Store the id.
    Pending { conversation_id: String },
    /// Not accepted (HTTP 4xx, a non-`"0"` `ResponseCode`, or refused before sending): roll back.
    Failed { code: String, message: String },
    /// Not accepted, but may be sent again with the same reference: throttling, no token, no connection.
    RetryLater { code: String, message: String },
    /// Possibly accepted (timeout, other 5xx, an unreadable answer): poll, never resend.
    Unknown { why: String },
}

/// The synchronous answer to a transaction-status query; the real answer comes on `/status/result`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusSubmit {
    /// The query's own ids, which the `/status/result` callback repeats at its top level.
    Accepted { conversation_id: Option<String>, originator_conversation_id: Option<String> },
    /// Refused or unanswered; the payout's state is unchanged and the poll schedule tries again.
    NotAccepted { why: String },
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct B2cBody<'a> {
    initiator_name: &'a str,
    security_credential: &'a str,
    #[serde(rename = "CommandID")]
    command_id: &'a str,
    amount: Number,
    party_a: &'a str,
    party_b: &'a str,
    #[serde(rename = "QueueTimeOutURL")]
    queue_timeout_url: String,
    #[serde(rename = "ResultURL")]
    result_url: String,
    #[serde(rename = "OriginatorConversationID")]
    originator_conversation_id: &'a str,
    remarks: &'a str,
    occasion: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatusBody<'a> {
    initiator: &'a str,
    security_credential: &'a str,
    #[serde(rename = "CommandID")]
    command_id: &'a str,
    #[serde(rename = "TransactionID")]
    transaction_id: &'a str,
    #[serde(rename = "OriginalConversationID")]
    original_conversation_id: &'a str,
    party_a: &'a str,
    identifier_type: &'a str,
    #[serde(rename = "ResultURL")]
    result_url: String,
    #[serde(rename = "QueueTimeOutURL")]
    queue_timeout_url: String,
    remarks: &'a str,
    occasion: &'a str,
}

/// Daraja moves whole shillings only. A fractional or foreign amount is refused here, never rounded.
pub(super) fn whole_amount(money: &Money, currency: &str) -> Result<i64, String> {
    if money.currency != currency {
        return Err(format!("Daraja pays {currency}, not {}", money.currency));
    }
    if !money.amount.fract().is_zero() || money.amount <= rust_decimal::Decimal::ZERO {
        return Err(format!("Daraja needs a positive whole amount, not {}", money.amount));
    }
    i64::try_from(money.amount.trunc()).map_err(|_| format!("amount {} is too large", money.amount))
}

impl DarajaClient {
    /// Sends a B2C payment of `request.amount` to `request.msisdn`, with our reference as
    /// `OriginatorConversationID` and `Occasion`. A `RetryLater` may be sent again; an `Unknown` must not.
    #[tracing::instrument(name = "daraja.b2c_payout", skip_all, fields(reference = %request.reference, msisdn = %request.msisdn))]
    pub async fn b2c_payout(&self, request: &OutboundRequest) -> PayoutSubmit {
        let config = &self.inner.config;
        let amount = match whole_amount(&request.amount, &config.currency) {
            Ok(amount) => amount,
            Err(message) => return PayoutSubmit::Failed { code: "invalid_amount".into(), message },
        };
        let urls = &self.inner.urls;
        let body = B2cBody {
            initiator_name: &config.initiator_name,
            security_credential: config.security_credential.expose_secret(),
            command_id: "BusinessPayment",
            amount: Number::from(amount),
            party_a: &config.b2c_shortcode,
            party_b: request.msisdn.as_str(),
            queue_timeout_url: urls.url(CallbackPath::B2cTimeout),
            result_url: urls.url(CallbackPath::B2cResult),
            originator_conversation_id: request.reference.as_str(),
            remarks: "Mkopo loan",
            occasion: request.reference.as_str(),
        };
        let outcome = classify_payout(
            self.post("POST /mpesa/b2c/v3/paymentrequest", "/mpesa/b2c/v3/paymentrequest", &body).await,
        );
        tracing::info!(?outcome, "B2C payout submitted");
        outcome
    }

    /// Asks for the status of the payout sent under `reference` (the poll for an Unknown payout).
    #[tracing::instrument(name = "daraja.transaction_status", skip_all, fields(%reference))]
    pub async fn transaction_status(&self, reference: &Reference) -> StatusSubmit {
        let config = &self.inner.config;
        let urls = &self.inner.urls;
        let body = StatusBody {
            initiator: &config.initiator_name,
            security_credential: config.security_credential.expose_secret(),
            command_id: "TransactionStatusQuery",
            transaction_id: "",
            original_conversation_id: reference.as_str(),
            party_a: &config.b2c_shortcode,
            identifier_type: "4",
            result_url: urls.url(CallbackPath::StatusResult),
            queue_timeout_url: urls.url(CallbackPath::StatusTimeout),
            remarks: "payout status",
            occasion: "",
        };
        let outcome = classify_status(
            self.post("POST /mpesa/transactionstatus/v1/query", "/mpesa/transactionstatus/v1/query", &body).await,
        );
        tracing::info!(?outcome, "transaction status query submitted");
        outcome
    }
}

/// The documented rows for the synchronous B2C answer.
pub(super) fn classify_payout(result: Result<Answer, DarajaError>) -> PayoutSubmit {
    let answer = match result {
        Ok(answer) => answer,
        Err(error) if error.not_sent() => {
            return PayoutSubmit::RetryLater { code: "not_sent".into(), message: error.to_string() };
        }
        Err(error) => return PayoutSubmit::Unknown { why: error.to_string() },
    };
    let code = answer.error_code().or_else(|| answer.response_code());
    let code_or_status = || code.clone().unwrap_or_else(|| format!("http_{}", answer.status));
    if answer.is_throttled() || answer.is_invalid_token() {
        // Refused before processing: the same OriginatorConversationID may go again.
        return PayoutSubmit::RetryLater { code: code_or_status(), message: answer.message() };
    }
    match answer.status {
        200..=299 => match (answer.response_code().as_deref(), answer.text("ConversationID")) {
            (Some("0"), Some(conversation_id)) => PayoutSubmit::Pending { conversation_id },
            (Some("0"), None) => PayoutSubmit::Unknown { why: "accepted without a ConversationID".into() },
            (Some(_), _) => PayoutSubmit::Failed { code: code_or_status(), message: answer.message() },
            (None, _) => PayoutSubmit::Unknown { why: format!("unreadable answer: {}", answer.message()) },
        },
        400..=499 => PayoutSubmit::Failed { code: code_or_status(), message: answer.message() },
        status => PayoutSubmit::Unknown { why: format!("HTTP {status} {}: {}", code_or_status(), answer.message()) },
    }
}

fn classify_status(result: Result<Answer, DarajaError>) -> StatusSubmit {
    match result {
        Ok(answer) if answer.is_success() && answer.response_code().as_deref() == Some("0") => StatusSubmit::Accepted {
            conversation_id: answer.text("ConversationID"),
            originator_conversation_id: answer.text("OriginatorConversationID"),
        },
        Ok(answer) => StatusSubmit::NotAccepted { why: answer.into_error("transaction status").to_string() },
        Err(error) => StatusSubmit::NotAccepted { why: error.to_string() },
    }
}
