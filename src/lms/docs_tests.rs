//! The partner's published example bodies, decoded verbatim, and each reading quirk the documentation
//! itself shows (a row without `externalId`, an empty `nextDueDate`, the documented fee names, products
//! with missing bounds or another status).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::loan::{Loan, LoanKey, LoanStatus};
use super::transport::decode;
use super::types::{LoanProduct, Page, ProductSkip};

/// The response of `GET /v1/loans` exactly as the list page publishes it.
const LOANS_LIST: &str = include_str!("fixtures/loans-list.json");

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn the_published_loan_list_decodes_and_its_row_without_external_id_is_addressed_by_lms_id() {
    let page: Page<Loan> = decode("GET /v1/loans", LOANS_LIST.as_bytes()).unwrap();
    assert_eq!((page.total, page.page, page.rows_per_page), (Some(7), Some(1), Some(25)));
    let loan = &page.items[0];
    assert_eq!(loan.external_id, None, "the documented row has no externalId");
    assert_eq!(loan.key(), LoanKey::Id("501".into()));
    assert_eq!(loan.key().path(), "/v1/loans/501");
    assert_eq!(loan.status, LoanStatus::Active);
    assert_eq!(loan.interest_charged, Some(d("38.5")));
    assert_eq!(loan.total_outstanding(), Some(d("5038.5")));
    assert_eq!(loan.next_due_date, Some(day("2026-06-04")));
    assert_eq!(loan.next_due_amount(), Some(d("5038.5")));
    assert!(!loan.is_overdue(day("2026-07-01")), "the LMS's own flag wins");
    assert_eq!(loan.schedule().count(), 1);
    assert_eq!(loan.charges_at_creation(), d("38.5"));
}

fn settled(extra: &str) -> String {
    format!(
        r#"{{"id":"502","externalId":"L0000000018","customerId":"42","status":"Closed (obligations met)",
            "currencyCode":"TZS","principal":5000,"totalRepayment":5038.5,"totalOutstanding":0{extra}}}"#
    )
}

#[test]
fn a_settled_loan_with_an_empty_next_due_date_means_nothing_due() {
    for next_due in [r#","nextDueDate":"","nextDueAmount":0"#, r#","nextDueDate":null,"nextDueAmount":null"#, ""] {
        let loan: Loan = decode("GET /v1/loans/external/{id}", settled(next_due).as_bytes()).unwrap();
        assert_eq!((loan.next_due_date, loan.next_due_amount()), (None, None), "{next_due}");
        assert!(loan.status.is_settled());
        assert!(!loan.is_overdue(day("2030-01-01")));
    }
}

#[test]
fn fees_and_penalties_read_under_the_documented_and_the_fineract_names() {
    let docs: Loan = decode(
        "GET /v1/loans",
        settled(r#","feeCharged":100,"feePaid":40,"feeOutstanding":60,"penaltyCharged":5.5,"penaltyPaid":0,"penaltyOutstanding":5.5"#)
            .as_bytes(),
    )
    .unwrap();
    assert_eq!((docs.fees().charged, docs.fees().paid, docs.fees().outstanding), (d("100"), d("40"), d("60")));
    assert_eq!(docs.penalties().outstanding, d("5.5"));
    let fineract: Loan =
        decode("GET /v1/loans", settled(r#","feeChargesCharged":7,"penaltyChargesOutstanding":2"#).as_bytes()).unwrap();
    assert_eq!((fineract.fees().charged, fineract.penalties().outstanding), (d("7"), d("2")));
    let both: Loan = decode("GET /v1/loans", settled(r#","feeCharged":9,"feeChargesCharged":7"#).as_bytes()).unwrap();
    assert_eq!(both.fees().charged, d("9"), "both names in one body decode; the documented one wins");
}

#[test]
fn an_unknown_status_is_kept_as_text_and_an_empty_external_id_is_none() {
    let loan: Loan = decode(
        "GET /v1/loans",
        r#"{"id":"9","externalId":"","customerId":"1","status":"Transfer on hold","currencyCode":"TZS","principal":1}"#
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(loan.status, LoanStatus::Other("Transfer on hold".into()));
    assert_eq!(loan.key(), LoanKey::Id("9".into()));
}

#[test]
fn a_decode_error_names_the_endpoint_and_the_field_never_the_value() {
    let body = LOANS_LIST.replace(r#""nextDueDate": "2026-06-04""#, r#""nextDueDate": "255712345678""#);
    let error = decode::<Page<Loan>>("GET /v1/loans", body.as_bytes()).unwrap_err().to_string();
    assert!(error.contains("GET /v1/loans") && error.contains("items[0].nextDueDate"), "{error}");
    assert!(!error.contains("255712345678"), "{error}");
    let missing = decode::<Loan>("GET /v1/loans/{id}", br#"{"id":"1"}"#).unwrap_err().to_string();
    assert!(missing.contains("missing field"), "{missing}");
}

#[test]
fn one_odd_product_does_not_block_the_others() {
    let page: Page<LoanProduct> = decode(
        "GET /v1/loan-products",
        br#"{"items":[
          {"id":"1","name":"Standard 12-Month","shortName":"STD12","currencyCode":"TZS","principal":5000,
           "minPrincipal":1000,"maxPrincipal":50000,"numberOfRepayments":12,"repaymentEvery":1,
           "repaymentFrequencyType":"Months","interestRatePerPeriod":1.5,"interestRateFrequencyType":"Per month",
           "amortizationType":"Equal installments","interestType":"Declining Balance",
           "interestCalculationPeriodType":"Same as repayment period","status":"active"},
          {"id":"2","name":"No bounds","currencyCode":"TZS","minPrincipal":null},
          {"id":"3","name":"Retired","currencyCode":"TZS","minPrincipal":1,"maxPrincipal":2,"status":"inactive"},
          {"id":"4","name":"Shillings","currencyCode":"KES","minPrincipal":1,"maxPrincipal":2}
        ]}"#,
    )
    .unwrap();
    let verdicts: Vec<Result<Decimal, ProductSkip>> =
        page.items.iter().map(|p| p.offer("TZS").map(|o| o.max_principal)).collect();
    assert_eq!(
        verdicts,
        [Ok(d("50000")), Err(ProductSkip::NoBounds), Err(ProductSkip::Inactive), Err(ProductSkip::OtherCurrency)]
    );
}
