//! B2C payouts, transaction status and C2B URL registration against a mock Daraja.

use std::time::Duration;

use mockito::{Matcher, Server};
use serde_json::json;

use super::tests_support::*;
use super::{DarajaError, PayoutSubmit, StatusSubmit};
use crate::momo::Reference;

const B2C: &str = "/mpesa/b2c/v3/paymentrequest";
const ACCEPTED: &str = r#"{"ConversationID":"AG_20170717_00006be9c8b5cc46abb6","OriginatorConversationID":"L0000123455","ResponseCode":"0","ResponseDescription":"Accept the service request successfully."}"#;

/// The documented request body, byte for byte in the documented field order.
fn b2c_body() -> String {
    format!(
        r#"{{"InitiatorName":"mkopo_api","SecurityCredential":"{CREDENTIAL}","CommandID":"BusinessPayment","Amount":5000,"PartyA":"600996","PartyB":"254712345678","QueueTimeOutURL":"{}","ResultURL":"{}","OriginatorConversationID":"L0000123455","Remarks":"Mkopo loan","Occasion":"L0000123455"}}"#,
        callback("b2c/timeout"),
        callback("b2c/result")
    )
}

/// Runs one payout against an answer and returns the classification.
async fn payout_answered(status: usize, answer: &str) -> PayoutSubmit {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1"], 1).await;
    let call = api(&mut server, B2C, "tok-1", Matcher::Exact(b2c_body()), status, answer, 1).await;
    let outcome = client(&server).b2c_payout(&payout_request()).await;
    token.assert_async().await;
    call.assert_async().await;
    outcome
}

#[tokio::test]
async fn a_payout_sends_the_spec_body_exactly_and_an_accepted_answer_is_pending() {
    let outcome = payout_answered(200, ACCEPTED).await;
    assert_eq!(outcome, PayoutSubmit::Pending { conversation_id: "AG_20170717_00006be9c8b5cc46abb6".into() });
}

#[tokio::test]
async fn a_non_zero_response_code_is_a_definite_failure() {
    let answer = r#"{"ConversationID":"","OriginatorConversationID":"L0000123455","ResponseCode":"1","ResponseDescription":"Rejected"}"#;
    assert_eq!(
        payout_answered(200, answer).await,
        PayoutSubmit::Failed { code: "1".into(), message: "Rejected".into() }
    );
}

#[tokio::test]
async fn an_http_4xx_error_body_is_a_definite_failure() {
    let answer = r#"{"requestId":"1-2","errorCode":"400.002.02","errorMessage":"Bad Request - Invalid Amount"}"#;
    let outcome = payout_answered(400, answer).await;
    assert_eq!(
        outcome,
        PayoutSubmit::Failed { code: "400.002.02".into(), message: "Bad Request - Invalid Amount".into() }
    );
}

