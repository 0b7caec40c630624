//! The LMS client against a mock LMS (mockito): every call's wire shape, every error code, retries
//! and exact decimals (token logic: `lms_token.rs`). Every mock states how often it must be hit.

use mkopo::lms::{ErrorCode, LmsError, LoanKey, LoanQuery, LoanStatus, NewLoan, NewRepayment};
use mockito::{Matcher, Mock, Server, ServerGuard};

use crate::helpers::*;

pub(crate) const CUSTOMER: &str = r#"{"id":"42","accountNo":"000000042","externalId":"255712345678","status":"Active","active":true,
  "officeId":"1","firstname":"255712345678","lastname":"Customer","activationDate":"2026-05-25","unknownField":{"x":1}}"#;

fn loan_json(external_id: &str, principal: &str, product: &str, customer: &str) -> String {
    format!(
        r#"{{"id":"501","externalId":"{external_id}","customerId":"{customer}","loanProductId":"{product}","status":"Active",
            "currencyCode":"TZS","principal":{principal},"totalOutstanding":11100,"nextDueDate":"2026-06-01",
            "nextDueAmount":11100,"overdue":false,"repaymentSchedule":[],"repaymentHistory":[]}}"#
    )
}

/// A server whose token endpoint hands out one long-lived token, expected `hits` times.
pub(crate) async fn server_with_token(hits: usize) -> (ServerGuard, Mock, String) {
    let mut server = Server::new_async().await;
    let token = year_token("a");
    let mock = server
        .mock("GET", "/v1/auth/token")
        .match_header("authorization", basic_auth().as_str())
        .with_status(200)
        .with_body(token_body(&token))
        .expect(hits)
        .create_async()
        .await;
    (server, mock, format!("Bearer {token}"))
}

pub(crate) async fn api(
    server: &mut ServerGuard,
    method: &str,
    path: &str,
    bearer: &str,
    status: usize,
    body: &str,
    hits: usize,
) -> Mock {
    server
        .mock(method, path)
        .match_header("authorization", bearer)
        .match_header("accept", "application/json")
        .with_status(status)
        .with_header("content-type", "application/json")
        .with_body(body)
        .expect(hits)
        .create_async()
        .await
}

#[tokio::test]
async fn every_error_code_maps_and_only_retryable_ones_are_retried() {
    // (status, code, expected attempts with max_attempts = 3)
    let cases = [
        (400, "invalid_argument", ErrorCode::InvalidArgument, 1),
        (403, "permission_denied", ErrorCode::PermissionDenied, 1),
        (409, "aborted", ErrorCode::Aborted, 1),
        (400, "failed_precondition", ErrorCode::FailedPrecondition, 1),
        (500, "internal", ErrorCode::Internal, 2),
        (503, "unavailable", ErrorCode::Unavailable, 3),
        (422, "something_new", ErrorCode::Rejected, 1),
    ];
    for (status, code, expected, attempts) in cases {
        let (mut server, token, bearer) = server_with_token(1).await;
        let body = format!(r#"{{"code":"{code}","message":"m"}}"#);
        let calls = api(&mut server, "GET", "/v1/loans/external/L0000000018", &bearer, status, &body, attempts).await;
        let error = client(&server.url()).get_loan("L0000000018").await.unwrap_err();
        assert_eq!(error.code(), expected, "{code}");
        token.assert_async().await;
        calls.assert_async().await;
    }
}

#[tokio::test]
async fn not_found_on_a_lookup_is_an_answer() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let nf = r#"{"code":"not_found","message":"lms: status=404: Customer with id 255700000001 does not exist"}"#;
    let customer = api(&mut server, "GET", "/v1/customers/external/255700000001", &bearer, 404, nf, 1).await;
    let loan = api(&mut server, "GET", "/v1/loans/external/L0000000018", &bearer, 404, nf, 1).await;
    let lms = client(&server.url());
    assert!(lms.get_customer("255700000001").await.unwrap().is_none());
    assert!(lms.get_loan("L0000000018").await.unwrap().is_none());
    token.assert_async().await;
    customer.assert_async().await;
    loan.assert_async().await;
}

