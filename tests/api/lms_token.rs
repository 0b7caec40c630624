//! The LMS token provider against a mock auth host (mockito): Basic credentials, one token request
//! for many concurrent calls, the proactive margin and hard edge, exactly one refresh and resend on a
//! 401, and credentials refusals not retried within a minute.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use mkopo::lms::ErrorCode;
use mockito::{Mock, Server, ServerGuard};

use crate::helpers::*;
use crate::lms_client::{api, server_with_token, CUSTOMER};

#[tokio::test]
async fn the_token_is_fetched_with_basic_auth_and_sent_as_a_bearer() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let get = api(&mut server, "GET", "/v1/customers/external/255712345678", &bearer, 200, CUSTOMER, 2).await;
    let lms = client(&server.url());
    for _ in 0..2 {
        let customer = lms.get_customer("255712345678").await.unwrap().unwrap();
        assert_eq!((customer.id.as_str(), customer.active), ("42", true));
    }
    token.assert_async().await;
    get.assert_async().await;
}

#[tokio::test]
async fn fifty_concurrent_calls_cause_one_token_request() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let get = api(&mut server, "GET", "/v1/customers/external/255712345678", &bearer, 200, CUSTOMER, 50).await;
    let lms = client(&server.url());
    let calls = (0..50).map(|_| {
        let lms = lms.clone();
        tokio::spawn(async move { lms.get_customer("255712345678").await })
    });
    for result in futures::future::join_all(calls).await {
        assert!(result.unwrap().unwrap().is_some());
    }
    token.assert_async().await;
    get.assert_async().await;
    assert_eq!(lms.tokens().fetch_count(), 1);
}

/// A token endpoint that answers with the given tokens in order (the last one repeats).
async fn rotating_tokens(server: &mut ServerGuard, tokens: Vec<String>, hits: usize) -> Mock {
    let served = Arc::new(AtomicUsize::new(0));
    server
        .mock("GET", "/v1/auth/token")
        .with_status(200)
        .with_body_from_request(move |_| {
            let n = served.fetch_add(1, Ordering::SeqCst).min(tokens.len() - 1);
            token_body(&tokens[n]).into_bytes()
        })
        .expect(hits)
        .create_async()
        .await
}

#[tokio::test]
async fn a_401_leads_to_exactly_one_refresh_and_one_resend() {
    let mut server = Server::new_async().await;
    let (old, new) = (year_token("old"), year_token("new"));
    let tokens = rotating_tokens(&mut server, vec![old.clone(), new.clone()], 2).await;
    let envelope = r#"{"code":"unauthenticated","message":"token revoked"}"#;
    let rejected =
        api(&mut server, "GET", "/v1/credit-scorecard/255712345678", &format!("Bearer {old}"), 401, envelope, 1).await;
    let accepted = api(
        &mut server,
        "GET",
        "/v1/credit-scorecard/255712345678",
        &format!("Bearer {new}"),
        200,
        r#"{"halopesaGrade":"B","availableCreditLimit":50000.0}"#,
        1,
    )
    .await;
    let card = client(&server.url()).scorecard("255712345678").await.unwrap();
    assert_eq!(card.available_credit_limit, dec("50000"));
    tokens.assert_async().await;
    rejected.assert_async().await;
    accepted.assert_async().await;
}

#[tokio::test]
async fn a_second_401_is_surfaced_instead_of_looping() {
    let mut server = Server::new_async().await;
    let tokens = rotating_tokens(&mut server, vec![year_token("a"), year_token("b")], 2).await;
    let envelope = r#"{"code":"unauthenticated","message":"wrong realm"}"#;
    let api_calls =
        server.mock("GET", "/v1/loan-products").with_status(401).with_body(envelope).expect(2).create_async().await;
    let error = client(&server.url()).loan_products().await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unauthenticated);
    tokens.assert_async().await;
    api_calls.assert_async().await;
}

#[tokio::test]
async fn a_token_about_to_expire_is_replaced_before_the_call() {
    let mut server = Server::new_async().await;
    // Issued long ago, expiring in 10 s: inside the 30 s hard edge.
    let (dying, fresh) = (jwt("dying", -1000 * 86400, 10), year_token("fresh"));
    let tokens = rotating_tokens(&mut server, vec![dying.clone(), fresh.clone()], 2).await;
    let path = "/v1/customers/external/255712345678";
    let with_dying = api(&mut server, "GET", path, &format!("Bearer {dying}"), 200, CUSTOMER, 1).await;
    let with_fresh = api(&mut server, "GET", path, &format!("Bearer {fresh}"), 200, CUSTOMER, 1).await;
    let lms = client(&server.url());
    lms.get_customer("255712345678").await.unwrap();
    lms.get_customer("255712345678").await.unwrap();
    tokens.assert_async().await;
    with_dying.assert_async().await;
    with_fresh.assert_async().await;
}

#[tokio::test]
async fn a_token_inside_the_margin_is_refreshed_in_the_background_without_delaying_calls() {
    let mut server = Server::new_async().await;
    // Expires in an hour: inside the 7-day margin, outside the hard edge.
    let (aging, fresh) = (jwt("aging", -300 * 86400, 3600), year_token("fresh"));
    let tokens = rotating_tokens(&mut server, vec![aging.clone(), fresh.clone()], 2).await;
    let path = "/v1/customers/external/255712345678";
    let with_aging = api(&mut server, "GET", path, &format!("Bearer {aging}"), 200, CUSTOMER, 2).await;
    let with_fresh = api(&mut server, "GET", path, &format!("Bearer {fresh}"), 200, CUSTOMER, 1).await;
    let lms = client(&server.url());
    lms.get_customer("255712345678").await.unwrap();
    lms.get_customer("255712345678").await.unwrap();
    for _ in 0..100 {
        if lms.tokens().fetch_count() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    lms.get_customer("255712345678").await.unwrap();
    tokens.assert_async().await;
    with_aging.assert_async().await;
    with_fresh.assert_async().await;
}

#[tokio::test]
async fn refused_credentials_are_not_retried_within_a_minute() {
    let mut server = Server::new_async().await;
    let tokens = server
        .mock("GET", "/v1/auth/token")
        .with_status(401)
        .with_body(r#"{"code":"unauthenticated","message":"bad credentials"}"#)
        .expect(1)
        .create_async()
        .await;
    let lms = client(&server.url());
    for _ in 0..3 {
        assert_eq!(lms.scorecard("255712345678").await.unwrap_err().code(), ErrorCode::Unauthenticated);
    }
    tokens.assert_async().await;
}
