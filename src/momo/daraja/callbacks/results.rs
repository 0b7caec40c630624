//! Asynchronous answers about payouts (docs/money.md): the B2C result, the queue timeouts and
//! the transaction-status result. All share Daraja's `{"Result": {…}}` shape.
//!
//! The outcome rules are lopsided on purpose: only a B2C result with a non-zero `ResultCode` is a
//! definite failure (it rolls the loan back). A queue timeout, a failed status query, or a success we
//! cannot fully read are `Unknown`, which only schedules more polling.

use serde::Deserialize;
use serde_json::Value;

use super::wire::{filled, money, object, Named};
use super::CallbackError;
use crate::momo::daraja::time;
use crate::momo::{Money, Outcome, Reference};
use crate::telemetry::redact_digits;

/// A way to find the payout a result belongs to, in the order to try them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorrelationKey {
    /// Our `L…` reference, sent as `OriginatorConversationID`.
    Reference(Reference),
    /// Daraja's `ConversationID`, stored from the synchronous answer.
    ConversationId(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutResult {
    pub originator_conversation_id: Option<String>,
    pub conversation_id: Option<String>,
    /// `None` only for a queue timeout that carried no `Result`.
    pub result_code: Option<String>,
    pub result_desc: Option<String>,
    pub outcome: Outcome,
    /// `ReferenceData` items, kept for the audit trail.
    pub reference_data: Vec<(String, Option<String>)>,
    keys: Vec<CorrelationKey>,
}

impl PayoutResult {
    /// Correlation keys, best first: our reference, then Daraja's conversation id.
    pub fn correlation_keys(&self) -> &[CorrelationKey] {
        &self.keys
    }

    /// The first payout `find` knows under any key, trying [`Self::correlation_keys`] in order.
    pub fn correlate<T>(&self, find: impl FnMut(&CorrelationKey) -> Option<T>) -> Option<T> {
        self.keys.iter().find_map(find)
    }

    /// The outcome for the payout we sent for `requested`: a success for another amount (or none)
    /// is `Unknown` and must be alerted, never treated as the disbursement we asked for.
    pub fn against(&self, requested: &Money) -> Outcome {
        match &self.outcome {
            Outcome::Succeeded { amount: Some(paid), .. } if paid == requested => self.outcome.clone(),
            Outcome::Succeeded { amount: Some(paid), .. } => Outcome::Unknown {
                why: format!(
                    "Daraja reports {} {} paid, we asked for {} {}",
                    paid.amount, paid.currency, requested.amount, requested.currency
                ),
            },
            Outcome::Succeeded { amount: None, .. } => {
                Outcome::Unknown { why: "Daraja reports success without the amount paid".into() }
            }
            other => other.clone(),
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "Result")]
    result: Body,
}

/// Every field as a raw `Value`: Daraja sends codes as numbers or strings depending on the product.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Body {
    #[serde(default)]
    result_type: Option<Value>,
    result_code: Value,
    #[serde(default)]
    result_desc: Option<Value>,
    #[serde(rename = "OriginatorConversationID", default)]
    originator_conversation_id: Option<Value>,
    #[serde(rename = "ConversationID", default)]
    conversation_id: Option<Value>,
    #[serde(rename = "TransactionID", default)]
    transaction_id: Option<Value>,
    #[serde(default)]
    result_parameters: Option<Value>,
    #[serde(default)]
    reference_data: Option<Value>,
}

struct Read {
    code: String,
    desc: Option<String>,
    result_type: Option<String>,
    originator: Option<String>,
    conversation: Option<String>,
    transaction_id: Option<String>,
    params: Named,
    reference_data: Vec<(String, Option<String>)>,
}

fn read(body: &[u8]) -> Result<Read, CallbackError> {
    let Envelope { result } = serde_json::from_slice(body).map_err(CallbackError::json)?;
    let code = filled(Some(&result.result_code)).ok_or(CallbackError::Missing("Result.ResultCode"))?;
    let params = Named::read(result.result_parameters.as_ref().and_then(|p| p.get("ResultParameter")), "Key");
    let reference_data =
        Named::read(result.reference_data.as_ref().and_then(|r| r.get("ReferenceItem")), "Key").entries();
    Ok(Read {
        code,
        // Free text from Daraja, kept in outcomes that reach log lines: digit runs masked once, here.
        desc: filled(result.result_desc.as_ref()).map(|d| redact_digits(&d)),
        result_type: filled(result.result_type.as_ref()),
        originator: filled(result.originator_conversation_id.as_ref()),
        conversation: filled(result.conversation_id.as_ref()),
        transaction_id: filled(result.transaction_id.as_ref()),
        params,
        reference_data,
    })
}

