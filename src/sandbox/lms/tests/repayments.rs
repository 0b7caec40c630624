//! docs/lms.md Repayments: idempotency, status and date rules, allocation, settlement, overpayment, reads.

use serde_json::{json, Value};

use super::{amount, date, dec, start};

#[actix_web::test]
async fn an_idempotent_replay_returns_the_original_transaction_whatever_the_new_amount() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    let first = t.repay("L1", "5000", "receipt-1").await;
    let original = first.assert_ok().clone();
    let replay = t.repay("L1", "9999", "receipt-1").await;
    assert_eq!(replay.assert_ok(), &original);
    let no_amount = t.post("/v1/loans/external/L1/repayments", json!({"idempotencyKey": "receipt-1"})).await;
    assert_eq!(no_amount.assert_ok(), &original);
    let loan = t.get("/v1/loans/external/L1").await;
    assert_eq!(loan.amount("totalRepayment"), dec("5000"), "posted once");
    assert_eq!(loan.body["repaymentHistory"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn the_idempotency_key_is_checked_before_the_status() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    let settle = t.repay("L1", "11100", "receipt-1").await;
    let original = settle.assert_ok().clone();
    assert_eq!(t.get("/v1/loans/external/L1").await.body["status"], "Closed (obligations met)");
    assert_eq!(t.repay("L1", "11100", "receipt-1").await.assert_ok(), &original);
    t.repay("L1", "11100", "receipt-2").await.assert_error(400, "failed_precondition");
}

#[actix_web::test]
async fn the_same_key_on_another_loan_posts_a_new_transaction() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    t.seven_day_loan("d", "L2").await;
    let a = t.repay("L1", "100", "k").await.assert_ok().clone();
    let b = t.repay("L2", "100", "k").await.assert_ok().clone();
    assert_ne!(a["id"], b["id"]);
}

#[actix_web::test]
async fn repaying_a_loan_that_is_not_active_is_failed_precondition() {
    let t = start().await;
    t.seven_day_loan("c", "closed").await;
    t.repay("closed", "11100", "a").await.assert_ok();
    t.repay("closed", "1", "b").await.assert_error(400, "failed_precondition");
    t.loan("c", 1, 10_000, "overpaid").await;
    t.repay("overpaid", "12000", "c").await.assert_ok();
    t.repay("overpaid", "1", "d").await.assert_error(400, "failed_precondition");
    t.loan("c", 1, 10_000, "approved").await;
    t.post("/v1/loans/external/approved/undo-disbursal", json!({})).await.assert_ok();
    t.repay("approved", "1", "e").await.assert_error(400, "failed_precondition");
}

#[actix_web::test]
async fn a_non_positive_amount_or_an_overlong_key_is_invalid_argument() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    for body in [
        json!({"transactionAmount": 0, "idempotencyKey": "a"}),
        json!({"transactionAmount": -10, "idempotencyKey": "b"}),
        json!({"transactionDate": "2026-05-25"}),
    ] {
        let reply = t.post("/v1/loans/external/L1/repayments", body).await;
        reply.assert_error(400, "invalid_argument");
        assert_eq!(reply.field_errors()[0].0, "transactionAmount");
    }
    let long = t.repay("L1", "10", &"k".repeat(101)).await;
    long.assert_error(400, "invalid_argument");
    assert_eq!(long.field_errors()[0].0, "idempotencyKey");
    t.repay("L1", "10", &"k".repeat(100)).await.assert_ok();
    let bad_date = t
        .post("/v1/loans/external/L1/repayments", json!({"transactionAmount": 1, "transactionDate": "25/05/2026"}))
        .await;
    bad_date.assert_error(400, "invalid_argument");
    assert_eq!(bad_date.field_errors()[0].0, "transactionDate");
}

#[actix_web::test]
async fn a_future_date_or_one_before_disbursement_is_permission_denied() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    t.lms.set_today(date("2026-05-30"));
    for day in ["2026-05-31", "2026-05-24"] {
        let body = json!({"transactionAmount": 100, "transactionDate": day, "idempotencyKey": day});
        t.post("/v1/loans/external/L1/repayments", body).await.assert_error(403, "permission_denied");
    }
    let on_the_day = t
        .post("/v1/loans/external/L1/repayments", json!({"transactionAmount": 100, "transactionDate": "2026-05-30"}))
        .await;
    assert_eq!(on_the_day.assert_ok()["date"], "2026-05-30");
    let defaulted = t.post("/v1/loans/external/L1/repayments", json!({"transactionAmount": 100})).await;
    assert_eq!(defaulted.assert_ok()["date"], "2026-05-30", "the date defaults to the business date");
}

