//! Rollback proven by reads, and the repayment read-back used before any resend, against a mock LMS of
//! each documented generation. Every mock states how often it must be hit, and every one is asserted.

use mkopo::domain::clock::Clock;
use mkopo::lms::{Generation, LmsClient, LoanKey, LoanStatus, UndoOutcome};
use mockito::{Matcher, Mock, ServerGuard};

use crate::helpers::*;
use crate::lms_client::{api, server_with_token};

const REF: &str = "L0000000018";
const LOAN_PATH: &str = "/v1/loans/external/L0000000018";

fn loan_in(status: &str) -> String {
    format!(
        r#"{{"id":"501","externalId":"{REF}","customerId":"42","status":"{status}","currencyCode":"TZS","principal":5000,
            "totalOutstanding":5550,"repaymentHistory":[{{"id":"77","type":"Repayment","date":"2026-06-01","amount":500}}]}}"#
    )
}

fn client_of(server: &ServerGuard, generation: Generation) -> LmsClient {
    let mut config = client_config(&server.url());
    config.generation = generation;
    LmsClient::new(config, Clock::system()).unwrap()
}

const NOT_FOUND: &str = r#"{"code":"not_found","message":"lms: status=404: not found"}"#;

/// Reads of the loan answered in order: each body once (a status, or `None` for 404).
async fn reads(server: &mut ServerGuard, bearer: &str, answers: &[Option<&str>]) -> Vec<Mock> {
    let mut mocks = Vec::new();
    // mockito answers with the first-created matching mock that still misses hits: create them in order.
    for answer in answers {
        let (status, body) = match answer {
            Some(s) => (200, loan_in(s)),
            None => (404, NOT_FOUND.to_owned()),
        };
        mocks.push(api(server, "GET", LOAN_PATH, bearer, status, &body, 1).await);
    }
    mocks
}

