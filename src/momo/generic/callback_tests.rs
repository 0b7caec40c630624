//! The vectors of docs/money.md and the examples of docs/money.md through `authenticate` and `parse`.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;

use super::*;
use crate::momo::signature::{sign, DEFAULT_TOLERANCE_SECS};
use crate::momo::{Money, Reference};

const SECRET: &str = "whsec_bWtvcG8tdGVzdC12ZWN0b3Itc2VjcmV0LTMyYnl0ZXM=";
const RETIRED: &str = "whsec_bWtvcG8tdGVzdC12ZWN0b3ItcmV0aXJlZC1zZWNyZXQ=";

const V1_BODY: &str = r#"{"type":"payment.received","timestamp":"2026-05-25T09:14:03Z","data":{"kind":"payment","reference":null,"receipt":"HP7Q4K2M9X","account":"L0000123455","msisdn":"255712345678","amount":"11100.00","currency":"TZS","status":"completed","failure_code":null,"failure_message":null,"occurred_at":"2026-05-25T09:13:58Z"}}"#;
const V1_ID: &str = "evt_01JW3F8ZK4N7Q2R5T8V0X3Y6Z9";
const V1_TS: &str = "1779700443";
const V1_SIG: &str = "v1,EJNoJLOx0lrjYeBGWOkIP6l/NlkhkO0W/JGxhTQJyic=";
const V1_NOW: i64 = 1779700453;

const V2_BODY: &str = r#"{"type":"payout.completed","timestamp":"2026-05-18T07:02:12Z","data":{"kind":"payout","reference":"L0000123455","receipt":"HP3B8D1F6Z","account":null,"msisdn":"255712345678","amount":"50000.00","currency":"TZS","status":"completed","failure_code":null,"failure_message":null,"occurred_at":"2026-05-18T07:02:11Z"}}"#;

const COLLECTION_COMPLETED: &str = r#"{"type":"collection.completed","timestamp":"2026-05-25T10:02:41Z","data":{"kind":"collection","reference":"C0000000174","receipt":"HP9T2W5Y8B","account":"L0000123455","msisdn":"255712345678","amount":"11100.00","currency":"TZS","status":"completed","failure_code":null,"failure_message":null,"occurred_at":"2026-05-25T10:02:39Z"}}"#;
const PAYOUT_FAILED: &str = r#"{"type":"payout.failed","timestamp":"2026-05-18T07:02:30Z","data":{"kind":"payout","reference":"L0000123471","receipt":null,"account":null,"msisdn":"255712345679","amount":"50000.00","currency":"TZS","status":"failed","failure_code":"recipient_invalid","failure_message":"MSISDN not registered for HaloPesa","occurred_at":"2026-05-18T07:02:29Z"}}"#;

fn raw(body: &str, id: &str, timestamp: &str, signature: &str) -> RawCallback {
    let headers = [("webhook-id", id), ("webhook-timestamp", timestamp), ("webhook-signature", signature)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect::<BTreeMap<_, _>>();
    RawCallback { body: body.as_bytes().to_vec(), headers, received_at: Utc::now(), source_ip: None }
}

fn v1(body: &str) -> RawCallback {
    raw(body, V1_ID, V1_TS, V1_SIG)
}

fn secrets(list: &[&str]) -> Vec<WebhookSecret> {
    list.iter().map(|s| WebhookSecret::parse(s).unwrap()).collect()
}

fn auth(raw: &RawCallback, now: i64, with: &[&str]) -> Result<(), CallbackError> {
    authenticate(&secrets(with), raw, now, DEFAULT_TOLERANCE_SECS)
}

fn parsed(body: &str) -> Result<InboundEvent, CallbackError> {
    parse("sandbox", &v1(body), "255")
}

fn tzs(text: &str) -> Option<Money> {
    Some(Money::new(Decimal::from_str(text).unwrap(), "TZS"))
}

fn invalid(body: &str) -> String {
    match parsed(body) {
        Err(CallbackError::InvalidPayload(why)) => why,
        other => panic!("expected invalid_payload, got {other:?}"),
    }
}

#[test]
fn v1_authenticates_and_parses_to_a_payment_keyed_by_its_receipt() {
    assert_eq!(auth(&v1(V1_BODY), V1_NOW, &[SECRET]), Ok(()));
    let event = parsed(V1_BODY).unwrap();
    let occurred_at = Utc.with_ymd_and_hms(2026, 5, 25, 9, 13, 58).unwrap();
    assert_eq!(event.provider, Provider::Generic { wallet: "sandbox".into() });
    assert_eq!(event.key, "HP7Q4K2M9X");
    assert_eq!(event.kind, EventKind::Payment);
    assert_eq!(event.reference, None);
    assert_eq!(event.account.as_deref(), Some("L0000123455"));
    assert_eq!(event.msisdn.as_ref().map(Msisdn::as_str), Some("255712345678"));
    assert_eq!(event.amount, tzs("11100.00"));
    assert_eq!(event.occurred_at, Some(occurred_at));
    assert_eq!(
        event.outcome,
        Outcome::Succeeded {
            receipt: Some("HP7Q4K2M9X".into()),
            amount: tzs("11100.00"),
            occurred_at: Some(occurred_at)
        }
    );
}

#[test]
fn v2_authenticates_and_parses_to_a_succeeded_payout_for_our_reference() {
    let v2 =
        raw(V2_BODY, "evt_01JVG2A7C9E3H5K8M1P4S6U8W0", "1779087732", "v1,6vPYQN3WQlnFjiJXXOMt3/jtTJynXHyaHAoqKcKAi64=");
    assert_eq!(auth(&v2, 1779087740, &[SECRET]), Ok(()));
    let event = parse("sandbox", &v2, "255").unwrap();
    assert_eq!((event.key.as_str(), &event.kind), ("HP3B8D1F6Z", &EventKind::PayoutResult));
    assert_eq!(event.reference, Reference::parse("L0000123455"));
    let Outcome::Succeeded { receipt, amount, .. } = event.outcome else { panic!("expected Succeeded") };
    assert_eq!((receipt.as_deref(), amount), (Some("HP3B8D1F6Z"), tzs("50000")));
}

#[test]
fn v3_a_changed_body_or_an_empty_mac_is_an_invalid_signature_answered_401() {
    let pretty = serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(V1_BODY).unwrap()).unwrap();
    for body in [V1_BODY.replace("11100.00", "91100.00"), format!("{V1_BODY}\n"), pretty] {
        let err = auth(&v1(&body), V1_NOW, &[SECRET]).unwrap_err();
        assert_eq!((err.http_status(), err.error_code()), (401, "invalid_signature"));
    }
    let empty_mac = raw(V1_BODY, V1_ID, V1_TS, "v1,");
    assert_eq!(auth(&empty_mac, V1_NOW, &[SECRET]), Err(CallbackError::Unauthenticated(VerifyError::InvalidSignature)));
}

