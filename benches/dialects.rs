//! The pure USSD dialect layer, one hop at a time: `parse` → `derive` against the stored memo → `render`,
//! plus the GSM 03.38 screen counting. Bodies follow docs/ussd.md.
//!
//! `cargo bench --bench dialects`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use mkopo::ussd::{count, transliterate, Derived, Dialect, DialectCfg, Encoding, Fingerprint, HopMemo, UssdReply};

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
const JSON: Option<&str> = Some("application/json");

/// A typical 4-line continue screen, 120 characters.
const SCREEN: &str =
    "Mkopo: TZS 50,000 kwa siku 30, ada TZS 2,500\n1. Thibitisha ombi la mkopo\n2. Badilisha kiasi\n3. Masharti na riba 5%/mwezi";

fn at_body(text: &str) -> String {
    format!(
        "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&phoneNumber=%2B255712345678&networkCode=64009\
         &serviceCode=*384*1234%23&text={text}"
    )
}

fn beem_body(command: &str, request_id: u32, response: &str) -> String {
    format!(
        r#"{{"command":"{command}","msisdn":"255712345678","session_id":"4574","operator":"vodacom","payload":{{"request_id":{request_id},"response":{response}}}}}"#
    )
}

fn hubtel_body(sequence: u32, kind: &str, message: &str, client_state: &str) -> String {
    format!(
        r#"{{"Sequence":{sequence},"Type":"{kind}","Message":"{message}","ServiceCode":"713*20","Operator":"mtn","ClientState":"{client_state}","Mobile":"233246912184","SessionId":"8d440a43a98b4614b9df22b79c8190b8"}}"#
    )
}

/// Walks `bodies` from a fresh session the way the gateway does, storing each fresh hop's fingerprint, and
/// returns the memo left after the last one. The AT and Beem fingerprints hold a keyed MAC that only the
/// crate can compute (`DialectCfg::mac` is `pub(crate)`), so the memo is built from `derive`'s own output.
fn walk(dialect: Dialect, cfg: &DialectCfg, ct: Option<&str>, bodies: &[String]) -> HopMemo {
    let mut memo: Option<HopMemo> = None;
    for (i, body) in bodies.iter().enumerate() {
        let inbound = dialect.parse(body.as_bytes(), ct, cfg).expect("the setup body parses");
        let Derived::Fresh { request, fingerprint } = dialect.derive(&inbound, memo.as_ref(), cfg) else {
            panic!("setup hop {} of {} is not fresh", i + 1, dialect.name());
        };
        memo = Some(HopMemo {
            hop: request.hop,
            fingerprint,
            reply: UssdReply::con("screen"),
            last_sent_id: request.hop,
            ended: false,
        });
    }
    memo.expect("at least one setup hop")
}

/// One full hop: parse, derive against `memo`, render the reply for the derived hop.
fn hop(
    dialect: Dialect,
    cfg: &DialectCfg,
    ct: Option<&str>,
    body: &[u8],
    memo: &HopMemo,
    reply: &UssdReply,
) -> Vec<u8> {
    let inbound = dialect.parse(body, ct, cfg).expect("the body parses");
    let hop = match dialect.derive(&inbound, Some(memo), cfg) {
        Derived::Fresh { request, .. } => request.hop,
        other => panic!("expected a fresh turn, got {other:?}"),
    };
    dialect.render(&inbound, hop, reply).1
}

