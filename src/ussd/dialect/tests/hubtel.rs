use super::*;
use crate::ussd::dialect::DialectError;
use crate::ussd::model::EndReason;

fn body(extra: &str) -> String {
    format!(
        r#"{{"ServiceCode":"713*20","Operator":"MTN","ClientState":"","Mobile":"233246912184","SessionId":"8d440a43a98b4614b9df22b79c8190b8",{extra}}}"#
    )
}

fn hcfg() -> DialectCfg {
    DialectCfg { country_code: "233".into(), ..cfg() }
}

fn inbound(extra: &str) -> Inbound {
    Dialect::Hubtel.parse(body(extra).as_bytes(), Some("application/json; charset=utf-8"), &hcfg()).unwrap()
}

fn derive(extra: &str, memo: Option<&HopMemo>) -> Derived {
    Dialect::Hubtel.derive(&inbound(extra), memo, &hcfg())
}

fn seq(hop: u32, sequence: u64) -> HopMemo {
    memo(hop, Fingerprint::Hubtel { sequence: Some(sequence) })
}

fn json(out: (&'static str, Vec<u8>)) -> serde_json::Value {
    assert_eq!(out.0, "application/json");
    serde_json::from_slice(&out.1).unwrap()
}

#[test]
fn h1_initiation_with_the_base_code_begins_with_an_empty_input() {
    let (req, fp) =
        fresh(derive(r#""Sequence":"1","Type":"initiation","Message":"*713*20#""#, None), UssdEvent::Begin, "", 1);
    assert_eq!((req.msisdn.as_str(), req.network.as_deref()), ("233246912184", Some("mtn")));
    assert_eq!(fp, Fingerprint::Hubtel { sequence: Some(1) });
}

#[test]
fn h2_initiation_with_a_deep_dial_begins_with_the_suffix() {
    fresh(derive(r#""Sequence":1,"Type":"Initiation","Message":"*713*20*1*2#""#, None), UssdEvent::Begin, "1*2", 1);
}

#[test]
fn h3_a_response_with_a_numeric_sequence_is_a_fresh_turn() {
    let (_, fp) =
        fresh(derive(r#""Sequence":2,"Type":"Response","Message":"1""#, Some(&seq(1, 1))), UssdEvent::Continue, "1", 2);
    assert_eq!(fp, Fingerprint::Hubtel { sequence: Some(2) });
}

#[test]
fn h4_a_repeated_sequence_is_a_duplicate() {
    assert_eq!(derive(r#""Sequence":"2","Type":"Response","Message":"1""#, Some(&seq(2, 2))), Derived::Duplicate);
}

#[test]
fn h5_a_lowercase_type_and_a_padded_message_are_accepted() {
    fresh(
        derive(r#""Sequence":3,"Type":"response","Message":" 500 ""#, Some(&seq(2, 2))),
        UssdEvent::Continue,
        "500",
        3,
    );
}

#[test]
fn h6_a_timeout_is_a_notice_acknowledged_with_release() {
    let i = inbound(r#""Sequence":3,"Type":"Timeout","Message":"""#);
    notice(Dialect::Hubtel.derive(&i, Some(&seq(2, 2)), &hcfg()), UssdEvent::Timeout, 2);
    assert_eq!(Dialect::Hubtel.ack(&i, 2).1, br#"{"Type":"Release","Message":""}"#);
}

#[test]
fn h7_a_release_aborts_the_session_and_is_acknowledged() {
    let i = inbound(r#""Sequence":3,"Type":"Release","Message":"""#);
    notice(Dialect::Hubtel.derive(&i, Some(&seq(2, 2)), &hcfg()), UssdEvent::Abort(EndReason::Released), 2);
    assert_eq!(json(Dialect::Hubtel.ack(&i, 2)), serde_json::json!({"Type":"Release","Message":""}));
}

#[test]
fn h8_a_response_for_an_unknown_session_is_expired() {
    assert_eq!(derive(r#""Type":"Response","Message":"2""#, None), Derived::Expired);
}

#[test]
fn h9_a_non_ussd_platform_is_unsupported() {
    // With the vectors' shared `Operator` `MTN` the SDK would call it USSD (see below): H9 as the web
    // mall sends it, naming itself in `Operator`.
    let web = r#"{"Sequence":1,"Type":"Initiation","Message":"","ServiceCode":"n383he9jioe923232347423","Operator":"Hubtel-Mall","Platform":"Web","Mobile":"233246912184","SessionId":"8d440a43a98b4614b9df22b79c8190b8"}"#;
    let i = Dialect::Hubtel.parse(web.as_bytes(), JSON, &hcfg()).unwrap();
    assert_eq!(Dialect::Hubtel.derive(&i, None, &hcfg()), Derived::Unsupported);
    assert_eq!(derive(r#""Type":"AddToCart","Message":"""#, Some(&seq(1, 1))), Derived::Unsupported);
}

#[test]
fn the_spec_replies_carry_the_hop_as_client_state_and_the_rich_channel_fields() {
    let i = inbound(r#""Sequence":3,"Type":"Response","Message":"500""#);
    let end = "Request received. You will get an SMS.";
    assert_eq!(
        json(Dialect::Hubtel.render(&i, 3, &UssdReply::end(end))),
        serde_json::json!({"Type":"Release","Message":end,"ClientState":"3","Label":end,"DataType":"display","FieldType":"text"})
    );
    let first = "Welcome\n1. Loan\n2. Balance";
    assert_eq!(
        Dialect::Hubtel.render(&i, 1, &UssdReply::con(first)).1,
        br#"{"Type":"Response","Message":"Welcome\n1. Loan\n2. Balance","ClientState":"1","Label":"Welcome\n1. Loan\n2. Balance","DataType":"input","FieldType":"text"}"#,
        "the SDK's field order, the documented first-hop screen"
    );
}

#[test]
fn the_channel_is_ussd_when_the_platform_or_the_operator_says_so_as_in_hubtels_sdk() {
    let begin = |fields: &str| {
        let raw = format!(
            r#"{{"Type":"Initiation","Message":"*713*20#","ServiceCode":"713*20","Mobile":"233246912184","SessionId":"s1","Sequence":1{fields}}}"#
        );
        let i = Dialect::Hubtel.parse(raw.as_bytes(), JSON, &hcfg()).unwrap();
        !matches!(Dialect::Hubtel.derive(&i, None, &hcfg()), Derived::Unsupported)
    };
    for ussd in [
        r#","Platform":"USSD","Operator":"mtn""#,
        r#","Platform":"ussd""#,
        r#","Operator":"MTN-GH""#,
        r#","Platform":"Web","Operator":"vodafone""#,
        r#","Operator":"airteltigo""#,
        r#","Operator":"telecel""#,
        "",
    ] {
        assert!(begin(ussd), "served as USSD: {ussd}");
    }
    for app in [
        r#","Operator":"Hubtel-Android""#,
        r#","Operator":"Hubtel IOS""#,
        r#","Platform":"Android","Operator":"Android POS""#,
        r#","Platform":"Web","Operator":"Hubtel-Mall""#,
        r#","Platform":"Web""#,
    ] {
        assert!(!begin(app), "another channel: {app}");
    }
}

#[test]
fn camel_case_field_names_are_accepted() {
    let raw = r#"{"type":"Initiation","message":"*713*20#","serviceCode":"713*20","mobile":"0246912184","sessionId":"abc","sequence":1}"#;
    let i = Dialect::Hubtel.parse(raw.as_bytes(), JSON, &hcfg()).unwrap();
    assert_eq!(i.msisdn.as_str(), "233246912184");
    fresh(Dialect::Hubtel.derive(&i, None, &hcfg()), UssdEvent::Begin, "", 1);
}

#[test]
fn a_missing_sequence_disables_the_duplicate_check() {
    fresh(derive(r#""Type":"Response","Message":"1""#, Some(&seq(2, 2))), UssdEvent::Continue, "1", 3);
}

#[test]
fn an_unmatched_dialled_string_begins_with_an_empty_input() {
    fresh(derive(r#""Type":"Initiation","Message":"*999*1#""#, None), UssdEvent::Begin, "", 1);
}

#[test]
fn without_accept_camel_case_a_camel_case_body_lacks_its_mandatory_fields() {
    let strict = DialectCfg { hubtel_accept_camel_case: false, ..hcfg() };
    let raw = r#"{"type":"Initiation","message":"*713*20#","serviceCode":"713*20","mobile":"0246912184","sessionId":"abc","sequence":1}"#;
    let refused = Dialect::Hubtel.parse(raw.as_bytes(), JSON, &strict).unwrap_err();
    assert_eq!((refused.status(), refused), (400, DialectError::MissingField("Type")));
}

#[test]
fn without_accept_camel_case_pascal_case_is_served_and_camel_case_extras_are_ignored() {
    let strict = DialectCfg { hubtel_accept_camel_case: false, ..hcfg() };
    // With the aliases on, `Type` and `type` together are one field twice; here `type` is just unknown.
    let raw = body(r#""Sequence":1,"Type":"Initiation","type":"Response","Message":"*713*20*1#","sessionId":"x""#);
    let i = Dialect::Hubtel.parse(raw.as_bytes(), JSON, &strict).unwrap();
    assert_eq!(i.session_id.as_str(), "8d440a43a98b4614b9df22b79c8190b8");
    fresh(Dialect::Hubtel.derive(&i, None, &strict), UssdEvent::Begin, "1", 1);
    assert!(Dialect::Hubtel.parse(raw.as_bytes(), JSON, &hcfg()).is_err(), "aliases on: a duplicate field");
}
