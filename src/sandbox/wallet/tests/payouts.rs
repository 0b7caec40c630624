//! Payouts (docs/money.md): acceptance, completion with one signed callback, guarantee 1, lookups.

use std::collections::HashSet;
use std::time::Duration;

use actix_web::http::header::AUTHORIZATION;
use actix_web::test::TestRequest;
use serde_json::json;

use super::{assert_receipt, fast, mount, settle, start, start_with, KEY, MSISDN};
use crate::sandbox::wallet::{SandboxWallet, SandboxWalletSettings, TransactionStatus};

#[actix_web::test]
async fn a_new_payout_is_accepted_pending_with_every_field_present() {
    let t = start_with(SandboxWalletSettings { payout_delay: Duration::from_secs(60), ..fast() }).await;
    let body = r#"{"reference":"L0000123455","msisdn":"255712345678","amount":"50000.00","currency":"TZS","description":"Mkopo loan L0000123455"}"#;
    let reply = t.post_raw("/payouts", body).await;
    reply.assert_status(202);
    let expected = r#"{"kind":"payout","reference":"L0000123455","receipt":null,"account":null,"msisdn":"255712345678","amount":"50000.00","currency":"TZS","status":"pending","failure_code":null,"failure_message":null,"occurred_at":null}"#;
    assert_eq!(String::from_utf8(reply.raw).unwrap(), expected, "the docs/money.md example, byte for byte");
    assert_eq!(t.get("/transactions/L0000123455").await.assert_status(200)["status"], "pending");
}

#[actix_web::test]
async fn a_payout_completes_and_delivers_one_signed_callback() {
    let t = start().await;
    t.payout("L0000123455", MSISDN, "50000").await.assert_status(202);
    let done = t.wait_final("L0000123455").await;
    assert_eq!(done.status, TransactionStatus::Completed);
    assert_receipt(done.receipt.as_deref());

    let got = t.receiver.wait_for(1).await;
    let callback = &got[0];
    assert_eq!(callback.verify(), Ok(()), "signed with the default secret");
    assert_eq!(callback.content_type, "application/json");
    let tail = callback.id.strip_prefix("evt_").expect("evt_ id");
    assert!(tail.len() == 26 && tail.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()), "{}", callback.id);
    let event = callback.json();
    assert_eq!(event["type"], "payout.completed");
    assert!(event["timestamp"].as_str().is_some_and(|ts| ts.ends_with('Z')), "{event}");
    let data = &event["data"];
    assert_eq!(data.as_object().map(|o| o.len()), Some(11), "every docs/money.md field: {data}");
    assert_eq!((data["status"].as_str(), data["amount"].as_str()), (Some("completed"), Some("50000.00")));
    assert_eq!(data["receipt"].as_str(), done.receipt.as_deref());
    assert!(data["occurred_at"].as_str().is_some_and(|at| at.ends_with('Z') && at.len() == 20), "{data}");
    assert_eq!(&t.get("/transactions/L0000123455").await.body, data, "GET shows what the callback carried");

    settle().await;
    assert_eq!(t.receiver.received().len(), 1, "exactly one final callback");
    let deliveries = t.wallet.deliveries();
    assert_eq!(deliveries.len(), 1);
    let d = &deliveries[0];
    assert_eq!((d.attempts, d.last_status, d.delivered, d.gave_up), (1, Some(200), true, false));
    assert_eq!((d.event_type.as_str(), d.webhook_id.as_str()), ("payout.completed", callback.id.as_str()));
}

#[actix_web::test]
async fn an_identical_replay_answers_200_with_the_current_object_and_creates_nothing() {
    let t = start().await;
    let first = t.payout("L0000123455", MSISDN, "50000.00").await;
    first.assert_status(202);
    let replay = t.payout("L0000123455", MSISDN, "50000").await;
    assert_eq!(replay.assert_status(200)["reference"], "L0000123455", "500 = 500.00: compared numerically");
    let done = t.wait_final("L0000123455").await;
    let later = t.payout("L0000123455", MSISDN, "50000.0").await;
    assert_eq!(later.assert_status(200)["status"], "completed", "a replay follows the current status");
    assert_eq!(later.body["receipt"].as_str(), done.receipt.as_deref());
    t.receiver.wait_for(1).await;
    settle().await;
    assert_eq!(t.wallet.transactions().len(), 1);
    assert_eq!(t.receiver.received().len(), 1, "no second callback for a replay");
}

#[actix_web::test]
async fn a_reused_reference_with_other_fields_is_a_409_conflict() {
    let t = start().await;
    t.payout("L0000123455", MSISDN, "50000.00").await.assert_status(202);
    t.payout("L0000123455", "255712345679", "50000.00").await.assert_error(409, "reference_conflict");
    t.payout("L0000123455", MSISDN, "50000.01").await.assert_error(409, "reference_conflict");
    let as_collection = super::collection_body("L0000123455", MSISDN, "50000.00", "L0000123455");
    t.post("/collections", as_collection).await.assert_error(409, "reference_conflict");
    assert_eq!(t.wallet.transactions().len(), 1);
}

#[actix_web::test]
async fn an_unknown_or_malformed_reference_is_404_not_found() {
    let t = start().await;
    for path in ["/transactions/L0000999999", "/transactions/a.b", "/transactions/%20"] {
        let reply = t.get(path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.body, json!({"error": "not_found", "message": "no transaction with this reference"}));
    }
}

#[actix_web::test]
async fn many_payouts_get_unique_receipts_and_one_callback_each() {
    let t = start().await;
    let references: Vec<String> = (0..20).map(|i| format!("L{i:010}")).collect();
    for reference in &references {
        t.payout(reference, MSISDN, "1000.00").await.assert_status(202);
    }
    let mut receipts = HashSet::new();
    for reference in &references {
        let done = t.wait_final(reference).await;
        assert_receipt(done.receipt.as_deref());
        receipts.insert(done.receipt);
    }
    assert_eq!(receipts.len(), 20, "receipts are unique");
    t.receiver.wait_for(20).await;
    settle().await;
    let got = t.receiver.received();
    assert_eq!(got.len(), 20);
    let ids: HashSet<_> = got.iter().map(|r| r.id.clone()).collect();
    let refs: HashSet<_> = got.iter().map(|r| r.json()["data"]["reference"].as_str().unwrap().to_owned()).collect();
    assert_eq!((ids.len(), refs.len()), (20, 20), "one callback per reference, each its own webhook-id");
}

#[actix_web::test]
async fn the_wallet_mounts_standalone_under_an_empty_prefix() {
    let wallet = SandboxWallet::new(&fast(), "http://127.0.0.1:9/v1/callbacks/sandbox".to_owned()).unwrap();
    let send = mount("", wallet.clone()).await;
    let req = TestRequest::post()
        .uri("/payouts")
        .insert_header((AUTHORIZATION, format!("Bearer {KEY}")))
        .set_json(super::payout_body("L0000123455", MSISDN, "10.00"));
    assert_eq!(send(req).await.status().as_u16(), 202);
    assert_eq!(send(TestRequest::get().uri("/sandbox/transactions")).await.status().as_u16(), 200);
    assert_eq!(wallet.transactions().len(), 1);
}