#[test]
fn v4_exactly_300_seconds_of_skew_pass_and_301_are_refused() {
    assert_eq!(auth(&v1(V1_BODY), 1779700743, &[SECRET]), Ok(()));
    for now in [1779700744, 1779700142] {
        let err = auth(&v1(V1_BODY), now, &[SECRET]).unwrap_err();
        assert_eq!((err.http_status(), err.error_code()), (401, "timestamp_out_of_tolerance"));
    }
}

#[test]
fn v5_redeliveries_authenticate_and_parse_to_the_same_dedupe_key() {
    let retry = raw(V1_BODY, V1_ID, "1779700508", "v1,md/MNUaRscG3oxUVAPXMejsvMQYn2ERqqsIW/Ilavz4=");
    assert_eq!(auth(&retry, 1779700510, &[SECRET]), Ok(()));
    let other_id =
        raw(V1_BODY, "evt_01JW3F9B2D4F6H8K0M2P4R6T8V", "1779700563", "v1,g9DGERswWLlOHS6dczN1gV1Fzv9snp26tBlsok+my6E=");
    assert_eq!(auth(&other_id, 1779700565, &[SECRET]), Ok(()));
    for delivery in [&retry, &other_id] {
        assert_eq!(parse("sandbox", delivery, "255").unwrap().key, "HP7Q4K2M9X");
    }
}

#[test]
fn v6_any_entry_matching_an_active_secret_passes_and_a_retired_one_alone_does_not() {
    let retired_mac = "v1,m+BeSrha4n5Y2SSBLgdPVcejgy4xUfatgrydJ9YyRl4=";
    let both = raw(V1_BODY, V1_ID, V1_TS, &format!("{retired_mac} {V1_SIG}"));
    assert_eq!(auth(&both, V1_NOW, &[SECRET]), Ok(()));
    let retired_only = raw(V1_BODY, V1_ID, V1_TS, retired_mac);
    assert_eq!(auth(&retired_only, V1_NOW, &[SECRET]).unwrap_err().error_code(), "invalid_signature");
    assert_eq!(auth(&retired_only, V1_NOW, &[SECRET, RETIRED]), Ok(()));
}

#[test]
fn missing_headers_are_answered_401_missing_headers() {
    let mut unsigned = v1(V1_BODY);
    unsigned.headers.remove("webhook-signature");
    let err = auth(&unsigned, V1_NOW, &[SECRET]).unwrap_err();
    assert_eq!((err.http_status(), err.error_code()), (401, "missing_headers"));
}

#[test]
fn a_body_over_64_kib_is_refused_413_before_the_signature_is_looked_at() {
    let padded = format!("{}{}", V1_BODY, " ".repeat(MAX_BODY_BYTES + 1 - V1_BODY.len()));
    assert_eq!(auth(&v1(&padded), V1_NOW, &[SECRET]), Err(CallbackError::TooLarge));
    assert_eq!(parsed(&padded), Err(CallbackError::TooLarge));
    assert_eq!(CallbackError::TooLarge.http_status(), 413);
    // Exactly 64 KiB is still read (and here fails only on the signature).
    let limit = format!("{}{}", V1_BODY, " ".repeat(MAX_BODY_BYTES - V1_BODY.len()));
    assert_eq!(auth(&v1(&limit), V1_NOW, &[SECRET]).unwrap_err().error_code(), "invalid_signature");
}

