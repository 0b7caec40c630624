//! The sandbox LMS: an in-process actix-web simulator of the partner loan-management API (the LMS
//! contract's docs/lms.md), for local runs and tests.
//!
//! [`scope`] mounts everything under a prefix; the gateway uses `"/sandbox/lms"` on its own port, a
//! standalone server uses `""`. Several instances can coexist: each scope carries its own [`SandboxLms`].
//!
//! # Generations and quirks
//!
//! The partner's published docs come from two generations that disagree, and a lender may run either.
//! [`SandboxLmsSettings::generation`] picks one per instance ([`SandboxGeneration`]):
//!
//! | | `current` (default) | `legacy` |
//! |---|---|---|
//! | Loan create `customerId` | the customer's externalId (a string) | the integer LMS id (¹) |
//! | Repayment body | amount, `transactionDate`, `idempotencyKey` (dedupes) | amount only (²) |
//! | `POST .../rollback` | served | an unknown route: `404 not_found` |
//! | `GET /v1/loans/external/{ext}/repayments` | served | an unknown route: `404 not_found` |
//!
//! (¹) A JSON integer or an all-digit string, looked up as an LMS id: no such customer is `404 not_found`,
//! any other value `400 invalid_argument` on `customerId`. (²) The transaction is dated with the business
//! date and every post is a new transaction; `transactionDate` and `idempotencyKey` are not read.
//!
//! Everything else (reads with `repaymentHistory` newest first, undo-disbursal, undo-approval, delete,
//! `GET .../repayments/{transactionId}`) is the same in both. [`SandboxLmsSettings::quirks`]
//! ([`SandboxQuirks`]) adds what the docs show on top, each off by default: `ignore_idempotency_key`
//! (current generation behaves like legacy on keys), `empty_next_due` (`"nextDueDate": ""` and
//! `"nextDueAmount": 0` when nothing is due, instead of `null`) and `docs_fee_names` (`feeCharged`, …,
//! `penaltyOutstanding` instead of Fineract's `feeChargesCharged`, …, `penaltyChargesOutstanding`).
//!
//! Seeded products ([`SeedProduct`]) may lack `min_principal` / `max_principal` (served as `null`) or have
//! a `status` other than `active`; such a product is listed but refuses loans. Its `interest_rule`
//! ([`InterestRule`]) is `flat` or `daily_basis_points` (the docs' loan example: 5000 at 11 over
//! 7 days charges 38.5).
//!
//! # API routes (relative to the prefix; all but the token route need `Authorization: Bearer <token>`)
//!
//! | Route | Purpose |
//! |---|---|
//! | `GET /v1/auth/token` | HTTP Basic → `{"token"}` (JWT-shaped, dummy signature) |
//! | `POST /v1/customers` | Create a customer (`200`) |
//! | `GET /v1/customers/external/{externalId}`, `GET /v1/customers/{id}` | Read a customer |
//! | `GET /v1/customers?externalId=&page=&rows=&orderBy=&sortOrder=` | Point lookup or paged list |
//! | `POST /v1/customers/external/{externalId}/close` | Close a customer (admin; makes it inactive) |
//! | `GET /v1/loan-products` | `{"items": [...]}` |
//! | `GET /v1/credit-scorecard/{externalId}` | Scorecard with live debt totals |
//! | `POST /v1/loans` | Create (`externalId` optional) |
//! | `GET /v1/loans?customerExternalId=\|customerId=&status=&page=&rows=` | List |
//! | `GET\|DELETE /v1/loans/external/{ext}`, `GET\|DELETE /v1/loans/{id}` | Read, delete (pending only, `204`) |
//! | `POST /v1/loans/{external/{ext}\|{id}}/rollback` | Unwind in one call (current generation only) |
//! | `POST /v1/loans/{external/{ext}\|{id}}/undo-disbursal`, `.../undo-approval` | Unwind step by step |
//! | `POST /v1/loans/external/{ext}/adjust-disbursement-date` | Move the disbursal date |
//! | `POST /v1/loans/{external/{ext}\|{id}}/repayments` | Repay (current: idempotent per `idempotencyKey`) |
//! | `GET /v1/loans/{external/{ext}\|{id}}/repayments/{transactionId}` | Read one repayment |
//! | `GET /v1/loans/external/{ext}/repayments` | List repayments, newest first (current generation only) |
//!
//! Anything else under the prefix answers `404 {"code": "not_found"}`, without looking at the token.
//!
//! # Test hooks (relative to the prefix; no auth, never hit by injected faults; JSON in and out)
//!
//! | Route | Body | Effect |
//! |---|---|---|
//! | `GET /sandbox/clock` | — | `{"today"}` |
//! | `POST /sandbox/clock` | `{"today": "YYYY-MM-DD"}` or `{"advanceDays": n}` | Pins the business date; `{"today"}` |
//! | `POST /sandbox/tokens/revoke` | — | Revokes every issued token; `{"revoked": n}` |
//! | `POST /sandbox/faults` | `{"method", "path", "kind", "count"?, "delayMs"?}` | Queues a [`Fault`]; `{"faults": [...]}` |
//! | `GET /sandbox/faults` | — | Pending faults |
//! | `DELETE /sandbox/faults` | — | Clears every fault, including a rollback stop |
//! | `POST /sandbox/faults/rollback` | `{"stopAfterSteps": k}` | The next rollback runs `k` steps, then `500 internal` |
//! | `POST /sandbox/faults/scorecard-best-effort` | `{"enabled": bool}` | Scorecard reports no debt (0 outstanding and paid) |
//! | `PUT /sandbox/scorecards/{externalId}` | `{"grade", "creditScore", "creditLimit"}` | Sets one number's scorecard |
//! | `POST /sandbox/loans` | `{"customerExternalId", "productId", "principal"}` | Seeds a loan (³); the loan |
//! | `POST /sandbox/reset` | — | Forgets customers, loans, tokens, faults, overrides and the pinned date |
//!
//! (³) Active, with no `externalId`, created with loan create's rules whatever the generation.
//!
//! Fault `kind` is `unavailable` (503), `internal` (500), `delay` (wait `delayMs`, then normal) or
//! `commit_then_internal` (the write lands, the caller sees 500) or `commit_then_delay` (the write lands, the
//! answer waits `delayMs`, so a caller with a shorter timeout sees a timeout). `path` is relative to the prefix with
//! `*` matching exactly one segment, e.g. `/v1/loans/external/*/repayments`; `method` may be `*`. A fault
//! hits the next `count` (default 1) matching calls, including `GET /v1/auth/token`.
//!
//! Rust twins for in-process tests: [`SandboxLms::set_today`], [`SandboxLms::advance_days`],
//! [`SandboxLms::clear_today`], [`SandboxLms::revoke_tokens`], [`SandboxLms::inject_fault`],
//! [`SandboxLms::pending_faults`], [`SandboxLms::clear_faults`], [`SandboxLms::stop_next_rollback_after`],
//! [`SandboxLms::set_scorecard_best_effort`], [`SandboxLms::set_scorecard`],
//! [`SandboxLms::seed_loan_without_external_id`] and [`SandboxLms::reset`].
//!
//! # Behaviour choices where the contract is silent
//! - Non-`invalid_argument` messages read `lms: status=NNN: <sentence>`, like the real wrapper's.
//! - Loan create checks, in order: fields (`invalid_argument`), product and customer (`not_found`), a
//!   product that cannot lend (missing bound or not `active`: `invalid_argument` on `productId`), principal
//!   range (`invalid_argument`), inactive customer and duplicate externalId (`aborted`). `productId` may
//!   also be a string. ExternalIds longer than 100 characters are refused.
//! - A loan without an externalId has no `externalId` key at all (not `null`), in every response.
//! - Only an `Active` loan has a next due or can be overdue: settled loans (`Closed (obligations met)`,
//!   `Overpaid`) and loans mid-rollback read with no next due and `overdue: false`.
//! - Daily interest ignores `interestRateFrequencyType`; both interest rules split instalments as docs/lms.md
//!   does (whole-unit shares, the last instalment takes the exact remainders).
//! - Where a repayment field is not honoured (legacy, or the key quirk) it is not read at all: a wrong
//!   type or an overlong key there is not refused. Where it is honoured, a non-string value is
//!   `invalid_argument` on that field.
//! - Legacy reads any all-digit `customerId` as an LMS id, so an MSISDN-like externalId sent there is
//!   `not_found`, as is a digit string too long for any id.
//! - A product is active when its `status` is `active` in any letter case.
//! - Reading one repayment by LMS id (`GET /v1/loans/{id}/repayments/{transactionId}`) is served in both
//!   generations: both generations' pages list it, and a loan without an externalId has no other form.
//! - A repayment's `idempotencyKey` is looked up right after the loan, before amount, date and status
//!   checks; an empty key counts as none.
//! - A `status` filter scans at most the first 1000 of the customer's loans, like the real API.
//!   `customerId` together with `customerExternalId` is `invalid_argument`.
//! - Ids are per-resource counters that keep counting across a reset; `accountNo` is the id padded to 9.
//! - `rows < 1` is refused like `rows > 100`; an empty `page`/`rows` means the default.
//! - `orderBy` values a list does not know sort by `id`; `sortOrder` other than `DESC` sorts ascending.
//! - Loans mid-rollback (`Approved`, `Submitted and pending approval`) show zero balances.
//! - Repayments are listed in posting order, newest first; backdating is not refused.
//! - The best-effort scorecard fault zeroes `totalPaid` as well as `totalOutstanding`.
//! - A rollback stop of `k` steps that covers every remaining step lets the rollback finish normally.

