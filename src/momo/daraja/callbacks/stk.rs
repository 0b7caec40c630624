//! The STK push callback on `/stk` (docs/money.md). It settles a collection (keyed by
//! `CheckoutRequestID`) and, on success, becomes a repayment event keyed by the M-Pesa receipt.

use serde::Deserialize;
use serde_json::Value;

use super::wire::{filled, money, Named};
use super::{CallbackError, CallbackRules};
use crate::domain::Msisdn;
use crate::momo::daraja::time;
use crate::momo::{EventKind, InboundEvent, Outcome, Provider, Reference};
use crate::telemetry::redact_digits;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StkCallback {
    pub merchant_request_id: Option<String>,
    /// The correlation key of the collection.
    pub checkout_request_id: String,
    pub result_code: String,
    pub result_desc: Option<String>,
    pub outcome: Outcome,
    /// `PhoneNumber`, when it is a usable number.
    pub msisdn: Option<Msisdn>,
}

impl StkCallback {
    /// The inbox event for a paid prompt; `None` unless the outcome is a success with receipt and amount.
    /// `reference` and `account` (the loan externalId) come from the stored collection; when no
    /// collection matched, pass `None` and the allocator falls back to the phone number.
    pub fn event(&self, reference: Option<Reference>, account: Option<String>) -> Option<InboundEvent> {
        let Outcome::Succeeded { receipt: Some(receipt), amount: Some(amount), occurred_at } = &self.outcome else {
            return None;
        };
        Some(InboundEvent {
            provider: Provider::Daraja,
            key: receipt.clone(),
            kind: EventKind::CollectionResult,
            reference,
            receipt: Some(receipt.clone()),
            account,
            msisdn: self.msisdn.clone(),
            amount: Some(amount.clone()),
            outcome: self.outcome.clone(),
            occurred_at: *occurred_at,
        })
    }
}

/// Our failure code for a non-zero STK `ResultCode`, in the generic wallet's vocabulary (docs/money.md)
/// so one set of SMS templates serves every provider; `None` for codes the spec does not list.
pub fn stk_failure_code(result_code: &str) -> Option<&'static str> {
    match result_code {
        "1" => Some("insufficient_funds"),
        "1032" => Some("cancelled_by_user"),
        // 1037: the phone could not be reached, so the prompt lapsed unanswered, like 1019.
        "1037" | "1019" => Some("expired"),
        // 1001: another transaction holds the subscriber's lock (often our own open USSD session).
        "1001" => Some("rejected"),
        "2001" => Some("wrong_pin"),
        _ => None,
    }
}

/// The failure for a non-zero code; the Daraja code stays in the message for support.
pub(crate) fn stk_failure(result_code: &str, desc: Option<&str>) -> Outcome {
    let code = stk_failure_code(result_code).unwrap_or_else(|| {
        // The code is the provider's text: masked like any other field from outside.
        tracing::warn!(result_code = %redact_digits(result_code), "unlisted STK ResultCode; recorded as `other`");
        "other"
    });
    Outcome::Failed { code: code.into(), message: Some(format!("Daraja {result_code}: {}", desc.unwrap_or(""))) }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "Body")]
    body: Body,
}

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "stkCallback")]
    callback: Callback,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Callback {
    #[serde(rename = "MerchantRequestID", default)]
    merchant_request_id: Option<Value>,
    #[serde(rename = "CheckoutRequestID", default)]
    checkout_request_id: Option<Value>,
    result_code: Value,
    #[serde(default)]
    result_desc: Option<Value>,
    #[serde(default)]
    callback_metadata: Option<Value>,
}

