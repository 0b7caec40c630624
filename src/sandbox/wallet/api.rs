//! The generic wallet contract, wallet side (docs/money.md): `POST /payouts`,
//! `POST /collections` and `GET /transactions/{reference}`, with guarantee 1 (idempotent reference)
//! and the behaviour rules deciding how a new request is answered.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Api;
use super::errors::WalletError;
use super::lifecycle;
use super::rules::{first_match, Behaviour};
use super::state::SandboxWallet;
use super::transaction::{TransactionKind, TransactionStatus, TransactionView};
use super::wire::{self, Transfer};

/// What the wallet makes of a valid request.
enum Admission {
    /// Same reference, identical fields: the current object, nothing new.
    Replay(TransactionView),
    /// Recorded as pending, under the behaviour of the matching rule, if any.
    Recorded(TransactionView, Option<Behaviour>),
    /// Nothing recorded (a conflict, or a rule that refuses before recording).
    Refused(WalletError),
}

/// `POST /payouts`.
pub(crate) async fn create_payout(Api(wallet): Api, body: web::Bytes) -> Result<HttpResponse, WalletError> {
    submit(wallet, TransactionKind::Payout, &body).await
}

/// `POST /collections`.
pub(crate) async fn create_collection(Api(wallet): Api, body: web::Bytes) -> Result<HttpResponse, WalletError> {
    submit(wallet, TransactionKind::Collection, &body).await
}

/// `GET /transactions/{reference}`: `200` with the object, else `404 not_found`.
pub(crate) async fn get_transaction(Api(wallet): Api, req: HttpRequest) -> Result<HttpResponse, WalletError> {
    let reference = req.match_info().query("reference");
    wallet
        .transaction(reference)
        .map(|view| HttpResponse::Ok().json(view))
        .ok_or_else(|| WalletError::not_found("no transaction with this reference"))
}

async fn submit(wallet: SandboxWallet, kind: TransactionKind, body: &[u8]) -> Result<HttpResponse, WalletError> {
    let transfer = wire::transfer(kind, body, &wallet.config().currency)?;
    let reference = transfer.reference.clone();
    match wallet.admit(transfer) {
        Admission::Replay(view) => Ok(HttpResponse::Ok().json(view)),
        Admission::Refused(error) => {
            tracing::info!(reference, kind = kind.as_str(), %error, "sandbox wallet: request refused");
            Err(error)
        }
        Admission::Recorded(view, behaviour) => {
            tracing::info!(reference, kind = kind.as_str(), ?behaviour, "sandbox wallet: transaction accepted");
            lifecycle::schedule(&wallet, kind, &reference, behaviour.as_ref());
            match behaviour {
                Some(Behaviour::Timeout { delay_ms }) => {
                    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                    Ok(HttpResponse::Accepted().json(wallet.transaction(&reference).unwrap_or(view)))
                }
                Some(Behaviour::ErrorAfterCommit) => {
                    Err(WalletError::internal("sandbox rule: recorded, then failed to answer"))
                }
                _ => Ok(HttpResponse::Accepted().json(view)),
            }
        }
    }
}

impl SandboxWallet {
    /// Looks the reference up and, if it is new, consults the rules and records it; one lock.
    fn admit(&self, t: Transfer) -> Admission {
        self.with_state(|s| {
            if let Some(existing) = s.get(&t.reference) {
                return if same_fields(existing, &t) {
                    Admission::Replay(existing.clone())
                } else {
                    Admission::Refused(WalletError::reference_conflict())
                };
            }
            let behaviour = first_match(&s.rules, t.kind, &t.msisdn, t.amount);
            match behaviour {
                Some(Behaviour::Reject) => {
                    return Admission::Refused(WalletError::invalid_request("sandbox rule: request rejected"))
                }
                Some(Behaviour::ErrorBeforeCommit) => {
                    return Admission::Refused(WalletError::internal("sandbox rule: failed before recording"))
                }
                Some(Behaviour::Unavailable) => {
                    return Admission::Refused(WalletError::unavailable("sandbox rule: the wallet is unavailable"))
                }
                _ => {}
            }
            let view = TransactionView {
                kind: t.kind,
                reference: Some(t.reference),
                receipt: None,
                account: t.account,
                msisdn: t.msisdn,
                amount: t.amount,
                currency: t.currency,
                status: TransactionStatus::Pending,
                failure_code: None,
                failure_message: None,
                occurred_at: None,
            };
            s.insert(view.clone());
            Admission::Recorded(view, behaviour)
        })
    }
}

/// Guarantee 1's comparison: kind, msisdn, amount (numerically), currency and account.
fn same_fields(view: &TransactionView, t: &Transfer) -> bool {
    view.kind == t.kind
        && view.msisdn == t.msisdn
        && view.amount == t.amount
        && view.currency == t.currency
        && view.account == t.account
}
