//! Authentication and request validation (docs/money.md): every failure is a JSON envelope and
//! records nothing.

use actix_web::http::header::AUTHORIZATION;
use actix_web::test::TestRequest;
use serde_json::json;

use super::{payout_body, start, KEY, MSISDN, PREFIX};

#[actix_web::test]
async fn a_missing_or_wrong_key_is_401_unauthorized_and_records_nothing() {
    let t = start().await;
    let headers = [
        None,
        Some("Bearer wrong-key".to_owned()),
        Some(format!("Basic {KEY}")),
        Some("Bearer".to_owned()),
        Some(KEY.to_owned()),
    ];
    for header in headers {
        for (req, path) in [
            (TestRequest::post().set_json(payout_body("L0000123455", MSISDN, "10.00")), "/payouts"),
            (
                TestRequest::post().set_json(super::collection_body("C0000000174", MSISDN, "10.00", "L1")),
                "/collections",
            ),
            (TestRequest::get(), "/transactions/L0000123455"),
        ] {
            let req = req.uri(&format!("{PREFIX}{path}"));
            let req = match &header {
                Some(value) => req.insert_header((AUTHORIZATION, value.as_str())),
                None => req,
            };
            t.raw(req).await.assert_error(401, "unauthorized");
        }
    }
    assert!(t.wallet.transactions().is_empty());
    let lower_case = TestRequest::post()
        .uri(&format!("{PREFIX}/payouts"))
        .insert_header((AUTHORIZATION, format!("bearer {KEY}")))
        .set_json(payout_body("L0000123455", MSISDN, "10.00"));
    t.raw(lower_case).await.assert_status(202);
}

#[actix_web::test]
async fn invalid_amounts_are_400_invalid_request() {
    let t = start().await;
    let bad = [
        json!("0"),
        json!("0.00"),
        json!("-1"),
        json!("01"),
        json!("1.234"),
        json!("1e3"),
        json!(""),
        json!(" 5"),
        json!("5."),
        json!(".5"),
        json!("1000000000000000"),
        json!("ten"),
        json!(500),
        json!(null),
        json!(["1"]),
    ];
    for (i, amount) in bad.into_iter().enumerate() {
        let mut body = payout_body(&format!("R{i}"), MSISDN, "1");
        body["amount"] = amount.clone();
        let reply = t.post("/payouts", body).await;
        reply.assert_error(400, "invalid_request");
        assert!(reply.body["message"].as_str().unwrap().contains("amount"), "{amount}: {}", reply.body);
    }
    let mut missing = payout_body("R", MSISDN, "1");
    missing.as_object_mut().unwrap().remove("amount");
    t.post("/payouts", missing).await.assert_error(400, "invalid_request");
    assert!(t.wallet.transactions().is_empty());
}

#[actix_web::test]
async fn valid_amounts_are_rendered_with_two_decimals() {
    let t = start().await;
    for (i, (sent, shown)) in
        [("0.01", "0.01"), ("500", "500.00"), ("500.5", "500.50"), ("999999999999999.99", "999999999999999.99")]
            .into_iter()
            .enumerate()
    {
        let reply = t.payout(&format!("R{i}"), MSISDN, sent).await;
        assert_eq!(reply.assert_status(202)["amount"], shown);
    }
}

#[actix_web::test]
async fn bad_references_msisdns_currencies_and_descriptions_are_400() {
    let t = start().await;
    let long_ref = "x".repeat(65);
    let cases = [
        ("reference", json!("a.b")),
        ("reference", json!("")),
        ("reference", json!(long_ref)),
        ("reference", json!(null)),
        ("msisdn", json!("0712345678")),
        ("msisdn", json!("+255712345678")),
        ("msisdn", json!("2557 1234 5678")),
        ("msisdn", json!("1234567")),
        ("msisdn", json!("2557123456781234")),
        ("currency", json!("KES")),
        ("currency", json!("tzs")),
        ("currency", json!(null)),
        ("description", json!("d".repeat(101))),
    ];
    for (field, value) in cases {
        let mut body = payout_body("L0000123455", MSISDN, "10.00");
        body[field] = value.clone();
        let reply = t.post("/payouts", body).await;
        reply.assert_error(400, "invalid_request");
        assert!(reply.body["message"].as_str().unwrap().contains(field), "{field} = {value}: {}", reply.body);
    }
    assert!(t.wallet.transactions().is_empty());
    let mut longest = payout_body(&"x".repeat(64), MSISDN, "10.00");
    longest["description"] = json!("é".repeat(100));
    t.post("/payouts", longest).await.assert_status(202);
}

#[actix_web::test]
async fn malformed_bodies_are_400_json_never_a_panic() {
    let t = start().await;
    for body in ["", "not json", "[]", "null", "{", r#"{"reference": 7}"#, r#"{"msisdn": 255712345678}"#] {
        t.post_raw("/payouts", body).await.assert_error(400, "invalid_request");
        t.post_raw("/collections", body).await.assert_error(400, "invalid_request");
    }
    assert!(t.wallet.transactions().is_empty());
}

#[actix_web::test]
async fn unknown_fields_are_ignored_and_payouts_ignore_an_account() {
    let t = start().await;
    let mut body = payout_body("L0000123455", MSISDN, "10.00");
    body["colour"] = json!("red");
    body["account"] = json!("L0000123455");
    assert!(t.post("/payouts", body).await.assert_status(202)["account"].is_null());
}

#[actix_web::test]
async fn unrouted_paths_and_methods_are_404_json() {
    let t = start().await;
    t.get("/nowhere").await.assert_error(404, "not_found");
    t.get("/payouts").await.assert_error(404, "not_found");
    t.hook(TestRequest::get(), "/sandbox/nowhere", None).await.assert_error(404, "not_found");
}
