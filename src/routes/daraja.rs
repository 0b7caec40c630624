//! Safaricom Daraja callbacks under `/v1/callbacks/daraja/{path_token}/...` (docs/money.md).
//! Daraja does not sign callbacks: the secret path token (compared in constant time; a mismatch is a
//! 404) and the source-IP allow list (403; the caller's address behind `server.trusted_proxies` is the
//! forwarded one, as for every allow-list) are the only proof of origin. Money-bearing callbacks are
//! stored by the same inbox script as every wallet before Daraja's exact acknowledgement is sent.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::netguard::{AllowList, TrustedProxies};
use crate::momo::collect;
use crate::momo::daraja::callbacks::{
    self as cb, classify_bill_ref, parse_b2c_result, parse_c2b_confirmation, parse_queue_timeout, parse_status_result,
    parse_stk_callback, path_token_matches, validate_c2b, BillRef, CallbackRules, CorrelationKey, PayoutResult,
};
use crate::momo::daraja::wallet::collection_for_checkout;
use crate::momo::service::MoneyService;
use crate::momo::store::Ingested;
use crate::momo::{saga, EventKind, InboundEvent, Outcome, Provider, RawCallback, Reference};
use crate::telemetry::redact_digits;

pub struct DarajaCallbacks {
    pub path_token: SecretString,
    pub allowed: AllowList,
    pub proxies: TrustedProxies,
    pub rules: CallbackRules,
    pub money: MoneyService,
}

pub fn configure(cfg: &mut web::ServiceConfig, daraja: Arc<DarajaCallbacks>) {
    cfg.service(
        web::resource("/v1/callbacks/daraja/{token}/{kind}/{step}")
            .app_data(web::Data::from(daraja.clone()))
            .app_data(web::PayloadConfig::new(64 * 1024))
            .route(web::post().to(two_part)),
    )
    .service(
        web::resource("/v1/callbacks/daraja/{token}/stk")
            .app_data(web::Data::from(daraja))
            .app_data(web::PayloadConfig::new(64 * 1024))
            .route(web::post().to(stk)),
    );
}

fn ack(body: &'static [u8]) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(body)
}

/// The origin checks, in the documented order: the token (404), then the source address (403).
fn refusal(request: &HttpRequest, token: &str, daraja: &DarajaCallbacks) -> Option<HttpResponse> {
    if !path_token_matches(daraja.path_token.expose_secret(), token) {
        daraja.money.metrics.callback(PROVIDER, "refused");
        return Some(HttpResponse::NotFound().finish());
    }
    let ip = super::client_ip(request, &daraja.proxies);
    if !daraja.allowed.admits(ip) {
        let peer = request.peer_addr().map(|a| a.ip());
        tracing::warn!(ip = ?ip, peer = ?peer, "Daraja callback from an address outside daraja.allowed_ips");
        daraja.money.metrics.callback(PROVIDER, "refused");
        return Some(HttpResponse::Forbidden().finish());
    }
    None
}

fn raw(request: &HttpRequest, body: &web::Bytes, daraja: &DarajaCallbacks) -> RawCallback {
    RawCallback {
        body: body.to_vec(),
        headers: Default::default(),
        received_at: daraja.money.now(),
        // The address the allow-list judged, so the stored callback says who sent it.
        source_ip: super::client_ip(request, &daraja.proxies).map(|ip| ip.to_string()),
    }
}

/// Runs the inbox script; `Err` means nothing was stored and Daraja must be told to retry.
async fn store(money: &MoneyService, event: InboundEvent, raw: RawCallback) -> Result<(), ()> {
    match money.ingest(event, raw).await {
        Ok((_, outcome)) => {
            money.metrics.callback(PROVIDER, if outcome == Ingested::New { "accepted" } else { "duplicate" });
            Ok(())
        }
        Err(error) => {
            tracing::error!(%error, "Daraja callback not stored");
            money.metrics.callback(PROVIDER, "unavailable");
            Err(())
        }
    }
}

/// The provider label of every Daraja callback.
const PROVIDER: &str = "daraja";

async fn two_part(
    request: HttpRequest,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
    daraja: web::Data<DarajaCallbacks>,
) -> HttpResponse {
    let (token, kind, step) = path.into_inner();
    if let Some(refused) = refusal(&request, &token, &daraja) {
        return refused;
    }
    let money = &daraja.money;
    match (kind.as_str(), step.as_str()) {
        ("c2b", "validation") => {
            // Gateway-local data only, no LMS call; a store failure accepts (validation moves no money).
            let known = match bill_reference(&body, &daraja.rules) {
                Some(reference) => {
                    saga::load(money, &reference).await.map(|s| s.is_some()).unwrap_or(true)
                        || crate::momo::collect::load(money, &reference).await.map(|c| c.is_some()).unwrap_or(true)
                }
                None => false,
            };
            ack(validate_c2b(&body, &daraja.rules, |_| known).ack())
        }
        ("c2b", "confirmation") => match parse_c2b_confirmation(&body, &daraja.rules) {
            Ok(event) => match store(money, event, raw(&request, &body, &daraja)).await {
                Ok(()) => ack(cb::ACK_CONFIRMATION),
                Err(()) => HttpResponse::InternalServerError().finish(),
            },
            Err(error) => {
                tracing::error!(%error, "unreadable C2B confirmation; Pull Transactions must recover it");
                money.metrics.callback(PROVIDER, "invalid");
                HttpResponse::BadRequest().finish()
            }
        },
        ("b2c", "result") => {
            payout_result(&daraja, parse_b2c_result(&body, &daraja.rules.currency), &request, &body).await
        }
        ("status", "result") => {
            payout_result(&daraja, parse_status_result(&body, &daraja.rules.currency), &request, &body).await
        }
        ("b2c" | "status", "timeout") => {
            if let Ok(result) = parse_queue_timeout(&body) {
                // Only our own reference is named: the raw OriginatorConversationID is Daraja's text.
                let ours = result.correlate(|key| match key {
                    CorrelationKey::Reference(reference) => Some(reference.to_string()),
                    CorrelationKey::ConversationId(_) => None,
                });
                let reference = ours.as_deref().unwrap_or("none of ours");
                tracing::warn!(reference, "Daraja queue timeout: the payout stays unknown and is polled");
            }
            ack(cb::ACK_ACCEPTED)
        }
        _ => HttpResponse::NotFound().finish(),
    }
}

