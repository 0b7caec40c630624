//! Hubtel (docs/ussd.md): PascalCase JSON (camelCase aliases accepted unless `accept_camel_case = false`) with
//! `Type` `Initiation` / `Response` / `Release` / `Timeout`; replies
//! `{"Type":"Response"|"Release","Message":…,"ClientState":"<hop>","Label":…,"DataType":…,"FieldType":"text"}`.
//!
//! Hubtel's Programmable Services also reach its app, web and POS channels, which render `Label`,
//! `DataType` and `FieldType` rather than `Message`; Hubtel's .NET SDK fills them on every reply. A
//! `Response` is an `input` screen (the subscriber types the option number or the amount), a `Release`
//! a `display`; `Label` is the whole screen, since no option list (`Data`) is sent alongside.
//!
//! The channel is decided as that SDK's `IsUssd` decides it: `Platform` `USSD`, or an `Operator` that is
//! a mobile network. Other channels are not served (they get `messages.unsupported`).

use serde::{Deserialize, Serialize};

use super::lenient;
use super::state::{deep_dial_suffix, request, Derived, DialectCfg, Fingerprint, HopMemo};
use super::{check_content_type, network, Dialect, DialectError, Echo, Inbound, Redacted, Signal};
use crate::domain::Msisdn;
use crate::ussd::model::{strip_code, EndReason, ServiceCode, UssdEvent, UssdReply, UssdSessionId};

const JSON: &str = "application/json";

/// The body with PascalCase names or their camelCase aliases (`hubtel.accept_camel_case`, the default).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Wire {
    #[serde(default, alias = "type", deserialize_with = "lenient::text")]
    r#type: Option<String>,
    #[serde(default, alias = "message", deserialize_with = "lenient::text")]
    message: Option<String>,
    #[serde(default, alias = "serviceCode", deserialize_with = "lenient::text")]
    service_code: Option<String>,
    #[serde(default, alias = "operator", deserialize_with = "lenient::text")]
    operator: Option<String>,
    #[serde(default, alias = "mobile", deserialize_with = "lenient::text")]
    mobile: Option<String>,
    #[serde(default, alias = "sessionId", deserialize_with = "lenient::text")]
    session_id: Option<String>,
    #[serde(default, alias = "sequence", deserialize_with = "lenient::hint")]
    sequence: Option<u64>,
    #[serde(default, alias = "platform", deserialize_with = "lenient::text")]
    platform: Option<String>,
}

/// The same fields under their PascalCase names only (`accept_camel_case = false`): a camelCase key is an
/// unknown field, ignored, so a camelCase-only body lacks its mandatory fields.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PascalWire {
    #[serde(default, deserialize_with = "lenient::text")]
    r#type: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    message: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    service_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    operator: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    mobile: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    session_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::hint")]
    sequence: Option<u64>,
    #[serde(default, deserialize_with = "lenient::text")]
    platform: Option<String>,
}

