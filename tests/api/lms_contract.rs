//! The same client, over HTTP, against the sandbox LMS mounted in a running gateway: the client and the
//! sandbox agree with the spec and with each other. Each test uses its own subscriber numbers.

use chrono::{Duration as Days, NaiveDate};
use mkopo::lms::{
    find_posting, ErrorCode, LmsClient, LmsError, LoanKey, LoanStatus, NewLoan, NewRepayment, Posting, PostingMatch,
    UndoOutcome,
};
use serde_json::json;

use crate::helpers::*;

async fn hook(app: &TestApp, path: &str, body: serde_json::Value) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(format!("{}/sandbox/lms/sandbox{path}", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "hook {path}: {}", response.status());
    response.json().await.unwrap_or(serde_json::Value::Null)
}

fn ext(external_id: &str) -> LoanKey {
    LoanKey::External(external_id.to_owned())
}

fn loan(msisdn: &str, product: &str, principal: &str, reference: &str) -> NewLoan {
    NewLoan {
        customer_external_id: msisdn.into(),
        product_id: product.into(),
        principal: dec(principal),
        external_id: reference.into(),
    }
}

fn pay(amount: &str, date: NaiveDate, key: &str) -> NewRepayment {
    NewRepayment { transaction_amount: dec(amount), transaction_date: date, idempotency_key: key.into() }
}

async fn registered(lms: &LmsClient, msisdn: &str) {
    let (customer, created) = lms.ensure_customer(msisdn).await.unwrap();
    assert!(created);
    assert!(customer.active);
    assert_eq!(customer.external_id, msisdn);
}

#[tokio::test]
async fn a_subscriber_registers_borrows_repays_in_parts_and_the_loan_closes() {
    let app = TestApp::spawn().await;
    let lms = app.sandbox_client();
    let msisdn = "255712000001";
    let today = app.sandbox.today();

    registered(&lms, msisdn).await;
    let (_, created_again) = lms.ensure_customer(msisdn).await.unwrap();
    assert!(!created_again, "registration is idempotent");

    let products = lms.offered_products().await.unwrap();
    assert_eq!(products.iter().map(|p| p.product.id.as_str()).collect::<Vec<_>>(), ["1", "2", "3"]);
    let card = lms.scorecard(msisdn).await.unwrap();
    assert!(!card.is_unscored());
    assert_eq!(card.available_credit_limit, dec("50000"));

    let created = lms.create_loan(&loan(msisdn, "1", "10000", "L0000000018")).await.unwrap();
    assert_eq!(created.status, LoanStatus::Active);
    assert_eq!(created.total_outstanding(), Some(dec("11100")));
    assert_eq!(created.next_due_date, Some(today + Days::days(7)));
    assert_eq!(lms.scorecard(msisdn).await.unwrap().available_credit_limit, dec("0"), "no top-ups");
    assert_eq!(lms.active_loans(msisdn).await.unwrap().len(), 1);

    let first = lms.post_repayment(&ext("L0000000018"), &pay("5000", today, "RCPT-A")).await.unwrap();
    let replay = lms.post_repayment(&ext("L0000000018"), &pay("9999", today, "RCPT-A")).await.unwrap();
    assert_eq!((replay.id.as_str(), replay.amount), (first.id.as_str(), dec("5000")), "a replayed key changes nothing");
    assert_eq!(first.interest, dec("1100"), "interest is paid first");

    let rest = lms.post_repayment(&ext("L0000000018"), &pay("6100", today, "RCPT-B")).await.unwrap();
    let after = lms.get_loan("L0000000018").await.unwrap().unwrap();
    assert_eq!(after.status, LoanStatus::ClosedObligationsMet);
    assert_eq!(after.total_outstanding(), Some(dec("0")));
    assert_eq!(after.next_due_amount(), None);

    let history = lms.list_repayments("L0000000018", 1, 25).await.unwrap();
    assert_eq!(history.items.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [rest.id.as_str(), first.id.as_str()]);
    assert_eq!(lms.get_repayment("L0000000018", &rest.id).await.unwrap().unwrap().amount, dec("6100"));
    assert!(lms.active_loans(msisdn).await.unwrap().is_empty());
    assert_eq!(lms.scorecard(msisdn).await.unwrap().available_credit_limit, dec("50000"));

    let late = lms.post_repayment(&ext("L0000000018"), &pay("1", today, "RCPT-C")).await.unwrap_err();
    assert_eq!(late.code(), ErrorCode::FailedPrecondition, "a closed loan takes no repayment");
    app.stop().await;
}

