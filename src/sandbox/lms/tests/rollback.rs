//! docs/lms.md Rollback and manual steps: the table in docs/lms.md, resumption, refusals, the stop fault, deletion.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::json;

use super::{start, TestLms};

async fn status(t: &TestLms, loan: &str) -> String {
    let reply = t.get(&format!("/v1/loans/external/{loan}")).await;
    reply.body["status"].as_str().map(str::to_owned).unwrap_or_else(|| reply.code().to_owned())
}

#[actix_web::test]
async fn rolling_back_an_active_loan_runs_all_three_steps_and_the_loan_disappears() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    let reply = t.post("/v1/loans/external/L1/rollback", json!({"note": "wallet payout failed: E42"})).await;
    assert_eq!(reply.assert_ok()["steps"], json!(["undo-disbursal", "undo-approval", "delete"]));
    t.get("/v1/loans/external/L1").await.assert_error(404, "not_found");
    assert_eq!(t.get("/v1/loans?customerExternalId=c").await.body["total"], 0);
}

#[actix_web::test]
async fn rollback_resumes_from_approved() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    t.post("/v1/loans/external/L1/undo-disbursal", json!({})).await.assert_ok();
    let reply = t.post_raw("/v1/loans/external/L1/rollback", "").await;
    assert_eq!(reply.assert_ok()["steps"], json!(["undo-approval", "delete"]));
    assert_eq!(status(&t, "L1").await, "not_found");
}

#[actix_web::test]
async fn rollback_resumes_from_submitted_and_pending_approval() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    t.post("/v1/loans/external/L1/undo-disbursal", json!({})).await.assert_ok();
    t.post("/v1/loans/external/L1/undo-approval", json!({})).await.assert_ok();
    let reply = t.post("/v1/loans/1/rollback", json!({})).await;
    assert_eq!(reply.assert_ok()["steps"], json!(["delete"]));
    assert_eq!(status(&t, "L1").await, "not_found");
}

#[actix_web::test]
async fn rolling_back_a_settled_loan_or_one_with_repayments_is_aborted() {
    let t = start().await;
    t.seven_day_loan("c", "closed").await;
    t.repay("closed", "11100", "a").await.assert_ok();
    t.post("/v1/loans/external/closed/rollback", json!({})).await.assert_error(409, "aborted");
    t.loan("c", 1, 10_000, "overpaid").await;
    t.repay("overpaid", "20000", "b").await.assert_ok();
    t.post("/v1/loans/external/overpaid/rollback", json!({})).await.assert_error(409, "aborted");
    t.loan("c", 1, 10_000, "partly").await;
    t.repay("partly", "10", "c").await.assert_ok();
    t.post("/v1/loans/external/partly/rollback", json!({})).await.assert_error(409, "aborted");
    assert_eq!(status(&t, "partly").await, "Active", "a refused rollback changes nothing");
}

#[actix_web::test]
async fn rolling_back_an_unknown_or_deleted_loan_is_not_found() {
    let t = start().await;
    t.post("/v1/loans/external/never/rollback", json!({})).await.assert_error(404, "not_found");
    t.seven_day_loan("c", "L1").await;
    t.post("/v1/loans/external/L1/rollback", json!({})).await.assert_ok();
    t.post("/v1/loans/external/L1/rollback", json!({})).await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn a_rollback_stop_fault_interrupts_between_steps_and_a_retry_resumes() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    let hook = t.hook(TestRequest::post(), "/sandbox/faults/rollback", Some(json!({"stopAfterSteps": 1}))).await;
    hook.assert_ok();
    t.post("/v1/loans/external/L1/rollback", json!({})).await.assert_error(500, "internal");
    let midway = t.get("/v1/loans/external/L1").await;
    assert_eq!(midway.body["status"], "Approved");
    assert_eq!(midway.amount("totalOutstanding"), super::dec("0"), "nothing is owed once disbursal is undone");
    assert!(midway.body["nextDueDate"].is_null());
    t.lms.stop_next_rollback_after(1);
    t.post("/v1/loans/external/L1/rollback", json!({})).await.assert_error(500, "internal");
    assert_eq!(status(&t, "L1").await, "Submitted and pending approval");
    let done = t.post("/v1/loans/external/L1/rollback", json!({})).await;
    assert_eq!(done.assert_ok()["steps"], json!(["delete"]));
}

