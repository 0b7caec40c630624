//! docs/lms.md Loans and docs/lms.md products: create, schedule, validation, duplicates, reads, list filters.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use super::{amount, dec, start};

fn zero_fields() -> [&'static str; 10] {
    [
        "principalPaid",
        "interestPaid",
        "feeChargesCharged",
        "feeChargesPaid",
        "feeChargesOutstanding",
        "penaltyChargesCharged",
        "penaltyChargesPaid",
        "penaltyChargesOutstanding",
        "totalRepayment",
        "totalOverpaid",
    ]
}

#[actix_web::test]
async fn creating_a_loan_returns_200_and_an_active_loan_computed_per_the_schedule_rules() {
    let t = start().await;
    t.customer("ext-ada-001").await;
    let body = json!({"customerId": "ext-ada-001", "productId": 1, "principal": 10000, "externalId": "loan-ext-12345"});
    let reply = t.post("/v1/loans", body).await;
    let loan = reply.assert_ok();
    assert_eq!(loan["id"], "1");
    assert_eq!(loan["accountNo"], "000000001");
    assert_eq!(loan["externalId"], "loan-ext-12345");
    assert_eq!(loan["customerId"], "1", "the response carries the LMS customer id");
    assert_eq!(loan["customerName"], "ext-ada-001 Customer");
    assert_eq!(
        (loan["loanProductId"].as_str(), loan["loanProductName"].as_str()),
        (Some("1"), Some("Halotel 7-Day Loan"))
    );
    assert_eq!((loan["status"].as_str(), loan["currencyCode"].as_str()), (Some("Active"), Some("TZS")));
    assert_eq!((loan["termFrequency"].as_u64(), loan["numberOfRepayments"].as_u64()), (Some(7), Some(1)));
    assert_eq!(reply.amount("interestRatePerPeriod"), dec("11"));
    for (field, expected) in [
        ("principal", "10000"),
        ("approvedPrincipal", "10000"),
        ("principalDisbursed", "10000"),
        ("principalOutstanding", "10000"),
        ("interestCharged", "1100"),
        ("interestOutstanding", "1100"),
        ("totalOutstanding", "11100"),
        ("nextDueAmount", "11100"),
    ] {
        assert_eq!(reply.amount(field), dec(expected), "{field}");
    }
    for field in zero_fields() {
        assert_eq!(reply.amount(field), dec("0"), "{field}");
    }
    assert_eq!((loan["nextDueDate"].as_str(), loan["overdue"].as_bool()), (Some("2026-06-01"), Some(false)));
    let row = &loan["repaymentSchedule"][0];
    assert_eq!(
        (row["period"].as_u64(), row["fromDate"].as_str(), row["dueDate"].as_str()),
        (Some(1), Some("2026-05-25"), Some("2026-06-01"))
    );
    assert_eq!(
        [amount(&row["principalDue"]), amount(&row["interestDue"]), amount(&row["totalDue"])],
        [dec("10000"), dec("1100"), dec("11100")]
    );
    assert_eq!(
        (amount(&row["totalPaid"]), amount(&row["totalOutstanding"]), row["complete"].as_bool()),
        (dec("0"), dec("11100"), Some(false))
    );
    assert_eq!(loan["repaymentHistory"], json!([]));
}

