//! One error type for every LMS call: the API's `{code, message}` envelope mapped to variants, plus what
//! can go wrong before an answer arrives (transport, timeout) or after (decode). Callers branch on the
//! variant (or [`LmsError::code`]), never on the message.

use std::time::Duration;

use serde::Deserialize;

use crate::telemetry::redact_digits;

/// The stable codes of the LMS envelope, plus the client-side failures the retry policy needs to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidArgument,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    Aborted,
    FailedPrecondition,
    Internal,
    Unavailable,
    /// Another 4xx with an unknown code: the client or operations must fix the cause.
    Rejected,
    Transport,
    Timeout,
    Decode,
    /// A duplicate create whose existing record does not match what we asked for.
    Conflict,
}

/// One `{field, error}` entry from an `invalid_argument` message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub error: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LmsError {
    #[error("LMS rejected the request as invalid: {message}")]
    InvalidArgument { message: String, fields: Vec<FieldError> },
    #[error("LMS refused our credentials or token: {message}")]
    Unauthenticated { message: String },
    #[error("LMS denied the action: {message}")]
    PermissionDenied { message: String },
    #[error("LMS has no such record: {message}")]
    NotFound { message: String },
    #[error("LMS reported a conflict: {message}")]
    Aborted { message: String },
    #[error("LMS record is in the wrong state for this action: {message}")]
    FailedPrecondition { message: String },
    #[error("LMS failed internally: {message}")]
    Internal { message: String },
    #[error("LMS is unavailable: {message}")]
    Unavailable { message: String, retry_after: Option<Duration> },
    #[error("LMS rejected the request with HTTP {status} ({code}): {message}")]
    Rejected { status: u16, code: String, message: String },
    #[error("could not reach the LMS at {endpoint}")]
    Transport {
        endpoint: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the LMS did not answer {endpoint} within {timeout:?}")]
    Timeout { endpoint: String, timeout: Duration },
    #[error("could not decode the LMS answer to {endpoint}: {detail}")]
    Decode { endpoint: String, detail: String },
    #[error("LMS already holds {what} with different terms: {detail}")]
    Conflict { what: String, detail: String },
}

impl LmsError {
    pub fn code(&self) -> ErrorCode {
        match self {
            LmsError::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            LmsError::Unauthenticated { .. } => ErrorCode::Unauthenticated,
            LmsError::PermissionDenied { .. } => ErrorCode::PermissionDenied,
            LmsError::NotFound { .. } => ErrorCode::NotFound,
            LmsError::Aborted { .. } => ErrorCode::Aborted,
            LmsError::FailedPrecondition { .. } => ErrorCode::FailedPrecondition,
            LmsError::Internal { .. } => ErrorCode::Internal,
            LmsError::Unavailable { .. } => ErrorCode::Unavailable,
            LmsError::Rejected { .. } => ErrorCode::Rejected,
            LmsError::Transport { .. } => ErrorCode::Transport,
            LmsError::Timeout { .. } => ErrorCode::Timeout,
            LmsError::Decode { .. } => ErrorCode::Decode,
            LmsError::Conflict { .. } => ErrorCode::Conflict,
        }
    }

