//! Behaviour rules: each [`Behaviour`](crate::sandbox::wallet::Behaviour), matching, and the rules hooks.

use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use serde_json::json;

use super::{fast, rule, settle, start, start_with, MSISDN};
use crate::sandbox::wallet::{SandboxWalletSettings, TransactionStatus};

#[actix_web::test]
async fn reject_answers_400_and_records_nothing() {
    let t = start().await;
    t.wallet.add_rule(rule(json!({"behaviour": "reject"})));
    t.payout("L0000123455", MSISDN, "10.00").await.assert_error(400, "invalid_request");
    t.get("/transactions/L0000123455").await.assert_error(404, "not_found");
    settle().await;
    assert!(t.wallet.transactions().is_empty() && t.wallet.deliveries().is_empty());
}

#[actix_web::test]
async fn fail_accepts_then_fails_with_the_rule_code_and_one_failed_callback() {
    let t = start().await;
    t.wallet.add_rule(rule(json!({"direction": "payout", "behaviour": {"fail": {"code": "recipient_invalid"}}})));
    assert_eq!(t.payout("L0000123471", MSISDN, "50000.00").await.assert_status(202)["status"], "pending");
    let done = t.wait_final("L0000123471").await;
    assert_eq!((done.status, done.failure_code.as_deref()), (TransactionStatus::Failed, Some("recipient_invalid")));
    assert!(done.receipt.is_none() && done.failure_message.is_some() && done.occurred_at.is_some());
    let got = t.receiver.wait_for(1).await;
    assert_eq!(got[0].verify(), Ok(()));
    let event = got[0].json();
    assert_eq!(
        (event["type"].as_str(), event["data"]["failure_code"].as_str()),
        (Some("payout.failed"), Some("recipient_invalid"))
    );
    assert!(event["data"]["receipt"].is_null());
    settle().await;
    assert_eq!(t.receiver.received().len(), 1);
}

#[actix_web::test]
async fn timeout_records_at_once_but_holds_the_answer() {
    let t = start().await;
    t.wallet.add_rule(rule(json!({"behaviour": {"timeout": {"delay_ms": 400}}})));
    let started = Instant::now();
    let (answer, seen_meanwhile) = futures::join!(t.payout("L0000123455", MSISDN, "10.00"), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        (t.get("/transactions/L0000123455").await, started.elapsed())
    });
    let (meanwhile, at) = seen_meanwhile;
    assert!(at < Duration::from_millis(400), "the GET ran while the POST was held");
    meanwhile.assert_status(200);
    assert!(started.elapsed() >= Duration::from_millis(400), "the answer was held");
    assert_eq!(answer.assert_status(202)["status"], "completed", "it completed normally in the meantime");
    assert_eq!(t.receiver.wait_for(1).await[0].json()["type"], "payout.completed");
}

#[actix_web::test]
async fn error_after_commit_answers_500_but_the_payout_completes_and_a_replay_gets_200() {
    let t = start().await;
    t.wallet.add_rule(rule(json!({"behaviour": "error_after_commit"})));
    t.payout("L0000123455", MSISDN, "10.00").await.assert_error(500, "internal");
    assert_eq!(t.get("/transactions/L0000123455").await.assert_status(200)["reference"], "L0000123455");
    assert_eq!(t.wait_final("L0000123455").await.status, TransactionStatus::Completed);
    assert_eq!(t.payout("L0000123455", MSISDN, "10.00").await.assert_status(200)["status"], "completed");
    t.receiver.wait_for(1).await;
    settle().await;
    assert_eq!(t.receiver.received().len(), 1);
}

#[actix_web::test]
async fn error_before_commit_answers_500_and_get_is_404() {
    let t = start().await;
    t.wallet.add_rule(rule(json!({"behaviour": "error_before_commit"})));
    t.payout("L0000123455", MSISDN, "10.00").await.assert_error(500, "internal");
    t.get("/transactions/L0000123455").await.assert_error(404, "not_found");
    assert!(t.wallet.transactions().is_empty());
}

#[actix_web::test]
async fn unavailable_answers_503_and_the_same_reference_goes_through_once_cleared() {
    let t = start().await;
    t.wallet.add_rule(rule(json!({"behaviour": "unavailable"})));
    t.payout("L0000123455", MSISDN, "10.00").await.assert_error(503, "unavailable");
    t.get("/transactions/L0000123455").await.assert_error(404, "not_found");
    t.hook(TestRequest::delete(), "/sandbox/rules", None).await.assert_status(200);
    t.payout("L0000123455", MSISDN, "10.00").await.assert_status(202);
}

