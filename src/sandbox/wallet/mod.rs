//! The sandbox wallet: an in-process actix-web simulator of a mobile-money wallet speaking the generic
//! wallet contract (docs/money.md of the mobile-money spec), wallet side, for local runs and tests.
//!
//! [`scope`] mounts it under a prefix: the gateway uses `"/sandbox/wallet"`, a standalone server `""`.
//! Its signed callbacks go to the `callback_url` given to [`SandboxWallet::new`].
//!
//! # Contract routes (relative to the prefix; `Authorization: Bearer <api_key>`, else `401 unauthorized`)
//!
//! | Route | Answers |
//! |---|---|
//! | `POST /payouts` | `202` new (pending), `200` replay, `400 invalid_request`, `409 reference_conflict` |
//! | `POST /collections` | The same; `account` is required |
//! | `GET /transactions/{reference}` | `200` transaction object, `404 not_found` |
//!
//! A new payout completes after `payout_delay`; a collection is approved after `collection_approve_delay`.
//! Each final status sends exactly one `payout.*` / `collection.*` callback.
//!
//! # Sandbox hooks (relative to the prefix; no auth)
//!
//! | Route | Body | Effect |
//! |---|---|---|
//! | `POST /payments` | `{"msisdn", "amount", "currency"?, "account"?}` | A completed `payment` + `payment.received`; `202` with it |
//! | `GET /sandbox/transactions` | — | `{"transactions": [...]}` |
//! | `GET /sandbox/deliveries` | — | `{"deliveries": [...]}` ([`DeliveryView`]) |
//! | `GET /sandbox/rules` | — | `{"rules": [...]}` |
//! | `POST /sandbox/rules` | a [`BehaviourRule`] | Appends it; `{"rules": [...]}` |
//! | `DELETE /sandbox/rules` | — | Drops every rule, configured ones too |
//! | `POST /sandbox/collections/{reference}/approve` | — | Completes a pending collection now; `200` with it |
//! | `POST /sandbox/collections/{reference}/decline` | — | Fails it `cancelled_by_user` now; `200` with it |
//!
//! Anything else under the prefix answers `404 {"error": "not_found"}`. Every error body is
//! `{"error", "message"}`.
//!
//! # Behaviour choices where the contract is silent
//! - Rules apply only to a reference the wallet has not seen; a replay or conflict is always answered
//!   per guarantee 1 (so after `error_after_commit`, re-POSTing gets `200` with the object).
//! - `description` is checked (≤ 100 characters) and dropped; payouts ignore an `account`; unknown
//!   request fields are ignored, but the sandbox hooks refuse them.
//! - MSISDNs must be E.164 digits without `+`, 8 to 15 long, not starting with `0`.
//! - `GET /transactions/{reference}` answers `404` for a malformed reference too (it was never recorded).
//! - Approving or declining a collection that already ended is `409 not_pending`; a reference that is
//!   not a collection is `404`.
//! - Payments never consult rules; `/payments` accepts the amount as a JSON number too, read exactly,
//!   under the same pattern (no exponent). Receipts are `SB` + 8 upper-case alphanumerics.
//! - `delivery_retry_delays[0]` precedes the first attempt, so the list length is the number of attempts.

mod api;
mod auth;
mod delivery;
mod errors;
mod hooks;
mod ids;
mod lifecycle;
mod payments;
mod rules;
mod settings;
mod state;
mod transaction;
mod wire;

#[cfg(test)]
mod tests;

use actix_web::web;

pub use delivery::DeliveryView;
pub use rules::{Behaviour, BehaviourRule};
pub use settings::{SandboxWalletSettings, DEFAULT_WEBHOOK_SECRET};
pub use state::SandboxWallet;
pub use transaction::{TransactionKind, TransactionStatus, TransactionView};

/// Mounts every route of the wallet under `prefix` (e.g. `"/sandbox/wallet"`, or `""` standalone).
pub fn scope(prefix: &str, wallet: SandboxWallet) -> actix_web::Scope {
    web::scope(prefix)
        .app_data(wallet)
        .route("/payouts", web::post().to(api::create_payout))
        .route("/collections", web::post().to(api::create_collection))
        .route("/transactions/{reference}", web::get().to(api::get_transaction))
        .route("/payments", web::post().to(payments::post))
        .route("/sandbox/transactions", web::get().to(hooks::transactions))
        .route("/sandbox/deliveries", web::get().to(hooks::deliveries))
        .route("/sandbox/rules", web::get().to(hooks::rules))
        .route("/sandbox/rules", web::post().to(hooks::add_rule))
        .route("/sandbox/rules", web::delete().to(hooks::clear_rules))
        .route("/sandbox/collections/{reference}/approve", web::post().to(hooks::approve))
        .route("/sandbox/collections/{reference}/decline", web::post().to(hooks::decline))
        .default_service(web::to(errors::no_route))
}
