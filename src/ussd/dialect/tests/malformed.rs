use super::*;
use crate::ussd::dialect::DialectError;

const SECRET: &str = "4821";

fn err(d: Dialect, body: &str, ct: Option<&str>) -> DialectError {
    let e = d.parse(body.as_bytes(), ct, &cfg()).expect_err("the body is refused");
    assert!(!e.to_string().contains(SECRET), "the error echoes input: {e}");
    e
}

#[test]
fn a_wrong_or_missing_content_type_is_415() {
    assert_eq!(err(Dialect::AfricasTalking, "text=4821", JSON).status(), 415);
    assert_eq!(err(Dialect::Beem, "{}", None).status(), 415);
    assert_eq!(err(Dialect::Hubtel, "{}", FORM).status(), 415);
}

#[test]
fn a_body_over_the_limit_is_413() {
    let big = format!("text={}", "1".repeat(9000));
    assert_eq!(err(Dialect::AfricasTalking, &big, FORM).status(), 413);
}

#[test]
fn invalid_utf8_in_a_form_is_400() {
    let e = err(Dialect::AfricasTalking, "sessionId=S&phoneNumber=255712345678&serviceCode=1&text=%FF4821", FORM);
    assert_eq!(e, DialectError::Undecodable);
}

#[test]
fn a_missing_mandatory_form_field_is_400() {
    let e = err(Dialect::AfricasTalking, "phoneNumber=255712345678&serviceCode=1&text=4821", FORM);
    assert_eq!(e, DialectError::MissingField("sessionId"));
}

#[test]
fn an_invalid_msisdn_is_400() {
    let e = err(Dialect::AfricasTalking, "sessionId=S&phoneNumber=abc4821&serviceCode=1", FORM);
    assert!(matches!(e, DialectError::Msisdn(_)));
}

#[test]
fn a_session_id_over_128_bytes_is_400() {
    let body = format!("sessionId={}&phoneNumber=255712345678&serviceCode=1", "s".repeat(129));
    assert!(matches!(err(Dialect::AfricasTalking, &body, FORM), DialectError::SessionId(_)));
}

#[test]
fn malformed_json_is_400_without_quoting_the_body() {
    let e = err(Dialect::Beem, r#"{"command":"continue","payload":{"response":"4821"#, JSON);
    assert!(matches!(e, DialectError::Json { .. }));
    assert_eq!(e.status(), 400);
}

#[test]
fn a_duplicate_json_key_is_400() {
    let body = r#"{"command":"continue","command":"continue","msisdn":"255712345678","session_id":"1"}"#;
    assert!(matches!(err(Dialect::Beem, body, JSON), DialectError::Json { .. }));
    let body = r#"{"Type":"Response","type":"Response","Mobile":"233246912184","SessionId":"x","Message":"4821"}"#;
    assert!(matches!(err(Dialect::Hubtel, body, JSON), DialectError::Json { .. }));
}

#[test]
fn a_field_of_the_wrong_type_is_400_without_quoting_it() {
    let body = r#"{"command":"continue","msisdn":"255712345678","session_id":"1","payload":{"response":["4821"]}}"#;
    assert!(matches!(err(Dialect::Beem, body, JSON), DialectError::Json { .. }));
}

#[test]
fn an_unknown_beem_command_is_400() {
    let body = r#"{"command":"4821","msisdn":"255712345678","session_id":"1"}"#;
    assert_eq!(err(Dialect::Beem, body, JSON), DialectError::UnknownValue("command"));
}

#[test]
fn a_missing_hubtel_type_or_mobile_is_400() {
    let e = err(Dialect::Hubtel, r#"{"Mobile":"233246912184","SessionId":"x","Message":"4821"}"#, JSON);
    assert_eq!(e, DialectError::MissingField("Type"));
    let e = err(Dialect::Hubtel, r#"{"Type":"Response","SessionId":"x","Message":"4821"}"#, JSON);
    assert_eq!(e, DialectError::MissingField("Mobile"));
}

#[test]
fn an_unparseable_sequence_is_treated_as_absent() {
    let body = r#"{"Type":"Response","Mobile":"233246912184","SessionId":"x","Message":"1","Sequence":"two"}"#;
    let inbound = Dialect::Hubtel.parse(body.as_bytes(), JSON, &cfg()).unwrap();
    let memo = memo(2, Fingerprint::Hubtel { sequence: Some(2) });
    fresh(Dialect::Hubtel.derive(&inbound, Some(&memo), &cfg()), UssdEvent::Continue, "1", 3);
}

#[test]
fn debug_output_never_shows_the_raw_input() {
    let body = r#"{"command":"continue","msisdn":"255712345678","session_id":"1","payload":{"request_id":1,"response":"4821"}}"#;
    let inbound = parse(Dialect::Beem, body, JSON);
    let memo = memo(1, Fingerprint::Beem { request_id: Some(0), input_mac: [0; 32], echoes: false });
    let derived = Dialect::Beem.derive(&inbound, Some(&memo), &cfg());
    let debug = format!("{inbound:?} {derived:?}");
    assert!(!debug.contains(SECRET) && !debug.contains("2345"), "{debug}");
}