#[tokio::test]
async fn throttling_means_retry_the_same_reference_later() {
    for code in ["500.003.02", "500.003.03"] {
        let answer = format!(r#"{{"requestId":"1","errorCode":"{code}","errorMessage":"Spike arrest violation"}}"#);
        let outcome = payout_answered(500, &answer).await;
        assert!(matches!(&outcome, PayoutSubmit::RetryLater { code: c, .. } if c == code), "{outcome:?}");
    }
    assert!(matches!(payout_answered(429, "").await, PayoutSubmit::RetryLater { .. }));
}

#[tokio::test]
async fn any_other_5xx_is_unknown_and_never_a_failure() {
    let answer = r#"{"requestId":"1","errorCode":"500.002.1001","errorMessage":"Internal server error"}"#;
    assert!(matches!(payout_answered(500, answer).await, PayoutSubmit::Unknown { .. }));
    assert!(matches!(payout_answered(503, "<html>unavailable</html>").await, PayoutSubmit::Unknown { .. }));
    assert!(matches!(payout_answered(200, "not json").await, PayoutSubmit::Unknown { .. }));
}

#[tokio::test]
async fn a_timeout_is_unknown_and_the_payout_is_sent_only_once() {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1"], 1).await;
    let call = server
        .mock("POST", B2C)
        .with_body_from_request(|_| {
            std::thread::sleep(Duration::from_millis(1200));
            ACCEPTED.as_bytes().to_vec()
        })
        .expect(1)
        .create_async()
        .await;
    let client = client_with(&server, &TestClock::new(), Duration::from_millis(400));
    let outcome = client.b2c_payout(&payout_request()).await;
    assert!(matches!(&outcome, PayoutSubmit::Unknown { why } if why.contains("within")), "{outcome:?}");
    token.assert_async().await;
    call.assert_async().await;
}

#[tokio::test]
async fn a_refused_token_is_replaced_once_and_the_payout_repeated() {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1", "tok-2"], 2).await;
    let invalid = r#"{"requestId":"1","errorCode":"404.001.03","errorMessage":"Invalid Access Token"}"#;
    let refused = api(&mut server, B2C, "tok-1", Matcher::Exact(b2c_body()), 404, invalid, 1).await;
    let accepted = api(&mut server, B2C, "tok-2", Matcher::Exact(b2c_body()), 200, ACCEPTED, 1).await;
    let outcome = client(&server).b2c_payout(&payout_request()).await;
    assert!(matches!(outcome, PayoutSubmit::Pending { .. }), "{outcome:?}");
    token.assert_async().await;
    refused.assert_async().await;
    accepted.assert_async().await;
}

#[tokio::test]
async fn a_token_refused_twice_is_not_sent_a_third_time_and_may_be_retried_later() {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1", "tok-2"], 2).await;
    let invalid = r#"{"requestId":"1","errorCode":"400.003.01","errorMessage":"Invalid Access Token"}"#;
    let calls = server.mock("POST", B2C).with_status(400).with_body(invalid).expect(2).create_async().await;
    let outcome = client(&server).b2c_payout(&payout_request()).await;
    assert!(matches!(&outcome, PayoutSubmit::RetryLater { code, .. } if code == "400.003.01"), "{outcome:?}");
    token.assert_async().await;
    calls.assert_async().await;
}

#[tokio::test]
async fn refused_credentials_send_nothing_and_may_be_retried_later() {
    let mut server = Server::new_async().await;
    let token = server
        .mock("GET", "/oauth/v1/generate")
        .match_query(Matcher::Any)
        .with_status(400)
        .with_body(r#"{"errorCode":"400.008.01","errorMessage":"Invalid Authentication passed"}"#)
        .expect(1)
        .create_async()
        .await;
    let never = server.mock("POST", B2C).expect(0).create_async().await;
    let outcome = client(&server).b2c_payout(&payout_request()).await;
    assert!(matches!(&outcome, PayoutSubmit::RetryLater { message, .. } if message.contains("Invalid Authentication")));
    token.assert_async().await;
    never.assert_async().await;
}

#[tokio::test]
async fn a_fractional_amount_is_refused_without_calling_daraja() {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1"], 0).await;
    let never = server.mock("POST", B2C).expect(0).create_async().await;
    let mut request = payout_request();
    request.amount = crate::momo::Money::new(rust_decimal::Decimal::new(500050, 2), "KES");
    let outcome = client(&server).b2c_payout(&request).await;
    assert!(matches!(&outcome, PayoutSubmit::Failed { code, .. } if code == "invalid_amount"), "{outcome:?}");
    token.assert_async().await;
    never.assert_async().await;
}

fn status_body() -> serde_json::Value {
    json!({"Initiator":"mkopo_api","SecurityCredential":CREDENTIAL,"CommandID":"TransactionStatusQuery",
        "TransactionID":"","OriginalConversationID":"L0000123455","PartyA":"600996","IdentifierType":"4",
        "ResultURL":callback("status/result"),"QueueTimeOutURL":callback("status/timeout"),"Remarks":"payout status","Occasion":""})
}

async fn status_answered(status: usize, answer: &str) -> StatusSubmit {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1"], 1).await;
    let path = "/mpesa/transactionstatus/v1/query";
    let call = api(&mut server, path, "tok-1", Matcher::Json(status_body()), status, answer, 1).await;
    let outcome = client(&server).transaction_status(&Reference::parse("L0000123455").unwrap()).await;
    token.assert_async().await;
    call.assert_async().await;
    outcome
}

#[tokio::test]
async fn a_status_query_sends_the_spec_body_and_reports_acceptance_with_the_query_ids() {
    let answer = r#"{"OriginatorConversationID":"5118-111210482-1","ConversationID":"AG_20260525_1","ResponseCode":"0","ResponseDescription":"Accept the service request successfully."}"#;
    assert_eq!(
        status_answered(200, answer).await,
        StatusSubmit::Accepted {
            conversation_id: Some("AG_20260525_1".into()),
            originator_conversation_id: Some("5118-111210482-1".into())
        }
    );
}

#[tokio::test]
async fn a_refused_status_query_is_not_accepted_and_changes_nothing() {
    let refused = r#"{"requestId":"1","errorCode":"400.002.02","errorMessage":"Bad Request - Invalid Initiator"}"#;
    let outcome = status_answered(400, refused).await;
    assert!(matches!(&outcome, StatusSubmit::NotAccepted { why } if why.contains("400.002.02")), "{outcome:?}");
    assert!(matches!(status_answered(503, "").await, StatusSubmit::NotAccepted { .. }));
}

#[tokio::test]
async fn c2b_urls_are_registered_with_the_spec_body() {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1"], 1).await;
    let expected = json!({"ShortCode":"600638","ResponseType":"Completed",
        "ConfirmationURL":callback("c2b/confirmation"),"ValidationURL":callback("c2b/validation")});
    let answer = r#"{"OriginatorCoversationID":"6e86-45dd-91ac-fd5d4178ab523408729","ResponseCode":"0","ResponseDescription":"Success"}"#;
    let call = api(&mut server, "/mpesa/c2b/v1/registerurl", "tok-1", Matcher::Json(expected), 200, answer, 1).await;
    client(&server).register_c2b_urls().await.unwrap();
    token.assert_async().await;
    call.assert_async().await;
}

#[tokio::test]
async fn a_refused_registration_is_an_api_error_with_daraja_s_code() {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1"], 1).await;
    let answer = r#"{"requestId":"1","errorCode":"500.003.1001","errorMessage":"Urls are already registered"}"#;
    let call = api(&mut server, "/mpesa/c2b/v1/registerurl", "tok-1", Matcher::Any, 500, answer, 1).await;
    let error = client(&server).register_c2b_urls().await.unwrap_err();
    assert!(matches!(&error, DarajaError::Api { code, status: 500, .. } if code == "500.003.1001"), "{error:?}");
    token.assert_async().await;
    call.assert_async().await;
}
