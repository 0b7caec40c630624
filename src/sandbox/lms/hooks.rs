//! Sandbox-only test hooks under `/sandbox/...` (no auth, never faulted): the business clock, token
//! revocation, fault injection, scorecard overrides and reset. Each has a Rust twin on [`SandboxLms`](super::SandboxLms).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;

use super::auth::Lms;
use super::errors::ApiError;
use super::faults::Fault;
use super::params::{json_body, path_param};
use super::scorecard::check_key;
use super::settings::ScorecardEntry;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClockBody {
    today: Option<NaiveDate>,
    advance_days: Option<i64>,
}

/// `GET /sandbox/clock` → `{"today"}`.
pub(crate) async fn clock(Lms(lms): Lms) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "today": lms.today() }))
}

/// `POST /sandbox/clock` with `{"today": "YYYY-MM-DD"}` or `{"advanceDays": n}` → `{"today"}`.
pub(crate) async fn set_clock(Lms(lms): Lms, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: ClockBody = json_body(&body)?;
    let today = match (body.today, body.advance_days) {
        (Some(date), None) => {
            lms.set_today(date);
            date
        }
        (None, Some(days)) => lms
            .advance_days(days)
            .ok_or_else(|| ApiError::invalid_field("advanceDays", "moves the date out of range"))?,
        _ => return Err(ApiError::invalid_field("body", "give exactly one of today or advanceDays")),
    };
    Ok(HttpResponse::Ok().json(json!({ "today": today })))
}

/// `POST /sandbox/tokens/revoke` → `{"revoked": n}`.
pub(crate) async fn revoke_tokens(Lms(lms): Lms) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "revoked": lms.revoke_tokens() }))
}

/// `POST /sandbox/faults` with a [`Fault`] → `{"faults": [pending...]}`.
pub(crate) async fn add_fault(Lms(lms): Lms, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let fault: Fault = json_body(&body)?;
    if !fault.path.starts_with('/') {
        return Err(ApiError::invalid_field("path", "must start with / (relative to the mount prefix)"));
    }
    if fault.method.is_empty() {
        return Err(ApiError::invalid_field("method", "required"));
    }
    if fault.count == 0 {
        return Err(ApiError::invalid_field("count", "must be at least 1"));
    }
    lms.inject_fault(fault);
    Ok(HttpResponse::Ok().json(json!({ "faults": lms.pending_faults() })))
}

/// `GET /sandbox/faults` → `{"faults": [pending...]}`.
pub(crate) async fn list_faults(Lms(lms): Lms) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "faults": lms.pending_faults() }))
}

/// `DELETE /sandbox/faults` → `{"faults": []}`; also drops a pending rollback stop.
pub(crate) async fn clear_faults(Lms(lms): Lms) -> HttpResponse {
    lms.clear_faults();
    HttpResponse::Ok().json(json!({ "faults": [] }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RollbackFaultBody {
    stop_after_steps: u32,
}

/// `POST /sandbox/faults/rollback` with `{"stopAfterSteps": k}` → echoes it.
pub(crate) async fn rollback_fault(Lms(lms): Lms, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: RollbackFaultBody = json_body(&body)?;
    lms.stop_next_rollback_after(body.stop_after_steps);
    Ok(HttpResponse::Ok().json(json!({ "stopAfterSteps": body.stop_after_steps })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SwitchBody {
    enabled: bool,
}

/// `POST /sandbox/faults/scorecard-best-effort` with `{"enabled": bool}` → echoes it.
pub(crate) async fn scorecard_best_effort(Lms(lms): Lms, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: SwitchBody = json_body(&body)?;
    lms.set_scorecard_best_effort(body.enabled);
    Ok(HttpResponse::Ok().json(json!({ "enabled": body.enabled })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ScorecardBody {
    grade: String,
    credit_score: u32,
    #[serde(with = "crate::domain::money::number")]
    credit_limit: Decimal,
}

/// `PUT /sandbox/scorecards/{externalId}` with `{"grade", "creditScore", "creditLimit"}` → echoes it.
pub(crate) async fn put_scorecard(Lms(lms): Lms, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let key = path_param(&req, "externalId")?;
    check_key(&key)?;
    let body: ScorecardBody = json_body(&body)?;
    let echo = json!({
        "externalId": key,
        "grade": body.grade,
        "creditScore": body.credit_score,
        "creditLimit": crate::domain::money::to_number(&body.credit_limit),
    });
    lms.set_scorecard(
        &key,
        ScorecardEntry { grade: body.grade, credit_score: body.credit_score, credit_limit: body.credit_limit },
    );
    Ok(HttpResponse::Ok().json(echo))
}

/// `POST /sandbox/reset` → `{"reset": true}`.
pub(crate) async fn reset(Lms(lms): Lms) -> HttpResponse {
    lms.reset();
    HttpResponse::Ok().json(json!({ "reset": true }))
}