#[actix_web::test]
async fn a_rollback_stop_of_zero_steps_changes_nothing() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    t.lms.stop_next_rollback_after(0);
    t.post("/v1/loans/external/L1/rollback", json!({})).await.assert_error(500, "internal");
    assert_eq!(status(&t, "L1").await, "Active");
}

#[actix_web::test]
async fn manual_undo_disbursal_undo_approval_and_delete_walk_the_loan_back() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    let undone = t.post("/v1/loans/external/L1/undo-disbursal", json!({"note": "Disbursed to wrong account"})).await;
    assert_eq!(undone.assert_ok()["status"], "Approved");
    let unapproved = t.post_raw("/v1/loans/external/L1/undo-approval", "").await;
    assert_eq!(unapproved.assert_ok()["status"], "Submitted and pending approval");
    let deleted = t.delete("/v1/loans/external/L1").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.raw.is_empty(), "204 has an empty body");
    assert_eq!(status(&t, "L1").await, "not_found");
    t.delete("/v1/loans/external/L1").await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn the_numeric_manual_routes_work_too() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    t.post("/v1/loans/1/undo-disbursal", json!({})).await.assert_ok();
    t.post("/v1/loans/1/undo-approval", json!({})).await.assert_ok();
    assert_eq!(t.delete("/v1/loans/1").await.status, StatusCode::NO_CONTENT);
}

#[actix_web::test]
async fn undo_disbursal_of_a_repaid_or_non_active_loan_is_aborted() {
    let t = start().await;
    t.seven_day_loan("c", "repaid").await;
    t.repay("repaid", "10", "a").await.assert_ok();
    t.post("/v1/loans/external/repaid/undo-disbursal", json!({})).await.assert_error(409, "aborted");
    t.loan("c", 1, 10_000, "L2").await;
    t.post("/v1/loans/external/L2/undo-disbursal", json!({})).await.assert_ok();
    t.post("/v1/loans/external/L2/undo-disbursal", json!({})).await.assert_error(409, "aborted");
    t.post("/v1/loans/external/none/undo-disbursal", json!({})).await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn undo_approval_of_a_never_approved_or_still_disbursed_loan_is_aborted() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    t.post("/v1/loans/external/L1/undo-approval", json!({})).await.assert_error(409, "aborted");
    t.post("/v1/loans/external/L1/undo-disbursal", json!({})).await.assert_ok();
    t.post("/v1/loans/external/L1/undo-approval", json!({})).await.assert_ok();
    t.post("/v1/loans/external/L1/undo-approval", json!({})).await.assert_error(409, "aborted");
    t.post("/v1/loans/external/none/undo-approval", json!({})).await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn deleting_a_loan_in_the_wrong_status_is_permission_denied_and_leaves_it_untouched() {
    let t = start().await;
    let before = t.seven_day_loan("c", "L1").await;
    t.delete("/v1/loans/external/L1").await.assert_error(403, "permission_denied");
    assert_eq!(t.get("/v1/loans/external/L1").await.assert_ok(), &before);
    t.post("/v1/loans/external/L1/undo-disbursal", json!({})).await.assert_ok();
    t.delete("/v1/loans/external/L1").await.assert_error(403, "permission_denied");
    assert_eq!(status(&t, "L1").await, "Approved");
}

#[actix_web::test]
async fn after_deletion_the_loan_is_gone_from_lists_and_its_external_id_can_be_reused() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    t.post("/v1/loans/external/L1/rollback", json!({})).await.assert_ok();
    assert_eq!(t.get("/v1/loans").await.body["total"], 0);
    t.get("/v1/loans/1").await.assert_error(404, "not_found");
    let again = t.loan("c", 1, 20_000, "L1").await;
    assert_eq!(again["id"], "2", "a new loan with a new id");
    assert_eq!(status(&t, "L1").await, "Active");
}
