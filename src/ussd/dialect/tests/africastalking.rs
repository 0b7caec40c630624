use super::*;
use crate::ussd::dialect::{parse_africastalking_event, Signal};
use crate::ussd::model::EndReason;

const ENVELOPE: &str = "sessionId=S&phoneNumber=%2B255712345678&networkCode=64009&serviceCode=*384*1234%23";

fn hop(text: &str) -> Inbound {
    parse(Dialect::AfricasTalking, &format!("{ENVELOPE}&{text}"), FORM)
}

fn stored(path: &str, hop: u32) -> HopMemo {
    memo(hop, Fingerprint::AtPath { len: path.len(), mac: cfg().mac(path.as_bytes()) })
}

fn derive(text: &str, memo: Option<&HopMemo>) -> Derived {
    Dialect::AfricasTalking.derive(&hop(text), memo, &cfg())
}

#[test]
fn a1_an_empty_text_without_a_session_begins_at_hop_one() {
    let (req, _) = fresh(derive("text=", None), UssdEvent::Begin, "", 1);
    assert_eq!(req.session_id.as_str(), "S");
    assert_eq!(req.service_code.unwrap().as_str(), "384*1234");
    assert_eq!(req.network.as_deref(), Some("64009"));
}

#[test]
fn a1_a_missing_text_counts_as_empty() {
    let inbound = parse(Dialect::AfricasTalking, ENVELOPE, FORM);
    fresh(Dialect::AfricasTalking.derive(&inbound, None, &cfg()), UssdEvent::Begin, "", 1);
}

#[test]
fn a2_the_first_answer_after_an_empty_path_is_the_whole_text() {
    fresh(derive("text=1", Some(&stored("", 1))), UssdEvent::Continue, "1", 2);
}

#[test]
fn a3_the_latest_input_is_the_text_after_the_stored_path_and_a_star() {
    for text in ["text=1*2", "text=1%2A2"] {
        fresh(derive(text, Some(&stored("1", 2))), UssdEvent::Continue, "2", 3);
    }
}

#[test]
fn a4_the_same_path_again_is_a_duplicate() {
    assert_eq!(derive("text=1*2", Some(&stored("1*2", 3))), Derived::Duplicate);
}

#[test]
fn a5_a_free_text_answer_containing_a_star_is_kept_whole() {
    fresh(derive("text=1*2*12*5", Some(&stored("1*2", 3))), UssdEvent::Continue, "12*5", 4);
}

#[test]
fn a6_an_empty_answer_after_a_trailing_star_is_an_empty_input() {
    fresh(derive("text=1*2*", Some(&stored("1*2", 3))), UssdEvent::Continue, "", 4);
}

#[test]
fn a7_a_non_empty_text_without_a_session_begins_with_the_whole_path() {
    fresh(derive("text=1*3", None), UssdEvent::Begin, "1*3", 1);
}

#[test]
fn a8_a_diverging_or_shorter_path_is_a_conflict() {
    assert_eq!(derive("text=1*3", Some(&stored("1*2", 3))), Derived::Conflict);
    assert_eq!(derive("text=1", Some(&stored("1*2", 3))), Derived::Conflict);
    assert_eq!(derive("text=1*22", Some(&stored("1*2", 3))), Derived::Conflict);
}

#[test]
fn a9_an_unencoded_plus_in_the_phone_number_still_normalises() {
    let inbound = parse(Dialect::AfricasTalking, "sessionId=S&phoneNumber=+255712345678&serviceCode=*384%23", FORM);
    assert_eq!(inbound.msisdn.as_str(), "255712345678");
}

#[test]
fn a10_a_national_phone_number_gets_the_default_country_code() {
    let inbound = parse(Dialect::AfricasTalking, "sessionId=S&phoneNumber=0712345678&serviceCode=*384%23", FORM);
    assert_eq!(inbound.msisdn.as_str(), "255712345678");
}

#[test]
fn a11_a_repeated_text_key_is_refused_with_400() {
    let err = Dialect::AfricasTalking.parse(format!("{ENVELOPE}&text=1&text=2").as_bytes(), FORM, &cfg()).unwrap_err();
    assert_eq!((err.status(), err.to_string().contains('2')), (400, false));
}

fn event(status: &str) -> Inbound {
    let body = format!("{ENVELOPE}&status={status}&input=1*50000&hopsCount=2");
    parse_africastalking_event(body.as_bytes(), FORM, &cfg()).expect("the event parses")
}

