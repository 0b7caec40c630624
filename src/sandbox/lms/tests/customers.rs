//! docs/lms.md Customers: create, duplicates, reads, point lookup, list, close.

use serde_json::json;

use super::start;

#[actix_web::test]
async fn creating_a_customer_returns_200_with_the_derived_fields() {
    let t = start().await;
    let reply = t.post("/v1/customers", json!({"externalId": "ext-ada-001"})).await;
    let c = reply.assert_ok();
    assert_eq!(c["id"], "1");
    assert_eq!(c["accountNo"], "000000001");
    assert_eq!(c["externalId"], "ext-ada-001");
    assert_eq!(c["status"], "Active");
    assert_eq!(c["active"], true);
    assert_eq!(c["officeId"], "1");
    assert_eq!(c["officeName"], "Head Office");
    assert_eq!(c["firstname"], "ext-ada-001");
    assert_eq!(c["lastname"], "Customer");
    assert_eq!(c["displayName"], "ext-ada-001 Customer");
    assert_eq!(c["activationDate"], "2026-05-25");
    let second = t.customer("ext-bob-002").await;
    assert_eq!((second["id"].as_str(), second["accountNo"].as_str()), (Some("2"), Some("000000002")));
}

#[actix_web::test]
async fn a_duplicate_customer_external_id_is_aborted() {
    let t = start().await;
    t.customer("255700000001").await;
    t.post("/v1/customers", json!({"externalId": "255700000001"})).await.assert_error(409, "aborted");
}

#[actix_web::test]
async fn a_missing_or_empty_external_id_is_invalid_argument() {
    let t = start().await;
    for body in [json!({}), json!({"externalId": ""}), json!({"externalId": null})] {
        let reply = t.post("/v1/customers", body).await;
        reply.assert_error(400, "invalid_argument");
        assert_eq!(reply.field_errors()[0].0, "externalId");
    }
    let long = "x".repeat(101);
    t.post("/v1/customers", json!({"externalId": long})).await.assert_error(400, "invalid_argument");
}

#[actix_web::test]
async fn a_customer_is_read_back_by_external_id_and_an_unknown_one_is_not_found() {
    let t = start().await;
    t.customer("255700000001").await;
    let reply = t.get("/v1/customers/external/255700000001").await;
    assert_eq!(reply.assert_ok()["id"], "1");
    t.get("/v1/customers/external/255799999999").await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn external_ids_in_paths_are_percent_decoded() {
    let t = start().await;
    t.customer("a b/c+d%").await;
    let reply = t.get("/v1/customers/external/a%20b%2Fc%2Bd%25").await;
    assert_eq!(reply.assert_ok()["externalId"], "a b/c+d%");
}

#[actix_web::test]
async fn a_customer_is_read_back_by_lms_id_and_a_non_numeric_id_is_invalid_argument() {
    let t = start().await;
    t.customer("255700000001").await;
    assert_eq!(t.get("/v1/customers/1").await.assert_ok()["externalId"], "255700000001");
    t.get("/v1/customers/9999").await.assert_error(404, "not_found");
    t.get("/v1/customers/abc").await.assert_error(400, "invalid_argument");
}

#[actix_web::test]
async fn the_external_id_lookup_returns_one_item_or_an_empty_page_never_a_404() {
    let t = start().await;
    t.customer("255700000001").await;
    t.customer("255700000002").await;
    let hit = t.get("/v1/customers?externalId=255700000002").await;
    let body = hit.assert_ok();
    assert_eq!(body["total"], 1);
    assert_eq!(body["items"][0]["id"], "2");
    // Paging shapes the response but not the result of a point lookup.
    let paged = t.get("/v1/customers?externalId=255700000002&page=2&rows=5").await;
    assert_eq!(paged.assert_ok()["items"][0]["id"], "2");
    assert_eq!((paged.body["page"].as_u64(), paged.body["rowsPerPage"].as_u64()), (Some(2), Some(5)));
    let miss = t.get("/v1/customers?externalId=255799999999").await;
    assert_eq!(miss.assert_ok(), &json!({"items": [], "total": 0, "page": 1, "rowsPerPage": 10}));
}

#[actix_web::test]
async fn the_customer_list_is_in_id_order_and_honours_sort_order() {
    let t = start().await;
    for ext in ["c", "a", "b"] {
        t.customer(ext).await;
    }
    let ids = |reply: &super::Reply| -> Vec<String> {
        reply.body["items"].as_array().unwrap().iter().map(|c| c["externalId"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(&t.get("/v1/customers").await), ["c", "a", "b"]);
    assert_eq!(ids(&t.get("/v1/customers?sortOrder=DESC").await), ["b", "a", "c"]);
    assert_eq!(ids(&t.get("/v1/customers?orderBy=displayName").await), ["a", "b", "c"]);
}

#[actix_web::test]
async fn closing_a_customer_is_refused_while_loans_are_open_and_is_final() {
    let t = start().await;
    t.seven_day_loan("255700000001", "L1").await;
    t.post("/v1/customers/external/255700000001/close", json!({"closureDate": "2026-05-25", "closureReasonId": 17}))
        .await
        .assert_error(409, "aborted");
    t.repay("L1", "11100", "r1").await.assert_ok();
    let closed = t.post("/v1/customers/external/255700000001/close", json!({})).await;
    let body = closed.assert_ok();
    assert_eq!((body["status"].as_str(), body["active"].as_bool()), (Some("Closed"), Some(false)));
    t.post("/v1/customers/external/255700000001/close", json!({})).await.assert_error(409, "aborted");
    t.post("/v1/customers/external/nobody/close", json!({})).await.assert_error(404, "not_found");
}
