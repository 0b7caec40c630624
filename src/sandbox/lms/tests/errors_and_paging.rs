//! docs/lms.md Errors and paging: the envelope, malformed bodies, and the exact docs/lms.md paging rules.

use serde_json::json;

use super::start;

#[actix_web::test]
async fn malformed_json_is_invalid_argument_in_the_envelope() {
    let t = start().await;
    let reply = t.post_raw("/v1/customers", r#"{"externalId": "#).await;
    reply.assert_error(400, "invalid_argument");
    let errors = reply.field_errors();
    assert_eq!(errors[0].0, "body");
    assert!(errors[0].1.starts_with("malformed JSON"), "{errors:?}");
}

#[actix_web::test]
async fn a_body_of_the_wrong_shape_is_invalid_argument() {
    let t = start().await;
    t.post_raw("/v1/customers", "[1, 2]").await.assert_error(400, "invalid_argument");
    t.post("/v1/loans", json!({"customerId": 42})).await.assert_error(400, "invalid_argument");
    let reply = t.post("/v1/loans", json!({"customerId": "a", "productId": 1, "principal": "lots"})).await;
    reply.assert_error(400, "invalid_argument");
}

#[actix_web::test]
async fn invalid_argument_lists_every_problem_as_field_error_pairs() {
    let t = start().await;
    let reply = t.post("/v1/loans", json!({})).await;
    reply.assert_error(400, "invalid_argument");
    let fields: Vec<String> = reply.field_errors().into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["customerId", "productId", "principal"]);
    assert!(reply.field_errors().iter().all(|(_, e)| e == "required"));
}

#[actix_web::test]
async fn unknown_routes_are_not_found_in_the_envelope() {
    let t = start().await;
    t.get("/v1/nothing-here").await.assert_error(404, "not_found");
    t.post("/v1/loan-products", json!({})).await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn paging_defaults_to_page_one_of_ten_rows() {
    let t = start().await;
    for i in 0..12 {
        t.customer(&format!("25570000{i:04}")).await;
    }
    let page = t.get("/v1/customers").await;
    let body = page.assert_ok();
    assert_eq!(
        (body["total"].as_u64(), body["page"].as_u64(), body["rowsPerPage"].as_u64()),
        (Some(12), Some(1), Some(10))
    );
    assert_eq!(body["items"].as_array().unwrap().len(), 10);
    let second = t.get("/v1/customers?page=2").await;
    assert_eq!(second.assert_ok()["items"].as_array().unwrap().len(), 2);
    assert_eq!(second.body["items"][0]["externalId"], "255700000010");
}

#[actix_web::test]
async fn rows_over_100_give_the_exact_error_on_field_page() {
    let t = start().await;
    t.seven_day_loan("255700000001", "L1").await;
    for path in ["/v1/customers?rows=101", "/v1/loans?rows=101", "/v1/loans/external/L1/repayments?rows=500"] {
        let reply = t.get(path).await;
        reply.assert_error(400, "invalid_argument");
        assert_eq!(
            reply.field_errors(),
            [("page".to_owned(), "rows value too large, must be less than 100".to_owned())],
            "{path}"
        );
    }
}

#[actix_web::test]
async fn a_page_below_one_gives_the_exact_error_on_field_page() {
    let t = start().await;
    for path in ["/v1/customers?page=0", "/v1/loans?page=-3"] {
        let reply = t.get(path).await;
        reply.assert_error(400, "invalid_argument");
        assert_eq!(
            reply.field_errors(),
            [("page".to_owned(), "page value too small, must be larger than 0".to_owned())]
        );
    }
}

#[actix_web::test]
async fn non_numeric_paging_gives_a_page_conversion_error() {
    let t = start().await;
    for path in ["/v1/customers?page=first", "/v1/loans?rows=ten"] {
        let reply = t.get(path).await;
        reply.assert_error(400, "invalid_argument");
        let errors = reply.field_errors();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "page");
        assert!(errors[0].1.starts_with("page conversion: "), "{errors:?}");
    }
}

#[actix_web::test]
async fn one_hundred_rows_are_accepted_and_echoed() {
    let t = start().await;
    let reply = t.get("/v1/customers?rows=100&page=3").await;
    let body = reply.assert_ok();
    assert_eq!(
        (body["page"].as_u64(), body["rowsPerPage"].as_u64(), body["total"].as_u64()),
        (Some(3), Some(100), Some(0))
    );
}

#[actix_web::test]
async fn the_total_counts_only_the_loans_left_after_filtering() {
    let t = start().await;
    t.seven_day_loan("255700000001", "L1").await;
    t.loan("255700000001", 1, 20_000, "L2").await;
    t.repay("L1", "11100", "r1").await.assert_ok();
    let active = t.get("/v1/loans?status=active&rows=1").await;
    let body = active.assert_ok();
    assert_eq!(body["total"], 1);
    assert_eq!(body["items"][0]["externalId"], "L2");
    let all = t.get("/v1/loans?rows=1").await;
    assert_eq!(all.assert_ok()["total"], 2);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn order_by_and_sort_order_are_tolerated() {
    let t = start().await;
    t.seven_day_loan("255700000001", "L1").await;
    t.loan("255700000001", 1, 20_000, "L2").await;
    let desc = t.get("/v1/loans?orderBy=principal&sortOrder=DESC").await;
    assert_eq!(desc.assert_ok()["items"][0]["externalId"], "L2");
    let odd = t.get("/v1/loans?orderBy=nonsense&sortOrder=sideways").await;
    assert_eq!(odd.assert_ok()["items"][0]["externalId"], "L1");
}