fn dialects(c: &mut Criterion) {
    let reply = UssdReply::con(SCREEN);
    assert_eq!((SCREEN.chars().count(), SCREEN.lines().count()), (120, 4));

    // Africa's Talking: stored path `1*2` (hop 3), inbound `1*2*5000` → Continue "5000", hop 4.
    let at_cfg = DialectCfg::new("255", b"bench-path-mac-key".to_vec());
    let at_memo = walk(Dialect::AfricasTalking, &at_cfg, FORM, &[at_body(""), at_body("1"), at_body("1*2")]);
    assert_eq!(at_memo.hop, 3);
    assert!(matches!(at_memo.fingerprint, Fingerprint::AtPath { len: 3, .. }));
    let at = at_body("1*2*5000");

    // Beem: hop 2 after `(1, "1")`, our last screen is request_id 2; inbound `{2, "50000"}` → hop 3.
    let beem_cfg = DialectCfg::new("255", b"bench-path-mac-key".to_vec());
    let beem_memo =
        walk(Dialect::Beem, &beem_cfg, JSON, &[beem_body("initiate", 0, "0"), beem_body("continue", 1, r#""1""#)]);
    assert_eq!((beem_memo.hop, beem_memo.last_sent_id), (2, 2));
    let beem = beem_body("continue", 2, r#""50000""#);

    // Hubtel: stored Sequence 2 at hop 2; inbound Sequence 3 `"500"` → hop 3.
    let hubtel_cfg = DialectCfg::new("233", b"bench-path-mac-key".to_vec());
    let hubtel_memo = walk(
        Dialect::Hubtel,
        &hubtel_cfg,
        JSON,
        &[hubtel_body(1, "Initiation", "*713*20#", ""), hubtel_body(2, "Response", "1", "1")],
    );
    assert_eq!(hubtel_memo.fingerprint, Fingerprint::Hubtel { sequence: Some(2) });
    let hubtel = hubtel_body(3, "Response", "500", "2");

    // The measured hops are fresh turns with the expected rendering (checked once, outside the timing).
    assert!(hop(Dialect::AfricasTalking, &at_cfg, FORM, at.as_bytes(), &at_memo, &reply).starts_with(b"CON Mkopo"));
    assert!(String::from_utf8(hop(Dialect::Beem, &beem_cfg, JSON, beem.as_bytes(), &beem_memo, &reply))
        .unwrap()
        .contains(r#""request_id":3"#));
    assert!(String::from_utf8(hop(Dialect::Hubtel, &hubtel_cfg, JSON, hubtel.as_bytes(), &hubtel_memo, &reply))
        .unwrap()
        .contains(r#""ClientState":"3""#));

    let mut g = c.benchmark_group("dialect");
    let cases = [
        ("africastalking", Dialect::AfricasTalking, &at_cfg, FORM, &at, &at_memo),
        ("beem", Dialect::Beem, &beem_cfg, JSON, &beem, &beem_memo),
        ("hubtel", Dialect::Hubtel, &hubtel_cfg, JSON, &hubtel, &hubtel_memo),
    ];
    for (name, dialect, cfg, ct, body, memo) in cases {
        g.bench_function(format!("parse_derive_render/{name}"), |b| {
            b.iter(|| {
                hop(
                    black_box(dialect),
                    black_box(cfg),
                    black_box(ct),
                    black_box(body.as_bytes()),
                    black_box(memo),
                    black_box(&reply),
                )
            })
        });
    }

    // 160 characters, one of them the extension character `€` (2 septets): 161 septets, GSM-7.
    let screen_160 = format!("{}€{}", "Salio lako ni TZS 12,500. ".repeat(6), "a".repeat(3));
    assert_eq!(screen_160.chars().count(), 160);
    let counted = count(&screen_160);
    assert_eq!((counted.encoding, counted.units), (Encoding::Gsm7, 161));
    g.bench_function("gsm/count_160", |b| b.iter(|| count(black_box(&screen_160))));

    // A screen with typographic quotes, dashes, an ellipsis and a no-break space: the allocating path.
    let typographic =
        "Ng’ombe – “Mkopo wa Kilimo”\u{a0}umekubaliwa…\n1. Thibitisha — sasa\n2. Badilisha kiasi\n0. Rudi";
    assert!(matches!(transliterate(typographic), std::borrow::Cow::Owned(_)));
    g.bench_function("gsm/transliterate", |b| b.iter(|| transliterate(black_box(typographic))));

    g.finish();
}

criterion_group!(benches, dialects);
criterion_main!(benches);
