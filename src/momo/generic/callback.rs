//! Callbacks from a generic wallet (docs/money.md), as pure functions: no IO, no clock.
//!
//! The handler calls [`authenticate`] on the raw bytes first, then [`parse`], then runs the inbox
//! script and answers [`ACK_BODY`]. Only after the signature holds is the body deserialised; the
//! signature check itself is [`crate::momo::signature`], reused here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wire::{event_type, is_wire_id, rfc3339, TransactionObject, TxKind, TxStatus};
use crate::domain::Msisdn;
use crate::momo::signature::{self, SignedHeaders, VerifyError, WebhookSecret};
use crate::momo::{EventKind, InboundEvent, Outcome, Provider, RawCallback};
use crate::telemetry::redact_digits;

/// Bodies above this size are refused before anything else is done with them (step 1).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The acknowledgement, byte-identical for a new event and a duplicate (step 5).
pub const ACK_BODY: &[u8] = br#"{"received":true}"#;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the callback body exceeds {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the callback is not authentic: {0}")]
    Unauthenticated(#[from] VerifyError),
    #[error("the callback payload is invalid: {0}")]
    InvalidPayload(String),
}

impl CallbackError {
    /// The HTTP status to answer with. Store failures are the caller's: `503 unavailable`.
    pub fn http_status(&self) -> u16 {
        match self {
            CallbackError::TooLarge => 413,
            CallbackError::Unauthenticated(_) => 401,
            CallbackError::InvalidPayload(_) => 400,
        }
    }

    /// The `error` code of the answer body.
    pub fn error_code(&self) -> &'static str {
        match self {
            // The contract gives only the status for 413; the code follows the same naming.
            CallbackError::TooLarge => "payload_too_large",
            CallbackError::Unauthenticated(e) => e.code(),
            CallbackError::InvalidPayload(_) => "invalid_payload",
        }
    }

    /// The full answer body, `{"error":…,"message":…}`.
    pub fn body(&self) -> Vec<u8> {
        error_body(self.error_code(), &self.to_string())
    }
}

/// `{"error":"<code>","message":"<text>"}`, the contract's error shape.
pub fn error_body(code: &str, message: &str) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body<'a> {
        error: &'a str,
        message: &'a str,
    }
    // Serialising two string fields cannot fail; the fallback keeps this function total anyway.
    serde_json::to_vec(&Body { error: code, message })
        .unwrap_or_else(|_| br#"{"error":"internal","message":""}"#.to_vec())
}

/// Steps 1–3: size, headers, timestamp window and signature, against every active secret.
pub fn authenticate(
    secrets: &[WebhookSecret],
    raw: &RawCallback,
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), CallbackError> {
    if raw.body.len() > MAX_BODY_BYTES {
        return Err(CallbackError::TooLarge);
    }
    let headers = SignedHeaders {
        id: raw.header("webhook-id"),
        timestamp: raw.header("webhook-timestamp"),
        signature: raw.header("webhook-signature"),
    };
    signature::verify(secrets, headers, &raw.body, now_unix, tolerance_secs)?;
    Ok(())
}

/// The envelope before its `type` is known: `data` stays untyped, because an unknown type may carry
/// anything and must still be stored and acknowledged.
#[derive(Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    event_type: String,
    #[serde(with = "rfc3339")]
    #[allow(dead_code)] // Validated for shape only; the event's time is the data's occurred_at.
    timestamp: DateTime<Utc>,
    data: serde_json::Value,
}

/// Step 4: the body as a neutral event with its dedupe key. Call only after [`authenticate`].
///
/// `wallet` is the configured wallet name (the dedupe namespace); `country_code` normalises the
/// subscriber's number. An MSISDN that does not normalise is dropped (`msisdn: None`) rather than
/// refusing the callback: money that has moved must be recorded, and allocation falls back to the
/// account or to suspense.
pub fn parse(wallet: &str, raw: &RawCallback, country_code: &str) -> Result<InboundEvent, CallbackError> {
    if raw.body.len() > MAX_BODY_BYTES {
        return Err(CallbackError::TooLarge);
    }
    // The reason goes back to the wallet and into logs: digit runs (a misplaced MSISDN) are masked.
    let invalid = |why: String| CallbackError::InvalidPayload(redact_digits(&why));
    let incoming: Incoming = serde_json::from_slice(&raw.body).map_err(|e| invalid(e.to_string()))?;
    let provider = Provider::Generic { wallet: wallet.to_owned() };
    let Some((kind, tx_kind, tx_status)) = known_type(&incoming.event_type) else {
        return other_event(provider, incoming.event_type, raw);
    };
    let data: TransactionObject = serde_json::from_value(incoming.data).map_err(|e| invalid(format!("data: {e}")))?;
    data.validate().map_err(|e| invalid(format!("data: {e}")))?;
    if data.kind != tx_kind || data.status != tx_status {
        return Err(invalid(format!(
            "a {} event must carry a {tx_kind:?} object with status {tx_status:?}, found {:?} {:?}",
            incoming.event_type, data.kind, data.status
        )));
    }
    let key = match (tx_status, &data.receipt, &data.reference) {
        (TxStatus::Completed, Some(receipt), _) => receipt.clone(),
        (TxStatus::Failed, _, Some(reference)) => format!("failed:{reference}"),
        // validate() guarantees a receipt on completions; known failed types are payouts or
        // collections, which always carry a reference.
        _ => return Err(invalid("no dedupe key: a receipt or a reference is missing".into())),
    };
    Ok(InboundEvent {
        provider,
        key,
        kind,
        reference: data.reference.as_ref().and_then(|r| r.ours()),
        receipt: data.receipt.clone(),
        account: data.account.clone(),
        msisdn: Msisdn::parse(&data.msisdn, country_code).ok(),
        amount: Some(data.money()),
        outcome: data.outcome(),
        occurred_at: data.occurred_at,
    })
}

/// The known `type`s and what their `data` must say.
fn known_type(event_type: &str) -> Option<(EventKind, TxKind, TxStatus)> {
    Some(match event_type {
        event_type::PAYMENT_RECEIVED => (EventKind::Payment, TxKind::Payment, TxStatus::Completed),
        event_type::COLLECTION_COMPLETED => (EventKind::CollectionResult, TxKind::Collection, TxStatus::Completed),
        event_type::COLLECTION_FAILED => (EventKind::CollectionResult, TxKind::Collection, TxStatus::Failed),
        event_type::PAYOUT_COMPLETED => (EventKind::PayoutResult, TxKind::Payout, TxStatus::Completed),
        event_type::PAYOUT_FAILED => (EventKind::PayoutResult, TxKind::Payout, TxStatus::Failed),
        _ => return None,
    })
}

/// An unknown `type`: stored under `other:{webhook-id}` and acknowledged, then ignored.
fn other_event(provider: Provider, event_type: String, raw: &RawCallback) -> Result<InboundEvent, CallbackError> {
    let id = raw.header("webhook-id").filter(|id| is_wire_id(id)).ok_or(VerifyError::MissingHeaders)?;
    Ok(InboundEvent {
        provider,
        key: format!("other:{id}"),
        kind: EventKind::Other(event_type),
        reference: None,
        receipt: None,
        account: None,
        msisdn: None,
        amount: None,
        outcome: Outcome::Pending,
        occurred_at: None,
    })
}

#[cfg(test)]
#[path = "callback_tests.rs"]
mod tests;