#[tokio::test]
async fn unavailable_is_retried_until_the_lms_answers() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let down =
        api(&mut server, "GET", "/v1/loan-products", &bearer, 503, r#"{"code":"unavailable","message":"m"}"#, 2).await;
    let up = api(&mut server, "GET", "/v1/loan-products", &bearer, 200, r#"{"items":[]}"#, 1).await;
    assert!(client(&server.url()).loan_products().await.unwrap().is_empty());
    token.assert_async().await;
    down.assert_async().await;
    up.assert_async().await;
}

#[tokio::test]
async fn validation_errors_carry_their_fields() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let body = r#"{"code":"invalid_argument","message":"[{\"field\":\"externalId\",\"error\":\"required\"}]"}"#;
    let create = api(&mut server, "POST", "/v1/customers", &bearer, 400, body, 1).await;
    let LmsError::InvalidArgument { fields, .. } = client(&server.url()).create_customer("").await.unwrap_err() else {
        panic!("expected invalid_argument")
    };
    assert_eq!(fields[0].field, "externalId");
    token.assert_async().await;
    create.assert_async().await;
}

#[tokio::test]
async fn customers_are_created_found_and_listed() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let create = server
        .mock("POST", "/v1/customers")
        .match_header("authorization", bearer.as_str())
        .match_header("content-type", "application/json")
        .match_body(Matcher::Exact(r#"{"externalId":"255712345678"}"#.into()))
        .with_status(200)
        .with_body(CUSTOMER)
        .expect(1)
        .create_async()
        .await;
    let list = server
        .mock("GET", "/v1/customers")
        .match_query(Matcher::UrlEncoded("externalId".into(), "255712345678".into()))
        .with_body(format!(r#"{{"items":[{CUSTOMER}],"total":1,"page":1,"rowsPerPage":10}}"#))
        .expect(1)
        .create_async()
        .await;
    let empty = server
        .mock("GET", "/v1/customers")
        .match_query(Matcher::UrlEncoded("externalId".into(), "255700000001".into()))
        .with_body(r#"{"items":[],"total":0,"page":1,"rowsPerPage":10}"#)
        .expect(1)
        .create_async()
        .await;
    let lms = client(&server.url());
    assert_eq!(lms.create_customer("255712345678").await.unwrap().external_id, "255712345678");
    assert_eq!(lms.find_customer("255712345678").await.unwrap().unwrap().id, "42");
    assert!(lms.find_customer("255700000001").await.unwrap().is_none());
    for m in [token, create, list, empty] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn a_duplicate_customer_create_reads_the_existing_customer() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let create =
        api(&mut server, "POST", "/v1/customers", &bearer, 409, r#"{"code":"aborted","message":"taken"}"#, 1).await;
    let get = api(&mut server, "GET", "/v1/customers/external/255712345678", &bearer, 200, CUSTOMER, 1).await;
    assert_eq!(client(&server.url()).create_customer("255712345678").await.unwrap().id, "42");
    for m in [token, create, get] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn loan_products_are_cached() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let products = r#"{"items":[
        {"id":"1","name":"Halotel 7-Day Loan","currencyCode":"TZS","principal":10000,"minPrincipal":1000,"maxPrincipal":100000,"numberOfRepayments":1,"interestRatePerPeriod":11},
        {"id":"9","name":"Shilingi","currencyCode":"KES","minPrincipal":1,"maxPrincipal":2},
        {"id":"3","name":"Halotel 3-Month Loan","currencyCode":"TZS","minPrincipal":50000,"maxPrincipal":1500000.50}]}"#;
    let list = api(&mut server, "GET", "/v1/loan-products", &bearer, 200, products, 1).await;
    let lms = client(&server.url());
    assert_eq!(lms.loan_products().await.unwrap().len(), 3);
    let offered = lms.offered_products().await.unwrap();
    let ids: Vec<&str> = offered.iter().map(|p| p.product.id.as_str()).collect();
    assert_eq!(ids, ["1", "3"], "configured ids in order, TZS only");
    assert_eq!(offered[1].max_principal, dec("1500000.50"));
    token.assert_async().await;
    list.assert_async().await;
}

#[tokio::test]
async fn loans_are_created_with_the_customer_external_id_and_an_integer_product() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let create = server
        .mock("POST", "/v1/loans")
        .match_header("authorization", bearer.as_str())
        .match_body(Matcher::Exact(
            r#"{"customerId":"255712345678","externalId":"L0000000018","principal":10000,"productId":1}"#.into(),
        ))
        .with_body(loan_json("L0000000018", "10000", "1", "42"))
        .expect(1)
        .create_async()
        .await;
    let loan = client(&server.url()).create_loan(&new_loan()).await.unwrap();
    assert_eq!((&loan.status, loan.total_outstanding()), (&LoanStatus::Active, Some(dec("11100"))));
    token.assert_async().await;
    create.assert_async().await;
}

fn new_loan() -> NewLoan {
    NewLoan {
        customer_external_id: "255712345678".into(),
        product_id: "1".into(),
        principal: dec("10000"),
        external_id: "L0000000018".into(),
    }
}

#[tokio::test]
async fn a_duplicate_loan_create_returns_the_existing_loan_when_it_matches() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let create = api(&mut server, "POST", "/v1/loans", &bearer, 409, r#"{"code":"aborted","message":"dup"}"#, 1).await;
    let get = api(
        &mut server,
        "GET",
        "/v1/loans/external/L0000000018",
        &bearer,
        200,
        &loan_json("L0000000018", "10000.0", "1", "42"),
        1,
    )
    .await;
    let customer = api(&mut server, "GET", "/v1/customers/external/255712345678", &bearer, 200, CUSTOMER, 1).await;
    let loan = client(&server.url()).create_loan(&new_loan()).await.unwrap();
    assert_eq!(loan.id, "501");
    for m in [token, create, get, customer] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn a_duplicate_loan_create_with_other_terms_is_a_conflict() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let create = api(&mut server, "POST", "/v1/loans", &bearer, 409, r#"{"code":"aborted","message":"dup"}"#, 1).await;
    let get = api(
        &mut server,
        "GET",
        "/v1/loans/external/L0000000018",
        &bearer,
        200,
        &loan_json("L0000000018", "20000", "1", "77"),
        1,
    )
    .await;
    let customer = api(&mut server, "GET", "/v1/customers/external/255712345678", &bearer, 200, CUSTOMER, 1).await;
    let error = client(&server.url()).create_loan(&new_loan()).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Conflict);
    assert!(error.to_string().contains("principal 20000 instead of 10000"), "{error}");
    assert!(error.to_string().contains("another customer"), "{error}");
    for m in [token, create, get, customer] {
        m.assert_async().await;
    }
}

async fn loans_page(server: &mut ServerGuard, bearer: &str, n: u32, body: String) -> Mock {
    server
        .mock("GET", "/v1/loans")
        .match_header("authorization", bearer)
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("customerExternalId".into(), "255712345678".into()),
            Matcher::UrlEncoded("status".into(), "Active".into()),
            Matcher::UrlEncoded("page".into(), n.to_string()),
            Matcher::UrlEncoded("rows".into(), "2".into()),
        ]))
        .with_body(body)
        .expect(1)
        .create_async()
        .await
}