    /// Worth trying again later: the LMS or the way to it failed, or our token did; nothing was refused.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.code(),
            ErrorCode::Unavailable
                | ErrorCode::Internal
                | ErrorCode::Timeout
                | ErrorCode::Transport
                | ErrorCode::Unauthenticated
        )
    }

    /// For a write: the LMS may have applied it although we saw no success (a timeout, a reset, a 5xx
    /// after the request went out). Only a connection that never opened, or a refusal, is certain.
    pub fn may_have_landed(&self) -> bool {
        match self {
            LmsError::Transport { source, .. } => !source.is_connect(),
            LmsError::Timeout { .. } | LmsError::Internal { .. } | LmsError::Unavailable { .. } => true,
            _ => false,
        }
    }

    /// A short label for metrics and logs: the envelope code or the failure kind.
    pub fn label(&self) -> &'static str {
        match self.code() {
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Aborted => "aborted",
            ErrorCode::FailedPrecondition => "failed_precondition",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Rejected => "rejected",
            ErrorCode::Transport => "transport",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Decode => "decode",
            ErrorCode::Conflict => "conflict",
        }
    }

    /// Builds the error for a non-2xx answer from its status, body and `Retry-After` header.
    ///
    /// The body should be the `{code, message}` envelope; anything else is classified by status.
    /// Long digit runs in the message (MSISDNs in "Customer with id ... does not exist") are masked
    /// here, once, so no later log line can leak them.
    pub fn from_response(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self {
        #[derive(Deserialize)]
        struct Envelope {
            code: Option<String>,
            message: Option<serde_json::Value>,
        }
        let envelope = serde_json::from_slice::<Envelope>(body).ok();
        let message = match envelope.as_ref().and_then(|e| e.message.as_ref()) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
        };
        let message = redact_digits(&message);
        let code = envelope.and_then(|e| e.code).unwrap_or_default();
        match code.as_str() {
            "invalid_argument" => {
                let fields = serde_json::from_str::<Vec<FieldError>>(&message).unwrap_or_default();
                LmsError::InvalidArgument { message, fields }
            }
            "unauthenticated" => LmsError::Unauthenticated { message },
            "permission_denied" => LmsError::PermissionDenied { message },
            "not_found" => LmsError::NotFound { message },
            "aborted" => LmsError::Aborted { message },
            "failed_precondition" => LmsError::FailedPrecondition { message },
            "internal" => LmsError::Internal { message },
            "unavailable" => LmsError::Unavailable { message, retry_after },
            _ => match status {
                429 | 502..=504 => LmsError::Unavailable { message, retry_after },
                401 => LmsError::Unauthenticated { message },
                500..=599 => LmsError::Internal { message },
                _ => LmsError::Rejected { status, code, message },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, body: &str) -> LmsError {
        LmsError::from_response(status, body.as_bytes(), None)
    }

    #[test]
    fn every_envelope_code_maps_to_its_variant() {
        for (code, expected) in [
            ("invalid_argument", ErrorCode::InvalidArgument),
            ("unauthenticated", ErrorCode::Unauthenticated),
            ("permission_denied", ErrorCode::PermissionDenied),
            ("not_found", ErrorCode::NotFound),
            ("aborted", ErrorCode::Aborted),
            ("failed_precondition", ErrorCode::FailedPrecondition),
            ("internal", ErrorCode::Internal),
            ("unavailable", ErrorCode::Unavailable),
        ] {
            let e = err(400, &format!(r#"{{"code":"{code}","message":"m"}}"#));
            assert_eq!(e.code(), expected, "{code}");
            assert_eq!(e.label(), code);
        }
    }

    #[test]
    fn validation_messages_carrying_a_field_array_are_parsed() {
        let e = err(
            400,
            r#"{"code":"invalid_argument","message":"[{\"field\":\"officeId\",\"error\":\"required\"},{\"field\":\"activationDate\",\"error\":\"required when active=true\"}]"}"#,
        );
        let LmsError::InvalidArgument { fields, .. } = e else { panic!("expected invalid_argument") };
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[1], FieldError { field: "activationDate".into(), error: "required when active=true".into() });
    }

    #[test]
    fn plain_text_validation_messages_are_kept_raw() {
        let e = err(400, r#"{"code":"invalid_argument","message":"lms: status=400 code=\"validation.msg\""}"#);
        let LmsError::InvalidArgument { fields, message } = e else { panic!() };
        assert!(fields.is_empty());
        assert!(message.contains("validation.msg"));
    }

    #[test]
    fn bodies_without_an_envelope_are_classified_by_status() {
        assert_eq!(err(503, "<html>down</html>").code(), ErrorCode::Unavailable);
        assert_eq!(err(502, "").code(), ErrorCode::Unavailable);
        assert_eq!(err(429, "").code(), ErrorCode::Unavailable);
        assert_eq!(err(500, "oops").code(), ErrorCode::Internal);
        assert_eq!(err(418, r#"{"code":"teapot","message":"no"}"#).code(), ErrorCode::Rejected);
        assert_eq!(err(503, r#"{"code":"brand_new","message":"x"}"#).code(), ErrorCode::Unavailable);
    }

    #[test]
    fn retry_after_is_kept_on_unavailable() {
        let e = LmsError::from_response(429, b"", Some(Duration::from_secs(3)));
        assert!(matches!(e, LmsError::Unavailable { retry_after: Some(d), .. } if d == Duration::from_secs(3)));
    }

    #[test]
    fn phone_numbers_in_messages_are_masked() {
        let e = err(
            404,
            r#"{"code":"not_found","message":"lms: status=404: Customer with id 255712345678 does not exist"}"#,
        );
        assert!(!e.to_string().contains("255712345678"), "{e}");
        assert!(e.to_string().contains("25571****678"), "{e}");
    }
}
