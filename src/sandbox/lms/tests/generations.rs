//! The legacy documentation generation: integer `customerId`, amount-only repayments, no rollback and no
//! repayment list; and how the current generation differs where both are asked the same thing.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use super::{amount, dec, start, start_with, TestLms, PREFIX};
use crate::sandbox::lms::{SandboxGeneration, SandboxLmsSettings};

async fn legacy() -> TestLms {
    start_with(SandboxLmsSettings { generation: SandboxGeneration::Legacy, ..Default::default() }).await
}

/// A customer and a legacy-created 7-day loan of 10000 (11100 due); returns the customer's LMS id.
async fn legacy_loan(t: &TestLms, customer: &str, external_id: &str) -> u64 {
    let id: u64 = t.customer(customer).await["id"].as_str().unwrap().parse().unwrap();
    let body = json!({"customerId": id, "productId": 1, "principal": 10000, "externalId": external_id});
    t.post("/v1/loans", body).await.assert_ok();
    id
}

fn ids(history: &Value) -> Vec<u64> {
    history.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().parse().unwrap()).collect()
}

#[actix_web::test]
async fn legacy_create_takes_the_integer_lms_customer_id() {
    let t = legacy().await;
    t.customer("255712345678").await;
    let by_int =
        t.post("/v1/loans", json!({"customerId": 1, "productId": 1, "principal": 10000, "externalId": "A"})).await;
    assert_eq!(
        (by_int.assert_ok()["customerId"].as_str(), by_int.body["status"].as_str()),
        (Some("1"), Some("Active"))
    );
    assert_eq!(by_int.amount("totalOutstanding"), dec("11100"));
    let by_digits = t.post("/v1/loans", json!({"customerId": "1", "productId": 1, "principal": 10000})).await;
    assert_eq!(by_digits.assert_ok()["customerId"], "1");
    assert_eq!(t.get("/v1/loans?customerExternalId=255712345678").await.body["total"], 2);
}

#[actix_web::test]
async fn legacy_create_looks_a_digit_customer_id_up_and_refuses_anything_else() {
    let t = legacy().await;
    t.customer("255712345678").await;
    t.customer("ext-ada-001").await;
    // An externalId that happens to be all digits is read as an LMS id, and no customer has that id.
    for missing in [json!("255712345678"), json!(99), json!("99999999999999999999999")] {
        let body = json!({"customerId": missing, "productId": 1, "principal": 10000});
        t.post("/v1/loans", body).await.assert_error(404, "not_found");
    }
    for refused in [json!("ext-ada-001"), json!(-1), json!(1.5), json!(true)] {
        let reply = t.post("/v1/loans", json!({"customerId": refused, "productId": 1, "principal": 10000})).await;
        reply.assert_error(400, "invalid_argument");
        assert_eq!(reply.field_errors()[0].0, "customerId", "{refused}");
    }
    assert_eq!(t.get("/v1/loans").await.body["total"], 0);
}

#[actix_web::test]
async fn the_current_generation_refuses_an_integer_customer_id() {
    let t = start().await;
    t.customer("c").await;
    let reply = t.post("/v1/loans", json!({"customerId": 1, "productId": 1, "principal": 10000})).await;
    reply.assert_error(400, "invalid_argument");
    assert_eq!(reply.field_errors()[0].0, "customerId");
}

