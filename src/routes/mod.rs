//! HTTP surfaces of the gateway, one module each, plus the shared `{code, message}` error body.

pub mod admin;
pub mod callbacks;
pub mod daraja;
pub mod health;
pub mod ussd;

use actix_web::HttpResponse;
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
