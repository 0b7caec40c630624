//! Sandbox-only hooks under `/sandbox/...` (no auth; JSON in and out): listings of transactions and
//! deliveries, behaviour rules, and the subscriber's answer to a pending collection prompt. Each has a
//! Rust twin on [`SandboxWallet`](super::SandboxWallet).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::Wallet;
use super::errors::WalletError;
use super::lifecycle::Ending;
use super::rules::BehaviourRule;
use super::wire::json_body;

/// `GET /sandbox/transactions` → `{"transactions": [...]}` in creation order.
pub(crate) async fn transactions(Wallet(wallet): Wallet) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "transactions": wallet.transactions() }))
}

/// `GET /sandbox/deliveries` → `{"deliveries": [...]}` in creation order.
pub(crate) async fn deliveries(Wallet(wallet): Wallet) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "deliveries": wallet.deliveries() }))
}

/// `GET /sandbox/rules` → `{"rules": [...]}`, first match first.
pub(crate) async fn rules(Wallet(wallet): Wallet) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "rules": wallet.rules() }))
}

/// `POST /sandbox/rules` with a [`BehaviourRule`] → appends it; `{"rules": [...]}`.
pub(crate) async fn add_rule(Wallet(wallet): Wallet, body: web::Bytes) -> Result<HttpResponse, WalletError> {
    let rule: BehaviourRule = json_body(&body)?;
    rule.check().map_err(WalletError::invalid_request)?;
    wallet.add_rule(rule);
    Ok(HttpResponse::Ok().json(json!({ "rules": wallet.rules() })))
}

/// `DELETE /sandbox/rules` → drops every rule; `{"rules": []}`.
pub(crate) async fn clear_rules(Wallet(wallet): Wallet) -> HttpResponse {
    wallet.clear_rules();
    HttpResponse::Ok().json(json!({ "rules": [] }))
}

/// `POST /sandbox/collections/{reference}/approve` → `200` with the completed collection.
pub(crate) async fn approve(Wallet(wallet): Wallet, req: HttpRequest) -> Result<HttpResponse, WalletError> {
    let view = wallet.resolve_collection(req.match_info().query("reference"), Ending::Complete)?;
    Ok(HttpResponse::Ok().json(view))
}

/// `POST /sandbox/collections/{reference}/decline` → `200` with the failed (`cancelled_by_user`) collection.
pub(crate) async fn decline(Wallet(wallet): Wallet, req: HttpRequest) -> Result<HttpResponse, WalletError> {
    let view = wallet.resolve_collection(req.match_info().query("reference"), Ending::declined())?;
    Ok(HttpResponse::Ok().json(view))
}