async fn assert_all(mocks: impl IntoIterator<Item = Mock>) {
    for m in mocks {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn current_generation_rollback_is_done_only_when_a_read_shows_the_loan_gone() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let mut mocks = reads(&mut server, &bearer, &[Some("Active"), None]).await;
    mocks.push(
        server
            .mock("POST", format!("{LOAN_PATH}/rollback").as_str())
            .match_body(Matcher::Exact(r#"{"note":"payout failed"}"#.into()))
            .with_body(r#"{"steps":["undo-disbursal","undo-approval","delete"]}"#)
            .expect(1)
            .create_async()
            .await,
    );
    let outcome = client_of(&server, Generation::Current).undo_loan(REF, "payout failed").await.unwrap();
    assert_eq!(outcome, UndoOutcome::Gone);
    mocks.push(token);
    assert_all(mocks).await;
}

#[tokio::test]
async fn a_404_from_a_missing_rollback_route_is_not_taken_as_done_the_undo_chain_runs() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let mut mocks = reads(
        &mut server,
        &bearer,
        &[Some("Active"), Some("Active"), Some("Approved"), Some("Submitted and pending approval"), None],
    )
    .await;
    mocks.push(api(&mut server, "POST", &format!("{LOAN_PATH}/rollback"), &bearer, 404, NOT_FOUND, 1).await);
    mocks.push(
        api(&mut server, "POST", &format!("{LOAN_PATH}/undo-disbursal"), &bearer, 200, &loan_in("Approved"), 1).await,
    );
    mocks.push(api(&mut server, "POST", &format!("{LOAN_PATH}/undo-approval"), &bearer, 200, "{}", 1).await);
    mocks.push(api(&mut server, "DELETE", LOAN_PATH, &bearer, 204, "", 1).await);
    let outcome = client_of(&server, Generation::Current).undo_loan(REF, "payout failed").await.unwrap();
    assert_eq!(outcome, UndoOutcome::Gone);
    mocks.push(token);
    assert_all(mocks).await;
}

#[tokio::test]
async fn legacy_generation_never_calls_the_rollback_route() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let mut mocks =
        reads(&mut server, &bearer, &[Some("Active"), Some("Approved"), Some("Submitted and pending approval"), None])
            .await;
    mocks.push(api(&mut server, "POST", &format!("{LOAN_PATH}/rollback"), &bearer, 404, NOT_FOUND, 0).await);
    mocks.push(api(&mut server, "POST", &format!("{LOAN_PATH}/undo-disbursal"), &bearer, 200, "{}", 1).await);
    mocks.push(api(&mut server, "POST", &format!("{LOAN_PATH}/undo-approval"), &bearer, 200, "{}", 1).await);
    // The older generation answered a delete with 200, not 204: any 2xx is accepted.
    mocks.push(api(&mut server, "DELETE", LOAN_PATH, &bearer, 200, "{}", 1).await);
    let outcome = client_of(&server, Generation::Legacy).undo_loan(REF, "payout failed").await.unwrap();
    assert_eq!(outcome, UndoOutcome::Gone);
    mocks.push(token);
    assert_all(mocks).await;
}

#[tokio::test]
async fn a_loan_the_lms_will_not_undo_is_blocked_never_done() {
    // undo-disbursal refused (repayments recorded): the loan stays Active.
    let (mut server, token, bearer) = server_with_token(1).await;
    let mut mocks = reads(&mut server, &bearer, &[Some("Active"), Some("Active")]).await;
    let refused = r#"{"code":"aborted","message":"lms: status=409: loan has repayments"}"#;
    mocks.push(api(&mut server, "POST", &format!("{LOAN_PATH}/undo-disbursal"), &bearer, 409, refused, 1).await);
    let outcome = client_of(&server, Generation::Legacy).undo_loan(REF, "payout failed").await.unwrap();
    let UndoOutcome::Blocked { status, reason } = outcome else { panic!("expected blocked, got {outcome:?}") };
    assert_eq!(status, LoanStatus::Active);
    assert!(reason.contains("undo-disbursal refused: lms_aborted"), "{reason}");
    mocks.push(token);
    assert_all(mocks).await;

    // An undo route that does not exist either: still Active, so blocked with that reason.
    let (mut server, token, bearer) = server_with_token(1).await;
    let mut mocks = reads(&mut server, &bearer, &[Some("Active"), Some("Active")]).await;
    mocks.push(api(&mut server, "POST", &format!("{LOAN_PATH}/undo-disbursal"), &bearer, 404, NOT_FOUND, 1).await);
    let outcome = client_of(&server, Generation::Legacy).undo_loan(REF, "payout failed").await.unwrap();
    assert!(
        matches!(&outcome, UndoOutcome::Blocked { reason, .. } if reason.contains("has no POST /v1/loans/external/{id}/undo-disbursal route")),
        "{outcome:?}"
    );
    mocks.push(token);
    assert_all(mocks).await;

    // A settled loan is never touched.
    let (mut server, token, bearer) = server_with_token(1).await;
    let mut mocks = reads(&mut server, &bearer, &[Some("Closed (obligations met)")]).await;
    mocks.push(api(&mut server, "POST", &format!("{LOAN_PATH}/undo-disbursal"), &bearer, 200, "{}", 0).await);
    let outcome = client_of(&server, Generation::Legacy).undo_loan(REF, "payout failed").await.unwrap();
    assert!(matches!(outcome, UndoOutcome::Blocked { status: LoanStatus::ClosedObligationsMet, .. }), "{outcome:?}");
    mocks.push(token);
    assert_all(mocks).await;
}

#[tokio::test]
async fn repayments_are_read_from_the_list_or_from_the_loans_history() {
    // Current: the list route, newest first.
    let (mut server, token, bearer) = server_with_token(1).await;
    let list = server
        .mock("GET", format!("{LOAN_PATH}/repayments").as_str())
        .match_header("authorization", bearer.as_str())
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("page".into(), "1".into()),
            Matcher::UrlEncoded("rows".into(), "50".into()),
        ]))
        .with_body(r#"{"items":[{"id":"249","type":"Repayment","date":"2026-06-04","amount":5550}],"total":1,"page":1,"rowsPerPage":50}"#)
        .expect(1)
        .create_async()
        .await;
    let found = client_of(&server, Generation::Current).repayments_of(&LoanKey::External(REF.into())).await.unwrap();
    assert_eq!(found.unwrap()[0].id, "249");
    assert_all([token, list]).await;

    // Current, but the LMS has no list route: the loan's history.
    let (mut server, token, bearer) = server_with_token(1).await;
    let mut mocks = vec![
        server
            .mock("GET", format!("{LOAN_PATH}/repayments").as_str())
            .match_query(Matcher::Any)
            .with_status(404)
            .with_body(NOT_FOUND)
            .expect(1)
            .create_async()
            .await,
    ];
    mocks.extend(reads(&mut server, &bearer, &[Some("Active")]).await);
    let found = client_of(&server, Generation::Current).repayments_of(&LoanKey::External(REF.into())).await.unwrap();
    assert_eq!(found.unwrap()[0].id, "77");
    mocks.push(token);
    assert_all(mocks).await;

    // Legacy, and a loan without externalId: the read by LMS id, no list call.
    let (mut server, token, bearer) = server_with_token(1).await;
    let read = api(&mut server, "GET", "/v1/loans/501", &bearer, 200, &loan_in("Active"), 1).await;
    let found = client_of(&server, Generation::Legacy).repayments_of(&LoanKey::Id("501".into())).await.unwrap();
    assert_eq!(found.unwrap().len(), 1);
    assert_all([token, read]).await;
}
