//! The OAuth token cache: one request for many calls, renewal 60 s before expiry, single flight.

use std::time::Duration;

use mockito::{Matcher, Server};

use super::tests_support::*;
use super::{DarajaError, StkQuery};

const QUERY: &str = "/mpesa/stkpushquery/v1/query";
const PAID: &str = r#"{"ResponseCode":"0","ResponseDescription":"The service request has been accepted successsfully","MerchantRequestID":"22205-34066-1","CheckoutRequestID":"ws_CO_13012021093521236557","ResultCode":"0","ResultDesc":"The service request is processed successfully."}"#;

#[tokio::test]
async fn two_calls_cause_one_oauth_request_with_basic_auth() {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1"], 1).await;
    let calls = api(&mut server, QUERY, "tok-1", Matcher::Any, 200, PAID, 2).await;
    let client = client(&server);
    for _ in 0..2 {
        assert_eq!(client.stk_query("ws_CO_13012021093521236557").await, StkQuery::Succeeded);
    }
    assert_eq!(client.token_fetch_count(), 1);
    token.assert_async().await;
    calls.assert_async().await;
}

#[tokio::test]
async fn the_token_is_renewed_sixty_seconds_before_it_expires() {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1", "tok-2"], 2).await;
    let old = api(&mut server, QUERY, "tok-1", Matcher::Any, 200, PAID, 2).await;
    let new = api(&mut server, QUERY, "tok-2", Matcher::Any, 200, PAID, 1).await;
    let clock = TestClock::new();
    let client = client_with(&server, &clock, Duration::from_secs(2));
    client.stk_query("ws_CO_1").await;
    clock.advance(3538); // expires_in 3599 − 60 s margin = 3539 s of use
    client.stk_query("ws_CO_1").await;
    clock.advance(2);
    client.stk_query("ws_CO_1").await;
    token.assert_async().await;
    old.assert_async().await;
    new.assert_async().await;
}

#[tokio::test]
async fn twenty_concurrent_calls_share_one_oauth_request() {
    let mut server = Server::new_async().await;
    let token = oauth(&mut server, &["tok-1"], 1).await;
    let calls = api(&mut server, QUERY, "tok-1", Matcher::Any, 200, PAID, 20).await;
    let client = client(&server);
    let queries = (0..20).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.stk_query("ws_CO_1").await })
    });
    for outcome in futures::future::join_all(queries).await {
        assert_eq!(outcome.unwrap(), StkQuery::Succeeded);
    }
    assert_eq!(client.token_fetch_count(), 1);
    token.assert_async().await;
    calls.assert_async().await;
}

#[tokio::test]
async fn expires_in_may_arrive_as_a_number_and_refused_credentials_are_an_auth_error() {
    let mut server = Server::new_async().await;
    let token = server
        .mock("GET", "/oauth/v1/generate")
        .match_query(Matcher::Any)
        .with_body(r#"{"access_token":"tok-n","expires_in":3599}"#)
        .expect(1)
        .create_async()
        .await;
    client(&server).check_token().await.unwrap();
    token.assert_async().await;

    let mut server = Server::new_async().await;
    let refused = server
        .mock("GET", "/oauth/v1/generate")
        .match_query(Matcher::Any)
        .with_status(400)
        .with_body(r#"{"resultCode":"999991","resultDesc":"Invalid client id passed"}"#)
        .expect(1)
        .create_async()
        .await;
    let error = client(&server).check_token().await.unwrap_err();
    assert!(matches!(&error, DarajaError::Auth { status: 400, detail } if detail.contains("client id")), "{error:?}");
    refused.assert_async().await;
}
