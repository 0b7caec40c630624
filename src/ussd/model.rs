//! The neutral request and reply (docs/ussd.md). The menu engine only ever sees these types.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::Msisdn;
use crate::ussd::dialect::Dialect;

/// One hop of a USSD session, whatever the aggregator.
#[derive(Clone, PartialEq, Eq)]
pub struct UssdRequest {
    pub dialect: Dialect,
    /// Provider id, opaque, verbatim; never parsed as a number.
    pub session_id: UssdSessionId,
    /// E.164 digits, no `+` (R8).
    pub msisdn: Msisdn,
    /// Leading `*` and trailing `#` stripped: `384*1234`.
    pub service_code: Option<ServiceCode>,
    /// AT `networkCode` (`64009`); Beem/Hubtel operator, lowercased.
    pub network: Option<String>,
    pub event: UssdEvent,
    /// Latest subscriber input only, ASCII-whitespace trimmed. May hold a PIN: never log it.
    pub input: String,
    /// Gateway counter: 1 on Begin, +1 per fresh turn; the last processed hop for Abort/Timeout.
    pub hop: u32,
}

/// `Debug` shows the input's length only, never its text (R12).
impl fmt::Debug for UssdRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UssdRequest")
            .field("dialect", &self.dialect)
            .field("session_id", &self.session_id)
            .field("msisdn", &self.msisdn)
            .field("service_code", &self.service_code)
            .field("network", &self.network)
            .field("event", &self.event)
            .field("input_len", &self.input.len())
            .field("hop", &self.hop)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UssdEvent {
    Begin,
    Continue,
    Abort(EndReason),
    Timeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndReason {
    /// AT `Success`.
    Completed,
    /// Subscriber or network release (Hubtel `Release`, Beem `terminate`).
    Released,
    /// AT `Incomplete` (cancel or idle timeout) and any unknown AT status.
    Incomplete,
    /// AT `Failed`.
    Failed,
}

/// A screen: `\n` line breaks, no `CON`/`END` prefix, already within the screen budget; `end` closes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UssdReply {
    pub text: String,
    pub end: bool,
}

impl UssdReply {
    pub fn con(text: impl Into<String>) -> Self {
        Self { text: text.into(), end: false }
    }

    pub fn end(text: impl Into<String>) -> Self {
        Self { text: text.into(), end: true }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UssdSessionIdError {
    #[error("the session id is empty")]
    Empty,
    #[error("the session id has {0} bytes, more than the 128 allowed")]
    TooLong(usize),
}

/// The provider's session id, verbatim (1..=128 bytes, R1). Display and Debug mask its digit runs:
/// they are for log lines, and some aggregators build session ids from the subscriber's number.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UssdSessionId(String);

impl UssdSessionId {
    pub const MAX_BYTES: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, UssdSessionIdError> {
        match raw.len() {
            0 => Err(UssdSessionIdError::Empty),
            n if n > Self::MAX_BYTES => Err(UssdSessionIdError::TooLong(n)),
            _ => Ok(Self(raw.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UssdSessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::telemetry::redact_digits(&self.0))
    }
}

impl fmt::Debug for UssdSessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UssdSessionId({self})")
    }
}

/// A service code without the leading `*` and trailing `#`: `*384*1234#` → `384*1234`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServiceCode(String);

impl ServiceCode {
    /// `None` when nothing is left after trimming and stripping.
    pub fn parse(raw: &str) -> Option<Self> {
        let s = strip_code(raw);
        (!s.is_empty()).then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The deep-dial remainder of `dialled` (already stripped) for this base code: `Some("")` when equal,
    /// `Some("1*2")` for `<base>*1*2`, `None` when `dialled` is not under this base.
    pub fn suffix_of<'a>(&self, dialled: &'a str) -> Option<&'a str> {
        let rest = dialled.strip_prefix(self.0.as_str())?;
        if rest.is_empty() {
            Some("")
        } else {
            rest.strip_prefix('*')
        }
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Trims ASCII whitespace, one leading `*` and one trailing `#`.
pub(crate) fn strip_code(raw: &str) -> &str {
    let s = raw.trim_ascii();
    let s = s.strip_prefix('*').unwrap_or(s);
    s.strip_suffix('#').unwrap_or(s)
}

/// AT end-of-session notification (docs/ussd.md). The `input` path and `lastAppResponse` are deliberately
/// not kept (R12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtEndNotice {
    pub reason: EndReason,
    /// False when `status` was none of `Success`/`Incomplete`/`Failed` (mapped to `Incomplete`; log it).
    pub status_known: bool,
    pub date: Option<String>,
    /// Opaque (`KES 0.10`), never parsed.
    pub cost: Option<String>,
    pub duration_ms: Option<u64>,
    pub hops_count: Option<u32>,
    pub hops_metadata: Option<String>,
    /// Only with `Failed`: the only trace of our own failure.
    pub error_message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_id_built_from_a_number_is_masked_in_logs_but_kept_verbatim() {
        let id = UssdSessionId::parse("255712345678-1699999999").unwrap();
        assert_eq!(id.as_str(), "255712345678-1699999999", "keys and echoes use the verbatim id");
        assert_eq!(id.to_string(), "25571****678-16999**999");
        assert!(!format!("{id:?}").contains("712345678"));
        assert_eq!(UssdSessionId::parse("ATUid_5e4c").unwrap().to_string(), "ATUid_5e4c");
    }
}
