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

/// The memo after a fresh request `(request_id, input)` answered with screen `hop`, in a session that
/// learned what derivation learns: it echoes when that request named the screen before `hop`.
fn stored(hop: u32, request_id: u64, input: &str) -> HopMemo {
    let echoes = request_id != 0 && request_id + 1 == u64::from(hop);
    memo(hop, Fingerprint::Beem { request_id: Some(request_id), input_mac: cfg().mac(input.as_bytes()), echoes })
}

/// Runs `continue`s with `(request_id, input)` after an `initiate`, storing each fresh turn's memo the way
/// the route does; returns each derivation.
fn session(continues: &[(u64, &str)]) -> Vec<Derived> {
    let cfg = cfg();
    let start = Dialect::Beem.derive(
        &parse(Dialect::Beem, &body("initiate", r#"{"request_id":0,"response":0}"#), JSON),
        None,
        &cfg,
    );
    let Derived::Fresh { fingerprint, .. } = start else { panic!("{start:?}") };
    let mut memo = memo(1, fingerprint);
    let mut out = Vec::new();
    for (request_id, input) in continues {
        let payload = format!(r#"{{"request_id":{request_id},"response":"{input}"}}"#);
        let derived = Dialect::Beem.derive(&parse(Dialect::Beem, &body("continue", &payload), JSON), Some(&memo), &cfg);
        if let Derived::Fresh { request, fingerprint } = &derived {
            memo = HopMemo { hop: request.hop, fingerprint: fingerprint.clone(), last_sent_id: request.hop, ..memo };
        }
        out.push(derived);
    }
    out
}

fn hops(derived: &[Derived]) -> Vec<Option<u32>> {
    derived.iter().map(|d| if let Derived::Fresh { request, .. } = d { Some(request.hop) } else { None }).collect()
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
fn an_echoing_beem_has_a_true_retry_replayed_and_a_repeated_answer_to_a_new_screen_served() {
    // Answers screen 1 with "1", screen 2 with "1"; then the network repeats that last message.
    let derived = session(&[(1, "1"), (2, "1"), (2, "1")]);
    assert_eq!(hops(&derived), [Some(2), Some(3), None]);
    assert_eq!(derived[2], Derived::Duplicate);
}

#[test]
fn a_beem_sending_request_id_zero_on_every_continue_has_every_answer_processed() {
    // The published integration that never echoes: "1" then "1" again is two answers, not a retry.
    let derived = session(&[(0, "1"), (0, "1"), (0, "2"), (0, "2")]);
    assert_eq!(hops(&derived), [Some(2), Some(3), Some(4), Some(5)]);
}

#[test]
fn the_echo_is_learned_once_and_kept_for_the_session() {
    // The first continue names our latest screen; a later id that names neither screen is still judged
    // against the learned echo, and the retry of it is a duplicate.
    let derived = session(&[(1, "1"), (7, "3"), (7, "3")]);
    assert_eq!(hops(&derived), [Some(2), Some(3), None]);
    // Learned late: the first continue did not name our screen, the second does, its retry is caught.
    let derived = session(&[(0, "1"), (2, "1"), (2, "1")]);
    assert_eq!(hops(&derived), [Some(2), Some(3), None]);
}

#[test]
fn a_session_stored_before_the_echo_was_learned_is_not_known_to_echo() {
    let old =
        r#"{"Beem":{"request_id":1,"input_mac":"00000000000000000000000000000000000000000000000000000000000000ff"}}"#;
    assert_eq!(
        serde_json::from_str::<Fingerprint>(old).unwrap(),
        Fingerprint::Beem {
            request_id: Some(1),
            input_mac: {
                let mut m = [0; 32];
                m[31] = 0xff;
                m
            },
            echoes: false
        }
    );
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
