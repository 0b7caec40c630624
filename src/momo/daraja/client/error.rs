//! What can go wrong on a Daraja call, and the raw answer the classifiers read.
//!
//! The split that matters is *was the request possibly received*: a failed token fetch or a refused
//! connection means Daraja never saw it (safe to send again), while a timeout or a broken connection
//! after sending means it may have been processed (never resend a payout on that).

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use crate::momo::daraja::urls::CallbackUrlError;
use crate::telemetry::redact_digits;

/// Daraja's error body, e.g. `{"requestId":"…","errorCode":"404.001.03","errorMessage":"Invalid Access Token"}`.
pub(super) const INVALID_TOKEN_CODES: [&str; 2] = ["404.001.03", "400.003.01"];
/// Throttling: the request was not accepted and may be sent again with the same reference.
pub(super) const THROTTLING_CODES: [&str; 2] = ["500.003.02", "500.003.03"];

#[derive(Debug, thiserror::Error)]
pub enum DarajaError {
    #[error("could not obtain a Daraja access token, so the request was not sent: {0}")]
    Token(#[source] Box<DarajaError>),
    #[error("Daraja refused the OAuth credentials (HTTP {status}): {detail}")]
    Auth { status: u16, detail: String },
    /// The connection was never established: the request did not leave.
    #[error("could not connect to Daraja for {endpoint}")]
    Connect {
        endpoint: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("Daraja did not answer {endpoint} within {timeout:?}")]
    Timeout { endpoint: &'static str, timeout: Duration },
    /// The connection failed after the request may have been sent.
    #[error("the connection to Daraja broke during {endpoint}")]
    Transport {
        endpoint: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("Daraja answered {endpoint} with HTTP {status}, code {code}: {message}")]
    Api { endpoint: &'static str, status: u16, code: String, message: String },
    #[error("could not decode Daraja's answer to {endpoint}: {detail}")]
    Decode { endpoint: &'static str, detail: String },
    #[error(transparent)]
    CallbackUrl(#[from] CallbackUrlError),
    #[error("Daraja client setup failed: {0}")]
    Setup(String),
}

impl DarajaError {
    pub(super) fn token(inner: DarajaError) -> Self {
        DarajaError::Token(Box::new(inner))
    }

    pub(super) fn from_reqwest(endpoint: &'static str, timeout: Duration, source: reqwest::Error) -> Self {
        if source.is_timeout() {
            DarajaError::Timeout { endpoint, timeout }
        } else if source.is_connect() {
            DarajaError::Connect { endpoint, source }
        } else {
            DarajaError::Transport { endpoint, source }
        }
    }

    /// True when Daraja cannot have received the request.
    pub fn not_sent(&self) -> bool {
        matches!(self, DarajaError::Token(_) | DarajaError::Connect { .. } | DarajaError::Setup(_))
    }
}

/// One HTTP answer, whatever its status.
pub(super) struct Answer {
    pub status: u16,
    pub body: Bytes,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    fn field(&self, name: &str) -> Option<String> {
        let value = self.json()?;
        match value.get(name)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// `errorCode` of an error body, if the body is one.
    pub fn error_code(&self) -> Option<String> {
        self.field("errorCode")
    }

    /// The human text: `errorMessage`, `ResponseDescription`, or the start of the body. Digit runs
    /// are masked because Daraja echoes phone numbers back.
    pub fn message(&self) -> String {
        let text = self
            .field("errorMessage")
            .or_else(|| self.field("ResponseDescription"))
            .or_else(|| self.field("ResultDesc"))
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body[..self.body.len().min(200)]).into_owned());
        redact_digits(&text)
    }

    pub fn response_code(&self) -> Option<String> {
        self.field("ResponseCode")
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.field(name)
    }

    /// The token was refused: HTTP 401, or one of Daraja's invalid-token codes.
    pub fn is_invalid_token(&self) -> bool {
        self.status == 401 || self.error_code().is_some_and(|c| INVALID_TOKEN_CODES.contains(&c.as_str()))
    }

    pub fn is_throttled(&self) -> bool {
        self.status == 429 || self.error_code().is_some_and(|c| THROTTLING_CODES.contains(&c.as_str()))
    }

    /// The answer as an error, for calls that only succeed or fail.
    pub fn into_error(self, endpoint: &'static str) -> DarajaError {
        let code =
            self.error_code().or_else(|| self.response_code()).unwrap_or_else(|| format!("http_{}", self.status));
        DarajaError::Api { endpoint, status: self.status, code, message: self.message() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer { status, body: Bytes::from(body.to_owned()) }
    }

    #[test]
    fn invalid_token_and_throttling_are_recognised_by_code_or_status() {
        assert!(answer(404, r#"{"requestId":"1","errorCode":"404.001.03","errorMessage":"Invalid Access Token"}"#)
            .is_invalid_token());
        assert!(answer(400, r#"{"errorCode":"400.003.01","errorMessage":"Invalid Access Token"}"#).is_invalid_token());
        assert!(answer(401, "").is_invalid_token());
        assert!(!answer(400, r#"{"errorCode":"400.002.02","errorMessage":"Invalid Amount"}"#).is_invalid_token());
        assert!(answer(500, r#"{"errorCode":"500.003.02","errorMessage":"Spike arrest"}"#).is_throttled());
        assert!(answer(500, r#"{"errorCode":"500.003.03","errorMessage":"Quota"}"#).is_throttled());
        assert!(!answer(500, r#"{"errorCode":"500.003.1001","errorMessage":"x"}"#).is_throttled());
    }

    #[test]
    fn messages_mask_phone_numbers_and_fall_back_to_the_body() {
        let a = answer(400, r#"{"errorCode":"400.002.02","errorMessage":"Invalid PartyB 254712345678"}"#);
        assert!(!a.message().contains("254712345678"), "{}", a.message());
        assert_eq!(answer(502, "<html>bad gateway</html>").message(), "<html>bad gateway</html>");
        let e = answer(500, r#"{"ResponseCode":"1","ResponseDescription":"no"}"#).into_error("x");
        assert!(matches!(e, DarajaError::Api { code, .. } if code == "1"));
        assert!(matches!(answer(503, "").into_error("x"), DarajaError::Api { code, .. } if code == "http_503"));
    }
}
