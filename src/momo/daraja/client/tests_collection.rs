//! STK push and STK query against a mock Daraja.

use std::time::Duration;

use base64::Engine;
use mockito::{Matcher, Server};
use serde_json::json;

use super::tests_support::*;
use super::{CollectionSubmit, StkQuery};

const PUSH: &str = "/mpesa/stkpush/v1/processrequest";
const QUERY: &str = "/mpesa/stkpushquery/v1/query";
const ACCEPTED: &str = r#"{"MerchantRequestID":"29115-34620561-1","CheckoutRequestID":"ws_CO_191220191020363925","ResponseCode":"0","ResponseDescription":"Success. Request accepted for processing","CustomerMessage":"Success. Request accepted for processing"}"#;

fn password() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("174379{PASSKEY}20260525130238"))
}

/// The documented body for the sample collection, with the EAT timestamp of [`NOW`].
fn push_body() -> serde_json::Value {
    json!({"BusinessShortCode":174379,"Password":password(),"Timestamp":"20260525130238",
        "TransactionType":"CustomerPayBillOnline","Amount":"11100","PartyA":"254712345678","PartyB":"174379",
        "PhoneNumber":"254712345678","CallBackURL":callback("stk"),"AccountReference":"L0000123455",
        "TransactionDesc":"C0000000174"})
}

async fn push_answered(status: usize, answer: &str) -> CollectionSubmit {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1"], 1).await;
    let call = api(&mut server, PUSH, "tok-1", Matcher::Json(push_body()), status, answer, 1).await;
    let outcome = client(&server).stk_push(&collection_request()).await;
    token.assert_async().await;
    call.assert_async().await;
    outcome
}

#[tokio::test]
async fn an_stk_push_sends_the_spec_body_and_an_accepted_answer_is_pending() {
    assert_eq!(
        push_answered(200, ACCEPTED).await,
        CollectionSubmit::Pending { checkout_request_id: "ws_CO_191220191020363925".into() }
    );
}

#[tokio::test]
async fn an_error_body_or_a_non_zero_code_means_no_prompt_was_sent() {
    let locked = r#"{"requestId":"1","errorCode":"500.001.1001","errorMessage":"Unable to lock subscriber, a transaction is already in process for the current subscriber"}"#;
    let outcome = push_answered(500, locked).await;
    assert!(matches!(&outcome, CollectionSubmit::Failed { code, .. } if code == "500.001.1001"), "{outcome:?}");
    let invalid = r#"{"requestId":"2","errorCode":"400.002.02","errorMessage":"Bad Request - Invalid PhoneNumber"}"#;
    assert!(matches!(push_answered(400, invalid).await, CollectionSubmit::Failed { .. }));
    let refused =
        r#"{"MerchantRequestID":"1","CheckoutRequestID":"","ResponseCode":"1","ResponseDescription":"Rejected"}"#;
    assert!(matches!(push_answered(200, refused).await, CollectionSubmit::Failed { code, .. } if code == "1"));
}

#[tokio::test]
async fn a_5xx_without_an_error_body_is_unknown() {
    assert!(matches!(push_answered(502, "<html>bad gateway</html>").await, CollectionSubmit::Unknown { .. }));
}

#[tokio::test]
async fn a_push_timeout_is_unknown() {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1"], 1).await;
    let call = server
        .mock("POST", PUSH)
        .with_body_from_request(|_| {
            std::thread::sleep(Duration::from_millis(1200));
            ACCEPTED.as_bytes().to_vec()
        })
        .expect(1)
        .create_async()
        .await;
    let client = client_with(&server, &TestClock::new(), Duration::from_millis(400));
    assert!(matches!(client.stk_push(&collection_request()).await, CollectionSubmit::Unknown { .. }));
    token.assert_async().await;
    call.assert_async().await;
}

#[tokio::test]
async fn a_collection_without_a_loan_account_is_refused_locally() {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1"], 0).await;
    let never = server.mock("POST", PUSH).expect(0).create_async().await;
    let mut request = collection_request();
    request.account = None;
    let outcome = client(&server).stk_push(&request).await;
    assert!(matches!(&outcome, CollectionSubmit::Failed { code, .. } if code == "invalid_request"), "{outcome:?}");
    token.assert_async().await;
    never.assert_async().await;
}

async fn query_answered(status: usize, answer: &str) -> StkQuery {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1"], 1).await;
    let body = json!({"BusinessShortCode":174379,"Password":password(),"Timestamp":"20260525130238",
        "CheckoutRequestID":"ws_CO_191220191020363925"});
    let call = api(&mut server, QUERY, "tok-1", Matcher::Json(body), status, answer, 1).await;
    let outcome = client(&server).stk_query("ws_CO_191220191020363925").await;
    token.assert_async().await;
    call.assert_async().await;
    outcome
}

fn query_answer(code: &str, desc: &str) -> String {
    format!(
        r#"{{"ResponseCode":"0","ResponseDescription":"The service request has been accepted successsfully","MerchantRequestID":"29115-34620561-1","CheckoutRequestID":"ws_CO_191220191020363925","ResultCode":"{code}","ResultDesc":"{desc}"}}"#
    )
}

#[tokio::test]
async fn a_zero_query_result_is_success_without_a_receipt() {
    assert_eq!(
        query_answered(200, &query_answer("0", "The service request is processed successfully.")).await,
        StkQuery::Succeeded
    );
}

#[tokio::test]
async fn a_non_zero_query_result_is_a_failure_in_our_vocabulary() {
    let outcome = query_answered(200, &query_answer("1032", "Request cancelled by user")).await;
    assert_eq!(
        outcome,
        StkQuery::Failed { code: "cancelled_by_user".into(), message: "Daraja 1032: Request cancelled by user".into() }
    );
}

#[tokio::test]
async fn an_error_body_or_still_processing_changes_nothing() {
    let processing =
        r#"{"requestId":"1","errorCode":"500.001.1001","errorMessage":"The transaction is being processed"}"#;
    assert!(matches!(query_answered(500, processing).await, StkQuery::NoChange { .. }));
    let under_way = query_answer("4999", "The transaction is still under processing");
    assert!(matches!(query_answered(200, &under_way).await, StkQuery::NoChange { .. }));
}
