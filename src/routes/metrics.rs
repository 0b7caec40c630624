//! `GET /metrics`: Prometheus text, with the store-backed gauges read at scrape time. Optionally behind
//! a bearer token (`metrics.token`); without one, keep the route off the public ingress.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::{ExposeSecret, SecretString};

use super::{bearer_matches, json_error};
use crate::health::Liveness;
use crate::metrics::{scrape, Metrics, ScrapeSources, CONTENT_TYPE};
use crate::momo::service::MoneyService;
use crate::session::Sessions;

pub struct MetricsRoute {
    pub metrics: Metrics,
    pub money: MoneyService,
    pub sessions: Sessions,
    pub liveness: Liveness,
    pub token: SecretString,
}

pub fn configure(cfg: &mut web::ServiceConfig, route: Arc<MetricsRoute>) {
    cfg.service(web::resource("/metrics").app_data(web::Data::from(route)).route(web::get().to(metrics)));
}

async fn metrics(request: HttpRequest, route: web::Data<MetricsRoute>) -> HttpResponse {
    let token = route.token.expose_secret();
    if !token.is_empty() && !bearer_matches(&request, token) {
        return json_error(StatusCode::UNAUTHORIZED, "unauthorized", "a valid metrics bearer token is required");
    }
    let sources = ScrapeSources { money: &route.money, sessions: &route.sessions, liveness: &route.liveness };
    let text = scrape(&route.metrics, &sources).await;
    HttpResponse::Ok().content_type(CONTENT_TYPE).body(text)
}
