//! `GET /healthz`: the process is alive. `GET /readyz`: it can serve, meaning the session store answers
//! and an LMS token can be obtained; otherwise 503 naming what is down.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::startup::AppState;

/// A readiness check must answer well inside a probe's timeout.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz)).route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "alive" }))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let store = async {
        match tokio::time::timeout(CHECK_TIMEOUT, state.store.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
        }
    };
    let lms = async {
        match tokio::time::timeout(CHECK_TIMEOUT, state.lms.check_token()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no token within {CHECK_TIMEOUT:?}")),
        }
    };
    let (store, lms) = futures::join!(store, lms);
    let verdict = |r: &Result<(), String>| r.as_ref().map_or_else(|e| format!("down: {e}"), |_| "ok".to_owned());
    let checks = json!({ "store": verdict(&store), "store_kind": state.store.kind(), "lms": verdict(&lms) });
    let down: Vec<&str> =
        [("store", &store), ("lms", &lms)].iter().filter(|(_, r)| r.is_err()).map(|(n, _)| *n).collect();
    if down.is_empty() {
        HttpResponse::Ok().json(json!({ "status": "ready", "checks": checks }))
    } else {
        for (name, result) in [("store", &store), ("lms", &lms)] {
            if let Err(e) = result {
                tracing::warn!(check = name, error = %e, "not ready");
            }
        }
        HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE).json(json!({
            "code": "not_ready",
            "message": format!("not ready: {} down", down.join(" and ")),
            "checks": checks,
        }))
    }
}