#[test]
fn the_collection_completed_example_is_keyed_by_receipt_and_names_our_collection() {
    let event = parsed(COLLECTION_COMPLETED).unwrap();
    assert_eq!((event.key.as_str(), &event.kind), ("HP9T2W5Y8B", &EventKind::CollectionResult));
    assert_eq!(event.reference, Reference::parse("C0000000174"));
    assert_eq!(event.account.as_deref(), Some("L0000123455"));
    assert!(matches!(event.outcome, Outcome::Succeeded { .. }));
}

#[test]
fn the_payout_failed_example_is_keyed_by_reference_and_carries_the_failure_code() {
    let event = parsed(PAYOUT_FAILED).unwrap();
    assert_eq!(event.key, "failed:L0000123471");
    assert_eq!(event.reference, Reference::parse("L0000123471"));
    assert_eq!(event.receipt, None);
    assert_eq!(
        event.outcome,
        Outcome::Failed {
            code: "recipient_invalid".into(),
            message: Some("MSISDN not registered for HaloPesa".into())
        }
    );
}

#[test]
fn an_unknown_type_is_kept_under_its_webhook_id_as_pending() {
    let body = r#"{"type":"payout.reversed","timestamp":"2026-05-25T10:00:00Z","data":{"anything":[1,2.5]}}"#;
    let event = parsed(body).unwrap();
    assert_eq!(event.key, format!("other:{V1_ID}"));
    assert_eq!(event.kind, EventKind::Other("payout.reversed".into()));
    assert_eq!(event.outcome, Outcome::Pending);
}

#[test]
fn a_completed_event_without_a_receipt_is_an_invalid_payload_answered_400() {
    let why = invalid(&V1_BODY.replace(r#""receipt":"HP7Q4K2M9X""#, r#""receipt":null"#));
    assert!(why.contains("receipt"), "{why}");
    let err = parsed(&V1_BODY.replace(r#""receipt":"HP7Q4K2M9X""#, r#""receipt":null"#)).unwrap_err();
    assert_eq!((err.http_status(), err.error_code()), (400, "invalid_payload"));
}

#[test]
fn amounts_in_any_other_spelling_are_invalid_payloads() {
    for bad in [r#""1e3""#, "11100", "11100.00", r#""011.00""#, r#""1.234""#, r#""-5.00""#, "null"] {
        let body = V1_BODY.replace(r#""11100.00""#, bad);
        let why = invalid(&body);
        assert!(why.contains("amount"), "{bad}: {why}");
    }
}

#[test]
fn a_type_that_contradicts_its_data_is_an_invalid_payload() {
    invalid(&V2_BODY.replace("payout.completed", "payout.failed"));
    invalid(&COLLECTION_COMPLETED.replace("collection.completed", "payment.received"));
    invalid(&PAYOUT_FAILED.replace(r#""reference":"L0000123471""#, r#""reference":null"#));
    invalid("not json");
    invalid(r#"{"type":"payment.received","timestamp":"yesterday","data":{}}"#);
}

#[test]
fn an_unusable_msisdn_is_dropped_but_the_payment_is_kept() {
    let event = parsed(&V1_BODY.replace("255712345678", "2557*****678")).unwrap();
    assert_eq!((event.msisdn, event.key.as_str()), (None, "HP7Q4K2M9X"));
}

#[test]
fn a_reference_that_is_not_ours_is_kept_in_the_key_but_not_as_a_reference() {
    let event = parsed(&PAYOUT_FAILED.replace("L0000123471", "ext-77")).unwrap();
    assert_eq!((event.key.as_str(), event.reference), ("failed:ext-77", None));
}

#[test]
fn the_ack_is_fixed_and_error_bodies_have_the_contract_shape() {
    assert_eq!(ACK_BODY, br#"{"received":true}"#);
    assert_eq!(error_body("invalid_payload", "bad \"x\""), br#"{"error":"invalid_payload","message":"bad \"x\""}"#);
    let body: serde_json::Value = serde_json::from_slice(&CallbackError::TooLarge.body()).unwrap();
    assert_eq!(body["error"], "payload_too_large");
}

#[test]
fn a_callback_signed_by_the_sandbox_with_our_dto_verifies_and_parses() {
    let envelope: super::super::wire::CallbackEnvelope = serde_json::from_str(V1_BODY).unwrap();
    let body = serde_json::to_string(&envelope).unwrap();
    assert_eq!(body, V1_BODY, "the DTO must reproduce the wire bytes");
    let signature = sign(&secrets(&[SECRET])[0], V1_ID, 1779700443, body.as_bytes());
    assert_eq!(signature, V1_SIG);
}
