//! Collections: the push-to-pay prompt, auto-approval, and the approve/decline hooks.

use std::time::Duration;

use actix_web::test::TestRequest;

use super::{assert_receipt, collection_body, fast, settle, start, start_with, MSISDN};
use crate::sandbox::wallet::{SandboxWalletSettings, TransactionStatus};

fn slow_approval() -> SandboxWalletSettings {
    SandboxWalletSettings { collection_approve_delay: Duration::from_secs(60), ..fast() }
}

#[actix_web::test]
async fn a_collection_is_approved_and_delivers_collection_completed() {
    let t = start().await;
    let accepted = t.collection("C0000000174", MSISDN, "11100.00", "L0000123455").await;
    let body = accepted.assert_status(202);
    assert_eq!((body["kind"].as_str(), body["account"].as_str()), (Some("collection"), Some("L0000123455")));
    assert_eq!(body["status"], "pending");
    let done = t.wait_final("C0000000174").await;
    assert_eq!(done.status, TransactionStatus::Completed);
    assert_receipt(done.receipt.as_deref());
    let got = t.receiver.wait_for(1).await;
    assert_eq!(got[0].verify(), Ok(()));
    let event = got[0].json();
    assert_eq!(event["type"], "collection.completed");
    assert_eq!(event["data"]["account"], "L0000123455", "the account is echoed");
    assert_eq!(event["data"]["amount"], "11100.00");
}

#[actix_web::test]
async fn a_collection_without_an_account_is_400_and_records_nothing() {
    let t = start().await;
    for account in [None, Some(serde_json::Value::Null), Some("   ".into()), Some("".into())] {
        let mut body = collection_body("C0000000174", MSISDN, "100.00", "x");
        match account {
            None => drop(body.as_object_mut().unwrap().remove("account")),
            Some(value) => body["account"] = value,
        }
        t.post("/collections", body).await.assert_error(400, "invalid_request");
    }
    assert!(t.wallet.transactions().is_empty());
}

#[actix_web::test]
async fn the_approve_hook_completes_a_pending_collection_once() {
    let t = start_with(SandboxWalletSettings { collection_approve_delay: Duration::from_millis(100), ..fast() }).await;
    t.collection("C0000000174", MSISDN, "11100.00", "L0000123455").await.assert_status(202);
    let path = "/sandbox/collections/C0000000174/approve";
    let approved = t.hook(TestRequest::post(), path, None).await;
    assert_eq!(approved.assert_status(200)["status"], "completed");
    assert_receipt(approved.body["receipt"].as_str());
    t.hook(TestRequest::post(), path, None).await.assert_error(409, "not_pending");
    t.hook(TestRequest::post(), "/sandbox/collections/C0000000174/decline", None)
        .await
        .assert_error(409, "not_pending");
    t.receiver.wait_for(1).await;
    settle().await; // outlasts the 100 ms auto-approval timer
    assert_eq!(t.receiver.received().len(), 1, "the timer found it final: still one callback");
    assert_eq!(t.wallet.transaction("C0000000174").unwrap().receipt.as_deref(), approved.body["receipt"].as_str());
}

#[actix_web::test]
async fn the_decline_hook_fails_a_pending_collection_cancelled_by_user() {
    let t = start_with(slow_approval()).await;
    t.collection("C0000000174", MSISDN, "11100.00", "L0000123455").await.assert_status(202);
    let declined = t.hook(TestRequest::post(), "/sandbox/collections/C0000000174/decline", None).await;
    let body = declined.assert_status(200);
    assert_eq!((body["status"].as_str(), body["failure_code"].as_str()), (Some("failed"), Some("cancelled_by_user")));
    assert!(body["receipt"].is_null() && body["failure_message"].is_string() && body["occurred_at"].is_string());
    let event = t.receiver.wait_for(1).await[0].json();
    assert_eq!(
        (event["type"].as_str(), event["data"]["failure_code"].as_str()),
        (Some("collection.failed"), Some("cancelled_by_user"))
    );
}

#[actix_web::test]
async fn approving_an_unknown_reference_or_a_payout_is_404() {
    let t = start_with(SandboxWalletSettings { payout_delay: Duration::from_secs(60), ..slow_approval() }).await;
    t.payout("L0000123455", MSISDN, "10.00").await.assert_status(202);
    for path in ["/sandbox/collections/C0000000999/approve", "/sandbox/collections/L0000123455/decline"] {
        t.hook(TestRequest::post(), path, None).await.assert_error(404, "not_found");
    }
    assert_eq!(t.wallet.transaction("L0000123455").unwrap().status, TransactionStatus::Pending);
}

#[actix_web::test]
async fn the_rust_twins_approve_and_decline_too() {
    let t = start_with(slow_approval()).await;
    t.collection("C0000000174", MSISDN, "10.00", "L0000123455").await.assert_status(202);
    t.collection("C0000000182", MSISDN, "10.00", "L0000123455").await.assert_status(202);
    assert_eq!(t.wallet.approve_collection("C0000000174").unwrap().status, TransactionStatus::Completed);
    assert_eq!(t.wallet.decline_collection("C0000000182").unwrap().failure_code.as_deref(), Some("cancelled_by_user"));
    assert!(t.wallet.approve_collection("C0000000174").is_err());
    assert!(t.wallet.decline_collection("C0000000999").is_err());
    let got = t.receiver.wait_for(2).await;
    let mut types: Vec<_> = got.iter().map(|r| r.json()["type"].as_str().unwrap().to_owned()).collect();
    types.sort();
    assert_eq!(types, ["collection.completed", "collection.failed"]);
}
