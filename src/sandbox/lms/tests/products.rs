//! Seeded products as the docs' older pages show them: missing bounds, a status other than `active`, and
//! the daily basis-point interest rule of the docs' loan example. One odd product never blocks the others.

use serde_json::{json, Value};

use super::{amount, dec, start_with, TestLms};
use crate::sandbox::lms::{InterestRule, SandboxLmsSettings, SeedProduct};

fn product(id: &str, edit: impl FnOnce(&mut SeedProduct)) -> SeedProduct {
    let mut seed =
        SeedProduct { id: id.to_owned(), name: format!("Product {id}"), ..SeedProduct::defaults()[0].clone() };
    edit(&mut seed);
    seed
}

/// The docs/lms.md products plus `extra`.
async fn with_products(extra: Vec<SeedProduct>) -> TestLms {
    let mut products = SeedProduct::defaults();
    products.extend(extra);
    start_with(SandboxLmsSettings { products: Some(products), ..Default::default() }).await
}

async fn listed(t: &TestLms, id: &str) -> Value {
    let list = t.get("/v1/loan-products").await;
    list.assert_ok()["items"].as_array().unwrap().iter().find(|p| p["id"] == id).cloned().expect("listed")
}

#[actix_web::test]
async fn a_product_without_a_min_principal_is_served_with_null_and_refuses_loans_while_others_lend() {
    let t =
        with_products(vec![product("7", |p| p.min_principal = None), product("8", |p| p.max_principal = None)]).await;
    let seven = listed(&t, "7").await;
    assert_eq!(seven["minPrincipal"], Value::Null);
    assert_eq!(amount(&seven["maxPrincipal"]), dec("100000"));
    assert_eq!(listed(&t, "8").await["maxPrincipal"], Value::Null);
    t.customer("c").await;
    for id in [7, 8] {
        let reply = t.post("/v1/loans", json!({"customerId": "c", "productId": id, "principal": 10000})).await;
        reply.assert_error(400, "invalid_argument");
        assert_eq!(reply.field_errors()[0].0, "productId");
    }
    t.loan("c", 1, 10_000, "still-lends").await;
    assert_eq!(t.get("/v1/loans").await.body["total"], 1);
}

#[actix_web::test]
async fn an_inactive_product_is_served_with_its_status_and_refuses_loans() {
    let t = with_products(vec![product("7", |p| p.status = "inactive".to_owned())]).await;
    assert_eq!(listed(&t, "7").await["status"], "inactive");
    assert_eq!(listed(&t, "1").await["status"], "active");
    t.customer("c").await;
    let reply = t.post("/v1/loans", json!({"customerId": "c", "productId": "7", "principal": 10000})).await;
    reply.assert_error(400, "invalid_argument");
    assert_eq!(reply.field_errors()[0].0, "productId");
    t.loan("c", 2, 50_000, "other").await;
}

#[actix_web::test]
async fn daily_basis_points_charge_38_5_on_the_docs_example() {
    let t = with_products(vec![product("7", |p| p.interest_rule = InterestRule::DailyBasisPoints)]).await;
    t.customer("c").await;
    let loan = t.loan("c", 7, 5_000, "docs").await;
    for (field, expected) in [
        ("interestCharged", "38.5"),
        ("interestOutstanding", "38.5"),
        ("totalOutstanding", "5038.5"),
        ("nextDueAmount", "5038.5"),
    ] {
        assert_eq!(amount(&loan[field]), dec(expected), "{field}");
    }
    assert_eq!((loan["termFrequency"].as_u64(), loan["nextDueDate"].as_str()), (Some(7), Some("2026-06-01")));
    assert_eq!(amount(&loan["repaymentSchedule"][0]["interestDue"]), dec("38.5"));
    assert_eq!(amount(&t.loan("c", 1, 5_000, "flat").await["interestCharged"]), dec("550"), "product 1 stays flat");
    t.repay("docs", "5038.5", "r").await.assert_ok();
    assert_eq!(t.get("/v1/loans/external/docs").await.body["status"], "Closed (obligations met)");
}

#[actix_web::test]
async fn daily_interest_over_several_instalments_keeps_exact_decimals() {
    let weekly = product("7", |p| {
        p.interest_rule = InterestRule::DailyBasisPoints;
        p.number_of_repayments = 3;
        p.repayment_every = 1;
        p.repayment_frequency_type = "Weeks".to_owned();
        p.interest_rate_per_period = dec("7");
    });
    let t = with_products(vec![weekly]).await;
    t.customer("c").await;
    let body = json!({"customerId": "c", "productId": 7, "principal": 1000.5, "externalId": "w"});
    let loan = t.post("/v1/loans", body).await.assert_ok().clone();
    // 1000.5 × 7 / 10000 × 21 days = 14.70735 → 14.71.
    assert_eq!(amount(&loan["interestCharged"]), dec("14.71"));
    let rows = loan["repaymentSchedule"].as_array().unwrap();
    let split: Vec<_> = rows.iter().map(|r| (amount(&r["principalDue"]), amount(&r["interestDue"]))).collect();
    assert_eq!(split, [(dec("333"), dec("4")), (dec("333"), dec("4")), (dec("334.5"), dec("6.71"))]);
    assert_eq!(amount(&loan["totalOutstanding"]), dec("1015.21"));
}

#[test]
fn a_product_whose_bounds_cross_is_refused_at_construction() {
    let crossed = product("7", |p| {
        p.min_principal = Some(dec("5000"));
        p.max_principal = Some(dec("4000"));
        p.principal = dec("4500");
    });
    let settings = SandboxLmsSettings { products: Some(vec![crossed]), ..Default::default() };
    let refused = crate::sandbox::lms::SandboxLms::new(&settings).err().expect("refused");
    assert!(refused.contains("min_principal"), "{refused}");
}
