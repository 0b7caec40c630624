//! `GET /healthz`: the process is alive. `GET /readyz`: it can serve, meaning the session store answers,
//! the LMS is not failing (its recent attempts were not all outages, and a token is held or can be
//! obtained) and no background task has stalled; otherwise 503 naming what is wrong and why.
//!
//! The LMS verdict comes from what the client saw on real calls ([`crate::health::LmsHealth`]), so a
//! probe never sends the LMS anything beyond a token request when none is held.

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
            Ok(Err(e)) => Err(format!("down: {e}")),
            Err(_) => Err(format!("down: no answer within {CHECK_TIMEOUT:?}")),
        }
    };
    let lms = async {
        // Recent outages win over a cached token: the token says nothing about whether the LMS answers.
        let readiness = &state.readiness;
        state.lms.health().verdict(readiness.lms_window, readiness.lms_failures).map_err(|e| format!("down: {e}"))?;
        match tokio::time::timeout(CHECK_TIMEOUT, state.lms.check_token()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("down: {e}")),
            Err(_) => Err(format!("down: no token within {CHECK_TIMEOUT:?}")),
        }
    };
    let (store, lms) = futures::join!(store, lms);
    let workers = state.liveness.stalled().map_or(Ok(()), Err);
    let verdict = |r: &Result<(), String>| r.as_ref().map_or_else(Clone::clone, |_| "ok".to_owned());
    let loops: serde_json::Map<String, serde_json::Value> = state
        .liveness
        .tasks()
        .into_iter()
        .map(|t| (t.name, json!((t.since_last_loop.as_millis() as f64 / 100.0).round() / 10.0)))
        .collect();
    let checks = json!({
        "store": verdict(&store),
        "store_kind": state.store.kind(),
        "lms": verdict(&lms),
        "workers": verdict(&workers),
        "seconds_since_last_loop": loops,
    });
    let results = [("store", "down", &store), ("lms", "down", &lms), ("workers", "stalled", &workers)];
    let wrong: Vec<String> =
        results.iter().filter(|(_, _, r)| r.is_err()).map(|(name, how, _)| format!("{name} {how}")).collect();
    if wrong.is_empty() {
        return HttpResponse::Ok().json(json!({ "status": "ready", "checks": checks }));
    }
    for (name, _, result) in results {
        if let Err(e) = result {
            tracing::warn!(check = name, error = %e, "not ready");
        }
    }
    HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE).json(json!({
        "code": "not_ready",
        "message": format!("not ready: {}", wrong.join(" and ")),
        "checks": checks,
    }))
}