#[tokio::test]
async fn paying_more_than_owed_leaves_the_loan_overpaid_with_the_surplus_flagged() {
    let app = TestApp::spawn().await;
    let lms = app.sandbox_client();
    registered(&lms, "255712000002").await;
    lms.create_loan(&loan("255712000002", "1", "10000", "L0000000026")).await.unwrap();
    let paid = lms.post_repayment(&ext("L0000000026"), &pay("11100.50", app.sandbox.today(), "RCPT-O")).await.unwrap();
    assert_eq!(paid.overpayment_portion, Some(dec("0.50")));
    let after = lms.get_loan("L0000000026").await.unwrap().unwrap();
    assert_eq!(after.status, LoanStatus::Overpaid);
    assert_eq!(after.total_overpaid(), dec("0.50"));
    assert_eq!(after.total_repayment(), Some(dec("11100")));
    app.stop().await;
}

#[tokio::test]
async fn a_resent_loan_create_resolves_to_the_same_loan_and_other_terms_conflict() {
    let app = TestApp::spawn().await;
    let lms = app.sandbox_client();
    registered(&lms, "255712000003").await;
    let first = lms.create_loan(&loan("255712000003", "2", "60000", "L0000000034")).await.unwrap();
    let again = lms.create_loan(&loan("255712000003", "2", "60000", "L0000000034")).await.unwrap();
    assert_eq!(first.id, again.id);
    let other = lms.create_loan(&loan("255712000003", "2", "70000", "L0000000034")).await.unwrap_err();
    assert_eq!(other.code(), ErrorCode::Conflict, "{other}");
    app.stop().await;
}