mod adjust;
mod auth;
mod back_office;
mod customers;
mod errors;
mod faults;
mod generation;
mod hooks;
mod interest;
mod loan_view;
mod loans;
mod paging;
mod params;
mod products;
mod records;
mod repayments;
mod rollback;
mod schedule;
mod scorecard;
mod settings;
mod state;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use actix_web::middleware::from_fn;
use actix_web::web;

pub use faults::{Fault, FaultKind};
pub use generation::{SandboxGeneration, SandboxQuirks};
pub use interest::InterestRule;
pub use settings::{SandboxLmsSettings, ScorecardEntry, SeedProduct};
pub use state::SandboxLms;

/// Mounts every route of the sandbox under `prefix` (e.g. `"/sandbox/lms"`, or `""` standalone).
pub fn scope(prefix: &str, lms: SandboxLms) -> actix_web::Scope {
    let mount: Arc<str> = Arc::from(prefix);
    let gate_lms = lms.clone();
    let full_routes = lms.config().generation.has_rollback_and_repayment_list();
    // The API lives in an inner scope so that only it sits behind the fault middleware.
    let mut api = web::scope("")
        .wrap(from_fn(move |req, next| faults::gate(gate_lms.clone(), mount.clone(), req, next)))
        .route("/v1/auth/token", web::get().to(auth::issue))
        .route("/v1/customers", web::post().to(customers::create))
        .route("/v1/customers", web::get().to(customers::list))
        .route("/v1/customers/external/{externalId}", web::get().to(customers::get_external))
        .route("/v1/customers/external/{externalId}/close", web::post().to(customers::close))
        .route("/v1/customers/{id}", web::get().to(customers::get_by_id))
        .route("/v1/loan-products", web::get().to(products::list))
        .route("/v1/credit-scorecard/{externalId}", web::get().to(scorecard::get))
        .route("/v1/loans", web::post().to(loans::create))
        .route("/v1/loans", web::get().to(loans::list))
        .route("/v1/loans/external/{ext}", web::get().to(loans::get))
        .route("/v1/loans/external/{ext}", web::delete().to(rollback::delete_route))
        .route("/v1/loans/external/{ext}/undo-disbursal", web::post().to(rollback::undo_disbursal_route))
        .route("/v1/loans/external/{ext}/undo-approval", web::post().to(rollback::undo_approval_route))
        .route("/v1/loans/external/{ext}/adjust-disbursement-date", web::post().to(adjust::adjust_route))
        .route("/v1/loans/external/{ext}/repayments", web::post().to(repayments::post))
        .route("/v1/loans/external/{ext}/repayments/{transactionId}", web::get().to(repayments::get))
        .route("/v1/loans/{id}", web::get().to(loans::get))
        .route("/v1/loans/{id}", web::delete().to(rollback::delete_route))
        .route("/v1/loans/{id}/undo-disbursal", web::post().to(rollback::undo_disbursal_route))
        .route("/v1/loans/{id}/undo-approval", web::post().to(rollback::undo_approval_route))
        .route("/v1/loans/{id}/repayments", web::post().to(repayments::post))
        .route("/v1/loans/{id}/repayments/{transactionId}", web::get().to(repayments::get));
    // The legacy generation has no such routes: left unregistered, they fall through to the catch-all
    // exactly like any unknown route (no auth check, `404 not_found`), which is what a client meets there.
    if full_routes {
        api = api
            .route("/v1/loans/external/{ext}/rollback", web::post().to(rollback::rollback))
            .route("/v1/loans/{id}/rollback", web::post().to(rollback::rollback))
            .route("/v1/loans/external/{ext}/repayments", web::get().to(repayments::list));
    }
    let api = api.default_service(web::to(errors::no_route));
    // Hooks are registered before the catch-all inner scope so they match first.
    web::scope(prefix)
        .app_data(lms)
        .route("/sandbox/clock", web::get().to(hooks::clock))
        .route("/sandbox/clock", web::post().to(hooks::set_clock))
        .route("/sandbox/tokens/revoke", web::post().to(hooks::revoke_tokens))
        .route("/sandbox/faults", web::post().to(hooks::add_fault))
        .route("/sandbox/faults", web::get().to(hooks::list_faults))
        .route("/sandbox/faults", web::delete().to(hooks::clear_faults))
        .route("/sandbox/faults/rollback", web::post().to(hooks::rollback_fault))
        .route("/sandbox/faults/scorecard-best-effort", web::post().to(hooks::scorecard_best_effort))
        .route("/sandbox/scorecards/{externalId}", web::put().to(hooks::put_scorecard))
        .route("/sandbox/loans", web::post().to(back_office::seed_loan))
        .route("/sandbox/reset", web::post().to(hooks::reset))
        .service(api)
}
