//! The doc quirks switched on per instance (`ignore_idempotency_key`, `empty_next_due`, `docs_fee_names`),
//! their defaults, and the next-due / overdue reading of settled loans.

use serde_json::{json, Value};

use super::{date, dec, start, start_with, Reply, TestLms};
use crate::sandbox::lms::{SandboxLmsSettings, SandboxQuirks};

async fn with(quirks: SandboxQuirks) -> TestLms {
    start_with(SandboxLmsSettings { quirks, ..Default::default() }).await
}

const FINERACT_FEES: [&str; 6] = [
    "feeChargesCharged",
    "feeChargesPaid",
    "feeChargesOutstanding",
    "penaltyChargesCharged",
    "penaltyChargesPaid",
    "penaltyChargesOutstanding",
];
const DOCS_FEES: [&str; 6] =
    ["feeCharged", "feePaid", "feeOutstanding", "penaltyCharged", "penaltyPaid", "penaltyOutstanding"];

#[actix_web::test]
async fn with_ignore_idempotency_key_every_post_is_a_new_transaction_but_the_date_is_honoured() {
    let t = with(SandboxQuirks { ignore_idempotency_key: true, ..Default::default() }).await;
    t.seven_day_loan("c", "L1").await;
    let first = t.repay("L1", "100", "receipt-1").await.assert_ok().clone();
    let second = t.repay("L1", "100", "receipt-1").await.assert_ok().clone();
    assert_ne!(first["id"], second["id"]);
    let loan = t.get("/v1/loans/external/L1").await;
    assert_eq!(loan.amount("totalRepayment"), dec("200"));
    assert_eq!(loan.body["repaymentHistory"].as_array().unwrap().len(), 2);
    let future = json!({"transactionAmount": 1, "transactionDate": "2026-05-26", "idempotencyKey": "receipt-1"});
    t.post("/v1/loans/external/L1/repayments", future).await.assert_error(403, "permission_denied");
    let overlong = json!({"transactionAmount": 1, "idempotencyKey": "k".repeat(101)});
    t.post("/v1/loans/external/L1/repayments", overlong).await.assert_ok();
}

#[actix_web::test]
async fn by_default_the_current_generation_dedupes_on_the_key() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    let first = t.repay("L1", "100", "receipt-1").await.assert_ok().clone();
    assert_eq!(t.repay("L1", "100", "receipt-1").await.assert_ok(), &first);
    assert_eq!(t.get("/v1/loans/external/L1").await.amount("totalRepayment"), dec("100"));
}

fn next_due(reply: &Reply) -> (Value, Value, Value) {
    (reply.body["nextDueDate"].clone(), reply.body["nextDueAmount"].clone(), reply.body["overdue"].clone())
}

#[actix_web::test]
async fn with_empty_next_due_a_settled_loan_shows_an_empty_date_and_zero() {
    let t = with(SandboxQuirks { empty_next_due: true, ..Default::default() }).await;
    t.seven_day_loan("c", "closed").await;
    t.loan("c", 1, 10_000, "overpaid").await;
    let active = t.loan("c", 1, 10_000, "active").await;
    assert_eq!(active["nextDueDate"], "2026-06-01", "a loan that owes keeps its date");
    t.repay("closed", "11100", "a").await.assert_ok();
    t.repay("overpaid", "12000", "b").await.assert_ok();
    for loan in ["closed", "overpaid"] {
        let reply = t.get(&format!("/v1/loans/external/{loan}")).await;
        let (date, amount, overdue) = next_due(&reply);
        assert_eq!((date, overdue), (json!(""), json!(false)), "{loan}");
        assert_eq!(super::amount(&amount), dec("0"), "{loan}");
    }
    let rows = t.get("/v1/loans?customerExternalId=c&status=Closed%20(obligations%20met)").await;
    assert_eq!(rows.assert_ok()["items"][0]["nextDueDate"], "");
}

#[actix_web::test]
async fn settled_loans_have_no_next_due_and_are_never_overdue_even_past_their_due_date() {
    let t = start().await;
    t.seven_day_loan("c", "closed").await;
    t.loan("c", 1, 10_000, "overpaid").await;
    t.loan("c", 1, 10_000, "late").await;
    t.repay("closed", "11100", "a").await.assert_ok();
    t.repay("overpaid", "11200", "b").await.assert_ok();
    t.lms.set_today(date("2026-07-01"));
    for loan in ["closed", "overpaid"] {
        let reply = t.get(&format!("/v1/loans/external/{loan}")).await;
        assert_eq!(next_due(&reply), (Value::Null, Value::Null, json!(false)), "{loan}");
    }
    assert_eq!(t.get("/v1/loans/external/late").await.body["overdue"], true);
    let list = t.get("/v1/loans?customerExternalId=c").await;
    let overdue: Vec<_> = list.body["items"].as_array().unwrap().iter().map(|l| l["overdue"].clone()).collect();
    assert_eq!(overdue, [json!(false), json!(false), json!(true)]);
}

#[actix_web::test]
async fn with_docs_fee_names_the_roll_up_uses_the_docs_names_only() {
    let t = with(SandboxQuirks { docs_fee_names: true, ..Default::default() }).await;
    let created = t.seven_day_loan("c", "L1").await;
    let read = t.get("/v1/loans/external/L1").await.body;
    let listed = t.get("/v1/loans").await.body["items"][0].clone();
    for loan in [&created, &read, &listed] {
        let fields = loan.as_object().unwrap();
        for name in DOCS_FEES {
            assert_eq!(fields.get(name).map(super::amount), Some(dec("0")), "{name}");
        }
        for name in FINERACT_FEES {
            assert!(!fields.contains_key(name), "{name} must be absent");
        }
    }
}

#[actix_web::test]
async fn by_default_the_roll_up_uses_fineract_names_and_next_due_is_null() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    t.repay("L1", "11100", "a").await.assert_ok();
    let loan = t.get("/v1/loans/external/L1").await;
    let fields = loan.body.as_object().unwrap();
    assert!(FINERACT_FEES.iter().all(|name| fields.contains_key(*name)));
    assert!(DOCS_FEES.iter().all(|name| !fields.contains_key(*name)));
    assert_eq!(next_due(&loan), (Value::Null, Value::Null, json!(false)));
}
