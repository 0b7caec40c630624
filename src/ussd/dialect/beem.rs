//! Beem Africa (docs/ussd.md): JSON `initiate` / `continue` / `terminate` with the latest input in
//! `payload.response`; replies echo the envelope and carry `payload.request_id` = the screen's hop.
//!
//! Whether Beem echoes that `request_id` back on `continue` is unconfirmed, and a published integration
//! sends `0` on every `continue`. So each session learns it: a `continue` carrying the id of our latest
//! screen shows the echo, and only in a session that has shown it is a repeated `(request_id, input)` a
//! duplicate (a retry names the screen it answered, one behind our latest). Elsewhere a subscriber who
//! answers `1` on two screens in a row would have the second answer swallowed; there every `continue`
//! is a fresh turn, and the effect keys (R2) keep a retried confirmation from moving money twice.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient;
use super::state::{request, Derived, DialectCfg, Fingerprint, HopMemo};
use super::{check_content_type, network, Dialect, DialectError, Echo, Inbound, Redacted, Signal};
use crate::domain::Msisdn;
use crate::ussd::model::{EndReason, UssdEvent, UssdReply, UssdSessionId};

const JSON: &str = "application/json";

#[derive(Deserialize)]
struct Wire {
    #[serde(default, deserialize_with = "lenient::text")]
    command: Option<String>,
    #[serde(default, deserialize_with = "lenient::raw")]
    msisdn: Option<Value>,
    #[serde(default, deserialize_with = "lenient::raw")]
    session_id: Option<Value>,
    #[serde(default, deserialize_with = "lenient::raw")]
    operator: Option<Value>,
    #[serde(default)]
    payload: Option<Payload>,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(default, deserialize_with = "lenient::hint")]
    request_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::text")]
    response: Option<String>,
}

/// `msisdn`, `operator` and `session_id` exactly as received.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct BeemEcho {
    msisdn: Value,
    operator: Option<Value>,
    session_id: Value,
}

/// A string or number as text, for mandatory echoed fields.
fn as_text(v: &Option<Value>, field: &'static str) -> Result<String, DialectError> {
    let s = match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    lenient::non_empty(Some(s), field)
}

pub(crate) fn parse(body: &[u8], content_type: Option<&str>, cfg: &DialectCfg) -> Result<Inbound, DialectError> {
    check_content_type(content_type, JSON)?;
    let w: Wire = lenient::from_slice(body)?;
    let command = lenient::non_empty(w.command, "command")?;
    let session_id = UssdSessionId::parse(as_text(&w.session_id, "session_id")?.trim_ascii())?;
    let msisdn = Msisdn::parse(&as_text(&w.msisdn, "msisdn")?, &cfg.country_code)?;
    let operator = match &w.operator {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let signal = match command.trim_ascii().to_ascii_lowercase().as_str() {
        // The `0` response of `initiate` is not an input (and not a Back key).
        "initiate" => Signal::Begin { input: Redacted::default(), hint: w.payload.and_then(|p| p.request_id) },
        "continue" => {
            let (hint, input) = w.payload.map_or((None, None), |p| (p.request_id, p.response));
            Signal::Continue { input: Redacted(input.unwrap_or_default().trim_ascii().to_owned()), hint }
        }
        "terminate" => Signal::Released,
        _ => return Err(DialectError::UnknownValue("command")),
    };
    let echo = BeemEcho {
        msisdn: w.msisdn.unwrap_or(Value::Null),
        operator: w.operator,
        session_id: w.session_id.unwrap_or(Value::Null),
    };
    Ok(Inbound {
        dialect: Dialect::Beem,
        session_id,
        msisdn,
        service_code: None,
        network: network(operator, true),
        signal,
        echo: Echo { beem: Some(echo) },
    })
}

pub(crate) fn derive(inbound: &Inbound, memo: Option<&HopMemo>, cfg: &DialectCfg) -> Derived {
    match (&inbound.signal, memo) {
        (Signal::Begin { .. }, None) => Derived::Fresh {
            request: request(inbound, UssdEvent::Begin, "", 1),
            fingerprint: Fingerprint::Beem { request_id: Some(0), input_mac: cfg.mac(b""), echoes: false },
        },
        (Signal::Begin { .. }, Some(_)) => Derived::Duplicate,
        (Signal::Continue { .. }, None) => Derived::Expired,
        (Signal::Continue { input: Redacted(input), hint }, Some(memo)) => {
            let input_mac = cfg.mac(input.as_bytes());
            // Answering our latest screen: new by definition, and proof that this Beem echoes our ids.
            let latest = hint.is_some_and(|id| id == u64::from(memo.last_sent_id));
            let (repeated, echoed) = match &memo.fingerprint {
                Fingerprint::Beem { request_id, input_mac: stored, echoes } => {
                    (request_id == hint && *stored == input_mac, *echoes)
                }
                _ => (false, false),
            };
            let fingerprint = Fingerprint::Beem { request_id: *hint, input_mac, echoes: echoed || latest };
            if cfg.beem_request_id_echo && echoed && repeated && !latest {
                Derived::Duplicate
            } else if memo.ended {
                Derived::Ended
            } else {
                Derived::Fresh { request: request(inbound, UssdEvent::Continue, input, memo.hop + 1), fingerprint }
            }
        }
        (Signal::Released, memo) => {
            Derived::Notice(request(inbound, UssdEvent::Abort(EndReason::Released), "", memo.map_or(0, |m| m.hop)))
        }
        _ => Derived::Unsupported,
    }
}

#[derive(Serialize)]
struct Reply<'a> {
    msisdn: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    operator: Option<&'a Value>,
    session_id: &'a Value,
    command: &'static str,
    payload: ReplyPayload<'a>,
}

#[derive(Serialize)]
struct ReplyPayload<'a> {
    request_id: u32,
    request: &'a str,
}

fn body(inbound: &Inbound, command: &'static str, hop: u32, text: &str) -> (&'static str, Vec<u8>) {
    const NULL: &Value = &Value::Null;
    let echo = inbound.echo.beem.as_ref();
    let reply = Reply {
        msisdn: echo.map_or(NULL, |e| &e.msisdn),
        operator: echo.and_then(|e| e.operator.as_ref()),
        session_id: echo.map_or(NULL, |e| &e.session_id),
        command,
        payload: ReplyPayload { request_id: hop, request: text },
    };
    (JSON, serde_json::to_vec(&reply).expect("a reply of strings and integers serialises"))
}

pub(crate) fn render(inbound: &Inbound, hop: u32, reply: &UssdReply) -> (&'static str, Vec<u8>) {
    body(inbound, if reply.end { "terminate" } else { "continue" }, hop, &reply.text)
}

/// The echo envelope with `command` `terminate` and an empty screen (expected body unconfirmed).
pub(crate) fn ack(inbound: &Inbound, hop: u32) -> (&'static str, Vec<u8>) {
    body(inbound, "terminate", hop, "")
}
