//! The operators' JSON API under `/admin`, behind a bearer token (`admin.token`): the suspense list
//! with a re-drive, the reconciliation list, overpayments and the state of any disbursement or
//! collection. `mkopo suspense ...` and `mkopo recon list` are thin clients of it.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;

use super::json_error;
use crate::momo::records::{EventRecord, EventState, PartStatus};
use crate::momo::service::MoneyService;
use crate::momo::store::OpsList;
use crate::momo::{collect, saga, Reference};

pub struct Admin {
    pub token: SecretString,
    pub money: MoneyService,
}

pub fn configure(cfg: &mut web::ServiceConfig, admin: Arc<Admin>) {
    cfg.service(
        web::scope("/admin")
            .app_data(web::Data::from(admin))
            .route("/suspense", web::get().to(list_suspense))
            .route("/suspense/{id}/retry", web::post().to(retry_suspense))
            .route("/reconciliation", web::get().to(list_reconciliation))
            .route("/overpaid", web::get().to(list_overpaid))
            .route("/disbursements/{reference}", web::get().to(disbursement))
            .route("/collections/{reference}", web::get().to(collection)),
    );
}

/// The refusal for a request without the right bearer token (compared in constant time), if any.
fn refusal(request: &HttpRequest, admin: &Admin) -> Option<HttpResponse> {
    let expected = admin.token.expose_secret();
    if expected.is_empty() {
        return Some(json_error(
            StatusCode::NOT_FOUND,
            "admin_disabled",
            "the admin API is off (admin.token is empty)",
        ));
    }
    (!super::bearer_matches(request, expected))
        .then(|| json_error(StatusCode::UNAUTHORIZED, "unauthorized", "a valid admin bearer token is required"))
}

/// A text that is no reference of ours: 404 when it has a reference's shape (we hold none by that
/// name), 400 when it cannot be one at all.
fn unknown_reference(typed: &str) -> HttpResponse {
    if Reference::well_formed(typed) {
        json_error(StatusCode::NOT_FOUND, "not_found", "no such reference (its check digit is not one we mint)")
    } else {
        json_error(StatusCode::BAD_REQUEST, "invalid_reference", "not an mkopo reference: L or C and ten digits")
    }
}

fn age_secs(since: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - since).num_seconds().max(0)
}

#[derive(Serialize)]
struct SuspenseItem {
    id: String,
    reason: Option<String>,
    amount: Option<String>,
    currency: Option<String>,
    receipt: Option<String>,
    account: Option<String>,
    msisdn: Option<String>,
    parts: Vec<serde_json::Value>,
    age_secs: i64,
}

async fn list_suspense(request: HttpRequest, admin: web::Data<Admin>) -> HttpResponse {
    if let Some(refused) = refusal(&request, &admin) {
        return refused;
    }
    let money = &admin.money;
    let members = match money.store.list_members(OpsList::Suspense).await {
        Ok(m) => m,
        Err(e) => return json_error(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string()),
    };
    let now = money.now();
    let mut items = Vec::new();
    for (id, since) in members {
        let record = money.store.load_event(&id).await.ok().flatten().and_then(|b| EventRecord::from_bytes(&b).ok());
        let parts = record
            .as_ref()
            .map(|r| r.plan.iter().map(|p| json!({ "loan": p.part.loan_external_id, "amount": p.part.amount.amount.to_string(), "key": p.part.idempotency_key, "status": p.status })).collect())
            .unwrap_or_default();
        items.push(SuspenseItem {
            reason: record.as_ref().and_then(|r| r.suspense.clone()),
            amount: record.as_ref().and_then(|r| r.event.amount.as_ref().map(|m| m.amount.to_string())),
            currency: record.as_ref().and_then(|r| r.event.amount.as_ref().map(|m| m.currency.clone())),
            receipt: record.as_ref().and_then(|r| r.event.receipt.clone()),
            account: record.as_ref().and_then(|r| r.event.account.clone()),
            msisdn: record.as_ref().and_then(|r| r.event.msisdn.as_ref().map(|m| m.masked())),
            parts,
            age_secs: age_secs(since, now),
            id,
        });
    }
    HttpResponse::Ok().json(json!({ "items": items }))
}

