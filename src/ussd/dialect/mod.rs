//! One file per aggregator, dispatched from [`Dialect`]: parse the wire body into an [`Inbound`], derive
//! the neutral request against the stored [`HopMemo`], render a [`UssdReply`] or an acknowledgement.

mod africastalking;
mod beem;
mod form;
mod hubtel;
mod lenient;
mod state;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::domain::{Msisdn, MsisdnError};
use crate::ussd::model::{ServiceCode, UssdReply, UssdSessionId, UssdSessionIdError};

pub use africastalking::{
    hop_metadata as at_hop_metadata, parse_event as parse_africastalking_event,
    HOP_METADATA_HEADER as AT_HOP_METADATA_HEADER,
};
pub use state::{Derived, DialectCfg, Fingerprint, HopMemo};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dialect {
    AfricasTalking,
    Beem,
    Hubtel,
}

/// Why a body was refused. Messages name the problem, never the input text.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DialectError {
    #[error("the body has {0} bytes, over the configured limit")]
    TooLarge(usize),
    #[error("wrong or missing content type; expected {0}")]
    ContentType(&'static str),
    #[error("the form body is not valid percent-encoded UTF-8")]
    Undecodable,
    #[error("a form key appears more than once")]
    DuplicateKey,
    #[error(
        "the JSON body is malformed, has a duplicate key or a field of the wrong type (line {line}, column {column})"
    )]
    Json { line: usize, column: usize },
    #[error("the mandatory field `{0}` is missing or empty")]
    MissingField(&'static str),
    #[error("the field `{0}` has a value this dialect does not define")]
    UnknownValue(&'static str),
    #[error("invalid MSISDN: {0}")]
    Msisdn(#[from] MsisdnError),
    #[error("invalid session id: {0}")]
    SessionId(#[from] UssdSessionIdError),
}

impl DialectError {
    /// The HTTP status the route answers with (R4): 413, 415 or 400.
    pub fn status(&self) -> u16 {
        match self {
            Self::TooLarge(_) => 413,
            Self::ContentType(_) => 415,
            _ => 400,
        }
    }
}

/// What the provider said, before it is compared with the stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// AT hop: the full `*`-joined `text` path; the latest input is derived by prefix subtraction.
    AtPath(Redacted),
    /// First hop (Beem `initiate`, Hubtel `Initiation`) with the deep-dial suffix (`""` if none).
    Begin { input: Redacted, hint: Option<u64> },
    /// Latest input only, trimmed, with the duplicate hint (Beem `request_id`, Hubtel `Sequence`).
    Continue { input: Redacted, hint: Option<u64> },
    /// AT `/events`.
    AtEnd(crate::ussd::model::AtEndNotice),
    /// Beem `terminate`, Hubtel `Release`.
    Released,
    /// Hubtel `Timeout`.
    Timeout,
    /// Hubtel app-channel type or a non-USSD `Platform`: reply `Release` with `messages.unsupported`.
    Unsupported,
}

/// Raw subscriber text (may hold a PIN); its `Debug` prints only the length.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

/// Envelope fields a renderer must echo exactly as received (Beem `msisdn`, `operator`, `session_id`).
/// Its `Debug` shows nothing of them: the echoed MSISDN is unmasked.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Echo {
    pub(crate) beem: Option<beem::BeemEcho>,
}

impl std::fmt::Debug for Echo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.beem.is_some() { "Echo(beem)" } else { "Echo" })
    }
}

/// A parsed and validated body: normalised identifiers plus the provider's [`Signal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub dialect: Dialect,
    pub session_id: UssdSessionId,
    pub msisdn: Msisdn,
    pub service_code: Option<ServiceCode>,
    pub network: Option<String>,
    pub signal: Signal,
    pub echo: Echo,
}

impl Dialect {
    /// The route name, also the `{dialect}` part of the session key (R1).
    pub fn name(self) -> &'static str {
        match self {
            Self::AfricasTalking => "africastalking",
            Self::Beem => "beem",
            Self::Hubtel => "hubtel",
        }
    }

    /// Parses a session-hop body (for AT `/events` use [`parse_africastalking_event`]).
    pub fn parse(self, body: &[u8], content_type: Option<&str>, cfg: &DialectCfg) -> Result<Inbound, DialectError> {
        if body.len() > cfg.max_body_bytes {
            return Err(DialectError::TooLarge(body.len()));
        }
        match self {
            Self::AfricasTalking => africastalking::parse(body, content_type, cfg),
            Self::Beem => beem::parse(body, content_type, cfg),
            Self::Hubtel => hubtel::parse(body, content_type, cfg),
        }
    }

    /// Compares the inbound hop with the stored memo: fresh turn, duplicate, conflict, notice, …
    pub fn derive(self, inbound: &Inbound, memo: Option<&HopMemo>, cfg: &DialectCfg) -> Derived {
        match self {
            Self::AfricasTalking => africastalking::derive(inbound, memo, cfg),
            Self::Beem => beem::derive(inbound, memo, cfg),
            Self::Hubtel => hubtel::derive(inbound, memo, cfg),
        }
    }

    /// `(content type, body)` of a 200 screen reply for hop `hop`.
    pub fn render(self, inbound: &Inbound, hop: u32, reply: &UssdReply) -> (&'static str, Vec<u8>) {
        match self {
            Self::AfricasTalking => africastalking::render(reply),
            Self::Beem => beem::render(inbound, hop, reply),
            Self::Hubtel => hubtel::render(hop, reply),
        }
    }

    /// `(content type, body)` acknowledging an Abort or Timeout (R4, R9); `hop` = last processed hop.
    pub fn ack(self, inbound: &Inbound, hop: u32) -> (&'static str, Vec<u8>) {
        match self {
            Self::AfricasTalking => (africastalking::TEXT_PLAIN, b"OK".to_vec()),
            Self::Beem => beem::ack(inbound, hop),
            Self::Hubtel => hubtel::ack(),
        }
    }
}

/// Accepts `expected` with any parameters (`; charset=utf-8`), case-insensitively (R11).
pub(crate) fn check_content_type(got: Option<&str>, expected: &'static str) -> Result<(), DialectError> {
    let essence = got.and_then(|ct| ct.split(';').next()).map(str::trim_ascii);
    match essence {
        Some(e) if e.eq_ignore_ascii_case(expected) => Ok(()),
        _ => Err(DialectError::ContentType(expected)),
    }
}

/// Lowercased, trimmed, `None` when empty.
pub(crate) fn network(raw: Option<String>, lowercase: bool) -> Option<String> {
    let s = raw?.trim_ascii().to_owned();
    (!s.is_empty()).then(|| if lowercase { s.to_ascii_lowercase() } else { s })
}
