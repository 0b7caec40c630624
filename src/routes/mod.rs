//! HTTP surfaces of the gateway, one module each, plus the shared `{code, message}` error body.

pub mod admin;
pub mod callbacks;
pub mod daraja;
pub mod health;
pub mod metrics;
pub mod simulator;
pub mod ussd;

use std::net::IpAddr;

use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::domain::netguard::TrustedProxies;

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
    given.is_some_and(|g| crate::domain::constant_time::eq(g.as_bytes(), expected.as_bytes()))
}

/// Every `X-Forwarded-For` header, joined with `,` in arrival order. Only the first would let a caller
/// who sends a header of its own hide the one our proxy appended after it.
pub fn forwarded_for(request: &HttpRequest) -> Option<String> {
    let values: Vec<&str> = request.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// The caller's address under the shared trusted-proxy rule ([`crate::domain::netguard`]).
pub fn client_ip(request: &HttpRequest, proxies: &TrustedProxies) -> Option<IpAddr> {
    proxies.client_ip(request.peer_addr().map(|a| a.ip()), forwarded_for(request).as_deref())
}
