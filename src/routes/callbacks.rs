//! `POST /v1/callbacks/{wallet}`: wallet callbacks in mkopo's generic contract (docs/money.md). The raw body is verified before it is parsed, stored durably by the inbox script, and only
//! then acknowledged; a duplicate gets the byte-identical acknowledgement and changes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::momo::generic::{self, CallbackError};
use crate::momo::service::MoneyService;
use crate::momo::signature::WebhookSecret;
use crate::momo::store::Ingested;
use crate::momo::RawCallback;

/// Headers kept with the raw callback; everything else is dropped.
const KEPT_HEADERS: &[&str] = &["webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "user-agent"];
/// Bodies above the contract's 64 KiB are refused by the adapter with a 413; actix stops reading here.
const READ_LIMIT: usize = 256 * 1024;

/// One configured generic wallet, as the callback route needs it.
pub struct CallbackWallet {
    pub secrets: Vec<WebhookSecret>,
    pub tolerance_secs: i64,
    pub country_code: String,
}

pub struct Callbacks {
    pub wallets: BTreeMap<String, CallbackWallet>,
    pub money: MoneyService,
}

pub fn configure(cfg: &mut web::ServiceConfig, callbacks: Arc<Callbacks>) {
    cfg.app_data(web::Data::from(callbacks)).service(
        web::resource("/v1/callbacks/{wallet}")
            .app_data(web::PayloadConfig::new(READ_LIMIT))
            .route(web::post().to(generic_callback)),
    );
}

fn json(status: StatusCode, body: Vec<u8>) -> HttpResponse {
    HttpResponse::build(status).content_type("application/json").body(body)
}

fn raw_callback(request: &HttpRequest, body: &web::Bytes, now: chrono::DateTime<chrono::Utc>) -> RawCallback {
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            request.headers().get(*name).and_then(|v| v.to_str().ok()).map(|v| (name.to_string(), v.to_owned()))
        })
        .collect();
    RawCallback {
        body: body.to_vec(),
        headers,
        received_at: now,
        source_ip: request.peer_addr().map(|a| a.ip().to_string()),
    }
}

async fn generic_callback(
    request: HttpRequest,
    wallet: web::Path<String>,
    body: web::Bytes,
    callbacks: web::Data<Callbacks>,
) -> HttpResponse {
    let name = wallet.into_inner();
    let metrics = &callbacks.money.metrics;
    let Some(config) = callbacks.wallets.get(&name) else {
        // The name came from the path: counted under one label so it cannot blow up the series count.
        metrics.callback("unknown", "refused");
        return json(
            StatusCode::NOT_FOUND,
            generic::error_body("unknown_wallet", "no wallet is configured under this name"),
        );
    };
    let now = callbacks.money.now();
    let raw = raw_callback(&request, &body, now);
    if let Err(error) = generic::authenticate(&config.secrets, &raw, now.timestamp(), config.tolerance_secs) {
        tracing::warn!(wallet = name, verdict = error.error_code(), bytes = raw.body.len(), "callback refused");
        metrics.callback(&name, "refused");
        return refuse(&error);
    }
    let event = match generic::parse(&name, &raw, &config.country_code) {
        Ok(event) => event,
        Err(error) => {
            tracing::error!(wallet = name, verdict = error.error_code(), %error, "signed callback with an invalid payload");
            metrics.callback(&name, "invalid");
            return refuse(&error);
        }
    };
    match callbacks.money.ingest(event, raw).await {
        Ok((_, outcome)) => {
            metrics.callback(&name, if outcome == Ingested::New { "accepted" } else { "duplicate" });
            json(StatusCode::OK, generic::ACK_BODY.to_vec())
        }
        Err(error) => {
            tracing::error!(wallet = name, %error, "callback not stored; the wallet will retry");
            metrics.callback(&name, "unavailable");
            json(
                StatusCode::SERVICE_UNAVAILABLE,
                generic::error_body("unavailable", "the gateway cannot store callbacks right now"),
            )
        }
    }
}

fn refuse(error: &CallbackError) -> HttpResponse {
    json(StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST), error.body())
}
