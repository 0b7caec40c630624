//! docs/lms.md Fault injection: 503, 500, delays and commit-then-500 on the next N matching calls.

use std::time::{Duration, Instant};

use actix_web::http::header::AUTHORIZATION;
use actix_web::test::TestRequest;
use serde_json::json;

use super::{basic, dec, start, PREFIX};
use crate::sandbox::lms::{Fault, FaultKind};

#[actix_web::test]
async fn an_unavailable_fault_answers_503_for_the_next_n_calls_then_clears() {
    let t = start().await;
    let body = json!({"method": "GET", "path": "/v1/loan-products", "kind": "unavailable", "count": 2});
    let reply = t.hook(TestRequest::post(), "/sandbox/faults", Some(body)).await;
    assert_eq!(reply.assert_ok()["faults"][0]["count"], 2);
    t.get("/v1/loan-products").await.assert_error(503, "unavailable");
    t.get("/v1/loan-products").await.assert_error(503, "unavailable");
    t.get("/v1/loan-products").await.assert_ok();
    assert!(t.lms.pending_faults().is_empty());
}

#[actix_web::test]
async fn an_internal_fault_answers_500_without_running_the_handler() {
    let t = start().await;
    t.customer("c").await;
    t.lms.inject_fault(Fault::new("POST", "/v1/loans", FaultKind::Internal));
    let body = json!({"customerId": "c", "productId": 1, "principal": 10000, "externalId": "L1"});
    t.post("/v1/loans", body.clone()).await.assert_error(500, "internal");
    t.get("/v1/loans/external/L1").await.assert_error(404, "not_found");
    t.post("/v1/loans", body).await.assert_ok();
}

#[actix_web::test]
async fn a_delay_fault_waits_then_handles_the_call_normally() {
    let t = start().await;
    t.lms.inject_fault(Fault::new("GET", "/v1/loan-products", FaultKind::Delay).delayed(Duration::from_millis(60)));
    let started = Instant::now();
    t.get("/v1/loan-products").await.assert_ok();
    assert!(started.elapsed() >= Duration::from_millis(60));
    assert!(t.lms.pending_faults().is_empty(), "only the next call is delayed");
}

#[actix_web::test]
async fn commit_then_internal_creates_the_loan_so_a_resend_is_aborted_and_a_read_finds_it() {
    let t = start().await;
    t.customer("c").await;
    t.lms.inject_fault(Fault::new("POST", "/v1/loans", FaultKind::CommitThenInternal));
    let body = json!({"customerId": "c", "productId": 1, "principal": 10000, "externalId": "L1"});
    t.post("/v1/loans", body.clone()).await.assert_error(500, "internal");
    t.post("/v1/loans", body).await.assert_error(409, "aborted");
    let existing = t.get("/v1/loans/external/L1").await;
    assert_eq!(
        (existing.assert_ok()["status"].as_str(), existing.body["loanProductId"].as_str()),
        (Some("Active"), Some("1"))
    );
    assert_eq!(existing.amount("principal"), dec("10000"));
}

#[actix_web::test]
async fn commit_then_internal_on_a_repayment_posts_once_and_a_replay_returns_it() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    let body = json!({"method": "POST", "path": "/v1/loans/external/*/repayments", "kind": "commit_then_internal"});
    t.hook(TestRequest::post(), "/sandbox/faults", Some(body)).await.assert_ok();
    t.repay("L1", "4000", "receipt-1").await.assert_error(500, "internal");
    let replay = t.repay("L1", "4000", "receipt-1").await;
    assert_eq!(replay.amount("amount"), dec("4000"));
    let loan = t.get("/v1/loans/external/L1").await;
    assert_eq!(loan.amount("totalRepayment"), dec("4000"), "posted exactly once");
}

#[actix_web::test]
async fn faults_match_the_method_and_one_segment_wildcards_only() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    t.lms.inject_fault(Fault::new("POST", "/v1/loans/external/*/repayments", FaultKind::Unavailable).times(5));
    t.get("/v1/loans/external/L1/repayments").await.assert_ok();
    t.get("/v1/loans/external/L1").await.assert_ok();
    t.post("/v1/loans/1/repayments", json!({"transactionAmount": 1})).await.assert_ok();
    t.repay("L1", "1", "a").await.assert_error(503, "unavailable");
    let pending = t.lms.pending_faults();
    assert_eq!(pending[0].count, 4);
    t.lms.inject_fault(Fault::new("*", "/v1/loans/*", FaultKind::Internal));
    t.get("/v1/loans/1?ignored=query").await.assert_error(500, "internal");
}

#[actix_web::test]
async fn faults_can_hit_the_token_endpoint() {
    let t = start().await;
    t.lms.inject_fault(Fault::new("GET", "/v1/auth/token", FaultKind::Unavailable));
    let req = TestRequest::get()
        .uri(&format!("{PREFIX}/v1/auth/token"))
        .insert_header((AUTHORIZATION, basic("partner@sandbox.local", "sandbox")));
    t.raw(req).await.assert_error(503, "unavailable");
    t.fresh_token().await;
}

#[actix_web::test]
async fn clearing_faults_drops_every_pending_one() {
    let t = start().await;
    t.lms.inject_fault(Fault::new("GET", "/v1/loan-products", FaultKind::Internal).times(3));
    t.lms.stop_next_rollback_after(0);
    let cleared = t.hook(TestRequest::delete(), "/sandbox/faults", None).await;
    assert_eq!(cleared.assert_ok()["faults"], json!([]));
    t.get("/v1/loan-products").await.assert_ok();
    t.seven_day_loan("c", "L1").await;
    t.post("/v1/loans/external/L1/rollback", json!({})).await.assert_ok();
}

#[actix_web::test]
async fn a_bad_fault_body_is_invalid_argument() {
    let t = start().await;
    for body in [
        json!({"method": "GET", "path": "/v1/loans", "kind": "explode"}),
        json!({"method": "GET", "path": "v1/loans", "kind": "internal"}),
        json!({"method": "GET", "path": "/v1/loans", "kind": "internal", "count": 0}),
        json!({"method": "GET", "path": "/v1/loans", "kind": "internal", "extra": 1}),
    ] {
        t.hook(TestRequest::post(), "/sandbox/faults", Some(body)).await.assert_error(400, "invalid_argument");
    }
}