/// Keys in order, skipping ids that are not ours and repeats.
fn keys(references: &[Option<&String>], conversations: &[Option<&String>]) -> Vec<CorrelationKey> {
    let mut keys = Vec::new();
    let refs = references.iter().flatten().filter_map(|id| Reference::parse(id)).map(CorrelationKey::Reference);
    let convs = conversations.iter().flatten().map(|id| CorrelationKey::ConversationId((*id).clone()));
    for key in refs.chain(convs) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// `/b2c/result`. `ResultType 1` → Pending; `ResultCode 0` → Succeeded (receipt `TransactionID`,
/// amount `TransactionAmount`, time `TransactionCompletedDateTime`); any other code → Failed.
pub fn parse_b2c_result(body: &[u8], currency: &str) -> Result<PayoutResult, CallbackError> {
    let r = read(body)?;
    let outcome = if r.result_type.as_deref() == Some("1") {
        Outcome::Pending
    } else if r.code == "0" {
        match r.transaction_id.clone().or_else(|| r.params.text("TransactionReceipt")) {
            None => Outcome::Unknown { why: "B2C success without a TransactionID".into() },
            Some(receipt) => Outcome::Succeeded {
                receipt: Some(receipt),
                amount: r
                    .params
                    .text("TransactionAmount")
                    .map(|t| money(&t, "TransactionAmount", currency))
                    .transpose()?,
                occurred_at: r.params.text("TransactionCompletedDateTime").and_then(|t| time::parse_dotted(&t).ok()),
            },
        }
    } else {
        Outcome::Failed { code: r.code.clone(), message: r.desc.clone() }
    };
    let keys = keys(&[r.originator.as_ref()], &[r.conversation.as_ref()]);
    Ok(finish(r, outcome, keys))
}

/// `/b2c/timeout` and `/status/timeout`: Daraja's queue gave up before the request was processed, so
/// nothing is known. Always `Unknown`, whatever `ResultCode` the body carries.
pub fn parse_queue_timeout(body: &[u8]) -> Result<PayoutResult, CallbackError> {
    let map = object(body)?;
    let result = map.get("Result");
    let field = |name: &str| filled(result.and_then(|r| r.get(name)));
    let (originator, conversation) = (field("OriginatorConversationID"), field("ConversationID"));
    Ok(PayoutResult {
        keys: keys(&[originator.as_ref()], &[conversation.as_ref()]),
        originator_conversation_id: originator,
        conversation_id: conversation,
        result_code: field("ResultCode"),
        result_desc: field("ResultDesc").map(|d| redact_digits(&d)),
        outcome: Outcome::Unknown { why: "Daraja queue timeout".into() },
        reference_data: Vec::new(),
    })
}

/// `/status/result`: `ResultCode 0` with `TransactionStatus = Completed` → Succeeded (receipt
/// `ReceiptNo`, amount `Amount`, time `FinalisedTime`); anything else leaves the payout Unknown —
/// a failed query is not a failed payout.
pub fn parse_status_result(body: &[u8], currency: &str) -> Result<PayoutResult, CallbackError> {
    let r = read(body)?;
    let status = r.params.text("TransactionStatus");
    let outcome = match (r.code.as_str(), status.as_deref(), r.params.text("ReceiptNo")) {
        ("0", Some("Completed"), Some(receipt)) => Outcome::Succeeded {
            receipt: Some(receipt),
            amount: r.params.text("Amount").map(|t| money(&t, "Amount", currency)).transpose()?,
            occurred_at: r.params.text("FinalisedTime").and_then(|t| time::parse_compact(&t).ok()),
        },
        ("0", Some("Completed"), None) => Outcome::Unknown { why: "status Completed without a ReceiptNo".into() },
        ("0", status, _) => Outcome::Unknown { why: format!("transaction status is {}", status.unwrap_or("absent")) },
        (code, _, _) => Outcome::Unknown {
            why: format!("status query answered ResultCode {code}: {}", r.desc.as_deref().unwrap_or("")),
        },
    };
    // The parameters name the queried payout; the top-level ids may be the query's own.
    let (p_originator, p_conversation) = (r.params.text("OriginatorConversationID"), r.params.text("ConversationID"));
    let keys =
        keys(&[p_originator.as_ref(), r.originator.as_ref()], &[p_conversation.as_ref(), r.conversation.as_ref()]);
    Ok(finish(r, outcome, keys))
}

fn finish(r: Read, outcome: Outcome, keys: Vec<CorrelationKey>) -> PayoutResult {
    PayoutResult {
        originator_conversation_id: r.originator,
        conversation_id: r.conversation,
        result_code: Some(r.code),
        result_desc: r.desc,
        outcome,
        reference_data: r.reference_data,
        keys,
    }
}

#[cfg(test)]
#[path = "results_tests.rs"]
mod tests;
