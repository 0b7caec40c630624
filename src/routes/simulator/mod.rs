//! The phone in the browser (`GET /simulator`), local only (`simulator.enabled`, refused in
//! production): a self-contained page (no external resource; its CSP says so too) that looks like a
//! feature phone. It dials the gateway's own USSD routes in the chosen dialect through [`calls`] (the
//! terminal phone's wire code over loopback), and shows beside the phone the sandbox wallet's prompts
//! for the subscriber (approve or decline a collection) and the LMS's view of their loans ([`loans`]).
//!
//! | Route | Serves |
//! |---|---|
//! | `GET /simulator` | the page (`page.html`) |
//! | `GET /simulator/page.css`, `/simulator/page.js` | its style and script |
//! | `/simulator/api/…` | the page's JSON API, see [`api`] |
//!
//! The wallet panel talks to the sandbox wallet's own hooks (`/sandbox/wallet/sandbox/…`) directly.

mod api;
mod calls;
mod loans;

use actix_web::http::header;
use actix_web::{web, HttpResponse};

const PAGE: &str = include_str!("page.html");
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// Only this origin, for everything: the page works offline and cannot load anything from elsewhere.
const CSP: &str =
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/simulator")
            .route("", web::get().to(page))
            .route("/", web::get().to(page))
            .route("/page.css", web::get().to(style))
            .route("/page.js", web::get().to(script))
            .route("/api/config", web::get().to(api::config))
            .route("/api/dial", web::post().to(api::dial))
            .route("/api/send", web::post().to(api::send))
            .route("/api/hangup", web::post().to(api::hang_up))
            .route("/api/loans", web::get().to(api::loans)),
    );
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .body(body)
}

async fn page() -> HttpResponse {
    asset("text/html; charset=utf-8", PAGE)
}

async fn style() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLE)
}

async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}
