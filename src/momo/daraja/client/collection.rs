//! STK push collections and their query (docs/money.md).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::Number;

use super::error::{Answer, DarajaError};
use super::payout::whole_amount;
use super::DarajaClient;
use crate::momo::daraja::callbacks::stk_failure;
use crate::momo::daraja::time::stk_timestamp;
use crate::momo::daraja::urls::CallbackPath;
use crate::momo::{OutboundRequest, Outcome};

/// Daraja's `AccountReference` and `TransactionDesc` limits.
const MAX_ACCOUNT_REFERENCE: usize = 12;
const MAX_TRANSACTION_DESC: usize = 13;
/// STK query: "The transaction is still under processing" — not a result yet.
const STILL_PROCESSING: &str = "4999";

/// What the synchronous STK answer means for the collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectionSubmit {
    /// The prompt was sent; `CheckoutRequestID` is the correlation key.
    Pending { checkout_request_id: String },
    /// No prompt was sent (an error body, a non-`"0"` code, or refused before sending).
    Failed { code: String, message: String },
    /// No answer: wait for the callback or reconciliation (nothing to poll without an id).
    Unknown { why: String },
}

/// What an STK query says about a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StkQuery {
    /// Paid, but the query carries no receipt: no repayment is created from this.
    Succeeded,
    Failed {
        code: String,
        message: String,
    },
    /// Still processing, refused, or unanswered: leave the state as it is.
    NoChange {
        why: String,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PushBody<'a> {
    business_short_code: Number,
    password: String,
    timestamp: &'a str,
    transaction_type: &'a str,
    amount: String,
    party_a: &'a str,
    party_b: &'a str,
    phone_number: &'a str,
    #[serde(rename = "CallBackURL")]
    callback_url: String,
    account_reference: &'a str,
    transaction_desc: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct QueryBody<'a> {
    business_short_code: Number,
    password: String,
    timestamp: &'a str,
    #[serde(rename = "CheckoutRequestID")]
    checkout_request_id: &'a str,
}

impl DarajaClient {
    /// `Password = base64(BusinessShortCode + Passkey + Timestamp)`, with the timestamp it was built from.
    fn stk_password(&self) -> (String, String) {
        let config = &self.inner.config;
        let timestamp = stk_timestamp(self.inner.clock.now());
        let raw = format!("{}{}{timestamp}", config.stk_shortcode, config.stk_passkey.expose_secret());
        (STANDARD.encode(raw), timestamp)
    }

    fn stk_shortcode_number(&self) -> Result<Number, String> {
        let code = &self.inner.config.stk_shortcode;
        code.parse::<u64>().map(Number::from).map_err(|_| format!("daraja.stk_shortcode {code:?} is not numeric"))
    }

    /// Sends the PIN prompt for a collection: `AccountReference` = the loan externalId (`request.account`),
    /// `TransactionDesc` = the collection reference. Call only after the USSD session has ended.
    #[tracing::instrument(name = "daraja.stk_push", skip_all, fields(reference = %request.reference, msisdn = %request.msisdn))]
    pub async fn stk_push(&self, request: &OutboundRequest) -> CollectionSubmit {
        let invalid = |message: String| CollectionSubmit::Failed { code: "invalid_request".into(), message };
        let config = &self.inner.config;
        let amount = match whole_amount(&request.amount, &config.currency) {
            Ok(amount) => amount,
            Err(message) => return invalid(message),
        };
        let account = match request.account.as_deref().map(str::trim) {
            Some(account) if !account.is_empty() && account.chars().count() <= MAX_ACCOUNT_REFERENCE => account,
            _ => {
                return invalid(format!(
                    "a collection needs the loan externalId (≤{MAX_ACCOUNT_REFERENCE} chars) as account"
                ))
            }
        };
        if request.reference.as_str().len() > MAX_TRANSACTION_DESC {
            return invalid(format!("the reference does not fit TransactionDesc (≤{MAX_TRANSACTION_DESC})"));
        }
        let shortcode = match self.stk_shortcode_number() {
            Ok(number) => number,
            Err(message) => return invalid(message),
        };
        let (password, timestamp) = self.stk_password();
        let body = PushBody {
            business_short_code: shortcode,
            password,
            timestamp: &timestamp,
            transaction_type: "CustomerPayBillOnline",
            amount: amount.to_string(),
            party_a: request.msisdn.as_str(),
            party_b: &config.stk_shortcode,
            phone_number: request.msisdn.as_str(),
            callback_url: self.inner.urls.url(CallbackPath::Stk),
            account_reference: account,
            transaction_desc: request.reference.as_str(),
        };
        let result =
            self.post("POST /mpesa/stkpush/v1/processrequest", "/mpesa/stkpush/v1/processrequest", &body).await;
        let outcome = classify_push(result);
        tracing::info!(?outcome, "STK push submitted");
        outcome
    }