#[tokio::test]
async fn a_failed_payout_is_rolled_back_and_a_second_rollback_is_already_done() {
    let app = TestApp::spawn().await;
    let lms = app.sandbox_client();
    registered(&lms, "255712000004").await;
    lms.create_loan(&loan("255712000004", "1", "10000", "L0000000042")).await.unwrap();
    assert_eq!(lms.undo_loan("L0000000042", "wallet payout failed").await.unwrap(), UndoOutcome::Gone);
    assert!(lms.get_loan("L0000000042").await.unwrap().is_none());
    assert_eq!(lms.undo_loan("L0000000042", "again").await.unwrap(), UndoOutcome::Gone);
    assert!(lms.active_loans("255712000004").await.unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_rollback_stopped_between_steps_resumes() {
    let app = TestApp::spawn().await;
    let lms = app.sandbox_client();
    registered(&lms, "255712000005").await;
    lms.create_loan(&loan("255712000005", "1", "10000", "L0000000059")).await.unwrap();
    hook(&app, "/faults/rollback", json!({ "stopAfterSteps": 1 })).await;
    let stopped = lms.for_workers().undo_loan("L0000000059", "payout failed").await;
    // The client retries `internal` once, and the sandbox resumes from `Approved` on that retry; the
    // read afterwards confirms the loan is gone.
    assert_eq!(stopped.unwrap(), UndoOutcome::Gone);
    assert!(lms.get_loan("L0000000059").await.unwrap().is_none());
    app.stop().await;
}

#[tokio::test]
async fn unscored_numbers_read_xx_and_unknown_customers_are_not_found() {
    let app = TestApp::spawn().await;
    let lms = app.sandbox_client();
    let card = lms.scorecard("255700000000").await.unwrap();
    assert!(card.is_unscored());
    assert_eq!(card.available_credit_limit, dec("0"));
    assert!(lms.get_customer("255799999999").await.unwrap().is_none());
    assert!(lms.find_customer("255799999999").await.unwrap().is_none());
    let no_customer = lms.create_loan(&loan("255799999999", "1", "10000", "L0000000067")).await.unwrap_err();
    assert_eq!(no_customer.code(), ErrorCode::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn out_of_range_principals_and_future_dates_are_refused() {
    let app = TestApp::spawn().await;
    let lms = app.sandbox_client();
    registered(&lms, "255712000006").await;
    let LmsError::InvalidArgument { fields, .. } =
        lms.create_loan(&loan("255712000006", "1", "100000000", "L0000000075")).await.unwrap_err()
    else {
        panic!("expected invalid_argument")
    };
    assert!(!fields.is_empty(), "the sandbox names the field");
    lms.create_loan(&loan("255712000006", "1", "10000", "L0000000075")).await.unwrap();
    let tomorrow = app.sandbox.today() + Days::days(1);
    let future = lms.post_repayment(&ext("L0000000075"), &pay("100", tomorrow, "RCPT-F")).await.unwrap_err();
    assert_eq!(future.code(), ErrorCode::PermissionDenied);
    app.stop().await;
}

#[tokio::test]
async fn moving_the_sandbox_clock_makes_a_loan_overdue() {
    let app = TestApp::spawn().await;
    let lms = app.sandbox_client();
    registered(&lms, "255712000007").await;
    lms.create_loan(&loan("255712000007", "1", "10000", "L0000000083")).await.unwrap();
    hook(&app, "/clock", json!({ "advanceDays": 8 })).await;
    let overdue = lms.active_loans("255712000007").await.unwrap();
    assert!(overdue[0].is_overdue(app.sandbox.today()));
    app.stop().await;
}

#[tokio::test]
async fn revoked_tokens_are_replaced_once_and_the_call_succeeds() {
    let app = TestApp::spawn().await;
    let lms = app.sandbox_client();
    registered(&lms, "255712000008").await;
    assert_eq!(lms.tokens().fetch_count(), 1);
    hook(&app, "/tokens/revoke", json!({})).await;
    assert!(lms.get_customer("255712000008").await.unwrap().is_some());
    assert_eq!(lms.tokens().fetch_count(), 2);
    app.stop().await;
}

#[tokio::test]
async fn an_unavailable_lms_is_retried_through() {
    let app = TestApp::spawn().await;
    let lms = app.sandbox_client();
    hook(&app, "/faults", json!({ "method": "GET", "path": "/v1/loan-products", "kind": "unavailable", "count": 2 }))
        .await;
    assert_eq!(lms.loan_products().await.unwrap().len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn a_loan_create_committed_behind_a_500_is_found_on_the_resend() {
    let app = TestApp::spawn().await;
    let lms = app.sandbox_client();
    registered(&lms, "255712000009").await;
    hook(&app, "/faults", json!({ "method": "POST", "path": "/v1/loans", "kind": "commit_then_internal", "count": 1 }))
        .await;
    let created = lms.create_loan(&loan("255712000009", "1", "10000", "L0000000091")).await.unwrap();
    assert_eq!(created.external_id.as_deref(), Some("L0000000091"));
    assert_eq!(lms.active_loans("255712000009").await.unwrap().len(), 1, "exactly one loan exists");
    app.stop().await;
}

#[tokio::test]
async fn a_repayment_committed_behind_a_500_is_not_posted_twice() {
    let app = TestApp::spawn().await;
    let lms = app.sandbox_client();
    registered(&lms, "255712000010").await;
    lms.create_loan(&loan("255712000010", "1", "10000", "L0000000109")).await.unwrap();
    hook(&app, "/faults", json!({ "method": "POST", "path": "/v1/loans/external/*/repayments", "kind": "commit_then_internal", "count": 1 })).await;
    let today = app.sandbox.today();
    let error = lms.post_repayment(&ext("L0000000109"), &pay("1000", today, "RCPT-X")).await.unwrap_err();
    assert!(error.may_have_landed(), "the post is not resent by the client: {error}");
    // What the worker does before any resend: look for the posting on the loan.
    let transactions = lms.repayments_of(&ext("L0000000109")).await.unwrap().unwrap();
    let posting = Posting { idempotency_key: "RCPT-X", amount: dec("1000"), value_date: today, first_attempt: today };
    let PostingMatch::ByAmountDate(found) = find_posting(&posting, &transactions) else {
        panic!("the committed posting is on the loan: {transactions:?}")
    };
    assert_eq!(found.len(), 1);
    assert_eq!(lms.get_loan("L0000000109").await.unwrap().unwrap().total_outstanding(), Some(dec("10100")));
    app.stop().await;
}

#[tokio::test]
async fn the_gateways_own_client_reaches_the_mounted_sandbox() {
    let app = TestApp::spawn().await;
    app.app_lms.check_token().await.unwrap();
    assert_eq!(app.app_lms.scorecard("255712000011").await.unwrap().available_credit_limit, dec("50000"));
    app.stop().await;
}

#[tokio::test]
async fn a_late_wallet_credit_moves_the_disbursement_date_and_the_schedule_with_it() {
    let app = TestApp::spawn().await;
    let lms = app.sandbox_client();
    registered(&lms, "255712000012").await;
    let created = lms.create_loan(&loan("255712000012", "1", "10000", "L0000000117")).await.unwrap();
    let disbursed = created.disbursement_date().expect("the schedule shows the disbursal date");
    hook(&app, "/clock", json!({ "advanceDays": 2 })).await;
    let later = disbursed + Days::days(2);
    let moved = lms.adjust_disbursement_date("L0000000117", later, "wallet credit date").await.unwrap();
    assert_eq!(moved.disbursement_date(), Some(later));
    assert_eq!(moved.next_due_date, Some(later + Days::days(7)));
    let again = lms.adjust_disbursement_date("L0000000117", later, "wallet credit date").await.unwrap();
    assert_eq!(again.disbursement_date(), Some(later), "repeating it changes nothing");
    let earlier = lms.adjust_disbursement_date("L0000000117", disbursed, "back").await.unwrap_err();
    assert_eq!(earlier.code(), ErrorCode::PermissionDenied);
    lms.post_repayment(&ext("L0000000117"), &pay("100", later, "RCPT-ADJ")).await.unwrap();
    let after_payment = lms.adjust_disbursement_date("L0000000117", later, "x").await.unwrap_err();
    assert_eq!(after_payment.code(), ErrorCode::Aborted);
    app.stop().await;
}
