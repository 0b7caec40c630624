//! Standard Webhooks signatures (symmetric `v1`), as the generic wallet contract uses them
//! (docs/money.md): `v1,` + base64(HMAC-SHA256(key, id + "." + timestamp + "." + raw body)).
//!
//! The body is verified as the exact raw bytes, before anything parses it. Several secrets may be
//! active during a rotation; any `v1` entry matching any secret passes. MACs are compared in constant
//! time and must be exactly 32 bytes.
//!
//! Secrets are read as the Standard Webhooks libraries read them: `whsec_` and then standard-alphabet
//! base64, padded or not (the Python and JavaScript libraries mint and accept unpadded secrets).

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Default tolerance between the wallet's `webhook-timestamp` and our clock, in seconds.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// A `whsec_...` secret; the HMAC key is the decoded bytes. No `Debug`: it is a secret.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("a webhook secret must start with `whsec_`")]
    Prefix,
    #[error("a webhook secret must be standard base64 after `whsec_` (A-Z a-z 0-9 + /, `=` padding optional)")]
    Base64,
    // The libraries do not agree on URL-safe text (one refuses it, one silently drops `-` and `_` and
    // so derives another key), so no wallet can sign with it interoperably: name it rather than guess.
    #[error("a webhook secret must use the standard base64 alphabet: `-` and `_` (URL-safe base64) are not read the same way by every Standard Webhooks library")]
    UrlSafe,
    #[error("a webhook secret must decode to 24..=64 bytes, found {0}")]
    Length(usize),
}

/// Standard alphabet, padding optional; misplaced or excess `=` is still refused.
const SECRET_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl WebhookSecret {
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text.trim().strip_prefix("whsec_").ok_or(SecretError::Prefix)?;
        if encoded.contains(['-', '_']) {
            return Err(SecretError::UrlSafe);
        }
        let key = SECRET_BASE64.decode(encoded).map_err(|_| SecretError::Base64)?;
        if !(24..=64).contains(&key.len()) {
            return Err(SecretError::Length(key.len()));
        }
        Ok(Self(key))
    }

    /// Accepts any key length, for interoperability vectors with shorter keys.
    pub fn from_bytes(key: Vec<u8>) -> Self {
        Self(key)
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

/// The `webhook-signature` entry for one secret: `v1,<base64>`.
pub fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = secret.mac(id, &timestamp.to_string(), body).finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    #[error("missing_headers")]
    MissingHeaders,
    #[error("timestamp_out_of_tolerance")]
    TimestampOutOfTolerance,
    #[error("invalid_signature")]
    InvalidSignature,
}

impl VerifyError {
    /// The `error` code of the 401 body.
    pub fn code(self) -> &'static str {
        match self {
            VerifyError::MissingHeaders => "missing_headers",
            VerifyError::TimestampOutOfTolerance => "timestamp_out_of_tolerance",
            VerifyError::InvalidSignature => "invalid_signature",
        }
    }
}