    /// Polls a collection by its `CheckoutRequestID`.
    #[tracing::instrument(name = "daraja.stk_query", skip_all, fields(%checkout_request_id))]
    pub async fn stk_query(&self, checkout_request_id: &str) -> StkQuery {
        let shortcode = match self.stk_shortcode_number() {
            Ok(number) => number,
            Err(why) => return StkQuery::NoChange { why },
        };
        let (password, timestamp) = self.stk_password();
        let body = QueryBody { business_short_code: shortcode, password, timestamp: &timestamp, checkout_request_id };
        let outcome =
            classify_query(self.post("POST /mpesa/stkpushquery/v1/query", "/mpesa/stkpushquery/v1/query", &body).await);
        tracing::info!(?outcome, "STK query answered");
        outcome
    }
}

/// The documented rows for the synchronous STK answer.
pub(super) fn classify_push(result: Result<Answer, DarajaError>) -> CollectionSubmit {
    let answer = match result {
        Ok(answer) => answer,
        Err(error) if error.not_sent() => {
            return CollectionSubmit::Failed { code: "not_sent".into(), message: error.to_string() };
        }
        Err(error) => return CollectionSubmit::Unknown { why: error.to_string() },
    };
    if let Some(code) = answer.error_code() {
        // An error body, e.g. 500.001.1001 "Unable to lock subscriber": no prompt was sent.
        return CollectionSubmit::Failed { code, message: answer.message() };
    }
    match (answer.status, answer.response_code()) {
        (200..=299, Some(code)) if code == "0" => match answer.text("CheckoutRequestID") {
            Some(checkout_request_id) => CollectionSubmit::Pending { checkout_request_id },
            None => CollectionSubmit::Unknown { why: "accepted without a CheckoutRequestID".into() },
        },
        (200..=299, Some(code)) => CollectionSubmit::Failed { code, message: answer.message() },
        (status @ 400..=499, _) => {
            CollectionSubmit::Failed { code: format!("http_{status}"), message: answer.message() }
        }
        (status, _) => CollectionSubmit::Unknown { why: format!("HTTP {status}: {}", answer.message()) },
    }
}

pub(super) fn classify_query(result: Result<Answer, DarajaError>) -> StkQuery {
    let answer = match result {
        Ok(answer) => answer,
        Err(error) => return StkQuery::NoChange { why: error.to_string() },
    };
    if !answer.is_success() || answer.error_code().is_some() {
        // Daraja answers an error body while the prompt is still open.
        return StkQuery::NoChange { why: answer.into_error("stk query").to_string() };
    }
    match answer.text("ResultCode").as_deref() {
        Some("0") => StkQuery::Succeeded,
        Some(STILL_PROCESSING) | None => StkQuery::NoChange { why: answer.message() },
        Some(code) => match stk_failure(code, answer.text("ResultDesc").as_deref()) {
            Outcome::Failed { code, message } => StkQuery::Failed { code, message: message.unwrap_or_default() },
            other => StkQuery::NoChange { why: format!("{other:?}") },
        },
    }
}
