//! The documented samples and their variations.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::*;

/// Daraja's published v1-era sample, verbatim: its `OriginatorConversationID` is not ours.
const SAMPLE: &str = r#"{"Result":{"ResultType":0,"ResultCode":0,"ResultDesc":"The service request has been accepted successfully.","OriginatorConversationID":"19455-424535-1","ConversationID":"AG_20170717_00006be9c8b5cc46abb6","TransactionID":"LGH3197RIB","ResultParameters":{"ResultParameter":[{"Key":"TransactionReceipt","Value":"LGH3197RIB"},{"Key":"TransactionAmount","Value":8000},{"Key":"B2CWorkingAccountAvailableFunds","Value":150000},{"Key":"B2CUtilityAccountAvailableFunds","Value":133568},{"Key":"TransactionCompletedDateTime","Value":"17.07.2017 10:54:57"},{"Key":"ReceiverPartyPublicName","Value":"254708374149 - John Doe"},{"Key":"B2CChargesPaidAccountAvailableFunds","Value":0},{"Key":"B2CRecipientIsRegisteredCustomer","Value":"Y"}]},"ReferenceData":{"ReferenceItem":{"Key":"QueueTimeoutURL","Value":"https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit"}}}}"#;

const CONVERSATION: &str = "AG_20170717_00006be9c8b5cc46abb6";

