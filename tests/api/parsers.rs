//! Property tests: no byte sequence makes a parser panic. Every dialect's hop parser and its derive
//! step (the form decoder through Africa's Talking), the Africa's Talking event parser, the generic
//! wallet's callback authentication and parser, every Daraja callback parser and time parser, and the
//! Standard Webhooks verifier get arbitrary bytes and valid bodies with random damage.

use std::collections::BTreeMap;

use mkopo::momo::daraja::callbacks::{
    parse_b2c_result, parse_c2b_confirmation, parse_queue_timeout, parse_status_result, parse_stk_callback,
    validate_c2b, CallbackRules,
};
use mkopo::momo::daraja::time::{parse_compact, parse_dotted};
use mkopo::momo::generic::callback::{authenticate, parse};
use mkopo::momo::signature::{sign, verify, SignedHeaders, WebhookSecret};
use mkopo::momo::RawCallback;
use mkopo::ussd::dialect::{parse_africastalking_event, Derived, Dialect, DialectCfg, HopMemo};
use mkopo::ussd::model::UssdReply;
use proptest::prelude::*;

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";
const SECRET: &str = "whsec_bWtvcG8tdGVzdC12ZWN0b3Itc2VjcmV0LTMyYnl0ZXM=";

const HOPS: [(Dialect, &str); 4] = [
    (
        Dialect::AfricasTalking,
        "sessionId=S&phoneNumber=%2B255712345678&networkCode=64009&serviceCode=*384*1234%23&text=1*2%2A3",
    ),
    (
        Dialect::Beem,
        r#"{"command":"continue","msisdn":"255712345678","session_id":"4574","operator":"vodacom","payload":{"request_id":1,"response":"1"}}"#,
    ),
    (
        Dialect::Hubtel,
        r#"{"Type":"Response","Message":"1","ServiceCode":"713*20","Operator":"MTN","ClientState":"","Mobile":"233246912184","SessionId":"8d440a43a98b4614b9df22b79c8190b8","Sequence":2}"#,
    ),
    (
        Dialect::Hubtel,
        r#"{"type":"Initiation","message":"*713*20#","serviceCode":"713*20","mobile":"0246912184","sessionId":"abc","sequence":1}"#,
    ),
];
const AT_EVENT: &str = "sessionId=S&phoneNumber=%2B255712345678&serviceCode=*384%23&networkCode=64009&status=Success&input=1*2&duration=30&cost=TZS+1.00&date=2026-05-25+09%3A14%3A03";
const WALLET: &str = r#"{"type":"payment.received","timestamp":"2026-05-25T09:14:03Z","data":{"kind":"payment","reference":null,"receipt":"HPDUP00001","account":"L0000000018","msisdn":"255713000001","amount":"5000.00","currency":"TZS","status":"completed","failure_code":null,"failure_message":null,"occurred_at":"2026-05-25T09:13:58Z"}}"#;
const DARAJA: [&str; 3] = [
    r#"{"TransactionType":"Pay Bill","TransID":"RKTQDM7W6S","TransTime":"20191122063845","TransAmount":"10","BusinessShortCode":"600638","BillRefNumber":"0712345678","InvoiceNumber":"","OrgAccountBalance":"49197.00","ThirdPartyTransID":"","MSISDN":"2547*****149","FirstName":"John","MiddleName":"","LastName":"Doe"}"#,
    r#"{"Result":{"ResultType":0,"ResultCode":0,"ResultDesc":"ok","OriginatorConversationID":"L0000123455","ConversationID":"AG_1","TransactionID":"LGH3197RIB","ResultParameters":{"ResultParameter":[{"Key":"TransactionAmount","Value":8000},{"Key":"TransactionCompletedDateTime","Value":"17.07.2017 10:54:57"},{"Key":"ReceiptNo","Value":"X"}]}}}"#,
    r#"{"Body":{"stkCallback":{"MerchantRequestID":"29115-34620561-1","CheckoutRequestID":"ws_CO_1","ResultCode":0,"ResultDesc":"ok","CallbackMetadata":{"Item":[{"Name":"Amount","Value":1.00},{"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"},{"Name":"TransactionDate","Value":20191219102115},{"Name":"PhoneNumber","Value":254708374149}]}}}}"#,
];

/// Bytes that look like what the parsers expect: a valid body with random damage (bytes replaced,
/// inserted or cut), or anything at all.
fn damaged(valid: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let edits = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..8);
    let mangled = (edits, any::<prop::sample::Index>()).prop_map(move |(edits, cut)| {
        let mut bytes = valid.as_bytes().to_vec();
        for (at, byte, how) in edits {
            let i = at.index(bytes.len().max(1)).min(bytes.len());
            match how {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => {
                    bytes.remove(i);
                }
                _ => {}
            }
        }
        let keep = cut.index(bytes.len() + 1);
        if keep > bytes.len() / 2 {
            bytes.truncate(keep);
        }
        bytes
    });
    prop_oneof![3 => mangled, 1 => prop::collection::vec(any::<u8>(), 0..512)]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![Just(None), Just(Some(FORM.to_owned())), Just(Some(JSON.to_owned())), ".{0,40}".prop_map(Some)]
}

fn cfg() -> DialectCfg {
    DialectCfg::new("255", b"test-path-key".to_vec())
}