/// Parses `/stk`. `ResultCode 0` → Succeeded (receipt `MpesaReceiptNumber`, amount `Amount`, time
/// `TransactionDate` in EAT); a success missing its receipt or amount is `Unknown` (money may have
/// moved; reconciliation settles it). Non-zero → Failed, see [`stk_failure_code`].
pub fn parse_stk_callback(body: &[u8], rules: &CallbackRules) -> Result<StkCallback, CallbackError> {
    let Envelope { body: Body { callback: c } } = serde_json::from_slice(body).map_err(CallbackError::json)?;
    let checkout_request_id =
        filled(c.checkout_request_id.as_ref()).ok_or(CallbackError::Missing("stkCallback.CheckoutRequestID"))?;
    let result_code = filled(Some(&c.result_code)).ok_or(CallbackError::Missing("stkCallback.ResultCode"))?;
    // Free text from Daraja, kept in outcomes that reach log lines: digit runs masked once, here.
    let result_desc = filled(c.result_desc.as_ref()).map(|d| redact_digits(&d));
    let items = Named::read(c.callback_metadata.as_ref().and_then(|m| m.get("Item")), "Name");
    let msisdn = items.text("PhoneNumber").and_then(|raw| rules.usable.parse(&raw));
    let outcome = if result_code == "0" {
        match (items.text("MpesaReceiptNumber"), items.text("Amount")) {
            (Some(receipt), Some(amount)) => Outcome::Succeeded {
                receipt: Some(receipt),
                amount: Some(money(&amount, "Amount", &rules.currency)?),
                occurred_at: items.text("TransactionDate").and_then(|t| time::parse_compact(&t).ok()),
            },
            _ => Outcome::Unknown { why: "STK success without MpesaReceiptNumber or Amount".into() },
        }
    } else {
        stk_failure(&result_code, result_desc.as_deref())
    };
    Ok(StkCallback {
        merchant_request_id: filled(c.merchant_request_id.as_ref()),
        checkout_request_id,
        result_code,
        result_desc,
        outcome,
        msisdn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use rust_decimal::Decimal;

    /// Daraja's published sample, verbatim.
    const SAMPLE: &str = r#"{"Body":{"stkCallback":{"MerchantRequestID":"29115-34620561-1","CheckoutRequestID":"ws_CO_191220191020363925","ResultCode":0,"ResultDesc":"The service request is processed successfully.","CallbackMetadata":{"Item":[{"Name":"Amount","Value":1.00},{"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"},{"Name":"TransactionDate","Value":20191219102115},{"Name":"PhoneNumber","Value":254708374149}]}}}}"#;

    fn parse(body: &str) -> StkCallback {
        parse_stk_callback(body.as_bytes(), &CallbackRules::default()).unwrap()
    }

    fn failure(code: &str, desc: &str) -> String {
        format!(
            r#"{{"Body":{{"stkCallback":{{"MerchantRequestID":"29115-34620561-1","CheckoutRequestID":"ws_CO_191220191020363925","ResultCode":{code},"ResultDesc":"{desc}"}}}}}}"#
        )
    }

    #[test]
    fn the_spec_stk_callback_is_a_paid_collection_with_an_exact_amount() {
        let cb = parse(SAMPLE);
        assert_eq!(cb.checkout_request_id, "ws_CO_191220191020363925");
        assert_eq!(cb.merchant_request_id.as_deref(), Some("29115-34620561-1"));
        let at: DateTime<Utc> = "2019-12-19T07:21:15Z".parse().unwrap();
        let Outcome::Succeeded { receipt, amount: Some(amount), occurred_at } = &cb.outcome else { panic!("{cb:?}") };
        assert_eq!((receipt.as_deref(), *occurred_at), (Some("NLJ7RT61SV"), Some(at)));
        assert_eq!(amount.amount, Decimal::new(100, 2));
        assert_eq!(amount.amount.to_string(), "1.00", "the number's text is kept, never via f64");
        assert_eq!(amount.currency, "KES");
        assert_eq!(cb.msisdn.as_ref().map(Msisdn::as_str), Some("254708374149"));
    }

    #[test]
    fn a_paid_prompt_becomes_an_inbox_event_keyed_by_the_receipt_with_the_stored_account() {
        let cb = parse(SAMPLE);
        let collection = Reference::parse("C0000000174");
        let event = cb.event(collection.clone(), Some("L0000123455".into())).unwrap();
        assert_eq!((event.key.as_str(), event.kind.clone()), ("NLJ7RT61SV", EventKind::CollectionResult));
        assert_eq!((event.reference, event.account.as_deref()), (collection, Some("L0000123455")));
        assert_eq!(event.msisdn.as_ref().map(Msisdn::as_str), Some("254708374149"));
        assert_eq!(event.amount.map(|m| m.amount), Some(Decimal::new(100, 2)));
        assert_eq!(event.occurred_at, Some("2019-12-19T07:21:15Z".parse().unwrap()));
        assert_eq!(event.outcome, cb.outcome);
        assert_eq!(cb.event(None, None).unwrap().account, None, "unmatched: allocated by phone number");
    }

    #[test]
    fn items_are_found_by_name_in_any_order_and_a_balance_without_value_is_fine() {
        let body = SAMPLE.replace(
            r#"[{"Name":"Amount","Value":1.00},"#,
            r#"[{"Name":"Balance"},{"Name":"PhoneNumber","Value":254708374149},{"Name":"Amount","Value":1.00},"#,
        );
        assert_eq!(parse(&body).outcome, parse(SAMPLE).outcome);
    }

    #[test]
    fn each_listed_failure_code_maps_to_a_definite_failure() {
        for (code, ours) in [
            ("1", "insufficient_funds"),
            ("1032", "cancelled_by_user"),
            ("1037", "expired"),
            ("1019", "expired"),
            ("1001", "rejected"),
            ("2001", "wrong_pin"),
            ("9999", "other"),
        ] {
            let cb = parse(&failure(code, "Request cancelled by user"));
            assert_eq!(cb.result_code, code);
            let Outcome::Failed { code: got, message } = &cb.outcome else { panic!("{cb:?}") };
            assert_eq!(got, ours, "{code}");
            assert!(message.as_deref().unwrap_or_default().starts_with(&format!("Daraja {code}: ")));
            assert_eq!(cb.event(None, None), None, "a failure creates no repayment");
        }
        assert_eq!(parse(&failure("\"1032\"", "x")).result_code, "1032", "string codes are read too");
    }

    #[test]
    fn a_success_without_a_receipt_is_unknown_and_creates_no_event() {
        let body = SAMPLE.replace(r#"{"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"},"#, "");
        let cb = parse(&body);
        assert!(matches!(cb.outcome, Outcome::Unknown { .. }));
        assert_eq!(cb.event(None, None), None);
    }

    #[test]
    fn a_masked_phone_number_gives_no_msisdn() {
        let cb = parse(&SAMPLE.replace("254708374149", r#""2547*****149""#));
        assert_eq!(cb.msisdn, None);
        assert!(matches!(cb.outcome, Outcome::Succeeded { .. }));
    }

    #[test]
    fn malformed_stk_bodies_are_typed_errors() {
        let rules = CallbackRules::default();
        assert!(matches!(parse_stk_callback(b"{}", &rules), Err(CallbackError::Malformed(_))));
        let no_id = SAMPLE.replace(r#""CheckoutRequestID":"ws_CO_191220191020363925","#, "");
        assert_eq!(
            parse_stk_callback(no_id.as_bytes(), &rules),
            Err(CallbackError::Missing("stkCallback.CheckoutRequestID"))
        );
        let bad_amount = SAMPLE.replace("1.00", "-1");
        assert!(matches!(
            parse_stk_callback(bad_amount.as_bytes(), &rules),
            Err(CallbackError::Invalid { field: "Amount", .. })
        ));
    }
}
