//! Property tests: whatever bytes an aggregator (or anyone) sends, every dialect parser and the form
//! decoder answer with a value or an error, never a panic. Random bytes, and inputs shaped like the
//! real thing (form pairs, JSON-ish text) so the deeper paths are reached too.

use proptest::prelude::*;

use super::{cfg, FORM, JSON};
use crate::ussd::dialect::form::Form;
use crate::ussd::dialect::Dialect;

const DIALECTS: [Dialect; 3] = [Dialect::AfricasTalking, Dialect::Beem, Dialect::Hubtel];

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(FORM.map(str::to_owned)),
        Just(JSON.map(str::to_owned)),
        Just(None),
        Just(Some("application/json; charset=utf-8".to_owned())),
        ".{0,40}".prop_map(Some),
    ]
}

/// Bodies that look like a form or JSON, built from the characters and keys the dialects read.
fn shaped_body() -> impl Strategy<Value = Vec<u8>> {
    let keys = prop_oneof![
        Just("sessionId"),
        Just("phoneNumber"),
        Just("serviceCode"),
        Just("text"),
        Just("networkCode"),
        Just("msisdn"),
        Just("session_id"),
        Just("request_id"),
        Just("command"),
        Just("payload"),
        Just("Type"),
        Just("Mobile"),
        Just("SessionId"),
        Just("Message"),
        Just("Operator"),
    ];
    let form = prop::collection::vec((keys.clone(), "[0-9a-zA-Z*#%+&=.\\-]{0,24}"), 0..10)
        .prop_map(|pairs| pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&").into_bytes());
    let json = prop::collection::vec((keys, "[0-9a-zA-Z*#\"{}\\[\\],:.\\-e ]{0,24}"), 0..10).prop_map(|pairs| {
        let fields: Vec<String> = pairs.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", fields.join(",")).into_bytes()
    });
    prop_oneof![form, json, prop::collection::vec(any::<u8>(), 0..512)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_dialect_parser_panics_on_any_body(body in shaped_body(), ct in content_type()) {
        for dialect in DIALECTS {
            let _ = dialect.parse(&body, ct.as_deref(), &cfg());
        }
    }

    #[test]
    fn the_form_decoder_never_panics(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Form::parse(&body);
    }

    #[test]
    fn a_form_of_printable_pairs_decodes_or_is_refused_cleanly(body in "[ -~]{0,300}") {
        let _ = Form::parse(body.as_bytes());
    }
}