/// Parses, and on success derives against no memo and against memos of the valid body.
fn hop(dialect: Dialect, body: &[u8], content_type: Option<&str>) {
    let cfg = cfg();
    let Ok(inbound) = dialect.parse(body, content_type, &cfg) else { return };
    let _ = dialect.derive(&inbound, None, &cfg);
    for (d, valid) in HOPS.iter().filter(|(d, _)| *d == dialect) {
        let ct = if *d == Dialect::AfricasTalking { FORM } else { JSON };
        let Ok(sample) = d.parse(valid.as_bytes(), Some(ct), &cfg) else { continue };
        if let Derived::Fresh { fingerprint, .. } = d.derive(&sample, None, &cfg) {
            for hop in [0, 1, 2, 1_000] {
                let memo = HopMemo {
                    hop,
                    fingerprint: fingerprint.clone(),
                    reply: UssdReply::con("x"),
                    last_sent_id: hop,
                    ended: false,
                };
                let _ = dialect.derive(&inbound, Some(&memo), &cfg);
                let _ = dialect.render(&inbound, hop, &UssdReply::con("x"));
                let _ = dialect.ack(&inbound, hop);
            }
        }
    }
}

fn raw(body: Vec<u8>, headers: &[(&str, &str)]) -> RawCallback {
    let headers: BTreeMap<String, String> = headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    RawCallback { body, headers, received_at: chrono::Utc::now(), source_ip: Some("127.0.0.1".into()) }
}

/// A timestamp header: digits near now, the extremes of i64, or any text.
fn timestamp() -> impl Strategy<Value = String> {
    prop_oneof![
        (-1_000i64..1_000).prop_map(|d| (chrono::Utc::now().timestamp() + d).to_string()),
        Just(i64::MIN.to_string()),
        Just(i64::MAX.to_string()),
        any::<i64>().prop_map(|t| t.to_string()),
        ".{0,24}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_hop_body_panics_a_dialect(which in 0..HOPS.len(), body in prop_oneof![
        damaged(HOPS[0].1), damaged(HOPS[1].1), damaged(HOPS[2].1), damaged(HOPS[3].1)
    ], ct in content_type()) {
        hop(HOPS[which].0, &body, ct.as_deref());
    }

    #[test]
    fn no_body_panics_the_africastalking_event_parser(body in damaged(AT_EVENT), ct in content_type()) {
        let _ = parse_africastalking_event(&body, ct.as_deref(), &cfg());
    }

    #[test]
    fn no_body_or_header_panics_the_wallet_callback(body in damaged(WALLET), id in ".{0,80}", ts in timestamp(),
                                                    signature in ".{0,120}", sign_it in any::<bool>()) {
        let secret = WebhookSecret::parse(SECRET).unwrap();
        let signature = if sign_it { sign(&secret, &id, ts.trim().parse().unwrap_or(0), &body) } else { signature };
        let raw = raw(body, &[("webhook-id", &id), ("webhook-timestamp", &ts), ("webhook-signature", &signature)]);
        let _ = authenticate(std::slice::from_ref(&secret), &raw, chrono::Utc::now().timestamp(), 300);
        let _ = parse("sandbox", &raw, "255");
    }

    #[test]
    fn no_input_panics_the_signature_verifier(body in prop::collection::vec(any::<u8>(), 0..256), id in ".{0,80}",
                                               ts in timestamp(), signature in ".{0,200}", now in any::<i64>(),
                                               tolerance in any::<i64>(), secret_text in ".{0,64}") {
        let secrets: Vec<WebhookSecret> =
            [WebhookSecret::parse(SECRET).ok(), WebhookSecret::parse(&secret_text).ok()].into_iter().flatten().collect();
        let headers = SignedHeaders { id: Some(&id), timestamp: Some(&ts), signature: Some(&signature) };
        let _ = verify(&secrets, headers, &body, now, tolerance);
        let _ = verify(&secrets, headers, &body, chrono::Utc::now().timestamp(), 300);
    }

    #[test]
    fn no_body_panics_a_daraja_parser(body in prop_oneof![damaged(DARAJA[0]), damaged(DARAJA[1]), damaged(DARAJA[2])]) {
        let rules = CallbackRules::default();
        let _ = validate_c2b(&body, &rules, |_| true);
        let _ = parse_c2b_confirmation(&body, &rules);
        let _ = parse_b2c_result(&body, "KES");
        let _ = parse_queue_timeout(&body);
        let _ = parse_status_result(&body, "KES");
        let _ = parse_stk_callback(&body, &rules);
    }

    #[test]
    fn no_text_panics_the_daraja_time_parsers(text in prop_oneof![".{0,32}", "[0-9]{0,16}", "[0-9.: ]{0,24}"]) {
        let _ = parse_compact(&text);
        let _ = parse_dotted(&text);
    }
}

#[test]
fn a_timestamp_at_the_ends_of_i64_is_refused_not_overflowed() {
    let secret = WebhookSecret::parse(SECRET).unwrap();
    for ts in [i64::MIN, i64::MAX] {
        let signature = sign(&secret, "evt_1", ts, b"{}");
        let text = ts.to_string();
        let headers = SignedHeaders { id: Some("evt_1"), timestamp: Some(&text), signature: Some(&signature) };
        for now in [0, chrono::Utc::now().timestamp(), i64::MIN, i64::MAX] {
            let verdict = verify(std::slice::from_ref(&secret), headers, b"{}", now, 300);
            assert_eq!(verdict.is_ok(), now == ts, "timestamp {ts} at {now}: {verdict:?}");
        }
    }
}
