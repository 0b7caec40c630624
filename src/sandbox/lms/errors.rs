//! The LMS error envelope: every non-2xx response is `{"code", "message"}` with the HTTP status fixed
//! by the code. `invalid_argument` messages are a JSON-encoded array of `{field, error}`; the other codes
//! carry a human sentence prefixed the way the real wrapper prefixes upstream failures.

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// The stable error codes of docs/lms.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidArgument,
    FailedPrecondition,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    Aborted,
    Internal,
    Unavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::FailedPrecondition => "failed_precondition",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Aborted => "aborted",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            // The repay page uses failed_precondition without a status; docs/lms.md settles on 400.
            ErrorCode::InvalidArgument | ErrorCode::FailedPrecondition => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::PermissionDenied => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Aborted => StatusCode::CONFLICT,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// One entry of an `invalid_argument` message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub error: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, error: impl Into<String>) -> Self {
        Self { field: field.into(), error: error.into() }
    }
}

/// An error answered with the docs/lms.md envelope.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ApiError {
    code: ErrorCode,
    message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// `invalid_argument` listing every problem found.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        // Serialising a list of plain strings cannot fail; keep a valid array regardless.
        let message = serde_json::to_string(&fields).unwrap_or_else(|_| "[]".to_owned());
        Self::new(ErrorCode::InvalidArgument, message)
    }

    pub fn invalid_field(field: impl Into<String>, error: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, error)])
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn aborted(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Aborted, message)
    }

    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::FailedPrecondition, message)
    }

    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PermissionDenied, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }

    /// The `message` as it goes on the wire.
    pub fn wire_message(&self) -> String {
        match self.code {
            ErrorCode::InvalidArgument => self.message.clone(),
            code => format!("lms: status={}: {}", code.status().as_u16(), self.message),
        }
    }
}

#[derive(Serialize)]
struct Envelope {
    code: &'static str,
    message: String,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        HttpResponse::build(self.status_code())
            .json(Envelope { code: self.code.as_str(), message: self.wire_message() })
    }
}

/// Default service of the scope: anything unrouted is a `not_found` in the envelope.
pub(crate) async fn no_route(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!("no route for {} {}", req.method(), req.path())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_messages_are_json_field_arrays() {
        let err = ApiError::invalid(vec![FieldError::new("officeId", "required")]);
        assert_eq!(err.wire_message(), r#"[{"field":"officeId","error":"required"}]"#);
        assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn other_codes_carry_the_status_prefix() {
        let err = ApiError::not_found("Customer with id 9999 does not exist");
        assert_eq!(err.wire_message(), "lms: status=404: Customer with id 9999 does not exist");
    }

    #[test]
    fn failed_precondition_is_a_400_and_aborted_a_409() {
        assert_eq!(ErrorCode::FailedPrecondition.status(), StatusCode::BAD_REQUEST);
        assert_eq!(ErrorCode::Aborted.status(), StatusCode::CONFLICT);
    }
}