fn kes(amount: i64) -> Money {
    Money::new(Decimal::from(amount), "KES")
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[test]
fn the_spec_b2c_result_succeeds_with_receipt_amount_and_completion_time() {
    let result = parse_b2c_result(SAMPLE.as_bytes(), "KES").unwrap();
    assert_eq!(
        result.outcome,
        Outcome::Succeeded {
            receipt: Some("LGH3197RIB".into()),
            amount: Some(kes(8000)),
            occurred_at: Some(at("2017-07-17T07:54:57Z")),
        }
    );
    assert_eq!(result.result_code.as_deref(), Some("0"));
    assert_eq!(result.reference_data[0].0, "QueueTimeoutURL");
}

#[test]
fn a_result_whose_originator_id_is_not_ours_correlates_by_conversation_id() {
    let result = parse_b2c_result(SAMPLE.as_bytes(), "KES").unwrap();
    assert_eq!(result.correlation_keys(), [CorrelationKey::ConversationId(CONVERSATION.into())]);
    let payouts = HashMap::from([(CONVERSATION.to_owned(), "L0000123455")]);
    let found = result.correlate(|key| match key {
        CorrelationKey::Reference(r) => payouts.values().find(|v| **v == r.as_str()).copied(),
        CorrelationKey::ConversationId(id) => payouts.get(id).copied(),
    });
    assert_eq!(found, Some("L0000123455"));
}

#[test]
fn a_v3_result_correlates_by_our_reference_first() {
    let body = SAMPLE.replace("19455-424535-1", "L0000123455");
    let result = parse_b2c_result(body.as_bytes(), "KES").unwrap();
    let ours = Reference::parse("L0000123455").unwrap();
    assert_eq!(
        result.correlation_keys(),
        [CorrelationKey::Reference(ours), CorrelationKey::ConversationId(CONVERSATION.into())]
    );
}

#[test]
fn a_success_for_another_amount_is_unknown_not_succeeded() {
    let result = parse_b2c_result(SAMPLE.as_bytes(), "KES").unwrap();
    assert_eq!(result.against(&kes(8000)), result.outcome);
    assert!(matches!(result.against(&kes(5000)), Outcome::Unknown { why } if why.contains("8000")));
    let no_amount = SAMPLE.replace(r#"{"Key":"TransactionAmount","Value":8000},"#, "");
    let result = parse_b2c_result(no_amount.as_bytes(), "KES").unwrap();
    assert!(matches!(result.against(&kes(8000)), Outcome::Unknown { .. }));
}

#[test]
fn a_reference_item_array_and_missing_values_are_read() {
    let body = SAMPLE.replace(
        r#"{"ReferenceItem":{"Key":"QueueTimeoutURL","Value":"https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit"}}"#,
        r#"{"ReferenceItem":[{"Key":"QueueTimeoutURL","Value":"https://q"},{"Key":"Occasion"}]}"#,
    );
    let result = parse_b2c_result(body.as_bytes(), "KES").unwrap();
    assert_eq!(
        result.reference_data,
        [("QueueTimeoutURL".into(), Some("https://q".into())), ("Occasion".into(), None)]
    );
    assert!(matches!(result.outcome, Outcome::Succeeded { .. }));
}

#[test]
fn a_b2c_failure_is_definite_and_needs_no_result_parameters() {
    let body = r#"{"Result":{"ResultType":0,"ResultCode":2001,"ResultDesc":"The initiator information is invalid.","OriginatorConversationID":"L0000123455","ConversationID":"AG_20191219_00004e48cf7e3533f581","TransactionID":"NLJ41HAY6Q","ReferenceData":{"ReferenceItem":{"Key":"QueueTimeoutURL","Value":"https://x"}}}}"#;
    let result = parse_b2c_result(body.as_bytes(), "KES").unwrap();
    assert_eq!(
        result.outcome,
        Outcome::Failed { code: "2001".into(), message: Some("The initiator information is invalid.".into()) }
    );
    assert_eq!(result.correlation_keys()[0], CorrelationKey::Reference(Reference::parse("L0000123455").unwrap()));
}

#[test]
fn result_type_one_means_more_messages_follow_so_the_payout_stays_pending() {
    let body = SAMPLE.replace(r#""ResultType":0"#, r#""ResultType":1"#);
    assert_eq!(parse_b2c_result(body.as_bytes(), "KES").unwrap().outcome, Outcome::Pending);
}

#[test]
fn string_codes_and_a_receipt_only_in_the_parameters_are_accepted() {
    let body =
        SAMPLE.replace(r#""ResultCode":0"#, r#""ResultCode":"0""#).replace(r#""TransactionID":"LGH3197RIB","#, "");
    let result = parse_b2c_result(body.as_bytes(), "KES").unwrap();
    assert!(matches!(result.outcome, Outcome::Succeeded { receipt: Some(r), .. } if r == "LGH3197RIB"));
}

#[test]
fn a_success_without_any_receipt_is_unknown() {
    let body = r#"{"Result":{"ResultType":0,"ResultCode":0,"ConversationID":"AG_1"}}"#;
    assert!(matches!(parse_b2c_result(body.as_bytes(), "KES").unwrap().outcome, Outcome::Unknown { .. }));
}

#[test]
fn a_queue_timeout_is_unknown_never_failed_even_with_a_nonzero_code() {
    let body = r#"{"Result":{"ResultType":0,"ResultCode":1,"ResultDesc":"The service request timed out.","OriginatorConversationID":"L0000123455","ConversationID":"AG_20200120_0000657a6ff0b4f5b7c2"}}"#;
    let result = parse_queue_timeout(body.as_bytes()).unwrap();
    assert!(matches!(result.outcome, Outcome::Unknown { .. }));
    assert_eq!(result.correlation_keys().len(), 2);
    let bare = parse_queue_timeout(b"{}").unwrap();
    assert!(matches!(bare.outcome, Outcome::Unknown { .. }) && bare.correlation_keys().is_empty());
    assert!(matches!(parse_queue_timeout(b"timeout"), Err(CallbackError::Malformed(_))));
}

/// Daraja's status-result sample, with the queried payout's ids set to ours.
const STATUS: &str = r#"{"Result":{"ConversationID":"AG_20180223_0000493344ae97d86f75","OriginatorConversationID":"3213-416199-2","ReferenceData":{"ReferenceItem":{"Key":"Occasion"}},"ResultCode":0,"ResultDesc":"The service request has been accepted successfully.","ResultParameters":{"ResultParameter":[{"Key":"DebitPartyName","Value":"600310 - Safaricom333"},{"Key":"CreditPartyName","Value":"254708374149 - John Doe"},{"Key":"OriginatorConversationID","Value":"L0000123455"},{"Key":"InitiatedTime","Value":20180223054112},{"Key":"DebitAccountType","Value":"Utility Account"},{"Key":"DebitPartyCharges","Value":"Fee For B2C Payment|KES|22.40"},{"Key":"TransactionReason"},{"Key":"ReasonType","Value":"Business Payment to Customer via API"},{"Key":"TransactionStatus","Value":"Completed"},{"Key":"FinalisedTime","Value":20180223054112},{"Key":"Amount","Value":300.00},{"Key":"ConversationID","Value":"AG_20180223_000041b09c22e613d6c9"},{"Key":"ReceiptNo","Value":"MBN31H462N"}]},"ResultType":0,"TransactionID":"MBN0000000"}}"#;

#[test]
fn a_completed_status_result_succeeds_with_receipt_no_and_amount() {
    let result = parse_status_result(STATUS.as_bytes(), "KES").unwrap();
    assert_eq!(
        result.outcome,
        Outcome::Succeeded {
            receipt: Some("MBN31H462N".into()),
            amount: Some(Money::new(Decimal::new(30000, 2), "KES")),
            occurred_at: Some(at("2018-02-23T02:41:12Z")),
        }
    );
    assert_eq!(result.against(&kes(300)), result.outcome);
    assert_eq!(
        result.correlation_keys(),
        [
            CorrelationKey::Reference(Reference::parse("L0000123455").unwrap()),
            CorrelationKey::ConversationId("AG_20180223_000041b09c22e613d6c9".into()),
            CorrelationKey::ConversationId("AG_20180223_0000493344ae97d86f75".into()),
        ]
    );
}

#[test]
fn every_other_status_answer_leaves_the_payout_unknown() {
    for body in [
        STATUS.replace(r#""Value":"Completed""#, r#""Value":"Failed""#),
        STATUS.replace(r#""ResultCode":0"#, r#""ResultCode":"R000001""#),
        STATUS.replace(r#"{"Key":"ReceiptNo","Value":"MBN31H462N"}"#, r#"{"Key":"ReceiptNo"}"#),
        r#"{"Result":{"ResultType":0,"ResultCode":2001,"ResultDesc":"The initiator information is invalid."}}"#.into(),
    ] {
        let outcome = parse_status_result(body.as_bytes(), "KES").unwrap().outcome;
        assert!(matches!(outcome, Outcome::Unknown { .. }), "{outcome:?} for {body}");
    }
}

#[test]
fn malformed_result_bodies_are_typed_errors() {
    for body in [&b"nope"[..], b"{}", br#"{"Result":{}}"#, br#"{"Result":{"ResultCode":null}}"#, br#"{"Result":[]}"#] {
        assert!(parse_b2c_result(body, "KES").is_err(), "{body:?}");
        assert!(parse_status_result(body, "KES").is_err(), "{body:?}");
    }
    let bad_amount = SAMPLE.replace(r#""Value":8000"#, r#""Value":"eight""#);
    assert!(matches!(
        parse_b2c_result(bad_amount.as_bytes(), "KES"),
        Err(CallbackError::Invalid { field: "TransactionAmount", .. })
    ));
}

#[test]
fn provider_text_that_reaches_outcomes_and_logs_has_its_numbers_masked() {
    let body = r#"{"Result":{"ResultType":0,"ResultCode":2040,"ResultDesc":"Receiver 254712345678 is not registered","OriginatorConversationID":"L0000123455"}}"#;
    let result = parse_b2c_result(body.as_bytes(), "KES").unwrap();
    let Outcome::Failed { message: Some(message), .. } = &result.outcome else { panic!("{:?}", result.outcome) };
    assert_eq!(message, "Receiver 25471****678 is not registered");
    let timeout = r#"{"Result":{"ResultCode":1,"ResultDesc":"Queue timeout for 254712345678","OriginatorConversationID":"254712345678"}}"#;
    let result = parse_queue_timeout(timeout.as_bytes()).unwrap();
    assert!(!format!("{:?}", result.result_desc).contains("254712345678"));
    assert!(result.correlation_keys().iter().all(|k| !matches!(k, CorrelationKey::Reference(_))), "not ours");
}
