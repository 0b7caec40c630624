//! docs/lms.md Auth: token issue, token shape and lifetime, bearer checks, revocation.

use std::time::Duration;

use actix_web::http::header::AUTHORIZATION;
use actix_web::test::TestRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use super::{basic, start, start_with, PREFIX};
use crate::sandbox::lms::SandboxLmsSettings;

fn segment(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("three segments");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url without padding")).expect("JSON")
}

fn token_request(authorization: Option<String>) -> TestRequest {
    let req = TestRequest::get().uri(&format!("{PREFIX}/v1/auth/token"));
    match authorization {
        Some(value) => req.insert_header((AUTHORIZATION, value)),
        None => req,
    }
}

#[actix_web::test]
async fn a_token_is_issued_for_the_configured_basic_credentials() {
    let t = start().await;
    let reply = t.raw(token_request(Some(basic("partner@sandbox.local", "sandbox")))).await;
    assert!(reply.assert_ok()["token"].as_str().is_some_and(|s| !s.is_empty()));
}

#[actix_web::test]
async fn bad_or_missing_basic_credentials_get_401_unauthenticated() {
    let t = start().await;
    for authorization in [
        Some(basic("partner@sandbox.local", "wrong")),
        Some(basic("someone@else", "sandbox")),
        Some("Basic !!!not-base64".to_owned()),
        Some("Bearer x".to_owned()),
        None,
    ] {
        t.raw(token_request(authorization)).await.assert_error(401, "unauthenticated");
    }
}

#[actix_web::test]
async fn the_token_is_jwt_shaped_with_iss_sub_iat_exp_and_the_admin_role() {
    let t = start().await;
    assert_eq!(t.token.split('.').count(), 3);
    let header = segment(&t.token, 0);
    assert_eq!(
        (header["alg"].as_str(), header["kid"].as_str(), header["typ"].as_str()),
        (Some("RS256"), Some("sandbox"), Some("JWT"))
    );
    let payload = segment(&t.token, 1);
    assert!(payload["iss"].is_string() && payload["sub"].is_string());
    assert_eq!(payload["roles"], serde_json::json!(["ADMIN"]));
    let (iat, exp) = (payload["iat"].as_u64().unwrap(), payload["exp"].as_u64().unwrap());
    assert_eq!(exp - iat, 31_536_000, "default lifetime is 365 days");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(iat.abs_diff(now) <= 5, "iat is the wall clock");
}

#[actix_web::test]
async fn the_token_lifetime_follows_the_configured_ttl() {
    let t = start_with(SandboxLmsSettings { token_ttl: Duration::from_secs(30), ..Default::default() }).await;
    let payload = segment(&t.token, 1);
    assert_eq!(payload["exp"].as_u64().unwrap() - payload["iat"].as_u64().unwrap(), 30);
}

#[actix_web::test]
async fn api_routes_refuse_a_missing_or_unknown_bearer() {
    let t = start().await;
    t.raw(TestRequest::get().uri(&format!("{PREFIX}/v1/loan-products"))).await.assert_error(401, "unauthenticated");
    let unknown = TestRequest::get()
        .uri(&format!("{PREFIX}/v1/loan-products"))
        .insert_header((AUTHORIZATION, "Bearer not.a.token"));
    t.raw(unknown).await.assert_error(401, "unauthenticated");
    t.get("/v1/loan-products").await.assert_ok();
}

#[actix_web::test]
async fn an_expired_bearer_is_refused() {
    let t = start_with(SandboxLmsSettings { token_ttl: Duration::ZERO, ..Default::default() }).await;
    t.get("/v1/loan-products").await.assert_error(401, "unauthenticated");
}

#[actix_web::test]
async fn revoking_all_tokens_forces_a_fresh_token() {
    let mut t = start().await;
    let reply = t.hook(TestRequest::post(), "/sandbox/tokens/revoke", None).await;
    assert_eq!(reply.assert_ok()["revoked"], 1);
    t.get("/v1/loan-products").await.assert_error(401, "unauthenticated");
    t.token = t.fresh_token().await;
    t.get("/v1/loan-products").await.assert_ok();
    assert_eq!(t.lms.revoke_tokens(), 1, "the Rust twin revokes too");
    t.get("/v1/loan-products").await.assert_error(401, "unauthenticated");
}

#[actix_web::test]
async fn every_issue_gives_a_distinct_token_and_all_stay_valid() {
    let mut t = start().await;
    let first = t.token.clone();
    let second = t.fresh_token().await;
    assert_ne!(first, second);
    t.get("/v1/loan-products").await.assert_ok();
    t.token = second;
    t.get("/v1/loan-products").await.assert_ok();
}
