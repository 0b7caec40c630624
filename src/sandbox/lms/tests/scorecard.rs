//! docs/lms.md Scorecard: configured entries, live totals, available limit, key checks, best-effort fault.

use std::collections::BTreeMap;

use actix_web::test::TestRequest;
use serde_json::json;

use super::{dec, start, start_with};
use crate::sandbox::lms::{SandboxLmsSettings, ScorecardEntry};

fn with_unscored(number: &str) -> SandboxLmsSettings {
    let entry = ScorecardEntry { grade: "XX".to_owned(), credit_score: 100, credit_limit: dec("0") };
    SandboxLmsSettings { scorecards: BTreeMap::from([(number.to_owned(), entry)]), ..Default::default() }
}

#[actix_web::test]
async fn an_unlisted_number_gets_the_default_scored_entry_with_200() {
    let t = start().await;
    let reply = t.get("/v1/credit-scorecard/255711111111").await;
    let body = reply.assert_ok();
    assert_eq!(body["externalId"], "255711111111");
    assert_eq!(body["halopesaGrade"], "B");
    assert_eq!(body["finalCreditScore"], 700);
    assert_eq!(reply.amount("finalCreditLimit"), dec("50000"));
    assert_eq!(reply.amount("totalOutstanding"), dec("0"));
    assert_eq!(reply.amount("totalPaid"), dec("0"));
    assert_eq!(reply.amount("availableCreditLimit"), dec("50000"));
    assert!(body["executionPeriod"].is_string());
}

#[actix_web::test]
async fn a_configured_unscored_number_reads_xx_with_zero_limits() {
    let t = start_with(with_unscored("255700000000")).await;
    let reply = t.get("/v1/credit-scorecard/255700000000").await;
    let body = reply.assert_ok();
    assert_eq!((body["halopesaGrade"].as_str(), body["finalCreditScore"].as_u64()), (Some("XX"), Some(100)));
    assert_eq!(reply.amount("finalCreditLimit"), dec("0"));
    assert_eq!(reply.amount("availableCreditLimit"), dec("0"));
}

#[actix_web::test]
async fn totals_are_summed_live_from_the_customers_loans() {
    let t = start().await;
    t.seven_day_loan("255700000001", "L1").await;
    let owing = t.get("/v1/credit-scorecard/255700000001").await;
    assert_eq!(owing.amount("totalOutstanding"), dec("11100"));
    assert_eq!(owing.amount("availableCreditLimit"), dec("0"), "no top-ups while anything is owed");
    t.repay("L1", "5000", "r1").await.assert_ok();
    let partial = t.get("/v1/credit-scorecard/255700000001").await;
    assert_eq!((partial.amount("totalOutstanding"), partial.amount("totalPaid")), (dec("6100"), dec("5000")));
    t.repay("L1", "6100", "r2").await.assert_ok();
    let settled = t.get("/v1/credit-scorecard/255700000001").await;
    assert_eq!((settled.amount("totalOutstanding"), settled.amount("totalPaid")), (dec("0"), dec("11100")));
    assert_eq!(settled.amount("availableCreditLimit"), dec("50000"));
}

#[actix_web::test]
async fn a_key_over_128_characters_is_invalid_argument() {
    let t = start().await;
    t.get(&format!("/v1/credit-scorecard/{}", "9".repeat(128))).await.assert_ok();
    let reply = t.get(&format!("/v1/credit-scorecard/{}", "9".repeat(129))).await;
    reply.assert_error(400, "invalid_argument");
    assert_eq!(reply.field_errors()[0].0, "externalId");
}

#[actix_web::test]
async fn the_best_effort_fault_reports_no_outstanding_debt() {
    let t = start().await;
    t.seven_day_loan("255700000001", "L1").await;
    let on = t.hook(TestRequest::post(), "/sandbox/faults/scorecard-best-effort", Some(json!({"enabled": true}))).await;
    on.assert_ok();
    let reply = t.get("/v1/credit-scorecard/255700000001").await;
    assert_eq!(reply.amount("totalOutstanding"), dec("0"));
    assert_eq!(reply.amount("availableCreditLimit"), dec("50000"));
    t.lms.set_scorecard_best_effort(false);
    assert_eq!(t.get("/v1/credit-scorecard/255700000001").await.amount("totalOutstanding"), dec("11100"));
}

#[actix_web::test]
async fn a_runtime_override_replaces_the_configured_entry() {
    let t = start_with(with_unscored("255700000000")).await;
    let body = json!({"grade": "A", "creditScore": 820, "creditLimit": 120000.5});
    let reply = t.hook(TestRequest::put(), "/sandbox/scorecards/255700000000", Some(body)).await;
    assert_eq!(reply.assert_ok()["creditLimit"].to_string(), "120000.5");
    let card = t.get("/v1/credit-scorecard/255700000000").await;
    assert_eq!(card.assert_ok()["halopesaGrade"], "A");
    assert_eq!(card.amount("availableCreditLimit"), dec("120000.5"));
    let bad = t.hook(TestRequest::put(), "/sandbox/scorecards/x", Some(json!({"grade": "A"}))).await;
    bad.assert_error(400, "invalid_argument");
}
