//! What a dialect needs from the stored session (the [`HopMemo`]) and what derivation decides ([`Derived`]).

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::Inbound;
use crate::ussd::model::{ServiceCode, UssdEvent, UssdReply, UssdRequest};

/// Dialect settings (spec §9); the handler builds it from the loaded configuration.
#[derive(Debug, Clone)]
pub struct DialectCfg {
    /// `msisdn.default_country_code` ["255"], overridable per dialect ("233" for Hubtel).
    pub country_code: String,
    /// `dialects.<d>.base_codes`, for deep-dial suffixes.
    pub base_codes: Vec<ServiceCode>,
    /// `ussd.path_mac_key`: keys the AT path MAC and the Beem input digest, so no raw input is stored.
    pub path_mac_key: SecretSlice<u8>,
    /// `beem.request_id_echo` [true].
    pub beem_request_id_echo: bool,
    /// `ussd.max_body_bytes` [8192].
    pub max_body_bytes: usize,
}

impl DialectCfg {
    /// Defaults of spec §9 with the given country code and MAC key.
    pub fn new(country_code: &str, path_mac_key: Vec<u8>) -> Self {
        Self {
            country_code: country_code.to_owned(),
            base_codes: Vec::new(),
            path_mac_key: SecretSlice::from(path_mac_key),
            beem_request_id_echo: true,
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
    /// AT: the previous `text` as its byte length and keyed MAC (§3.2).
    AtPath {
        len: usize,
        #[serde(with = "hex32")]
        mac: [u8; 32],
    },
    /// Beem: `(request_id, input)`, the input as a keyed digest.
    Beem {
        request_id: Option<u64>,
        #[serde(with = "hex32")]
        input_mac: [u8; 32],
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

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        s.serialize_str(&hex)
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