impl From<PascalWire> for Wire {
    fn from(w: PascalWire) -> Self {
        let PascalWire { r#type, message, service_code, operator, mobile, session_id, sequence, platform } = w;
        Self { r#type, message, service_code, operator, mobile, session_id, sequence, platform }
    }
}

pub(crate) fn parse(body: &[u8], content_type: Option<&str>, cfg: &DialectCfg) -> Result<Inbound, DialectError> {
    check_content_type(content_type, JSON)?;
    let w: Wire = if cfg.hubtel_accept_camel_case {
        lenient::from_slice(body)?
    } else {
        lenient::from_slice::<PascalWire>(body)?.into()
    };
    let kind = lenient::non_empty(w.r#type, "Type")?.trim_ascii().to_ascii_lowercase();
    let session_id = UssdSessionId::parse(lenient::non_empty(w.session_id, "SessionId")?.trim_ascii())?;
    let msisdn = Msisdn::parse(&lenient::non_empty(w.mobile, "Mobile")?, &cfg.country_code)?;
    let service_code = w.service_code.as_deref().and_then(ServiceCode::parse);
    let message = w.message.unwrap_or_default();
    let ussd = is_ussd(w.platform.as_deref(), w.operator.as_deref());
    let signal = match kind.as_str() {
        _ if !ussd => Signal::Unsupported,
        "initiation" => {
            let dialled = strip_code(&message);
            let suffix = deep_dial_suffix(dialled, service_code.as_ref(), cfg).unwrap_or_default();
            Signal::Begin { input: Redacted(suffix), hint: w.sequence }
        }
        "response" => Signal::Continue { input: Redacted(message.trim_ascii().to_owned()), hint: w.sequence },
        "release" => Signal::Released,
        "timeout" => Signal::Timeout,
        // App-channel types (`AddToCart`, `Query`, `Favorite`) and anything else this gateway does not serve.
        _ => Signal::Unsupported,
    };
    Ok(Inbound {
        dialect: Dialect::Hubtel,
        session_id,
        msisdn,
        service_code,
        network: network(w.operator, true),
        signal,
        echo: Echo::default(),
    })
}

/// The `Operator` values Hubtel's SDK takes for a USSD session (`ProgrammableServiceRequest.IsUssd`), plus
/// Telecel, the name Vodafone Ghana trades under since 2024. App channels send their own names here
/// (`Hubtel-Android`, `Hubtel IOS`, `Android POS`, `IOS HPOS`, `Hubtel-Mall`).
const USSD_OPERATORS: &[&str] = &[
    "glo",
    "glo-gh",
    "mtn",
    "mtn-gh",
    "tigo",
    "tigo-gh",
    "airtel",
    "airtel-gh",
    "vodafone",
    "vodafone-gh",
    "airteltigo",
    "airteltigo-gh",
    "telecel",
    "telecel-gh",
    "safaricom",
    "safaricom-ke",
];

/// A USSD session when `Platform` says so or `Operator` is a mobile network, as the SDK decides. A body
/// naming neither (a hand-written test, a simulator) is taken for USSD unless a `Platform` names another
/// channel: the SDK would refuse it, but nothing in it points at an app.
fn is_ussd(platform: Option<&str>, operator: Option<&str>) -> bool {
    let (platform, operator) = (given(platform), given(operator));
    if platform.is_some_and(|p| p.eq_ignore_ascii_case("ussd")) {
        return true;
    }
    match operator {
        Some(op) => USSD_OPERATORS.iter().any(|network| op.eq_ignore_ascii_case(network)),
        None => platform.is_none(),
    }
}

/// A field that is there and not blank.
fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim_ascii).filter(|v| !v.is_empty())
}

pub(crate) fn derive(inbound: &Inbound, memo: Option<&HopMemo>, _cfg: &DialectCfg) -> Derived {
    let last_hop = memo.map_or(0, |m| m.hop);
    match (&inbound.signal, memo) {
        (Signal::Begin { input: Redacted(input), hint }, None) => Derived::Fresh {
            request: request(inbound, UssdEvent::Begin, input, 1),
            fingerprint: Fingerprint::Hubtel { sequence: *hint },
        },
        (Signal::Begin { .. }, Some(_)) => Derived::Duplicate,
        (Signal::Continue { .. }, None) => Derived::Expired,
        (Signal::Continue { input: Redacted(input), hint }, Some(memo)) => {
            let stored = match memo.fingerprint {
                Fingerprint::Hubtel { sequence } => sequence,
                _ => None,
            };
            if matches!((hint, stored), (Some(seq), Some(max)) if *seq <= max) {
                Derived::Duplicate
            } else if memo.ended {
                Derived::Ended
            } else {
                let fingerprint = Fingerprint::Hubtel { sequence: hint.or(stored) };
                Derived::Fresh { request: request(inbound, UssdEvent::Continue, input, memo.hop + 1), fingerprint }
            }
        }
        (Signal::Released, _) => Derived::Notice(request(inbound, UssdEvent::Abort(EndReason::Released), "", last_hop)),
        (Signal::Timeout, _) => Derived::Notice(request(inbound, UssdEvent::Timeout, "", last_hop)),
        _ => Derived::Unsupported,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Reply<'a> {
    r#type: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_state: Option<String>,
    /// The rich channels' fields; left out of the notification acknowledgement, which shows nothing.
    #[serde(flatten)]
    rich: Option<Rich<'a>>,
}

/// `Label`, `DataType` and `FieldType` as Hubtel's app and web channels read them.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Rich<'a> {
    label: &'a str,
    /// `input` (an answer is expected) or `display` (the session ends on this screen).
    data_type: &'static str,
    /// The kind of input field; every answer to our screens is typed as text (digits included).
    field_type: &'static str,
}

fn body(reply: &Reply<'_>) -> (&'static str, Vec<u8>) {
    (JSON, serde_json::to_vec(reply).expect("a reply of strings serialises"))
}

pub(crate) fn render(hop: u32, reply: &UssdReply) -> (&'static str, Vec<u8>) {
    let (r#type, data_type) = if reply.end { ("Release", "display") } else { ("Response", "input") };
    let rich = Rich { label: &reply.text, data_type, field_type: "text" };
    body(&Reply { r#type, message: &reply.text, client_state: Some(hop.to_string()), rich: Some(rich) })
}

/// `{"Type":"Release","Message":""}` for `Release` and `Timeout` (expected body unconfirmed).
pub(crate) fn ack() -> (&'static str, Vec<u8>) {
    body(&Reply { r#type: "Release", message: "", client_state: None, rich: None })
}