fn bill_reference(body: &[u8], rules: &CallbackRules) -> Option<Reference> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    match classify_bill_ref(value.get("BillRefNumber")?.as_str()?, &rules.usable) {
        BillRef::Reference(reference) => Some(reference),
        _ => None,
    }
}

/// A B2C or status result: correlated to our reference, checked against the amount we asked for,
/// then stored as a payout-result event the worker applies to the saga.
async fn payout_result(
    daraja: &DarajaCallbacks,
    parsed: Result<PayoutResult, cb::CallbackError>,
    request: &HttpRequest,
    body: &web::Bytes,
) -> HttpResponse {
    let money = &daraja.money;
    let result = match parsed {
        Ok(result) => result,
        Err(error) => {
            tracing::error!(%error, "unreadable Daraja payout result; polling will settle the payout");
            money.metrics.callback(PROVIDER, "invalid");
            return ack(cb::ACK_ACCEPTED);
        }
    };
    let Some(reference) = result.correlate(|key| match key {
        CorrelationKey::Reference(r) => Some(r.clone()),
        CorrelationKey::ConversationId(_) => None,
    }) else {
        tracing::error!("Daraja payout result matches no payout of ours");
        return ack(cb::ACK_ACCEPTED);
    };
    let outcome = match saga::load(money, &reference).await {
        Ok(Some((_, s))) => result.against(&s.principal),
        Ok(None) => {
            tracing::error!(%reference, "Daraja payout result for a reference we never minted");
            return ack(cb::ACK_ACCEPTED);
        }
        Err(_) => return HttpResponse::InternalServerError().finish(),
    };
    let key = match &outcome {
        Outcome::Succeeded { receipt: Some(receipt), .. } => receipt.clone(),
        Outcome::Failed { .. } => format!("failed:{reference}"),
        other => {
            tracing::warn!(%reference, outcome = ?other, "Daraja payout result is not final; polling continues");
            return ack(cb::ACK_ACCEPTED);
        }
    };
    let event = InboundEvent {
        provider: Provider::Daraja,
        key,
        kind: EventKind::PayoutResult,
        reference: Some(reference),
        receipt: match &outcome {
            Outcome::Succeeded { receipt, .. } => receipt.clone(),
            _ => None,
        },
        account: None,
        msisdn: None,
        amount: None,
        occurred_at: match &outcome {
            Outcome::Succeeded { occurred_at, .. } => *occurred_at,
            _ => None,
        },
        outcome,
    };
    match store(money, event, raw(request, body, daraja)).await {
        Ok(()) => ack(cb::ACK_ACCEPTED),
        Err(()) => HttpResponse::InternalServerError().finish(),
    }
}

/// An STK result, matched to its collection by `CheckoutRequestID`. A paid prompt becomes an inbox
/// event for the collection's loan (or, matching no collection, a payment allocated by the payer's
/// number); a failed one marks the collection failed.
async fn stk(
    request: HttpRequest,
    token: web::Path<String>,
    body: web::Bytes,
    daraja: web::Data<DarajaCallbacks>,
) -> HttpResponse {
    if let Some(refused) = refusal(&request, &token, &daraja) {
        return refused;
    }
    let money = &daraja.money;
    match parse_stk_callback(&body, &daraja.rules) {
        Ok(callback) => {
            let reference = collection_for_checkout(&money.store, &callback.checkout_request_id).await;
            let account = match &reference {
                Some(r) => collect::load(money, r).await.ok().flatten().map(|(_, c)| c.loan_external_id),
                None => None,
            };
            if let (Some(reference), Outcome::Failed { .. }) = (&reference, &callback.outcome) {
                if let Err(error) = collect::on_outcome(money, reference, callback.outcome.clone()).await {
                    tracing::warn!(%error, %reference, "could not record a failed STK prompt");
                }
            }
            match callback.event(reference.clone(), account) {
                Some(event) => {
                    if reference.is_none() {
                        tracing::warn!("STK payment matched no collection; allocating it by phone number");
                    }
                    match store(money, event, raw(&request, &body, &daraja)).await {
                        Ok(()) => ack(cb::ACK_ACCEPTED),
                        Err(()) => HttpResponse::InternalServerError().finish(),
                    }
                }
                None => {
                    tracing::info!(code = %redact_digits(&callback.result_code), "STK prompt not paid");
                    ack(cb::ACK_ACCEPTED)
                }
            }
        }
        Err(error) => {
            tracing::error!(%error, "unreadable STK callback");
            money.metrics.callback(PROVIDER, "invalid");
            ack(cb::ACK_ACCEPTED)
        }
    }
}