#[test]
fn a12_an_incomplete_event_aborts_the_session_and_is_acknowledged_with_ok() {
    let inbound = event("Incomplete");
    notice(
        Dialect::AfricasTalking.derive(&inbound, Some(&stored("1", 2)), &cfg()),
        UssdEvent::Abort(EndReason::Incomplete),
        2,
    );
    assert_eq!(Dialect::AfricasTalking.ack(&inbound, 2), ("text/plain; charset=utf-8", b"OK".to_vec()));
}

#[test]
fn a13_a_success_event_for_an_unknown_session_is_acknowledged() {
    let inbound = event("Success");
    notice(Dialect::AfricasTalking.derive(&inbound, None, &cfg()), UssdEvent::Abort(EndReason::Completed), 0);
    assert_eq!(Dialect::AfricasTalking.ack(&inbound, 0).1, b"OK");
}

#[test]
fn an_unknown_event_status_maps_to_incomplete_and_is_flagged() {
    let Signal::AtEnd(n) = event("Weird").signal else { panic!("not an end notice") };
    assert_eq!((n.reason, n.status_known), (EndReason::Incomplete, false));
}

#[test]
fn the_spec_event_example_keeps_metrics_and_drops_the_input_path() {
    let body = "date=2024-05-14+09%3A21%3A07&sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=*384*1234%23&networkCode=64009&phoneNumber=%2B255712345678&status=Success&cost=TZS+0.00&durationInMillis=21400&hopsCount=3&hopsMetadata=&input=1*50000&lastAppResponse=END+Ombi+lako+limepokelewa.+Utapokea+SMS.";
    let inbound = parse_africastalking_event(body.as_bytes(), FORM, &cfg()).unwrap();
    let Signal::AtEnd(n) = &inbound.signal else { panic!("not an end notice") };
    assert_eq!((n.reason, n.duration_ms, n.hops_count), (EndReason::Completed, Some(21400), Some(3)));
    assert_eq!(
        (n.date.as_deref(), n.cost.as_deref(), n.hops_metadata.as_deref()),
        (Some("2024-05-14 09:21:07"), Some("TZS 0.00"), None)
    );
    assert!(!format!("{inbound:?}").contains("50000"));
}

#[test]
fn a_deep_dial_in_the_service_code_becomes_the_begin_input() {
    let mut cfg = cfg();
    cfg.base_codes = vec![crate::ussd::model::ServiceCode::parse("384*1234").unwrap()];
    let inbound = parse(
        Dialect::AfricasTalking,
        "sessionId=S&phoneNumber=%2B255712345678&serviceCode=*384*1234*1*2%23&text=",
        FORM,
    );
    fresh(Dialect::AfricasTalking.derive(&inbound, None, &cfg), UssdEvent::Begin, "1*2", 1);
}

#[test]
fn the_spec_walk_derives_each_hop_from_the_fingerprint_of_the_previous_one() {
    let (_, fp1) = fresh(derive("text=", None), UssdEvent::Begin, "", 1);
    let (_, fp2) = fresh(derive("text=1", Some(&memo(1, fp1))), UssdEvent::Continue, "1", 2);
    fresh(derive("text=1*50000", Some(&memo(2, fp2))), UssdEvent::Continue, "50000", 3);
}

#[test]
fn a_new_hop_after_an_ending_reply_is_refused_but_its_duplicate_is_replayed() {
    let ended = HopMemo { ended: true, ..stored("1", 2) };
    assert_eq!(derive("text=1", Some(&ended)), Derived::Duplicate);
    assert_eq!(derive("text=1*2", Some(&ended)), Derived::Ended);
}

#[test]
fn hop_metadata_is_the_node_id_while_it_keeps_ats_rules() {
    use crate::ussd::dialect::at_hop_metadata;
    let longest = "n".repeat(99);
    for node in ["main", "borrow-amount", "msg-error", longest.as_str()] {
        assert_eq!(at_hop_metadata(node), Some(node), "{node}");
    }
    let too_long = "n".repeat(100);
    for node in ["", too_long.as_str(), "a|b", "two words", "tab\there", "line\nbreak", "naïve"] {
        assert_eq!(at_hop_metadata(node), None, "{node:?}");
    }
}
