//! The sandbox-only payments hook and its Rust twin, and the listing hooks.

use std::str::FromStr;

use actix_web::test::TestRequest;
use rust_decimal::Decimal;
use serde_json::json;

use super::{assert_receipt, fast, start, MSISDN, PREFIX};
use crate::sandbox::wallet::{SandboxWallet, TransactionKind, TransactionStatus};

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).expect("test decimal")
}

#[actix_web::test]
async fn a_payment_is_recorded_completed_and_delivers_payment_received() {
    let t = start().await;
    let body = json!({"msisdn": MSISDN, "amount": "11100.00", "currency": "TZS", "account": "  L0000123455 "});
    let reply = t.hook(TestRequest::post(), "/payments", Some(body)).await;
    let view = reply.assert_status(202).clone();
    assert_eq!((view["kind"].as_str(), view["status"].as_str()), (Some("payment"), Some("completed")));
    assert!(view["reference"].is_null() && view["failure_code"].is_null());
    assert_eq!(view["account"], "L0000123455", "trimmed");
    assert_receipt(view["receipt"].as_str());
    assert!(view["occurred_at"].as_str().is_some_and(|at| at.ends_with('Z')));
    let got = t.receiver.wait_for(1).await;
    assert_eq!(got[0].verify(), Ok(()));
    let event = got[0].json();
    assert_eq!(event["type"], "payment.received");
    assert_eq!(event["data"], view);
}

#[actix_web::test]
async fn a_blank_or_missing_account_is_null_and_currency_defaults() {
    let t = start().await;
    for body in [
        json!({"msisdn": MSISDN, "amount": "10", "currency": "TZS", "account": "   "}),
        json!({"msisdn": MSISDN, "amount": "10", "account": null}),
        json!({"msisdn": MSISDN, "amount": "10"}),
    ] {
        let reply = t.hook(TestRequest::post(), "/payments", Some(body)).await;
        let view = reply.assert_status(202);
        assert!(view["account"].is_null(), "{view}");
        assert_eq!((view["currency"].as_str(), view["amount"].as_str()), (Some("TZS"), Some("10.00")));
    }
}

#[actix_web::test]
async fn a_json_number_amount_is_read_exactly() {
    let t = start().await;
    let payload = format!(r#"{{"msisdn":"{MSISDN}","amount":123456789012345.67}}"#);
    let req =
        TestRequest::post().uri(&format!("{PREFIX}/payments")).insert_header(("content-type", "application/json"));
    let reply = t.raw(req.set_payload(payload)).await;
    assert_eq!(reply.assert_status(202)["amount"], "123456789012345.67", "an f64 would have lost the cents");
    let reply = t.hook(TestRequest::post(), "/payments", Some(json!({"msisdn": MSISDN, "amount": 11100.5}))).await;
    assert_eq!(reply.assert_status(202)["amount"], "11100.50");
}

#[actix_web::test]
async fn bad_payments_are_400_and_record_nothing() {
    let t = start().await;
    for body in [
        json!({"msisdn": MSISDN, "amount": "10", "currency": "KES"}),
        json!({"msisdn": "0712345678", "amount": "10"}),
        json!({"msisdn": MSISDN, "amount": "0"}),
        json!({"msisdn": MSISDN, "amount": 0}),
        json!({"msisdn": MSISDN, "amount": "1.001"}),
        json!({"msisdn": MSISDN, "amount": -5}),
        json!({"msisdn": MSISDN}),
        json!({"amount": "10"}),
        json!({"msisdn": MSISDN, "amount": "10", "account": "x".repeat(101)}),
        json!({"msisdn": MSISDN, "amount": "10", "reference": "L0000123455"}),
    ] {
        t.hook(TestRequest::post(), "/payments", Some(body)).await.assert_error(400, "invalid_request");
    }
    let raw =
        TestRequest::post().uri(&format!("{PREFIX}/payments")).insert_header(("content-type", "application/json"));
    t.raw(raw.set_payload(format!(r#"{{"msisdn":"{MSISDN}","amount":1e3}}"#)))
        .await
        .assert_error(400, "invalid_request");
    assert!(t.wallet.transactions().is_empty());
}

#[actix_web::test]
async fn simulate_payment_is_the_rust_twin_of_the_hook() {
    let t = start().await;
    let view = t.wallet.simulate_payment(MSISDN, dec("5000"), "TZS", Some(" L0000123455".to_owned())).unwrap();
    assert_eq!(
        (view.kind, view.status, view.account.as_deref()),
        (TransactionKind::Payment, TransactionStatus::Completed, Some("L0000123455"))
    );
    assert_receipt(view.receipt.as_deref());
    assert!(t.wallet.simulate_payment(MSISDN, Decimal::ZERO, "TZS", None).is_err());
    assert!(t.wallet.simulate_payment(MSISDN, dec("1.005"), "TZS", None).is_err());
    assert!(t.wallet.simulate_payment(MSISDN, dec("1"), "KES", None).is_err());
    assert!(t.wallet.simulate_payment("not-a-number", dec("1"), "TZS", None).is_err());
    assert_eq!(t.receiver.wait_for(1).await[0].json()["data"]["receipt"].as_str(), view.receipt.as_deref());
    assert_eq!(t.wallet.transactions().len(), 1);
}

#[test]
fn outside_a_tokio_runtime_simulate_payment_refuses_and_records_nothing() {
    let wallet = SandboxWallet::new(&fast(), "http://127.0.0.1:9/cb".to_owned()).unwrap();
    let error = wallet.simulate_payment(MSISDN, dec("10"), "TZS", None).unwrap_err();
    assert!(error.contains("tokio runtime"), "{error}");
    assert!(wallet.transactions().is_empty() && wallet.deliveries().is_empty());
}

#[actix_web::test]
async fn the_listing_hooks_show_transactions_and_deliveries_in_order() {
    let t = start().await;
    t.payout("L0000123455", MSISDN, "10.00").await.assert_status(202);
    t.hook(TestRequest::post(), "/payments", Some(json!({"msisdn": MSISDN, "amount": "20"}))).await.assert_status(202);
    let listed = t.hook(TestRequest::get(), "/sandbox/transactions", None).await;
    let kinds: Vec<_> =
        listed.assert_status(200)["transactions"].as_array().unwrap().iter().map(|v| v["kind"].clone()).collect();
    assert_eq!(kinds, [json!("payout"), json!("payment")]);
    t.wait_final("L0000123455").await;
    t.receiver.wait_for(2).await;
    super::eventually("both delivered", || Some(()).filter(|_| t.wallet.deliveries().iter().all(|d| d.delivered)))
        .await;
    let deliveries = t.hook(TestRequest::get(), "/sandbox/deliveries", None).await;
    let list = deliveries.assert_status(200)["deliveries"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["type"], "payment.received", "the payment finished first");
    assert_eq!(list[1]["type"], "payout.completed");
    assert_eq!((list[1]["attempts"].as_u64(), list[1]["last_status"].as_u64()), (Some(1), Some(200)));
    assert_eq!((list[1]["delivered"].as_bool(), list[1]["reference"].as_str()), (Some(true), Some("L0000123455")));
    assert!(list[1]["webhook_id"].as_str().unwrap().starts_with("evt_"));
}