#[tokio::test]
async fn active_loans_are_listed_across_pages() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let row = loan_json("L1", "1000", "1", "42");
    let first =
        loans_page(&mut server, &bearer, 1, format!(r#"{{"items":[{row},{row}],"total":3,"page":1,"rowsPerPage":2}}"#))
            .await;
    let second =
        loans_page(&mut server, &bearer, 2, format!(r#"{{"items":[{row}],"total":3,"page":2,"rowsPerPage":2}}"#)).await;
    let mut config = client_config(&server.url());
    config.page_rows = 2;
    let lms = mkopo::lms::LmsClient::new(config, mkopo::domain::clock::Clock::system()).unwrap();
    assert_eq!(lms.active_loans("255712345678").await.unwrap().len(), 3);
    for m in [token, first, second] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn an_unknown_customer_has_no_loans() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let list = server
        .mock("GET", "/v1/loans")
        .match_header("authorization", bearer.as_str())
        .match_query(Matcher::Any)
        .with_status(404)
        .with_body(r#"{"code":"not_found","message":"no customer"}"#)
        .expect(1)
        .create_async()
        .await;
    let query = LoanQuery { customer_external_id: Some("255700000001".into()), ..LoanQuery::default() };
    assert!(client(&server.url()).list_loans(&query).await.unwrap().items.is_empty());
    token.assert_async().await;
    list.assert_async().await;
}

#[tokio::test]
async fn repayment_amounts_survive_the_round_trip_exactly() {
    for (sent, received) in [("5038.5", "5038.5"), ("0.1", "0.1"), ("1e3", "1000"), ("12000.50", "12000.50")] {
        let (mut server, token, bearer) = server_with_token(1).await;
        let body = format!(
            r#"{{"idempotencyKey":"8GT5XK2P1Q","transactionAmount":{received},"transactionDate":"2026-05-25"}}"#
        );
        let post = server
            .mock("POST", "/v1/loans/external/L0000000018/repayments")
            .match_header("authorization", bearer.as_str())
            .match_body(Matcher::Exact(body))
            .with_body(format!(
                r#"{{"id":"7821","type":"Repayment","date":"2026-05-25","amount":{sent},"interest":{sent}}}"#
            ))
            .expect(1)
            .create_async()
            .await;
        let repayment = NewRepayment {
            transaction_amount: mkopo::domain::money::parse_decimal(sent).unwrap(),
            transaction_date: "2026-05-25".parse().unwrap(),
            idempotency_key: "8GT5XK2P1Q".into(),
        };
        let posted =
            client(&server.url()).post_repayment(&LoanKey::External("L0000000018".into()), &repayment).await.unwrap();
        assert_eq!(posted.amount.to_string(), received, "{sent}");
        assert_eq!(posted.interest, posted.amount);
        assert_eq!(posted.principal, dec("0"), "an omitted component reads as zero");
        token.assert_async().await;
        post.assert_async().await;
    }
}

#[tokio::test]
async fn a_repayment_is_sent_once_and_an_ambiguous_answer_is_returned_not_resent() {
    // An LMS that ignores idempotencyKey would post a resend twice: the worker looks on the loan first.
    for (status, body) in
        [(503, r#"{"code":"unavailable","message":"m"}"#), (500, r#"{"code":"internal","message":"m"}"#)]
    {
        let (mut server, token, bearer) = server_with_token(1).await;
        let body_sent = r#"{"idempotencyKey":"RCPT-1","transactionAmount":11100,"transactionDate":"2026-05-25"}"#;
        let post = server
            .mock("POST", "/v1/loans/external/L0000000018/repayments")
            .match_header("authorization", bearer.as_str())
            .match_body(Matcher::Exact(body_sent.into()))
            .with_status(status)
            .with_body(body)
            .expect(1)
            .create_async()
            .await;
        let repayment = NewRepayment {
            transaction_amount: dec("11100"),
            transaction_date: "2026-05-25".parse().unwrap(),
            idempotency_key: "RCPT-1".into(),
        };
        let error = client(&server.url())
            .post_repayment(&LoanKey::External("L0000000018".into()), &repayment)
            .await
            .unwrap_err();
        assert!(error.may_have_landed(), "{status}: {error}");
        token.assert_async().await;
        post.assert_async().await;
    }
}

#[tokio::test]
async fn a_loan_without_external_id_is_repaid_through_its_lms_id() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let post =
        api(&mut server, "POST", "/v1/loans/501/repayments", &bearer, 200, r#"{"id":"9","amount":450}"#, 1).await;
    let repayment = NewRepayment {
        transaction_amount: dec("450"),
        transaction_date: "2026-05-25".parse().unwrap(),
        idempotency_key: "RCPT-9".into(),
    };
    let posted = client(&server.url()).post_repayment(&LoanKey::Id("501".into()), &repayment).await.unwrap();
    assert_eq!(posted.id, "9");
    token.assert_async().await;
    post.assert_async().await;
}

#[tokio::test]
async fn repayments_are_read_one_by_one_and_listed() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let one = api(&mut server, "GET", "/v1/loans/external/L0000000018/repayments/249", &bearer, 200,
        r#"{"id":"249","type":"Repayment","date":"2026-06-04","amount":5550,"principal":5000,"interest":550,"status":"posted"}"#, 1).await;
    let list = server
        .mock("GET", "/v1/loans/external/L0000000018/repayments")
        .match_query(Matcher::AllOf(vec![Matcher::UrlEncoded("page".into(), "1".into()), Matcher::UrlEncoded("rows".into(), "25".into())]))
        .with_body(r#"{"items":[{"id":"249","amount":5550},{"id":"238","amount":2000,"overpaymentPortion":0.5}],"total":2,"page":1,"rowsPerPage":25}"#)
        .expect(1)
        .create_async()
        .await;
    let lms = client(&server.url());
    assert_eq!(lms.get_repayment("L0000000018", "249").await.unwrap().unwrap().interest, dec("550"));
    let page = lms.list_repayments("L0000000018", 1, 25).await.unwrap();
    assert_eq!(page.total, Some(2));
    assert_eq!(page.items[1].overpayment_portion, Some(dec("0.5")));
    for m in [token, one, list] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn external_ids_are_percent_encoded_in_paths() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let get = api(
        &mut server,
        "GET",
        "/v1/credit-scorecard/a%2Fb%20c",
        &bearer,
        200,
        r#"{"halopesaGrade":"XX","availableCreditLimit":0}"#,
        1,
    )
    .await;
    assert!(client(&server.url()).scorecard("a/b c").await.unwrap().is_unscored());
    token.assert_async().await;
    get.assert_async().await;
}

#[tokio::test]
async fn an_lms_that_never_answers_times_out() {
    let (mut server, token, _) = server_with_token(1).await;
    // A socket that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let mut config = client_config(&silent_url);
    config.auth_base_url = server.url();
    config.request_timeout = std::time::Duration::from_millis(100);
    config.worker_request_timeout = std::time::Duration::from_millis(100);
    let lms = mkopo::lms::LmsClient::new(config, mkopo::domain::clock::Clock::system()).unwrap();
    let error = lms.for_workers().get_loan("L0000000018").await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Timeout, "{error}");
    let _ = &mut server;
    token.assert_async().await;
}

#[tokio::test]
async fn an_unreachable_lms_is_a_transport_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let error = client(&url).scorecard("255712345678").await.unwrap_err();
    assert!(matches!(error.code(), ErrorCode::Transport | ErrorCode::Timeout), "{error}");
}

#[tokio::test]
async fn the_disbursement_date_is_moved_with_the_documented_body() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let adjust = server
        .mock("POST", "/v1/loans/external/L0000000018/adjust-disbursement-date")
        .match_header("authorization", bearer.as_str())
        .match_body(Matcher::Exact(r#"{"actualDisbursementDate":"2026-05-27","note":"wallet credit date"}"#.into()))
        .with_body(loan_json("L0000000018", "10000", "1", "42"))
        .expect(1)
        .create_async()
        .await;
    let date = "2026-05-27".parse().unwrap();
    client(&server.url()).adjust_disbursement_date("L0000000018", date, "wallet credit date").await.unwrap();
    token.assert_async().await;
    adjust.assert_async().await;
}
