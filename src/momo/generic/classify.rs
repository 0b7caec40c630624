//! What a wallet's answer means, as pure functions over status code and body (docs/money.md). Kept apart from the HTTP code so every row of the tables is decided in one readable place.
//!
//! The rule behind every choice: only an answer that proves nothing was recorded may lead to a retry
//! or a failure; anything that might have moved money is `Unknown` and is resolved by a status query.

use super::wire::{ErrorBody, TransactionObject, TxKind, WireReference};
use crate::momo::wallet::{StatusAnswer, SubmitResult};
use crate::momo::{Direction, OutboundRequest, Reference, ReferenceKind};
use crate::telemetry::redact_digits;

/// The table in docs/money.md. `body` is `None` when it could not be read whole.
pub fn classify_submit(status: u16, body: Option<&[u8]>, request: &OutboundRequest) -> SubmitResult {
    let expected_kind = match request.direction {
        Direction::Payout => TxKind::Payout,
        Direction::Collection => TxKind::Collection,
    };
    match status {
        // 202 new, 200 replay; any other 2xx also means "recorded" (guarantee 2), so it is read alike.
        200..=299 => match transaction(body, &request.reference, expected_kind) {
            Ok(tx) if tx.amount.value() != request.amount.amount || tx.currency.as_str() != request.amount.currency => {
                SubmitResult::Unknown { why: format!("HTTP {status}: the wallet holds another amount or currency") }
            }
            Ok(tx) => SubmitResult::Accepted(tx.outcome()),
            Err(why) => SubmitResult::Unknown { why: format!("HTTP {status} with an unusable body: {why}") },
        },
        // Nothing recorded, and the reference is never reused: a definite failure.
        400 => {
            let error = error_body(body);
            SubmitResult::Rejected {
                code: error.as_ref().map_or("invalid_request", |e| e.error.as_str()).to_owned(),
                message: error.map(|e| e.message).unwrap_or_default(),
            }
        }
        // Nothing recorded: the same reference is sent again later (401 also needs the operator).
        401 | 429 | 503 => SubmitResult::RetryLater { why: summary(status, body) },
        // The reference exists with other fields: our bug. Never a failure, never a new reference.
        409 => SubmitResult::Unknown {
            why: format!("reference conflict, a bug to investigate: {}", summary(status, body)),
        },
        // Other 5xx, and 4xx the contract does not name: the wallet may have recorded it.
        _ => SubmitResult::Unknown { why: summary(status, body) },
    }
}

/// The docs/money.md rules for `GET /transactions/{reference}`.
pub fn classify_status(status: u16, body: Option<&[u8]>, reference: &Reference) -> StatusAnswer {
    let expected_kind = match reference.kind() {
        ReferenceKind::Loan => TxKind::Payout,
        ReferenceKind::Collection => TxKind::Collection,
    };
    match status {
        200 => match transaction(body, reference, expected_kind) {
            Ok(tx) => StatusAnswer::Found(tx.outcome()),
            Err(why) => StatusAnswer::Unclear(format!("HTTP 200 with an unusable body: {why}")),
        },
        // Never recorded: the caller re-POSTs the same reference (safe under guarantee 1).
        404 => StatusAnswer::NotFound,
        _ => StatusAnswer::Unclear(summary(status, body)),
    }
}

/// A request that got no HTTP answer. If the connection was never made, nothing reached the wallet
/// and the same reference can simply be sent again; after that, the request may have been recorded.
pub fn transport_failure(error: &reqwest::Error) -> SubmitResult {
    if error.is_connect() || error.is_builder() {
        SubmitResult::RetryLater { why: format!("not sent: {}", describe(error)) }
    } else {
        SubmitResult::Unknown { why: describe(error) }
    }
}

pub fn describe(error: &reqwest::Error) -> String {
    // reqwest's text names the URL; ours carry only our reference, never an MSISDN.
    if error.is_timeout() {
        format!("no answer in time: {error}")
    } else {
        format!("transport error: {error}")
    }
}

/// The body as a valid transaction object about `reference`, of the expected kind.
fn transaction(body: Option<&[u8]>, reference: &Reference, kind: TxKind) -> Result<TransactionObject, String> {
    let body = body.ok_or("the body could not be read whole")?;
    // serde's text may quote a wallet value; mask digit runs in case a number ended up in one.
    let tx: TransactionObject = serde_json::from_slice(body).map_err(|e| redact_digits(&e.to_string()))?;
    tx.validate()?;
    if tx.reference != Some(WireReference::from(reference)) {
        return Err(format!("it is about {:?}, not {reference}", tx.reference.as_ref().map(WireReference::as_str)));
    }
    if tx.kind != kind {
        return Err(format!("it is a {:?}, not a {kind:?}", tx.kind));
    }
    Ok(tx)
}

fn error_body(body: Option<&[u8]>) -> Option<ErrorBody> {
    body.and_then(|b| serde_json::from_slice::<ErrorBody>(b).ok()).map(|mut e| {
        // Wallet text may quote the subscriber's number; mask it before it reaches a log or a record.
        e.message = redact_digits(&e.message);
        e
    })
}

/// `HTTP 503 unavailable: <message>`, for logs and `why` fields.
fn summary(status: u16, body: Option<&[u8]>) -> String {
    match error_body(body) {
        Some(e) if e.message.is_empty() => format!("HTTP {status} {}", e.error),
        Some(e) => format!("HTTP {status} {}: {}", e.error, e.message),
        None => format!("HTTP {status}"),
    }
}
