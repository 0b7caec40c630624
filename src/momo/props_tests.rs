//! Property tests: no wallet or Daraja callback parser, and not the Standard Webhooks signature
//! verifier, panics on whatever bytes and headers arrive on a callback path.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::daraja::callbacks::{
    parse_b2c_result, parse_c2b_confirmation, parse_queue_timeout, parse_status_result, parse_stk_callback,
    validate_c2b, CallbackRules,
};
use super::generic;
use super::model::RawCallback;
use super::signature::{verify, SignedHeaders, WebhookSecret};

/// JSON-ish bodies with the keys the parsers look for, so their deeper branches run too.
fn shaped_body() -> impl Strategy<Value = Vec<u8>> {
    let keys = prop_oneof![
        Just("type"),
        Just("data"),
        Just("amount"),
        Just("currency"),
        Just("receipt"),
        Just("msisdn"),
        Just("account"),
        Just("status"),
        Just("occurred_at"),
        Just("TransID"),
        Just("TransAmount"),
        Just("TransTime"),
        Just("MSISDN"),
        Just("BillRefNumber"),
        Just("Result"),
        Just("ResultCode"),
        Just("Body"),
        Just("stkCallback"),
        Just("CallbackMetadata"),
    ];
    let value = "[0-9a-zA-Z\"{}\\[\\],:.\\-e ]{0,30}";
    let json = prop::collection::vec((keys, value), 0..12).prop_map(|pairs| {
        let fields: Vec<String> = pairs.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", fields.join(",")).into_bytes()
    });
    prop_oneof![json, prop::collection::vec(any::<u8>(), 0..512)]
}

fn raw(body: Vec<u8>) -> RawCallback {
    RawCallback { body, headers: BTreeMap::new(), received_at: chrono::Utc::now(), source_ip: None }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_callback_parser_panics(body in shaped_body()) {
        let rules = CallbackRules::default();
        let _ = generic::parse("sandbox", &raw(body.clone()), "255");
        let _ = validate_c2b(&body, &rules, |_| true);
        let _ = parse_c2b_confirmation(&body, &rules);
        let _ = parse_b2c_result(&body, "KES");
        let _ = parse_queue_timeout(&body);
        let _ = parse_status_result(&body, "KES");
        let _ = parse_stk_callback(&body, &rules);
    }

    #[test]
    fn the_signature_verifier_never_panics(
        id in prop::option::of(".{0,80}"),
        timestamp in prop::option::of(prop_oneof![
            "-?[0-9]{0,20}".boxed(),
            any::<i64>().prop_map(|n| n.to_string()).boxed(),
            ".{0,30}".boxed()
        ]),
        signature in prop::option::of(prop_oneof!["(v1,[A-Za-z0-9+/=]{0,60} ?){0,4}".boxed(), ".{0,120}".boxed()]),
        body in prop::collection::vec(any::<u8>(), 0..256),
        now in any::<i64>(),
        secret in prop_oneof![".{0,60}".boxed(), "whsec_[A-Za-z0-9+/]{0,60}={0,2}".boxed()],
    ) {
        let secrets: Vec<WebhookSecret> = WebhookSecret::parse(&secret).into_iter().collect();
        let headers = SignedHeaders { id: id.as_deref(), timestamp: timestamp.as_deref(), signature: signature.as_deref() };
        let _ = verify(&secrets, headers, &body, now, 300);
    }
}

#[test]
fn a_timestamp_at_the_ends_of_the_clock_is_refused_not_an_overflow() {
    let secrets = [WebhookSecret::from_bytes(b"k".to_vec())];
    for (timestamp, now) in [("-9223372036854775808", i64::MAX), ("9223372036854775807", i64::MIN), ("1", i64::MIN)] {
        let headers = SignedHeaders { id: Some("msg_1"), timestamp: Some(timestamp), signature: Some("v1,x") };
        assert!(verify(&secrets, headers, b"{}", now, 300).is_err());
    }
}
