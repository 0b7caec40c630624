//! C2B paybill callbacks (docs/money.md). Validation and confirmation POST the same body,
//! every value a string, and `MSISDN` masked (`2547*****149`), so the payer is only ever known from
//! what they typed as the account (`BillRefNumber`).

use super::wire::{filled, money, object, text};
use super::{CallbackError, CallbackRules, ACK_VALIDATION_ACCEPTED, ACK_VALIDATION_REJECTED};
use crate::domain::Msisdn;
use crate::momo::daraja::msisdn::UsableMsisdn;
use crate::momo::daraja::time;
use crate::momo::{EventKind, InboundEvent, Outcome, Provider, Reference};
use crate::telemetry::redact_digits;

/// The longest receipt we accept, so `receipt#n` fits the LMS `idempotencyKey` (docs/money.md).
const MAX_RECEIPT_CHARS: usize = 96;

/// What the subscriber typed as the account number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BillRef {
    /// One of our references (Luhn-valid; whether we issued it is the caller's question).
    Reference(Reference),
    /// A usable phone number: the payment is allocated by customer.
    Msisdn(Msisdn),
    /// Anything else, kept as typed (trimmed) so suspense can show it (`unknown_reference`).
    Unrecognised(String),
    Empty,
}

/// A reference wins over a number: `L…`/`C…` can never parse as an MSISDN anyway.
pub fn classify_bill_ref(raw: &str, usable: &UsableMsisdn) -> BillRef {
    let raw = raw.trim();
    if raw.is_empty() {
        BillRef::Empty
    } else if let Some(reference) = Reference::parse(raw) {
        BillRef::Reference(reference)
    } else if let Some(msisdn) = usable.parse(raw) {
        BillRef::Msisdn(msisdn)
    } else {
        BillRef::Unrecognised(raw.to_owned())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum C2bValidation {
    Accepted,
    Rejected,
}

impl C2bValidation {
    /// The exact body Daraja expects for this verdict.
    pub fn ack(self) -> &'static [u8] {
        match self {
            C2bValidation::Accepted => ACK_VALIDATION_ACCEPTED,
            C2bValidation::Rejected => ACK_VALIDATION_REJECTED,
        }
    }
}

/// Decides a `/c2b/validation` call from gateway-local data only (it must answer within ~8 s).
/// Rejects only when `BillRefNumber` is neither a reference we issued nor a usable MSISDN; a body we
/// cannot read is accepted, because refusing money over our own parsing problem is worse than
/// sending it to suspense. `is_known_reference` must answer `true` if its own lookup fails.
pub fn validate_c2b(
    body: &[u8],
    rules: &CallbackRules,
    is_known_reference: impl Fn(&Reference) -> bool,
) -> C2bValidation {
    let Ok(map) = object(body) else {
        return C2bValidation::Accepted;
    };
    let Some(raw) = map.get("BillRefNumber").and_then(text) else {
        return C2bValidation::Accepted;
    };
    match classify_bill_ref(&raw, &rules.usable) {
        BillRef::Reference(reference) if is_known_reference(&reference) => C2bValidation::Accepted,
        BillRef::Msisdn(_) => C2bValidation::Accepted,
        _ => C2bValidation::Rejected,
    }
}

/// Parses a `/c2b/confirmation` into a `Payment` event keyed by `TransID`.
///
/// `account` is the normalised reference, or the raw text when it is neither a reference nor a usable
/// number (the allocator sends that to suspense as `unknown_reference`); `msisdn` is set only from a
/// number typed as the account. An unreadable `TransTime` leaves `occurred_at` empty rather than
/// refusing a payment that has already happened.
pub fn parse_c2b_confirmation(body: &[u8], rules: &CallbackRules) -> Result<InboundEvent, CallbackError> {
    let map = object(body)?;
    let receipt = filled(map.get("TransID")).ok_or(CallbackError::Missing("TransID"))?;
    if receipt.chars().count() > MAX_RECEIPT_CHARS || receipt.chars().any(char::is_whitespace) {
        return Err(CallbackError::Invalid { field: "TransID", detail: "not a receipt".into() });
    }
    let amount = money(
        &filled(map.get("TransAmount")).ok_or(CallbackError::Missing("TransAmount"))?,
        "TransAmount",
        &rules.currency,
    )?;
    let occurred_at = filled(map.get("TransTime")).and_then(|raw| match time::parse_compact(&raw) {
        Ok(at) => Some(at),
        Err(error) => {
            // Both came from outside: the receipt and the time's text go through the digit mask.
            let receipt = redact_digits(&receipt);
            tracing::warn!(%receipt, %error, "C2B confirmation with an unreadable TransTime; value time unknown");
            None
        }
    });
    let bill_ref = map.get("BillRefNumber").and_then(text).unwrap_or_default();
    let (account, msisdn) = match classify_bill_ref(&bill_ref, &rules.usable) {
        BillRef::Reference(reference) => (Some(reference.to_string()), None),
        BillRef::Msisdn(msisdn) => (None, Some(msisdn)),
        BillRef::Unrecognised(raw) => (Some(raw), None),
        BillRef::Empty => (None, None),
    };
    Ok(InboundEvent {
        provider: Provider::Daraja,
        key: receipt.clone(),
        kind: EventKind::Payment,
        reference: None,
        receipt: Some(receipt.clone()),
        account,
        msisdn,
        amount: Some(amount.clone()),
        outcome: Outcome::Succeeded { receipt: Some(receipt), amount: Some(amount), occurred_at },
        occurred_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use rust_decimal::Decimal;

    use crate::momo::daraja::callbacks::ACK_CONFIRMATION;

    /// The documented sample body, byte for byte, with `BillRefNumber` replaced.
    fn body(bill_ref: &str) -> Vec<u8> {
        format!(
            r#"{{"TransactionType":"Pay Bill","TransID":"RKTQDM7W6S","TransTime":"20191122063845","TransAmount":"10","BusinessShortCode":"600638","BillRefNumber":"{bill_ref}","InvoiceNumber":"","OrgAccountBalance":"49197.00","ThirdPartyTransID":"","MSISDN":"2547*****149","FirstName":"John","MiddleName":"","LastName":"Doe"}}"#
        )
        .into_bytes()
    }

    fn confirm(bill_ref: &str) -> InboundEvent {
        parse_c2b_confirmation(&body(bill_ref), &CallbackRules::default()).unwrap()
    }

    fn issued(reference: &Reference) -> bool {
        reference.as_str() == "L0000123455"
    }

    #[test]
    fn d1_a_confirmation_becomes_a_payment_keyed_by_trans_id_with_an_eat_time_in_utc() {
        let event = confirm("L0000123455");
        let at: DateTime<Utc> = "2019-11-22T03:38:45Z".parse().unwrap();
        assert_eq!((event.provider.namespace(), event.key.as_str()), ("daraja", "RKTQDM7W6S"));
        assert_eq!(event.kind, EventKind::Payment);
        assert_eq!(event.receipt.as_deref(), Some("RKTQDM7W6S"));
        let amount = event.amount.clone().unwrap();
        assert_eq!((amount.amount, amount.currency.as_str()), (Decimal::from(10), "KES"));
        assert_eq!(event.occurred_at, Some(at));
        assert_eq!(event.occurred_at.map(|t| t.date_naive().to_string()).as_deref(), Some("2019-11-22"));
        assert_eq!(event.account.as_deref(), Some("L0000123455"));
        assert_eq!(event.msisdn, None, "the masked MSISDN field is never used");
        assert_eq!(
            event.outcome,
            Outcome::Succeeded { receipt: Some("RKTQDM7W6S".into()), amount: Some(amount), occurred_at: Some(at) }
        );
        assert_eq!(ACK_CONFIRMATION, br#"{"ResultCode":0,"ResultDesc":"Success"}"#);
    }

    #[test]
    fn d1_a_second_identical_confirmation_parses_to_the_same_event_and_key() {
        assert_eq!(confirm("L0000123455"), confirm("L0000123455"));
    }

    #[test]
    fn d1_a_phone_number_typed_as_the_account_becomes_the_msisdn() {
        let event = confirm("0712345678");
        assert_eq!(event.account, None);
        assert_eq!(event.msisdn.as_ref().map(Msisdn::as_str), Some("254712345678"));
    }

    #[test]
    fn d1_a_reference_with_a_bad_check_digit_is_kept_raw_for_suspense() {
        let event = confirm("L0000123456");
        assert_eq!(event.msisdn, None);
        assert_eq!(event.account.as_deref(), Some("L0000123456"), "kept so suspense reads unknown_reference");
        assert_eq!(Reference::parse(event.account.as_deref().unwrap_or_default()), None);
        assert_eq!(
            classify_bill_ref("L0000123456", &UsableMsisdn::kenya()),
            BillRef::Unrecognised("L0000123456".into())
        );
    }

    #[test]
    fn a_typed_reference_is_normalised_and_an_empty_account_is_none() {
        assert_eq!(confirm(" l000-012 3455 ").account.as_deref(), Some("L0000123455"));
        let event = confirm("");
        assert_eq!((event.account, event.msisdn), (None, None));
    }

    #[test]
    fn d2_validation_rejects_junk_and_accepts_our_references() {
        let rules = CallbackRules::default();
        assert_eq!(validate_c2b(&body("HELLO"), &rules, issued), C2bValidation::Rejected);
        assert_eq!(
            validate_c2b(&body("HELLO"), &rules, issued).ack(),
            br#"{"ResultCode":"C2B00012","ResultDesc":"Rejected"}"#
        );
        assert_eq!(validate_c2b(&body("L0000123455"), &rules, issued), C2bValidation::Accepted);
        assert_eq!(
            validate_c2b(&body("L0000123455"), &rules, issued).ack(),
            br#"{"ResultCode":"0","ResultDesc":"Accepted"}"#
        );
    }

    #[test]
    fn validation_accepts_usable_numbers_and_rejects_unissued_or_masked_ones() {
        let rules = CallbackRules::default();
        assert_eq!(validate_c2b(&body("+254 712 345 678"), &rules, issued), C2bValidation::Accepted);
        assert_eq!(validate_c2b(&body("C0000000174"), &rules, issued), C2bValidation::Rejected);
        assert_eq!(validate_c2b(&body("2547*****149"), &rules, issued), C2bValidation::Rejected);
        assert_eq!(validate_c2b(&body("255712345678"), &rules, issued), C2bValidation::Rejected);
    }

    #[test]
    fn validation_accepts_whatever_it_cannot_read() {
        let rules = CallbackRules::default();
        for junk in [&b""[..], b"not json", b"[]", br#"{"TransID":"X"}"#, br#"{"BillRefNumber":null}"#] {
            assert_eq!(validate_c2b(junk, &rules, |_| false), C2bValidation::Accepted, "{junk:?}");
        }
    }

    #[test]
    fn a_confirmation_without_id_or_amount_is_a_typed_error() {
        let rules = CallbackRules::default();
        assert!(matches!(parse_c2b_confirmation(b"{", &rules), Err(CallbackError::Malformed(_))));
        assert_eq!(parse_c2b_confirmation(br#"{"TransAmount":"10"}"#, &rules), Err(CallbackError::Missing("TransID")));
        assert_eq!(parse_c2b_confirmation(br#"{"TransID":"R1"}"#, &rules), Err(CallbackError::Missing("TransAmount")));
        let zero = br#"{"TransID":"R1","TransAmount":"0"}"#;
        assert!(matches!(
            parse_c2b_confirmation(zero, &rules),
            Err(CallbackError::Invalid { field: "TransAmount", .. })
        ));
    }

    #[test]
    fn an_unreadable_trans_time_keeps_the_payment_without_a_value_time() {
        let body = br#"{"TransID":"R1","TransAmount":"10.50","TransTime":"yesterday","BillRefNumber":"HELLO"}"#;
        let event = parse_c2b_confirmation(body, &CallbackRules::default()).unwrap();
        assert_eq!(event.occurred_at, None);
        assert_eq!(event.amount.unwrap().amount, Decimal::new(1050, 2));
        assert_eq!(event.account.as_deref(), Some("HELLO"));
    }
}