/// Re-drives a suspended event: parts the LMS refused go back to pending (posted parts stay posted,
/// their keys unchanged); an event that never found a loan is allocated afresh.
async fn retry_suspense(request: HttpRequest, id: web::Path<String>, admin: web::Data<Admin>) -> HttpResponse {
    if let Some(refused) = refusal(&request, &admin) {
        return refused;
    }
    let money = &admin.money;
    let id = id.into_inner();
    let record = match money.store.load_event(&id).await {
        Ok(Some(bytes)) => EventRecord::from_bytes(&bytes),
        Ok(None) => return json_error(StatusCode::NOT_FOUND, "not_found", "no such event"),
        Err(e) => return json_error(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string()),
    };
    let Ok(mut record) = record else {
        return json_error(StatusCode::CONFLICT, "corrupt", "the stored event cannot be read");
    };
    if record.state != EventState::Suspense {
        return json_error(StatusCode::CONFLICT, "not_in_suspense", format!("the event is {:?}", record.state));
    }
    let refused_parts = record.plan.iter().any(|p| matches!(p.status, PartStatus::Suspense { .. }));
    if refused_parts {
        for part in &mut record.plan {
            if matches!(part.status, PartStatus::Suspense { .. }) {
                part.status = PartStatus::Pending;
            }
        }
        record.state = EventState::Planned;
    } else {
        record.plan.clear();
        record.state = EventState::Received;
    }
    record.suspense = None;
    record.updated_at = money.now();
    let saved = async {
        money.store.save_event(&id, &record.to_bytes()).await?;
        money.store.list_remove(OpsList::Suspense, &id).await?;
        money.store.enqueue(&id).await
    };
    match saved.await {
        Ok(()) => {
            tracing::info!(event = id, "suspended event re-driven by an operator");
            HttpResponse::Accepted().json(json!({ "id": id, "state": record.state }))
        }
        Err(e) => json_error(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string()),
    }
}

async fn list_reconciliation(request: HttpRequest, admin: web::Data<Admin>) -> HttpResponse {
    if let Some(refused) = refusal(&request, &admin) {
        return refused;
    }
    let money = &admin.money;
    let members = match money.store.list_members(OpsList::Reconciliation).await {
        Ok(m) => m,
        Err(e) => return json_error(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string()),
    };
    let now = money.now();
    let mut items = Vec::new();
    for (member, since) in members {
        let saga = match Reference::parse(&member) {
            Some(r) => saga::load(money, &r).await.ok().flatten().map(|(_, s)| s),
            None => None,
        };
        items.push(json!({
            "reference": member,
            "phase": saga.as_ref().map(|s| s.phase),
            "amount": saga.as_ref().map(|s| s.principal.amount.to_string()),
            "currency": saga.as_ref().map(|s| s.principal.currency.clone()),
            "msisdn": saga.as_ref().map(|s| s.msisdn.masked()),
            "reason": saga.as_ref().and_then(|s| s.reason.clone()),
            "age_secs": age_secs(since, now),
        }));
    }
    HttpResponse::Ok().json(json!({ "items": items }))
}

async fn list_overpaid(request: HttpRequest, admin: web::Data<Admin>) -> HttpResponse {
    if let Some(refused) = refusal(&request, &admin) {
        return refused;
    }
    let money = &admin.money;
    match money.store.list_members(OpsList::Overpaid).await {
        Ok(members) => {
            let now = money.now();
            let items: Vec<_> =
                members.into_iter().map(|(m, at)| json!({ "id": m, "age_secs": age_secs(at, now) })).collect();
            HttpResponse::Ok().json(json!({ "items": items }))
        }
        Err(e) => json_error(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string()),
    }
}

async fn disbursement(request: HttpRequest, reference: web::Path<String>, admin: web::Data<Admin>) -> HttpResponse {
    if let Some(refused) = refusal(&request, &admin) {
        return refused;
    }
    let Some(reference) = Reference::parse(&reference) else {
        return unknown_reference(&reference);
    };
    match saga::load(&admin.money, &reference).await {
        Ok(Some((_, saga))) => HttpResponse::Ok().json(json!({
            "reference": saga.reference, "phase": saga.phase, "amount": saga.principal.amount.to_string(),
            "currency": saga.principal.currency, "msisdn": saga.msisdn.masked(), "loan_id": saga.loan_id,
            "receipt": saga.receipt, "reason": saga.reason, "polls": saga.polls, "superseded_by": saga.superseded_by,
            "created_at": saga.created_at, "updated_at": saga.updated_at,
        })),
        Ok(None) => json_error(StatusCode::NOT_FOUND, "not_found", "no such disbursement"),
        Err(e) => json_error(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string()),
    }
}

async fn collection(request: HttpRequest, reference: web::Path<String>, admin: web::Data<Admin>) -> HttpResponse {
    if let Some(refused) = refusal(&request, &admin) {
        return refused;
    }
    let Some(reference) = Reference::parse(&reference) else {
        return unknown_reference(&reference);
    };
    match collect::load(&admin.money, &reference).await {
        Ok(Some((_, c))) => HttpResponse::Ok().json(json!({
            "reference": c.reference, "state": c.state, "amount": c.amount.amount.to_string(), "currency": c.amount.currency,
            "loan": c.loan_external_id, "msisdn": c.msisdn.masked(), "receipt": c.receipt, "reason": c.reason,
            "created_at": c.created_at, "updated_at": c.updated_at,
        })),
        Ok(None) => json_error(StatusCode::NOT_FOUND, "not_found", "no such collection"),
        Err(e) => json_error(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string()),
    }
}