#[actix_web::test]
async fn legacy_repayments_ignore_the_key_and_the_date() {
    let t = legacy().await;
    legacy_loan(&t, "c", "L1").await;
    t.lms.set_today(super::date("2026-05-27"));
    // A date before disbursement, one in the future and a malformed one: none is read.
    let mut seen = Vec::new();
    for day in ["2026-05-01", "2026-12-31", "27/05/2026"] {
        let body = json!({"transactionAmount": 100, "transactionDate": day, "idempotencyKey": "receipt-1"});
        let tx = t.post("/v1/loans/external/L1/repayments", body).await;
        assert_eq!(tx.assert_ok()["date"], "2026-05-27", "the service dates the transaction");
        seen.push(tx.body["id"].clone());
    }
    seen.dedup();
    assert_eq!(seen.len(), 3, "every post is a new transaction: {seen:?}");
    let loan = t.get("/v1/loans/external/L1").await;
    assert_eq!(loan.amount("totalRepayment"), dec("300"));
    let history = ids(&loan.body["repaymentHistory"]);
    assert_eq!(history.len(), 3);
    assert!(history.windows(2).all(|w| w[0] > w[1]), "newest first: {history:?}");
    let odd_types = json!({"transactionAmount": 1, "transactionDate": 20260527, "idempotencyKey": 7});
    t.post("/v1/loans/1/repayments", odd_types).await.assert_ok();
}

#[actix_web::test]
async fn a_legacy_rollback_answers_like_an_unknown_route_and_leaves_the_loan_active() {
    let t = legacy().await;
    legacy_loan(&t, "c", "L1").await;
    let unknown = t.post("/v1/nowhere", json!({})).await;
    unknown.assert_error(404, "not_found");
    for path in ["/v1/loans/external/L1/rollback", "/v1/loans/1/rollback"] {
        let reply = t.post(path, json!({"note": "wallet payout failed"})).await;
        reply.assert_error(404, "not_found");
        assert_eq!(reply.body["message"], format!("lms: status=404: no route for POST {PREFIX}{path}"));
        // Like any unknown route it answers before looking at the token.
        let anonymous = t.raw(TestRequest::post().uri(&format!("{PREFIX}{path}"))).await;
        anonymous.assert_error(404, "not_found");
    }
    assert_eq!(t.get("/v1/loans/external/L1").await.assert_ok()["status"], "Active");
    // The manual steps remain.
    assert_eq!(t.post("/v1/loans/external/L1/undo-disbursal", json!({})).await.assert_ok()["status"], "Approved");
    let pending = t.post("/v1/loans/1/undo-approval", json!({})).await;
    assert_eq!(pending.assert_ok()["status"], "Submitted and pending approval");
    assert_eq!(t.delete("/v1/loans/external/L1").await.status.as_u16(), 204);
    t.get("/v1/loans/1").await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn legacy_has_no_repayment_list_but_reads_one_repayment_and_the_history() {
    let t = legacy().await;
    legacy_loan(&t, "c", "L1").await;
    let first =
        t.post("/v1/loans/external/L1/repayments", json!({"transactionAmount": 1000})).await.assert_ok().clone();
    let second = t.post("/v1/loans/1/repayments", json!({"transactionAmount": 2000})).await.assert_ok().clone();
    let list = t.get("/v1/loans/external/L1/repayments").await;
    list.assert_error(404, "not_found");
    assert!(list.body["message"].as_str().unwrap().contains("no route"), "{}", list.body);
    let id = second["id"].as_str().unwrap();
    assert_eq!(t.get(&format!("/v1/loans/external/L1/repayments/{id}")).await.assert_ok(), &second);
    assert_eq!(t.get(&format!("/v1/loans/1/repayments/{id}")).await.assert_ok(), &second);
    let history = t.get("/v1/loans/external/L1").await.body["repaymentHistory"].clone();
    assert_eq!(history, json!([second, first]));
    assert_eq!(amount(&history[1]["amount"]), dec("1000"));
}

#[actix_web::test]
async fn legacy_loans_may_come_without_an_external_id() {
    let t = legacy().await;
    t.customer("c").await;
    let loan = t.post("/v1/loans", json!({"customerId": 1, "productId": 1, "principal": 10000})).await;
    assert!(!loan.assert_ok().as_object().unwrap().contains_key("externalId"), "{}", loan.body);
    t.post("/v1/loans/1/repayments", json!({"transactionAmount": 11100})).await.assert_ok();
    assert_eq!(t.get("/v1/loans/1").await.body["status"], "Closed (obligations met)");
}
