//! docs/ussd.md test vectors, one test each, plus malformed bodies.

mod africastalking;
mod beem;
mod hubtel;
mod malformed;
mod render;

use super::{Derived, Dialect, DialectCfg, Fingerprint, HopMemo, Inbound};
use crate::ussd::model::{UssdEvent, UssdReply, UssdRequest};

pub(super) const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
pub(super) const JSON: Option<&str> = Some("application/json");

pub(super) fn cfg() -> DialectCfg {
    DialectCfg::new("255", b"test-path-key".to_vec())
}

pub(super) fn memo(hop: u32, fingerprint: Fingerprint) -> HopMemo {
    HopMemo { hop, fingerprint, reply: UssdReply::con("screen"), last_sent_id: hop, ended: false }
}

pub(super) fn parse(d: Dialect, body: &str, ct: Option<&str>) -> Inbound {
    d.parse(body.as_bytes(), ct, &cfg()).expect("the body parses")
}

#[track_caller]
pub(super) fn fresh(derived: Derived, event: UssdEvent, input: &str, hop: u32) -> (UssdRequest, Fingerprint) {
    let Derived::Fresh { request, fingerprint } = derived else { panic!("expected a fresh turn, got {derived:?}") };
    assert_eq!((request.event, request.input.as_str(), request.hop), (event, input, hop));
    (request, fingerprint)
}

#[track_caller]
pub(super) fn notice(derived: Derived, event: UssdEvent, hop: u32) -> UssdRequest {
    let Derived::Notice(request) = derived else { panic!("expected a notice, got {derived:?}") };
    assert_eq!((request.event, request.input.as_str(), request.hop), (event, "", hop));
    request
}
