//! The wallet error envelope (docs/money.md): every non-2xx answer is
//! `{"error": "<code>", "message": "<text>"}`, with the HTTP status fixed by the code.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

/// An error answered with the docs/money.md envelope.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub(crate) struct WalletError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl WalletError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    /// `400`: nothing recorded, a definite failure.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn reference_conflict() -> Self {
        Self::new(StatusCode::CONFLICT, "reference_conflict", "this reference exists with other fields")
    }

    /// `409` from the approve/decline hooks: the collection already reached a final status.
    pub fn not_pending(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "not_pending", message)
    }

    /// `500`: the caller cannot tell whether anything was recorded.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// `503`: nothing recorded, retry later.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: &'a str,
    message: &'a str,
}

impl ResponseError for WalletError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(Envelope { error: self.code, message: &self.message })
    }
}

/// Default service of the scope: anything unrouted is a `404 not_found` in the envelope.
pub(crate) async fn no_route(req: HttpRequest) -> Result<HttpResponse, WalletError> {
    Err(WalletError::not_found(format!("no route for {} {}", req.method(), req.path())))
}
