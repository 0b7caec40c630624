//! Africa's Talking (docs/ussd.md): form-encoded hops whose `text` is the whole `*`-joined input path, plain-text
//! `CON `/`END ` replies, and end-of-session notifications on `/events`.

use super::form::Form;
use super::state::{request, Derived, DialectCfg, Fingerprint, HopMemo};
use super::{check_content_type, network, Dialect, DialectError, Echo, Inbound, Redacted, Signal};
use crate::domain::Msisdn;
use crate::ussd::model::{AtEndNotice, EndReason, ServiceCode, UssdEvent, UssdReply, UssdSessionId};

pub(crate) const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
const FORM: &str = "application/x-www-form-urlencoded";

/// A hop on `POST /ussd/africastalking`.
pub(crate) fn parse(body: &[u8], content_type: Option<&str>, cfg: &DialectCfg) -> Result<Inbound, DialectError> {
    let (mut form, mut inbound) = envelope(body, content_type, cfg)?;
    inbound.signal = Signal::AtPath(Redacted(form.take("text").unwrap_or_default()));
    Ok(inbound)
}

/// An end-of-session notification on `POST /ussd/africastalking/events`. The `input` path is
/// dropped unread (R12).
pub fn parse_event(body: &[u8], content_type: Option<&str>, cfg: &DialectCfg) -> Result<Inbound, DialectError> {
    if body.len() > cfg.max_body_bytes {
        return Err(DialectError::TooLarge(body.len()));
    }
    let (mut form, mut inbound) = envelope(body, content_type, cfg)?;
    let status = form.require("status")?;
    let reason = match status.trim_ascii() {
        s if s.eq_ignore_ascii_case("Success") => Some(EndReason::Completed),
        s if s.eq_ignore_ascii_case("Incomplete") => Some(EndReason::Incomplete),
        s if s.eq_ignore_ascii_case("Failed") => Some(EndReason::Failed),
        _ => None,
    };
    let opt = |form: &mut Form, key| form.take(key).filter(|v| !v.is_empty());
    inbound.signal = Signal::AtEnd(AtEndNotice {
        reason: reason.unwrap_or(EndReason::Incomplete),
        status_known: reason.is_some(),
        date: opt(&mut form, "date"),
        cost: opt(&mut form, "cost"),
        duration_ms: form.get("durationInMillis").and_then(|v| v.trim_ascii().parse().ok()),
        hops_count: form.get("hopsCount").and_then(|v| v.trim_ascii().parse().ok()),
        hops_metadata: opt(&mut form, "hopsMetadata"),
        error_message: opt(&mut form, "errorMessage"),
    });
    Ok(inbound)
}

fn envelope(body: &[u8], content_type: Option<&str>, cfg: &DialectCfg) -> Result<(Form, Inbound), DialectError> {
    check_content_type(content_type, FORM)?;
    let mut form = Form::parse(body)?;
    let session_id = UssdSessionId::parse(form.require("sessionId")?.as_str())?;
    let msisdn = Msisdn::parse(&form.require("phoneNumber")?, &cfg.country_code)?;
    let service_code = ServiceCode::parse(&form.require("serviceCode")?);
    let inbound = Inbound {
        dialect: Dialect::AfricasTalking,
        session_id,
        msisdn,
        service_code,
        network: network(form.take("networkCode"), false),
        signal: Signal::Unsupported,
        echo: Echo::default(),
    };
    Ok((form, inbound))
}

/// Prefix subtraction against the stored path; never `split('*').last()`.
pub(crate) fn derive(inbound: &Inbound, memo: Option<&HopMemo>, cfg: &DialectCfg) -> Derived {
    let text = match &inbound.signal {
        Signal::AtPath(Redacted(t)) => t.as_str(),
        Signal::AtEnd(notice) => {
            let hop = memo.map_or(0, |m| m.hop);
            return Derived::Notice(request(inbound, UssdEvent::Abort(notice.reason), "", hop));
        }
        _ => return Derived::Unsupported,
    };
    let fingerprint = Fingerprint::AtPath { len: text.len(), mac: cfg.mac(text.as_bytes()) };
    let Some(memo) = memo else {
        let input = match (text.is_empty(), &inbound.service_code) {
            (true, Some(code)) => {
                cfg.base_codes.iter().find_map(|base| base.suffix_of(code.as_str())).unwrap_or_default().to_owned()
            }
            _ => text.to_owned(),
        };
        return Derived::Fresh { request: request(inbound, UssdEvent::Begin, &input, 1), fingerprint };
    };
    let Fingerprint::AtPath { len, mac } = &memo.fingerprint else {
        return Derived::Conflict;
    };
    let len = *len;
    let bytes = text.as_bytes();
    if bytes.len() == len && cfg.mac_matches(bytes, mac) {
        return Derived::Duplicate;
    }
    let extends = bytes.len() > len
        && (len == 0 || bytes[len] == b'*')
        && text.is_char_boundary(len)
        && cfg.mac_matches(&bytes[..len], mac);
    if !extends {
        return Derived::Conflict;
    }
    if memo.ended {
        return Derived::Ended;
    }
    let input = if len == 0 { text } else { &text[len + 1..] };
    Derived::Fresh { request: request(inbound, UssdEvent::Continue, input, memo.hop + 1), fingerprint }
}

/// The optional reply header naming the shown screen (docs/ussd.md, `africastalking.hop_metadata`); AT echoes it
/// on the next hop and joins the values with `|` in the end-of-session `hopsMetadata`.
pub const HOP_METADATA_HEADER: &str = "at-ussd-hop-metadata";

/// `node` as the value of [`HOP_METADATA_HEADER`], or `None` when it would break AT's rules (at most 99
/// characters, no `|`) or a header's (visible ASCII, no spaces): the header is then left out.
pub fn hop_metadata(node: &str) -> Option<&str> {
    let fits = (1..=99).contains(&node.len()) && node.bytes().all(|b| b.is_ascii_graphic() && b != b'|');
    fits.then_some(node)
}

/// `CON ` / `END ` + text, plain text, nothing before the prefix.
pub(crate) fn render(reply: &UssdReply) -> (&'static str, Vec<u8>) {
    let prefix = if reply.end { "END " } else { "CON " };
    (TEXT_PLAIN, [prefix.as_bytes(), reply.text.as_bytes()].concat())
}
