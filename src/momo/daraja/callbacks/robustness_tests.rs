//! Whatever arrives on a callback path, the parsers answer without panicking, and the acks are the
//! exact bytes of the spec.

use super::*;

const BODIES: [&str; 4] = [
    r#"{"TransactionType":"Pay Bill","TransID":"RKTQDM7W6S","TransTime":"20191122063845","TransAmount":"10","BusinessShortCode":"600638","BillRefNumber":"0712345678","InvoiceNumber":"","OrgAccountBalance":"49197.00","ThirdPartyTransID":"","MSISDN":"2547*****149","FirstName":"John","MiddleName":"","LastName":"Doe"}"#,
    r#"{"Result":{"ResultType":0,"ResultCode":0,"ResultDesc":"ok","OriginatorConversationID":"L0000123455","ConversationID":"AG_1","TransactionID":"LGH3197RIB","ResultParameters":{"ResultParameter":[{"Key":"TransactionAmount","Value":8000},{"Key":"TransactionCompletedDateTime","Value":"17.07.2017 10:54:57"},{"Key":"TransactionStatus","Value":"Completed"},{"Key":"ReceiptNo","Value":"X"},{"Key":"FinalisedTime","Value":20180223054112}]},"ReferenceData":{"ReferenceItem":[{"Key":"Occasion"}]}}}"#,
    r#"{"Body":{"stkCallback":{"MerchantRequestID":"29115-34620561-1","CheckoutRequestID":"ws_CO_1","ResultCode":0,"ResultDesc":"ok","CallbackMetadata":{"Item":[{"Name":"Amount","Value":1.00},{"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"},{"Name":"Balance"},{"Name":"TransactionDate","Value":20191219102115},{"Name":"PhoneNumber","Value":254708374149}]}}}}"#,
    r#"{"Result":{"ResultType":"1","ResultCode":"2001","ResultDesc":null,"ResultParameters":{"ResultParameter":{"Key":"TransactionAmount","Value":1e400}}}}"#,
];

fn parse_everything(body: &[u8], rules: &CallbackRules) {
    let _ = validate_c2b(body, rules, |_| true);
    let _ = parse_c2b_confirmation(body, rules);
    let _ = parse_b2c_result(body, "KES");
    let _ = parse_queue_timeout(body);
    let _ = parse_status_result(body, "KES");
    let _ = parse_stk_callback(body, rules);
}

#[test]
fn truncated_and_mangled_bodies_never_panic_a_parser() {
    let rules = CallbackRules::default();
    for body in BODIES {
        let bytes = body.as_bytes();
        for end in 0..=bytes.len() {
            parse_everything(&bytes[..end], &rules);
        }
        for at in 0..bytes.len() {
            for replacement in [b'"', b'{', b'9', b'*', b'-', 0xff] {
                let mut mangled = bytes.to_vec();
                mangled[at] = replacement;
                parse_everything(&mangled, &rules);
            }
        }
    }
}

#[test]
fn the_acks_are_the_exact_bytes_daraja_expects() {
    assert_eq!(ACK_VALIDATION_ACCEPTED, br#"{"ResultCode":"0","ResultDesc":"Accepted"}"#);
    assert_eq!(ACK_VALIDATION_REJECTED, br#"{"ResultCode":"C2B00012","ResultDesc":"Rejected"}"#);
    assert_eq!(ACK_CONFIRMATION, br#"{"ResultCode":0,"ResultDesc":"Success"}"#);
    assert_eq!(ACK_ACCEPTED, br#"{"ResultCode":0,"ResultDesc":"Accepted"}"#);
}

#[test]
fn errors_never_echo_a_phone_number() {
    let body = br#"{"Body":{"stkCallback":"254708374149"}}"#;
    let rules = CallbackRules::default();
    let shown = parse_stk_callback(body, &rules).map(|_| ()).unwrap_err().to_string();
    assert!(!shown.contains("254708374149"), "{shown}");
    let shown = parse_c2b_confirmation(br#"{"TransID":254708374149}"#, &rules).unwrap_err().to_string();
    assert!(!shown.contains("254708374149"), "{shown}");
}
