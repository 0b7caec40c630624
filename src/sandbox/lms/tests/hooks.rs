//! The sandbox-only hooks and mounting: clock, reset, no-auth hooks, standalone and side-by-side mounts.

use actix_web::http::header::AUTHORIZATION;
use actix_web::test::TestRequest;
use serde_json::{json, Value};

use super::{basic, date, mount, start};
use crate::sandbox::lms::{Fault, FaultKind, SandboxLms, SandboxLmsSettings};

#[actix_web::test]
async fn the_clock_can_be_read_pinned_and_advanced() {
    let t = start().await;
    let read = t.hook(TestRequest::get(), "/sandbox/clock", None).await;
    assert_eq!(read.assert_ok()["today"], "2026-05-25");
    let pinned = t.hook(TestRequest::post(), "/sandbox/clock", Some(json!({"today": "2026-12-31"}))).await;
    assert_eq!(pinned.assert_ok()["today"], "2026-12-31");
    let advanced = t.hook(TestRequest::post(), "/sandbox/clock", Some(json!({"advanceDays": 1}))).await;
    assert_eq!(advanced.assert_ok()["today"], "2027-01-01");
    assert_eq!(t.lms.today(), date("2027-01-01"));
    t.customer("c").await;
    assert_eq!(t.get("/v1/customers/external/c").await.body["activationDate"], "2027-01-01");
}

#[actix_web::test]
async fn a_bad_clock_body_is_invalid_argument() {
    let t = start().await;
    for body in [json!({}), json!({"today": "2026-13-01"}), json!({"today": "2026-01-01", "advanceDays": 1})] {
        t.hook(TestRequest::post(), "/sandbox/clock", Some(body)).await.assert_error(400, "invalid_argument");
    }
}

#[actix_web::test]
async fn without_a_pinned_date_today_follows_the_business_time_zone() {
    let lms = SandboxLms::new(&SandboxLmsSettings::default()).unwrap();
    let zone: chrono_tz::Tz = "Africa/Dar_es_Salaam".parse().unwrap();
    let expected = chrono::Utc::now().with_timezone(&zone).date_naive();
    assert!((lms.today() - expected).num_days().abs() <= 1);
    lms.set_today(date("2030-01-01"));
    assert_eq!(lms.today(), date("2030-01-01"));
    lms.clear_today();
    assert!((lms.today() - expected).num_days().abs() <= 1);
}

#[actix_web::test]
async fn reset_forgets_customers_loans_tokens_and_faults_but_ids_keep_counting() {
    let mut t = start().await;
    t.seven_day_loan("c", "L1").await;
    t.lms.inject_fault(Fault::new("GET", "/v1/loan-products", FaultKind::Internal));
    t.hook(TestRequest::post(), "/sandbox/reset", None).await.assert_ok();
    t.get("/v1/loan-products").await.assert_error(401, "unauthenticated");
    t.token = t.fresh_token().await;
    t.get("/v1/loan-products").await.assert_ok();
    t.get("/v1/customers/external/c").await.assert_error(404, "not_found");
    t.get("/v1/loans/external/L1").await.assert_error(404, "not_found");
    let again = t.customer("c").await;
    assert_eq!(again["id"], "2");
}

#[actix_web::test]
async fn hooks_need_no_token_and_are_never_faulted() {
    let t = start().await;
    t.lms.inject_fault(Fault::new("*", "/sandbox/clock", FaultKind::Internal));
    t.hook(TestRequest::get(), "/sandbox/clock", None).await.assert_ok();
    let listed = t.hook(TestRequest::get(), "/sandbox/faults", None).await;
    assert_eq!(listed.assert_ok()["faults"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn the_sandbox_mounts_standalone_under_an_empty_prefix() {
    let lms = SandboxLms::new(&SandboxLmsSettings::default()).unwrap();
    let send = mount("", lms.clone()).await;
    let token_req = TestRequest::get()
        .uri("/v1/auth/token")
        .insert_header((AUTHORIZATION, basic("partner@sandbox.local", "sandbox")));
    let res = send(token_req).await;
    assert!(res.status().is_success());
    let body: Value = serde_json::from_slice(&actix_web::test::read_body(res).await).unwrap();
    let token = body["token"].as_str().unwrap();
    let products =
        TestRequest::get().uri("/v1/loan-products").insert_header((AUTHORIZATION, format!("Bearer {token}")));
    assert!(send(products).await.status().is_success());
    let clock = send(TestRequest::get().uri("/sandbox/clock")).await;
    assert!(clock.status().is_success());
    let fault = Fault::new("GET", "/v1/loan-products", FaultKind::Unavailable);
    lms.inject_fault(fault);
    let faulted = TestRequest::get().uri("/v1/loan-products").insert_header((AUTHORIZATION, format!("Bearer {token}")));
    assert_eq!(send(faulted).await.status().as_u16(), 503, "fault paths are relative to an empty prefix too");
}

#[actix_web::test]
async fn two_instances_coexist_under_different_prefixes() {
    let first = SandboxLms::new(&SandboxLmsSettings::default()).unwrap();
    let second =
        SandboxLms::new(&SandboxLmsSettings { partner_password: "other".to_owned(), ..Default::default() }).unwrap();
    let app = actix_web::test::init_service(
        actix_web::App::new()
            .service(crate::sandbox::lms::scope("/one", first.clone()))
            .service(crate::sandbox::lms::scope("/two", second.clone())),
    )
    .await;
    let token = |prefix: &str, password: &str| {
        TestRequest::get()
            .uri(&format!("{prefix}/v1/auth/token"))
            .insert_header((AUTHORIZATION, basic("partner@sandbox.local", password)))
            .to_request()
    };
    assert!(actix_web::test::call_service(&app, token("/one", "sandbox")).await.status().is_success());
    assert_eq!(actix_web::test::call_service(&app, token("/two", "sandbox")).await.status().as_u16(), 401);
    assert!(actix_web::test::call_service(&app, token("/two", "other")).await.status().is_success());
    first.set_today(date("2026-01-01"));
    second.set_today(date("2027-01-01"));
    let clock = |prefix: &str| TestRequest::get().uri(&format!("{prefix}/sandbox/clock")).to_request();
    let one: Value = actix_web::test::call_and_read_body_json(&app, clock("/one")).await;
    let two: Value = actix_web::test::call_and_read_body_json(&app, clock("/two")).await;
    assert_eq!((one["today"].as_str(), two["today"].as_str()), (Some("2026-01-01"), Some("2027-01-01")));
}

#[actix_web::test]
async fn bad_settings_are_refused_at_construction() {
    let settings = SandboxLmsSettings { business_timezone: "Nowhere/Atlantis".to_owned(), ..Default::default() };
    assert!(SandboxLms::new(&settings).is_err());
}
