//! What a dialect needs from the stored session (the [`HopMemo`]) and what derivation decides ([`Derived`]).

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::Inbound;
use crate::ussd::model::{ServiceCode, UssdEvent, UssdReply, UssdRequest};

/// Dialect settings (docs/ussd.md); the handler builds it from the loaded configuration.
#[derive(Debug, Clone)]
pub struct DialectCfg {
    /// `msisdn.default_country_code` ["255"], overridable per dialect ("233" for Hubtel).
    pub country_code: String,
    /// `dialects.<d>.base_codes`, for deep-dial suffixes.
    pub base_codes: Vec<ServiceCode>,
    /// `ussd.path_mac_key`: keys the AT path MAC and the Beem input digest, so no raw input is stored.
    pub path_mac_key: SecretSlice<u8>,
    /// `beem.request_id_echo` [true]: a repeated `(request_id, input)` is a duplicate, in sessions where
    /// Beem has shown it echoes our `request_id`; `false` turns Beem's duplicate detection off.
    pub beem_request_id_echo: bool,
    /// `hubtel.accept_camel_case` [true]: camelCase aliases of the PascalCase fields are accepted.
    pub hubtel_accept_camel_case: bool,
    /// `africastalking.accept_get` [false]: hops may also come as `GET` with the form in the query string.
    pub at_accept_get: bool,
    /// `africastalking.hop_metadata` [false]: replies carry `at-ussd-hop-metadata: <menu node id>`.
    pub at_hop_metadata: bool,
    /// `ussd.max_body_bytes` [8192].
    pub max_body_bytes: usize,
}

impl DialectCfg {
    /// Defaults of docs/ussd.md with the given country code and MAC key.
    pub fn new(country_code: &str, path_mac_key: Vec<u8>) -> Self {
        Self {
            country_code: country_code.to_owned(),
            base_codes: Vec::new(),
            path_mac_key: SecretSlice::from(path_mac_key),
            beem_request_id_echo: true,
            hubtel_accept_camel_case: true,
            at_accept_get: false,
            at_hop_metadata: false,
            max_body_bytes: 8192,
        }
    }

    pub(crate) fn mac(&self, bytes: &[u8]) -> [u8; 32] {
        self.hmac(bytes).finalize().into_bytes().into()
    }

    /// Constant-time comparison of `bytes`' MAC with `tag`.
    pub(crate) fn mac_matches(&self, bytes: &[u8], tag: &[u8; 32]) -> bool {
        self.hmac(bytes).verify_slice(tag).is_ok()
    }

    fn hmac(&self, bytes: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.path_mac_key.expose_secret()).expect("HMAC accepts any key length");
        mac.update(bytes);
        mac
    }
}

/// The duplicate-detection fingerprint of the last fresh request (R2). Holds no raw input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fingerprint {
    /// AT: the previous `text` as its byte length and keyed MAC.
    AtPath {
        len: usize,
        #[serde(with = "hex32")]
        mac: [u8; 32],
    },
    /// Beem: `(request_id, input)`, the input as a keyed digest, and whether this session has shown
    /// that Beem echoes our `request_id` (learned at the first `continue` that carries our latest id).
    Beem {
        request_id: Option<u64>,
        #[serde(with = "hex32")]
        input_mac: [u8; 32],
        /// Absent in sessions stored before it was learned: not known to echo.
        #[serde(default)]
        echoes: bool,
    },
    /// Hubtel: the highest `Sequence` seen, if any.
    Hubtel { sequence: Option<u64> },
}

/// Per-session memo of the last processed hop (R1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HopMemo {
    pub hop: u32,
    pub fingerprint: Fingerprint,
    /// The cached reply, re-rendered byte-identically for duplicates.
    pub reply: UssdReply,
    /// Beem: the `request_id` of our latest screen (= its hop).
    pub last_sent_id: u32,
    /// The last reply closed the session.
    pub ended: bool,
}

/// The outcome of comparing an [`Inbound`] with the stored [`HopMemo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derived {
    /// Run one menu turn; store `fingerprint` with the new memo.
    Fresh { request: UssdRequest, fingerprint: Fingerprint },
    /// Replay the cached reply; no turn, no hop increment.
    Duplicate,
    /// AT path shorter or diverging: replay the last reply, log `path_conflict`.
    Conflict,
    /// Abort or Timeout: acknowledge, delete state, never run a turn (R9).
    Notice(UssdRequest),
    /// A Continue for an unknown session: `END messages.expired`, no turn.
    Expired,
    /// A new request after our reply closed the session: `END messages.ended`.
    Ended,
    /// Not a USSD request this gateway serves: `END messages.unsupported`.
    Unsupported,
}

pub(crate) fn request(inbound: &Inbound, event: UssdEvent, input: &str, hop: u32) -> UssdRequest {
    UssdRequest {
        dialect: inbound.dialect,
        session_id: inbound.session_id.clone(),
        msisdn: inbound.msisdn.clone(),
        service_code: inbound.service_code.clone(),
        network: inbound.network.clone(),
        event,
        input: input.trim_ascii().to_owned(),
        hop,
    }
}

/// The deep-dial suffix of a stripped dialled string against the request's code, then the configured bases.
pub(crate) fn deep_dial_suffix(dialled: &str, own: Option<&ServiceCode>, cfg: &DialectCfg) -> Option<String> {
    own.into_iter().chain(&cfg.base_codes).find_map(|base| base.suffix_of(dialled)).map(str::to_owned)
}

/// A 32-byte MAC as 64 hex characters in the stored session (half the size of a JSON number array).
mod hex32 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    const DIGITS: &[u8; 16] = b"0123456789abcdef";

    /// Written into a stack buffer: it runs on every hop, and a `format!` per byte showed in profiles.
    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        let mut hex = [0u8; 64];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(bytes) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        s.serialize_str(std::str::from_utf8(&hex).unwrap_or_default())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let hex = <&str>::deserialize(d)?;
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(D::Error::custom("expected 64 hex characters"));
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(D::Error::custom)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::Fingerprint;

    #[test]
    fn fingerprint_macs_travel_as_lower_case_hex_and_come_back() {
        let mut mac = [0u8; 32];
        mac.iter_mut().enumerate().for_each(|(i, b)| *b = (i as u8).wrapping_mul(37) ^ 0xa5);
        let print = Fingerprint::AtPath { len: 7, mac };
        let json = serde_json::to_string(&print).unwrap();
        let expected: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(json, format!(r#"{{"AtPath":{{"len":7,"mac":"{expected}"}}}}"#));
        assert_eq!(serde_json::from_str::<Fingerprint>(&json).unwrap(), print);
        assert!(serde_json::from_str::<Fingerprint>(r#"{"AtPath":{"len":7,"mac":"zz"}}"#).is_err());
    }
}