/// The three Standard Webhooks headers as received (any may be missing).
#[derive(Debug, Clone, Copy)]
pub struct SignedHeaders<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Verifies `body` against the headers with any of `secrets`, at unix time `now`.
pub fn verify(
    secrets: &[WebhookSecret],
    headers: SignedHeaders<'_>,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let (Some(id), Some(timestamp), Some(signature)) = (headers.id, headers.timestamp, headers.signature) else {
        return Err(VerifyError::MissingHeaders);
    };
    if id.is_empty() || id.len() > 64 || id.contains('.') {
        return Err(VerifyError::MissingHeaders);
    }
    let sent_at: i64 = timestamp.trim().parse().map_err(|_| VerifyError::MissingHeaders)?;
    // abs_diff: a timestamp at the ends of i64 must be refused, not overflow the subtraction.
    if now.abs_diff(sent_at) > u64::try_from(tolerance_secs).unwrap_or(0) {
        return Err(VerifyError::TimestampOutOfTolerance);
    }
    let candidates: Vec<Vec<u8>> = signature
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .filter(|tag| tag.len() == 32)
        .collect();
    let matches = secrets
        .iter()
        .any(|secret| candidates.iter().any(|tag| secret.mac(id, timestamp.trim(), body).verify_slice(tag).is_ok()));
    if matches {
        Ok(())
    } else {
        Err(VerifyError::InvalidSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_bWtvcG8tdGVzdC12ZWN0b3Itc2VjcmV0LTMyYnl0ZXM=";
    const RETIRED: &str = "whsec_bWtvcG8tdGVzdC12ZWN0b3ItcmV0aXJlZC1zZWNyZXQ=";
    const V1_BODY: &str = r#"{"type":"payment.received","timestamp":"2026-05-25T09:14:03Z","data":{"kind":"payment","reference":null,"receipt":"HP7Q4K2M9X","account":"L0000123455","msisdn":"255712345678","amount":"11100.00","currency":"TZS","status":"completed","failure_code":null,"failure_message":null,"occurred_at":"2026-05-25T09:13:58Z"}}"#;
    const V1_ID: &str = "evt_01JW3F8ZK4N7Q2R5T8V0X3Y6Z9";
    const V1_SIG: &str = "v1,EJNoJLOx0lrjYeBGWOkIP6l/NlkhkO0W/JGxhTQJyic=";
    const V2_BODY: &str = r#"{"type":"payout.completed","timestamp":"2026-05-18T07:02:12Z","data":{"kind":"payout","reference":"L0000123455","receipt":"HP3B8D1F6Z","account":null,"msisdn":"255712345678","amount":"50000.00","currency":"TZS","status":"completed","failure_code":null,"failure_message":null,"occurred_at":"2026-05-18T07:02:11Z"}}"#;

    fn secrets(list: &[&str]) -> Vec<WebhookSecret> {
        list.iter().map(|s| WebhookSecret::parse(s).unwrap()).collect()
    }

    fn check(sig: &str, id: &str, ts: &str, body: &str, now: i64, with: &[&str]) -> Result<(), VerifyError> {
        let headers = SignedHeaders { id: Some(id), timestamp: Some(ts), signature: Some(sig) };
        verify(&secrets(with), headers, body.as_bytes(), now, DEFAULT_TOLERANCE_SECS)
    }

    #[test]
    fn v1_and_v2_verify_and_sign_to_the_published_macs() {
        assert_eq!(check(V1_SIG, V1_ID, "1779700443", V1_BODY, 1779700453, &[SECRET]), Ok(()));
        assert_eq!(sign(&secrets(&[SECRET])[0], V1_ID, 1779700443, V1_BODY.as_bytes()), V1_SIG);
        let v2 = "v1,6vPYQN3WQlnFjiJXXOMt3/jtTJynXHyaHAoqKcKAi64=";
        assert_eq!(check(v2, "evt_01JVG2A7C9E3H5K8M1P4S6U8W0", "1779087732", V2_BODY, 1779087740, &[SECRET]), Ok(()));
    }

    #[test]
    fn v3_any_change_to_the_body_or_an_empty_mac_is_an_invalid_signature() {
        let tampered = V1_BODY.replace("11100.00", "91100.00");
        assert_eq!(
            check(V1_SIG, V1_ID, "1779700443", &tampered, 1779700453, &[SECRET]),
            Err(VerifyError::InvalidSignature)
        );
        assert_eq!(
            sign(&secrets(&[SECRET])[0], V1_ID, 1779700443, tampered.as_bytes()),
            "v1,AFIpc4FWhe/DzgnZK/vLF77m0B0Vptm/ZYwW05Pgbbg="
        );
        let newline = format!("{V1_BODY}\n");
        assert_eq!(
            check(V1_SIG, V1_ID, "1779700443", &newline, 1779700453, &[SECRET]),
            Err(VerifyError::InvalidSignature)
        );
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(V1_BODY).unwrap()).unwrap();
        assert_eq!(
            check(V1_SIG, V1_ID, "1779700443", &pretty, 1779700453, &[SECRET]),
            Err(VerifyError::InvalidSignature)
        );
        assert_eq!(
            check("v1,", V1_ID, "1779700443", V1_BODY, 1779700453, &[SECRET]),
            Err(VerifyError::InvalidSignature)
        );
    }

    #[test]
    fn v4_exactly_300_seconds_pass_and_301_do_not() {
        assert_eq!(check(V1_SIG, V1_ID, "1779700443", V1_BODY, 1779700743, &[SECRET]), Ok(()));
        for now in [1779700744, 1779700142] {
            assert_eq!(
                check(V1_SIG, V1_ID, "1779700443", V1_BODY, now, &[SECRET]),
                Err(VerifyError::TimestampOutOfTolerance)
            );
        }
    }

    #[test]
    fn v5_retries_and_redeliveries_verify_with_their_own_headers() {
        let retry = "v1,md/MNUaRscG3oxUVAPXMejsvMQYn2ERqqsIW/Ilavz4=";
        assert_eq!(check(retry, V1_ID, "1779700508", V1_BODY, 1779700510, &[SECRET]), Ok(()));
        let other = "v1,g9DGERswWLlOHS6dczN1gV1Fzv9snp26tBlsok+my6E=";
        assert_eq!(
            check(other, "evt_01JW3F9B2D4F6H8K0M2P4R6T8V", "1779700563", V1_BODY, 1779700565, &[SECRET]),
            Ok(())
        );
    }

    #[test]
    fn v6_any_entry_matching_any_active_secret_passes() {
        let retired_mac = "v1,m+BeSrha4n5Y2SSBLgdPVcejgy4xUfatgrydJ9YyRl4=";
        assert_eq!(sign(&secrets(&[RETIRED])[0], V1_ID, 1779700443, V1_BODY.as_bytes()), retired_mac);
        let both = format!("{retired_mac} {V1_SIG}");
        assert_eq!(check(&both, V1_ID, "1779700443", V1_BODY, 1779700453, &[SECRET]), Ok(()));
        assert_eq!(
            check(retired_mac, V1_ID, "1779700443", V1_BODY, 1779700453, &[SECRET]),
            Err(VerifyError::InvalidSignature)
        );
        assert_eq!(check(retired_mac, V1_ID, "1779700443", V1_BODY, 1779700453, &[SECRET, RETIRED]), Ok(()));
        assert_eq!(check(&format!("v1a,xyz {V1_SIG}"), V1_ID, "1779700443", V1_BODY, 1779700453, &[SECRET]), Ok(()));
    }

    #[test]
    fn v7_the_standard_webhooks_reference_vector() {
        let secret = WebhookSecret::from_bytes(STANDARD.decode("C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap());
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            sign(&secret, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn missing_or_garbled_headers_are_refused_before_any_mac() {
        let none = SignedHeaders { id: None, timestamp: Some("1"), signature: Some(V1_SIG) };
        assert_eq!(verify(&secrets(&[SECRET]), none, b"{}", 1, 300), Err(VerifyError::MissingHeaders));
        assert_eq!(check(V1_SIG, V1_ID, "yesterday", V1_BODY, 1779700453, &[SECRET]), Err(VerifyError::MissingHeaders));
        assert_eq!(
            check(V1_SIG, "a.b", "1779700443", V1_BODY, 1779700453, &[SECRET]),
            Err(VerifyError::MissingHeaders)
        );
    }

    #[test]
    fn secrets_are_parsed_strictly() {
        assert_eq!(WebhookSecret::parse("bWtv").err(), Some(SecretError::Prefix));
        assert_eq!(WebhookSecret::parse("whsec_!!").err(), Some(SecretError::Base64));
        assert_eq!(WebhookSecret::parse("whsec_bWtvcG8=").err(), Some(SecretError::Length(5)));
        // Padding, when present, must be where base64 puts it.
        assert_eq!(WebhookSecret::parse(&format!("{SECRET}=")).err(), Some(SecretError::Base64));
        assert_eq!(
            WebhookSecret::parse("whsec_bWtvcG8tdGVzdC12=ZWN0b3Itc2VjcmV0LTMyYnl0ZXM").err(),
            Some(SecretError::Base64)
        );
        let url_safe = "whsec_bWtvcG8tdGVzdC12ZWN0b3Itc2VjcmV0LTMyYnl0ZXM-_w";
        assert_eq!(WebhookSecret::parse(url_safe).err(), Some(SecretError::UrlSafe));
    }

    #[test]
    fn an_unpadded_secret_is_the_same_key_as_its_padded_form() {
        let unpadded = SECRET.trim_end_matches('=');
        assert_ne!(unpadded, SECRET);
        let body = V1_BODY.as_bytes();
        assert_eq!(sign(&WebhookSecret::parse(unpadded).unwrap(), V1_ID, 1779700443, body), V1_SIG);
        assert_eq!(check(V1_SIG, V1_ID, "1779700443", V1_BODY, 1779700453, &[unpadded]), Ok(()));
        // Two `=` of padding dropped (a 32-byte key is 43 characters + one `=`; 25 bytes need two).
        let two = format!("whsec_{}", STANDARD.encode([7u8; 25]));
        assert!(two.ends_with("=="));
        let key = |s: &str| WebhookSecret::parse(s).unwrap().0;
        assert_eq!(key(two.trim_end_matches('=')), key(&two));
    }

    /// The vectors of the Standard Webhooks reference libraries' own test suites
    /// (`libraries/python/tests/test_webhooks.py`, `libraries/javascript/src/webhook.test.ts` of
    /// github.com/standard-webhooks/standard-webhooks).
    mod standard_webhooks_vectors {
        use super::*;

        const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        const PAYLOAD: &str = r#"{"test": 2432232314}"#;
        const TIMESTAMP: i64 = 1614265330;
        const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

        fn verify_at(signature: &str, now: i64) -> Result<(), VerifyError> {
            let headers = SignedHeaders { id: Some(MSG_ID), timestamp: Some("1614265330"), signature: Some(signature) };
            verify(&[WebhookSecret::parse(SECRET).unwrap()], headers, PAYLOAD.as_bytes(), now, DEFAULT_TOLERANCE_SECS)
        }

        #[test]
        fn the_sign_function_vector() {
            assert_eq!(sign(&WebhookSecret::parse(SECRET).unwrap(), MSG_ID, TIMESTAMP, PAYLOAD.as_bytes()), SIGNATURE);
            assert_eq!(verify_at(SIGNATURE, TIMESTAMP), Ok(()));
        }

        #[test]
        fn one_changed_bit_is_an_invalid_signature() {
            let flipped = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=";
            assert_eq!(verify_at(flipped, TIMESTAMP), Err(VerifyError::InvalidSignature));
            assert_eq!(verify_at("v1,dawfeoifkpqwoekfpqoekf", TIMESTAMP), Err(VerifyError::InvalidSignature));
            assert_eq!(verify_at(&SIGNATURE[..8], TIMESTAMP), Err(VerifyError::InvalidSignature));
            assert_eq!(verify_at("v1,", TIMESTAMP), Err(VerifyError::InvalidSignature));
        }

        #[test]
        fn a_multi_signature_header_passes_on_its_one_valid_entry() {
            let other = "Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
            let header = format!("v1,{other} v2,{other} {SIGNATURE} v1,{other}");
            assert_eq!(verify_at(&header, TIMESTAMP), Ok(()));
            assert_eq!(verify_at(&format!("v1,{other} v2,{other}"), TIMESTAMP), Err(VerifyError::InvalidSignature));
        }

        #[test]
        fn five_minutes_either_way_and_not_a_second_more() {
            for now in [TIMESTAMP - 300, TIMESTAMP + 300] {
                assert_eq!(verify_at(SIGNATURE, now), Ok(()));
            }
            for now in [TIMESTAMP - 301, TIMESTAMP + 301] {
                assert_eq!(verify_at(SIGNATURE, now), Err(VerifyError::TimestampOutOfTolerance));
            }
        }
    }
}