#[actix_web::test]
async fn paying_exactly_the_outstanding_closes_the_loan_with_every_outstanding_field_zero() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    let tx = t.repay("L1", "11100", "r").await;
    assert_eq!((tx.amount("principal"), tx.amount("interest")), (dec("10000"), dec("1100")));
    assert!(tx.body.get("overpaymentPortion").is_none());
    let loan = t.get("/v1/loans/external/L1").await;
    assert_eq!(loan.body["status"], "Closed (obligations met)");
    for field in ["principalOutstanding", "interestOutstanding", "totalOutstanding", "totalOverpaid"] {
        assert_eq!(loan.amount(field), dec("0"), "{field}");
    }
    assert_eq!(
        (loan.amount("totalRepayment"), loan.amount("principalPaid"), loan.amount("interestPaid")),
        (dec("11100"), dec("10000"), dec("1100"))
    );
    assert_eq!((&loan.body["nextDueDate"], &loan.body["nextDueAmount"]), (&Value::Null, &Value::Null));
    assert_eq!(loan.body["repaymentSchedule"][0]["complete"], true);
    assert_eq!(loan.body["overdue"], false);
}

#[actix_web::test]
async fn paying_more_makes_the_loan_overpaid_with_the_surplus_recorded() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    let tx = t.repay("L1", "11150.50", "r").await;
    assert_eq!(tx.amount("overpaymentPortion"), dec("50.5"));
    assert_eq!(tx.amount("amount"), dec("11150.5"));
    let loan = t.get("/v1/loans/external/L1").await;
    assert_eq!(loan.body["status"], "Overpaid");
    assert_eq!(loan.amount("totalOverpaid"), dec("50.5"));
    assert_eq!(loan.amount("totalRepayment"), dec("11100"), "the surplus is not part of totalRepayment");
    assert_eq!(loan.amount("totalOutstanding"), dec("0"));
}

#[actix_web::test]
async fn partial_payments_go_to_the_oldest_instalment_interest_first() {
    let t = start().await;
    t.customer("c").await;
    t.loan("c", 3, 150_000, "L3").await;
    let first = t.repay("L3", "5000", "a").await;
    assert_eq!(first.amount("interest"), dec("5000"));
    assert!(first.body.get("principal").is_none(), "a zero principal portion is omitted");
    let second = t.repay("L3", "60000", "b").await;
    assert_eq!((second.amount("interest"), second.amount("principal")), (dec("10000"), dec("50000")));
    let loan = t.get("/v1/loans/external/L3").await;
    assert_eq!(loan.body["nextDueDate"], "2026-07-25");
    assert_eq!(loan.amount("nextDueAmount"), dec("53000"));
    assert_eq!(loan.amount("totalOutstanding"), dec("112000"));
    assert_eq!(loan.body["repaymentSchedule"][0]["complete"], true);
}

#[actix_web::test]
async fn transactions_are_listed_newest_first_as_posted_and_in_the_history() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    for (amount, key) in [("1000", "a"), ("2000", "b"), ("3000", "c")] {
        t.repay("L1", amount, key).await.assert_ok();
    }
    let list = t.get("/v1/loans/external/L1/repayments").await;
    let items = list.assert_ok()["items"].as_array().unwrap().clone();
    let amounts: Vec<_> = items.iter().map(|i| amount(&i["amount"])).collect();
    assert_eq!(amounts, [dec("3000"), dec("2000"), dec("1000")]);
    assert!(items.iter().all(|i| i["status"] == "posted" && i["type"] == "Repayment" && i["reversed"] == false));
    assert_eq!((list.body["total"].as_u64(), list.body["rowsPerPage"].as_u64()), (Some(3), Some(10)));
    let history = t.get("/v1/loans/external/L1").await.body["repaymentHistory"].clone();
    assert_eq!(history, Value::Array(items.clone()));
    let page_two = t.get("/v1/loans/external/L1/repayments?page=2&rows=1").await;
    assert_eq!(page_two.assert_ok()["items"][0], items[1]);
    t.get("/v1/loans/external/nope/repayments").await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn a_repayment_is_read_back_by_transaction_id() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    t.seven_day_loan("d", "L2").await;
    let tx = t.repay("L1", "500", "a").await.assert_ok().clone();
    let id = tx["id"].as_str().unwrap();
    assert_eq!(t.get(&format!("/v1/loans/external/L1/repayments/{id}")).await.assert_ok(), &tx);
    t.get(&format!("/v1/loans/external/L2/repayments/{id}")).await.assert_error(404, "not_found");
    t.get("/v1/loans/external/L1/repayments/999").await.assert_error(404, "not_found");
    t.get("/v1/loans/external/L1/repayments/abc").await.assert_error(404, "not_found");
    t.get(&format!("/v1/loans/external/nope/repayments/{id}")).await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn repaying_an_unknown_loan_is_not_found_and_the_numeric_route_works() {
    let t = start().await;
    t.repay("nope", "100", "a").await.assert_error(404, "not_found");
    t.seven_day_loan("c", "L1").await;
    let tx = t.post("/v1/loans/1/repayments", json!({"transactionAmount": 100, "idempotencyKey": "n"})).await;
    assert_eq!(tx.amount("interest"), dec("100"));
    t.post("/v1/loans/9/repayments", json!({"transactionAmount": 100})).await.assert_error(404, "not_found");
}
