//! HTTP surfaces of the gateway, one module each, plus the shared `{code, message}` error body.

pub mod admin;
pub mod callbacks;
pub mod daraja;
pub mod health;
pub mod metrics;
pub mod simulator;
pub mod ussd;

use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

/// The stable JSON error body of every JSON surface.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub code: &'a str,
    pub message: String,
}

pub fn json_error(status: actix_web::http::StatusCode, code: &str, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(ErrorBody { code, message: message.into() })
}

/// Whether the request carries `Authorization: Bearer <expected>`, compared in constant time.
pub fn bearer_matches(request: &HttpRequest, expected: &str) -> bool {
    let given =
        request.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    given.is_some_and(|g| {
        g.len() == expected.len() && g.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    })
}
