//! Loans without an externalId: the `POST /sandbox/loans` hook (as if the back office created them), its
//! Rust twin, and every LMS-id route on such a loan.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use super::{dec, start, Reply, TestLms};

fn has_external_id(loan: &Value) -> bool {
    loan.as_object().expect("a loan object").contains_key("externalId")
}

async fn seed(t: &TestLms, body: Value) -> Reply {
    t.hook(TestRequest::post(), "/sandbox/loans", Some(body)).await
}

#[actix_web::test]
async fn the_seed_hook_creates_an_active_loan_with_no_external_id_key_anywhere() {
    let t = start().await;
    t.customer("c").await;
    let created = seed(&t, json!({"customerExternalId": "c", "productId": "1", "principal": 5000})).await;
    let loan = created.assert_ok().clone();
    assert_eq!((loan["status"].as_str(), loan["customerId"].as_str()), (Some("Active"), Some("1")));
    assert_eq!(created.amount("totalOutstanding"), dec("5550"));
    assert!(!has_external_id(&loan), "{loan}");
    let id = loan["id"].as_str().unwrap();
    let read = t.get(&format!("/v1/loans/{id}")).await;
    assert!(!has_external_id(read.assert_ok()));
    let rows = t.get("/v1/loans?customerExternalId=c").await;
    assert!(!has_external_id(&rows.assert_ok()["items"][0]));
    assert!(!has_external_id(&t.get("/v1/loans?customerId=1&status=Active").await.body["items"][0]));
}

#[actix_web::test]
async fn a_seeded_loan_takes_repayments_and_reads_them_back_by_lms_id() {
    let t = start().await;
    t.customer("c").await;
    let id = t.lms.seed_loan_without_external_id("c", "1", dec("5000")).unwrap();
    let tx =
        t.post(&format!("/v1/loans/{id}/repayments"), json!({"transactionAmount": 550, "idempotencyKey": "r1"})).await;
    let tx = tx.assert_ok().clone();
    assert_eq!(t.post(&format!("/v1/loans/{id}/repayments"), json!({"idempotencyKey": "r1"})).await.assert_ok(), &tx);
    let tx_id = tx["id"].as_str().unwrap();
    assert_eq!(t.get(&format!("/v1/loans/{id}/repayments/{tx_id}")).await.assert_ok(), &tx);
    let loan = t.get(&format!("/v1/loans/{id}")).await;
    assert_eq!((loan.amount("totalRepayment"), loan.amount("totalOutstanding")), (dec("550"), dec("5000")));
    assert_eq!(loan.body["repaymentHistory"], json!([tx]));
    t.post(&format!("/v1/loans/{id}/repayments"), json!({"transactionAmount": 5000})).await.assert_ok();
    assert_eq!(t.get(&format!("/v1/loans/{id}")).await.body["status"], "Closed (obligations met)");
}

#[actix_web::test]
async fn a_seeded_loan_unwinds_by_lms_id_step_by_step_or_by_rollback() {
    let t = start().await;
    t.customer("c").await;
    let first = t.lms.seed_loan_without_external_id("c", "1", dec("5000")).unwrap();
    let undone = t.post(&format!("/v1/loans/{first}/undo-disbursal"), json!({})).await;
    assert_eq!(undone.assert_ok()["status"], "Approved");
    assert!(!has_external_id(&undone.body));
    t.post(&format!("/v1/loans/{first}/undo-approval"), json!({})).await.assert_ok();
    assert_eq!(t.delete(&format!("/v1/loans/{first}")).await.status.as_u16(), 204);
    t.get(&format!("/v1/loans/{first}")).await.assert_error(404, "not_found");
    let second = t.lms.seed_loan_without_external_id("c", "2", dec("50000")).unwrap();
    let report = t.post(&format!("/v1/loans/{second}/rollback"), json!({})).await;
    assert_eq!(report.assert_ok()["steps"], json!(["undo-disbursal", "undo-approval", "delete"]));
    assert!(!has_external_id(&report.body), "{}", report.body);
    t.get(&format!("/v1/loans/{second}")).await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn the_seed_hook_applies_the_loan_create_rules() {
    let t = start().await;
    t.customer("c").await;
    let missing = seed(&t, json!({"productId": 1})).await;
    missing.assert_error(400, "invalid_argument");
    let fields: Vec<_> = missing.field_errors().into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["customerExternalId", "principal"]);
    seed(&t, json!({"customerExternalId": "nobody", "productId": 1, "principal": 5000}))
        .await
        .assert_error(404, "not_found");
    seed(&t, json!({"customerExternalId": "c", "productId": 9, "principal": 5000}))
        .await
        .assert_error(404, "not_found");
    seed(&t, json!({"customerExternalId": "c", "productId": 1, "principal": 1}))
        .await
        .assert_error(400, "invalid_argument");
    seed(&t, json!({"customerExternalId": "c", "productId": 1, "principal": 5000, "externalId": "x"}))
        .await
        .assert_error(400, "invalid_argument");
    let err = t.lms.seed_loan_without_external_id("nobody", "1", dec("5000")).unwrap_err();
    assert!(err.starts_with("not_found"), "{err}");
    assert_eq!(t.get("/v1/loans").await.body["total"], 0);
}