#[actix_web::test]
async fn the_three_month_product_at_150000_charges_27000_in_three_rows_of_59000() {
    let t = start().await;
    t.customer("255700000001").await;
    let loan = t.loan("255700000001", 3, 150_000, "L3").await;
    assert_eq!(amount(&loan["interestCharged"]), dec("27000"));
    assert_eq!(amount(&loan["totalOutstanding"]), dec("177000"));
    let rows = loan["repaymentSchedule"].as_array().unwrap();
    let dues: Vec<_> = rows.iter().map(|r| amount(&r["totalDue"])).collect();
    assert_eq!(dues, [dec("59000"); 3]);
    let dates: Vec<_> = rows.iter().map(|r| r["dueDate"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2026-06-25", "2026-07-25", "2026-08-25"]);
    assert_eq!((loan["termFrequency"].as_u64(), loan["nextDueDate"].as_str()), (Some(3), Some("2026-06-25")));
    assert_eq!(amount(&loan["nextDueAmount"]), dec("59000"));
}

#[actix_web::test]
async fn an_unknown_customer_or_product_is_not_found_and_creates_nothing() {
    let t = start().await;
    t.customer("255700000001").await;
    let nobody = json!({"customerId": "255799999999", "productId": 1, "principal": 10000, "externalId": "L1"});
    t.post("/v1/loans", nobody).await.assert_error(404, "not_found");
    let no_product = json!({"customerId": "255700000001", "productId": 99, "principal": 10000, "externalId": "L1"});
    t.post("/v1/loans", no_product).await.assert_error(404, "not_found");
    t.get("/v1/loans/external/L1").await.assert_error(404, "not_found");
    assert_eq!(t.get("/v1/loans").await.assert_ok()["total"], 0);
}

#[actix_web::test]
async fn a_missing_field_or_a_non_positive_principal_is_invalid_argument() {
    let t = start().await;
    t.customer("c").await;
    let cases = [
        (json!({"productId": 1, "principal": 10000}), "customerId"),
        (json!({"customerId": "c", "principal": 10000}), "productId"),
        (json!({"customerId": "c", "productId": 1}), "principal"),
        (json!({"customerId": "c", "productId": 1, "principal": 0}), "principal"),
        (json!({"customerId": "c", "productId": 1, "principal": -5}), "principal"),
        (json!({"customerId": "c", "productId": 1.5, "principal": 10000}), "productId"),
        (json!({"customerId": "c", "productId": 1, "principal": 10000, "externalId": ""}), "externalId"),
    ];
    for (body, field) in cases {
        let reply = t.post("/v1/loans", body.clone()).await;
        reply.assert_error(400, "invalid_argument");
        assert_eq!(reply.field_errors()[0].0, field, "{body}");
    }
}

#[actix_web::test]
async fn a_principal_outside_the_product_range_is_invalid_argument() {
    let t = start().await;
    t.customer("c").await;
    for principal in [999, 100_001] {
        let reply = t.post("/v1/loans", json!({"customerId": "c", "productId": 1, "principal": principal})).await;
        reply.assert_error(400, "invalid_argument");
        assert_eq!(reply.field_errors()[0].0, "principal");
    }
    t.loan("c", 1, 1_000, "min").await;
    t.loan("c", 1, 100_000, "max").await;
}

#[actix_web::test]
async fn an_inactive_customer_is_aborted() {
    let t = start().await;
    t.customer("c").await;
    t.post("/v1/customers/external/c/close", json!({})).await.assert_ok();
    let reply =
        t.post("/v1/loans", json!({"customerId": "c", "productId": 1, "principal": 10000, "externalId": "L"})).await;
    reply.assert_error(409, "aborted");
}

#[actix_web::test]
async fn a_duplicate_loan_external_id_is_aborted_and_leaves_the_loan_unchanged() {
    let t = start().await;
    let original = t.seven_day_loan("c", "L1").await;
    t.customer("d").await;
    let clash = json!({"customerId": "d", "productId": 3, "principal": 60000, "externalId": "L1"});
    t.post("/v1/loans", clash).await.assert_error(409, "aborted");
    let same = json!({"customerId": "c", "productId": 1, "principal": 10000, "externalId": "L1"});
    t.post("/v1/loans", same).await.assert_error(409, "aborted");
    assert_eq!(t.get("/v1/loans/external/L1").await.assert_ok(), &original);
    assert_eq!(t.get("/v1/loans").await.body["total"], 1);
}

#[actix_web::test]
async fn loans_without_an_external_id_are_allowed_and_read_by_id() {
    let t = start().await;
    t.customer("c").await;
    let reply = t.post("/v1/loans", json!({"customerId": "c", "productId": 1, "principal": 10000})).await;
    assert_eq!(reply.assert_ok()["externalId"], Value::Null);
    assert_eq!(t.get("/v1/loans/1").await.assert_ok()["status"], "Active");
}

#[actix_web::test]
async fn a_get_with_an_unknown_loan_external_id_is_not_found() {
    let t = start().await;
    t.get("/v1/loans/external/never-created").await.assert_error(404, "not_found");
    t.get("/v1/loans/77").await.assert_error(404, "not_found");
    t.get("/v1/loans/x7").await.assert_error(400, "invalid_argument");
}

#[actix_web::test]
async fn a_loan_reads_the_same_by_external_id_and_by_id() {
    let t = start().await;
    let created = t.seven_day_loan("c", "L1").await;
    assert_eq!(t.get("/v1/loans/external/L1").await.assert_ok(), &created);
    assert_eq!(t.get("/v1/loans/1").await.assert_ok(), &created);
}

#[actix_web::test]
async fn the_product_id_may_also_be_a_digit_string() {
    let t = start().await;
    t.customer("c").await;
    let reply =
        t.post("/v1/loans", json!({"customerId": "c", "productId": "2", "principal": 50000, "externalId": "L"})).await;
    assert_eq!(amount(&reply.assert_ok()["interestCharged"]), dec("7500"));
    assert_eq!(reply.body["repaymentSchedule"][0]["dueDate"], "2026-06-24");
}

#[actix_web::test]
async fn the_list_honours_the_customer_filters_and_a_case_insensitive_status() {
    let t = start().await;
    t.seven_day_loan("c", "C1").await;
    t.loan("c", 1, 5_000, "C2").await;
    t.seven_day_loan("d", "D1").await;
    t.repay("C1", "11100", "r").await.assert_ok();
    let ext = |reply: &super::Reply| -> Vec<String> {
        reply.body["items"].as_array().unwrap().iter().map(|l| l["externalId"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ext(&t.get("/v1/loans?customerExternalId=c").await), ["C1", "C2"]);
    assert_eq!(ext(&t.get("/v1/loans?customerExternalId=c&status=ACTIVE").await), ["C2"]);
    assert_eq!(ext(&t.get("/v1/loans?customerExternalId=c&status=closed%20(obligations%20met)").await), ["C1"]);
    assert_eq!(ext(&t.get("/v1/loans?customerExternalId=d&status=Active").await), ["D1"]);
    assert_eq!(ext(&t.get("/v1/loans?customerId=2").await), ["D1"]);
    assert_eq!(ext(&t.get("/v1/loans?status=Closed%20(written%20off)").await), Vec::<String>::new());
    let rows = t.get("/v1/loans?customerExternalId=c").await;
    assert!(rows.body["items"][0]["repaymentSchedule"].is_array(), "list rows are full loan objects");
}

#[actix_web::test]
async fn an_unknown_status_filter_is_invalid_argument() {
    let t = start().await;
    let reply = t.get("/v1/loans?status=Dormant").await;
    reply.assert_error(400, "invalid_argument");
    assert_eq!(reply.field_errors()[0].0, "status");
}

#[actix_web::test]
async fn an_unknown_customer_filter_is_not_found() {
    let t = start().await;
    t.get("/v1/loans?customerExternalId=255799999999").await.assert_error(404, "not_found");
    t.get("/v1/loans?customerId=42").await.assert_error(404, "not_found");
    t.get("/v1/loans?customerId=abc").await.assert_error(400, "invalid_argument");
    t.get("/v1/loans?customerId=1&customerExternalId=c").await.assert_error(400, "invalid_argument");
}

#[actix_web::test]
async fn a_loan_turns_overdue_once_an_unpaid_due_date_has_passed() {
    let t = start().await;
    t.seven_day_loan("c", "L1").await;
    t.lms.set_today(super::date("2026-06-01"));
    assert_eq!(t.get("/v1/loans/external/L1").await.body["overdue"], false);
    let advanced = t.hook(TestRequest::post(), "/sandbox/clock", Some(json!({"advanceDays": 1}))).await;
    assert_eq!(advanced.assert_ok()["today"], "2026-06-02");
    let late = t.get("/v1/loans/external/L1").await;
    assert_eq!((late.body["overdue"].as_bool(), late.body["nextDueDate"].as_str()), (Some(true), Some("2026-06-01")));
}

#[actix_web::test]
async fn loan_products_list_the_three_seeded_products_with_every_field() {
    let t = start().await;
    let reply = t.get("/v1/loan-products").await;
    let items = reply.assert_ok()["items"].as_array().unwrap().clone();
    let ids: Vec<_> = items.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
    let p3 = &items[2];
    assert_eq!((p3["name"].as_str(), p3["shortName"].as_str()), (Some("Halotel 3-Month Loan"), Some("H3M")));
    assert_eq!(
        [amount(&p3["principal"]), amount(&p3["minPrincipal"]), amount(&p3["maxPrincipal"])],
        [dec("150000"), dec("50000"), dec("1500000")]
    );
    assert_eq!((p3["numberOfRepayments"].as_u64(), p3["repaymentEvery"].as_u64()), (Some(3), Some(1)));
    assert_eq!(
        (p3["repaymentFrequencyType"].as_str(), p3["interestRateFrequencyType"].as_str()),
        (Some("Months"), Some("Per month"))
    );
    assert_eq!(amount(&p3["interestRatePerPeriod"]), dec("6"));
    for p in &items {
        assert_eq!(p["currencyCode"], "TZS");
        assert_eq!(p["amortizationType"], "Equal installments");
        assert_eq!(p["interestType"], "Flat");
        assert_eq!(p["interestCalculationPeriodType"], "Same as repayment period");
        assert_eq!(p["status"], "active");
        assert!(p["description"].is_string());
    }
    assert_eq!(items[0]["interestRateFrequencyType"], "Whole term");
    assert_eq!(
        (items[1]["repaymentEvery"].as_u64(), items[1]["repaymentFrequencyType"].as_str()),
        (Some(30), Some("Days"))
    );
}