#[actix_web::test]
async fn stay_pending_never_finishes_by_itself() {
    let t = start().await;
    t.wallet.add_rule(rule(json!({"behaviour": "stay_pending"})));
    t.payout("L0000123455", MSISDN, "10.00").await.assert_status(202);
    t.collection("C0000000174", MSISDN, "10.00", "L0000123455").await.assert_status(202);
    settle().await;
    let statuses: Vec<_> = t.wallet.transactions().iter().map(|v| v.status).collect();
    assert_eq!(statuses, [TransactionStatus::Pending, TransactionStatus::Pending]);
    assert!(t.wallet.deliveries().is_empty() && t.receiver.received().is_empty());
}

#[actix_web::test]
async fn decline_fails_collections_cancelled_by_user_and_leaves_payouts_alone() {
    let t = start().await;
    t.wallet.add_rule(rule(json!({"msisdn": MSISDN, "behaviour": "decline"})));
    t.collection("C0000000174", MSISDN, "10.00", "L0000123455").await.assert_status(202);
    t.payout("L0000123455", MSISDN, "10.00").await.assert_status(202);
    let collection = t.wait_final("C0000000174").await;
    assert_eq!(collection.failure_code.as_deref(), Some("cancelled_by_user"));
    assert_eq!(t.wait_final("L0000123455").await.status, TransactionStatus::Completed);
    let got = t.receiver.wait_for(2).await;
    let mut types: Vec<_> = got.iter().map(|r| r.json()["type"].as_str().unwrap().to_owned()).collect();
    types.sort();
    assert_eq!(types, ["collection.failed", "payout.completed"]);
}

#[actix_web::test]
async fn rules_match_on_msisdn_amount_and_direction_and_the_first_match_wins() {
    let t = start().await;
    t.wallet.add_rule(rule(json!({"msisdn": "255700000001", "behaviour": "reject"})));
    t.wallet.add_rule(rule(json!({"amount": "500", "behaviour": "unavailable"})));
    t.wallet.add_rule(rule(json!({"direction": "collection", "behaviour": "stay_pending"})));
    t.payout("A1", "255700000001", "500.00").await.assert_error(400, "invalid_request");
    t.payout("A2", "255700000002", "500.00").await.assert_error(503, "unavailable");
    t.payout("A3", "255700000002", "500.01").await.assert_status(202);
    t.collection("A4", "255700000002", "500.01", "L0000123455").await.assert_status(202);
    assert_eq!(t.wait_final("A3").await.status, TransactionStatus::Completed);
    settle().await;
    assert_eq!(t.wallet.transaction("A4").unwrap().status, TransactionStatus::Pending);
}

#[actix_web::test]
async fn configured_rules_are_listed_and_the_hooks_add_check_and_clear_them() {
    let settings =
        SandboxWalletSettings { rules: vec![rule(json!({"msisdn": "255700000001", "behaviour": "reject"}))], ..fast() };
    let t = start_with(settings).await;
    let listed = t.hook(TestRequest::get(), "/sandbox/rules", None).await;
    assert_eq!(listed.assert_status(200)["rules"][0]["behaviour"], "reject");
    let added = t
        .hook(
            TestRequest::post(),
            "/sandbox/rules",
            Some(json!({"amount": 7, "behaviour": {"fail": {"code": "limit_exceeded"}}})),
        )
        .await;
    let rules = added.assert_status(200)["rules"].as_array().unwrap().clone();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[1]["behaviour"], json!({"fail": {"code": "limit_exceeded"}}));
    for bad in [
        json!({"direction": "sideways", "behaviour": "reject"}),
        json!({"direction": "payout", "behaviour": "decline"}),
        json!({"behaviour": "explode"}),
        json!({"behaviour": "reject", "colour": "red"}),
        json!({"msisdn": MSISDN}),
    ] {
        t.hook(TestRequest::post(), "/sandbox/rules", Some(bad)).await.assert_error(400, "invalid_request");
    }
    assert_eq!(t.wallet.rules().len(), 2);
    let cleared = t.hook(TestRequest::delete(), "/sandbox/rules", None).await;
    assert_eq!(cleared.assert_status(200)["rules"], json!([]));
    assert!(t.wallet.rules().is_empty());
    t.payout("L0000123455", "255700000001", "10.00").await.assert_status(202);
}

#[actix_web::test]
async fn a_replay_is_answered_before_any_rule() {
    let t = start().await;
    t.payout("L0000123455", MSISDN, "10.00").await.assert_status(202);
    t.wallet.add_rule(rule(json!({"behaviour": "unavailable"})));
    t.payout("L0000123455", MSISDN, "10.00").await.assert_status(200);
    t.payout("L0000123455", MSISDN, "11.00").await.assert_error(409, "reference_conflict");
}
