//! USSD callbacks, dialect-neutral. Each aggregator (Africa's Talking, Beem, Hubtel) is one file under
//! [`dialect`] with a parser, a deriver and a renderer around the neutral [`model`]; adding an aggregator
//! adds a file and an enum arm (docs/ussd.md).
//!
//! Everything here is pure: no IO, no sessions, no logging. The handler feeds in the raw body and the
//! stored [`HopMemo`], and gets back a [`Derived`] outcome and the rendered bytes. Raw inputs (which can
//! hold PINs) are never part of an error message or a `Debug` output.

pub mod dialect;
pub mod gsm;
pub mod guard;
pub mod model;

pub use dialect::{
    parse_africastalking_event, Derived, Dialect, DialectCfg, DialectError, Echo, Fingerprint, HopMemo, Inbound,
    Redacted, Signal,
};
pub use gsm::{count, fits, transliterate, Encoding, ScreenBudget, ScreenCount};
pub use model::{
    AtEndNotice, EndReason, ServiceCode, UssdEvent, UssdReply, UssdRequest, UssdSessionId, UssdSessionIdError,
};
