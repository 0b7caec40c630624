use super::*;
use crate::ussd::model::EndReason;

fn body(command: &str, payload: &str) -> String {
    format!(
        r#"{{"command":"{command}","msisdn":"255712345678","session_id":"4574","operator":"vodacom","payload":{payload}}}"#
    )
}

fn derive(command: &str, payload: &str, memo: Option<&HopMemo>) -> Derived {
    Dialect::Beem.derive(&parse(Dialect::Beem, &body(command, payload), JSON), memo, &cfg())
}

/// The memo after a fresh request `(request_id, input)` answered with screen `hop`.
fn stored(hop: u32, request_id: u64, input: &str) -> HopMemo {
    memo(hop, Fingerprint::Beem { request_id: Some(request_id), input_mac: cfg().mac(input.as_bytes()) })
}

fn reply_json(inbound: &Inbound, hop: u32, reply: &UssdReply) -> serde_json::Value {
    let (ct, bytes) = Dialect::Beem.render(inbound, hop, reply);
    assert_eq!(ct, "application/json");
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn b1_initiate_begins_with_an_empty_input_and_replies_with_request_id_one() {
    let inbound = parse(Dialect::Beem, &body("initiate", r#"{"request_id":0,"response":0}"#), JSON);
    let (req, _) = fresh(Dialect::Beem.derive(&inbound, None, &cfg()), UssdEvent::Begin, "", 1);
    assert_eq!((req.network.as_deref(), req.service_code), (Some("vodacom"), None));
    let out = reply_json(&inbound, 1, &UssdReply::con("Karibu Mkopo\n1. Omba mkopo\n2. Salio"));
    let expected = serde_json::json!({"msisdn":"255712345678","operator":"vodacom","session_id":"4574","command":"continue","payload":{"request_id":1,"request":"Karibu Mkopo\n1. Omba mkopo\n2. Salio"}});
    assert_eq!(out, expected);
}

#[test]
fn b2_continue_after_hop_one_is_a_fresh_turn_at_hop_two() {
    let inbound = parse(Dialect::Beem, &body("continue", r#"{"request_id":1,"response":"1"}"#), JSON);
    fresh(Dialect::Beem.derive(&inbound, Some(&stored(1, 0, "")), &cfg()), UssdEvent::Continue, "1", 2);
    assert_eq!(reply_json(&inbound, 2, &UssdReply::con("Weka kiasi (TZS):"))["payload"]["request_id"], 2);
}

#[test]
fn b3_a_string_request_id_is_the_same_as_a_number() {
    fresh(
        derive("continue", r#"{"request_id":"1","response":"1"}"#, Some(&stored(1, 0, ""))),
        UssdEvent::Continue,
        "1",
        2,
    );
}

#[test]
fn b4_a_numeric_response_becomes_its_literal_text() {
    fresh(derive("continue", r#"{"request_id":1,"response":1}"#, Some(&stored(1, 0, ""))), UssdEvent::Continue, "1", 2);
}

#[test]
fn b5_the_same_request_id_and_input_again_is_a_duplicate() {
    assert_eq!(derive("continue", r#"{"request_id":1,"response":"1"}"#, Some(&stored(2, 1, "1"))), Derived::Duplicate);
}

#[test]
fn b6_the_same_answer_to_a_new_screen_is_fresh() {
    fresh(
        derive("continue", r#"{"request_id":2,"response":"1"}"#, Some(&stored(2, 1, "1"))),
        UssdEvent::Continue,
        "1",
        3,
    );
}

#[test]
fn b7_terminate_with_an_empty_payload_aborts_and_is_acknowledged_with_an_echo() {
    let inbound = parse(Dialect::Beem, &body("terminate", "{}"), JSON);
    notice(
        Dialect::Beem.derive(&inbound, Some(&stored(3, 2, "50000")), &cfg()),
        UssdEvent::Abort(EndReason::Released),
        3,
    );
    let (_, ack) = Dialect::Beem.ack(&inbound, 3);
    let expected = serde_json::json!({"msisdn":"255712345678","operator":"vodacom","session_id":"4574","command":"terminate","payload":{"request_id":3,"request":""}});
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&ack).unwrap(), expected);
}

#[test]
fn b7_terminate_without_a_payload_is_also_accepted() {
    let inbound = parse(Dialect::Beem, r#"{"command":"terminate","msisdn":"255712345678","session_id":"4574"}"#, JSON);
    notice(Dialect::Beem.derive(&inbound, None, &cfg()), UssdEvent::Abort(EndReason::Released), 0);
}

#[test]
fn b8_continue_for_an_unknown_session_is_expired() {
    assert_eq!(derive("continue", r#"{"request_id":3,"response":"2"}"#, None), Derived::Expired);
}

#[test]
fn b9_a_numeric_session_id_and_an_uppercase_command_are_accepted() {
    let raw =
        r#"{"command":"CONTINUE","msisdn":255712345678,"session_id":4574,"payload":{"request_id":1,"response":"1"}}"#;
    let inbound = parse(Dialect::Beem, raw, JSON);
    let (req, _) = fresh(Dialect::Beem.derive(&inbound, Some(&stored(1, 0, "")), &cfg()), UssdEvent::Continue, "1", 2);
    assert_eq!(req.session_id.as_str(), "4574");
    let out = reply_json(&inbound, 2, &UssdReply::end("x"));
    assert_eq!((out["session_id"].clone(), out.get("operator")), (serde_json::json!(4574), None));
    assert_eq!(out["command"], "terminate");
}

#[test]
fn the_terminate_reply_of_the_spec_example_round_trips() {
    let inbound = parse(Dialect::Beem, &body("continue", r#"{"request_id":2,"response":"50000"}"#), JSON);
    let out = reply_json(&inbound, 3, &UssdReply::end("Ombi lako limepokelewa. Utapokea SMS."));
    assert_eq!(out["command"], "terminate");
    assert_eq!(out["payload"]["request_id"], 3);
}

#[test]
fn without_request_id_echo_every_continue_is_fresh() {
    let mut cfg = cfg();
    cfg.beem_request_id_echo = false;
    let inbound = parse(Dialect::Beem, &body("continue", r#"{"request_id":1,"response":"1"}"#), JSON);
    fresh(Dialect::Beem.derive(&inbound, Some(&stored(2, 1, "1")), &cfg), UssdEvent::Continue, "1", 3);
}

#[test]
fn a_large_numeric_response_keeps_every_digit() {
    let payload = r#"{"request_id":1,"response":12345678901234567890123}"#;
    fresh(derive("continue", payload, Some(&stored(1, 0, ""))), UssdEvent::Continue, "12345678901234567890123", 2);
}

#[test]
fn a_repeated_initiate_is_a_duplicate_start() {
    assert_eq!(derive("initiate", r#"{"request_id":0,"response":0}"#, Some(&stored(1, 0, ""))), Derived::Duplicate);
}
