//! Fault injection: the next N calls matching a method and a path pattern fail with `503 unavailable` or
//! `500 internal`, are delayed, or commit and then report `500 internal` (the "did my write land?" case).
//!
//! Faults are applied by a middleware in front of every `/v1/...` route (including the token endpoint) but
//! not in front of the `/sandbox/...` hooks, so a test can never lock itself out of its own controls.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::ResponseError;
use serde::{Deserialize, Serialize};

use super::errors::ApiError;
use super::state::SandboxLms;

/// What happens to a matching call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// `503 unavailable`; the handler never runs.
    Unavailable,
    /// `500 internal`; the handler never runs.
    Internal,
    /// Wait `delay_ms`, then handle normally.
    Delay,
    /// Handle normally (the write lands), then answer `500 internal` instead of the real response.
    CommitThenInternal,
    /// Handle normally (the write lands), then hold the answer `delay_ms`: a caller with a shorter
    /// timeout sees a timeout although the LMS committed.
    CommitThenDelay,
}

/// One injected fault. The wire form (hook `POST /sandbox/faults`) is camelCase:
/// `{"method": "POST", "path": "/v1/loans/external/*/repayments", "kind": "unavailable", "count": 1,
/// "delayMs": 0}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// HTTP method, any case; `*` matches every method.
    pub method: String,
    /// Path relative to the mount prefix, query ignored; a `*` segment matches exactly one segment.
    pub path: String,
    pub kind: FaultKind,
    /// How many matching calls are still to be hit.
    #[serde(default = "one")]
    pub count: u32,
    /// The wait of a `delay` fault.
    #[serde(default)]
    pub delay_ms: u64,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// A fault hitting the next matching call once.
    pub fn new(method: &str, path: &str, kind: FaultKind) -> Self {
        Self { method: method.to_owned(), path: path.to_owned(), kind, count: 1, delay_ms: 0 }
    }

    /// Hits the next `count` matching calls instead of one.
    pub fn times(self, count: u32) -> Self {
        Self { count, ..self }
    }

    /// Sets the wait of a `delay` fault.
    pub fn delayed(self, delay: Duration) -> Self {
        Self { delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), ..self }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        (self.method == "*" || self.method.eq_ignore_ascii_case(method)) && path_matches(&self.path, path)
    }
}

/// Segment-wise match where a `*` pattern segment matches any one segment. A trailing `/` is ignored.
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    pattern.len() == path.len() && pattern.iter().zip(&path).all(|(p, s)| *p == "*" || p == s)
}

impl SandboxLms {
    /// Takes one hit from the first pending fault matching the call, dropping the fault once used up.
    pub(crate) fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        self.with_state(|s| {
            let index = s.faults.iter().position(|f| f.count > 0 && f.matches(method, path))?;
            let fault = s.faults[index].clone();
            s.faults[index].count -= 1;
            if s.faults[index].count == 0 {
                s.faults.remove(index);
            }
            Some(fault)
        })
    }

    /// The faults still pending.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.with_state(|s| s.faults.clone())
    }
}

/// The middleware body: consult the fault list (the lock is released before any await), then act.
pub(crate) async fn gate(
    lms: SandboxLms,
    prefix: Arc<str>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let relative = req.path().strip_prefix(&*prefix).unwrap_or(req.path());
    let Some(fault) = lms.take_fault(req.method().as_str(), relative) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    tracing::debug!(method = %req.method(), path = %req.path(), kind = ?fault.kind, "sandbox lms: injected fault");
    let failure = |what: &str| ApiError::internal(format!("injected fault: {what}")).error_response();
    match fault.kind {
        FaultKind::Unavailable => {
            Ok(req.into_response(ApiError::unavailable("injected fault: service unavailable").error_response()))
        }
        FaultKind::Internal => Ok(req.into_response(failure("internal error"))),
        FaultKind::Delay => {
            actix_web::rt::time::sleep(Duration::from_millis(fault.delay_ms)).await;
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        FaultKind::CommitThenInternal => {
            let (req, _committed) = next.call(req).await?.into_parts();
            Ok(ServiceResponse::new(req, failure("internal error after commit")))
        }
        FaultKind::CommitThenDelay => {
            let committed = next.call(req).await?;
            actix_web::rt::time::sleep(Duration::from_millis(fault.delay_ms)).await;
            Ok(committed.map_into_boxed_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_matches_exactly_one_segment() {
        assert!(path_matches("/v1/loans/external/*/repayments", "/v1/loans/external/abc/repayments"));
        assert!(!path_matches("/v1/loans/external/*/repayments", "/v1/loans/external/repayments"));
        assert!(!path_matches("/v1/loans/*", "/v1/loans/external/abc"));
        assert!(path_matches("/v1/loans", "/v1/loans/"));
        assert!(!path_matches("/v1/loans", "/v1/customers"));
    }

    #[test]
    fn methods_match_in_any_case_and_star_matches_all() {
        let fault = Fault::new("post", "/v1/loans", FaultKind::Internal);
        assert!(fault.matches("POST", "/v1/loans"));
        assert!(!fault.matches("GET", "/v1/loans"));
        assert!(Fault::new("*", "/v1/loans", FaultKind::Internal).matches("GET", "/v1/loans"));
    }

    #[test]
    fn hook_bodies_parse_with_defaults() {
        let fault: Fault =
            serde_json::from_str(r#"{"method":"GET","path":"/v1/auth/token","kind":"commit_then_internal"}"#).unwrap();
        assert_eq!((fault.count, fault.delay_ms, fault.kind), (1, 0, FaultKind::CommitThenInternal));
    }
}
