//! The client against a mock wallet (mockito): exact request bytes and headers, every row of the
//! docs/money.md response table, the docs/money.md status answers, and what no answer means. Every mock states how
//! often it must be hit and is asserted (mockito does not check on drop).

use std::str::FromStr;
use std::time::Duration;

use mockito::{Matcher, Mock, Server, ServerGuard};
use rust_decimal::Decimal;
use secrecy::SecretString;

use super::*;
use crate::domain::Msisdn;
use crate::momo::wallet::{StatusAnswer, SubmitResult, WalletApi};
use crate::momo::{Direction, Money, OutboundRequest, Outcome, Reference};

const PAYOUT_BODY: &str = r#"{"reference":"L0000123455","msisdn":"255712345678","amount":"50000.00","currency":"TZS","description":"Mkopo loan L0000123455"}"#;
const COLLECTION_BODY: &str = r#"{"reference":"C0000000174","msisdn":"255712345678","amount":"11100.00","currency":"TZS","account":"L0000123455","description":"Mkopo repayment"}"#;
const PAYOUT_PENDING: &str = r#"{"kind":"payout","reference":"L0000123455","receipt":null,"account":null,"msisdn":"255712345678","amount":"50000.00","currency":"TZS","status":"pending","failure_code":null,"failure_message":null,"occurred_at":null}"#;
const COLLECTION_COMPLETED: &str = r#"{"kind":"collection","reference":"C0000000174","receipt":"HP9T2W5Y8B","account":"L0000123455","msisdn":"255712345678","amount":"11100.00","currency":"TZS","status":"completed","failure_code":null,"failure_message":null,"occurred_at":"2026-05-25T10:02:39Z"}"#;

fn settings(base_url: &str, timeout: Duration) -> GenericWalletSettings {
    GenericWalletSettings {
        // A trailing slash must not double up in the paths.
        base_url: format!("{base_url}/"),
        api_key: SecretString::from("test-api-key"),
        request_timeout: timeout,
        ..GenericWalletSettings::default()
    }
}

fn client(base_url: &str) -> GenericWalletClient {
    GenericWalletClient::new("sandbox", &settings(base_url, Duration::from_secs(5))).unwrap()
}

fn payout() -> OutboundRequest {
    OutboundRequest {
        reference: Reference::parse("L0000123455").unwrap(),
        direction: Direction::Payout,
        msisdn: Msisdn::parse("0712345678", "255").unwrap(),
        amount: Money::new(Decimal::new(50_000, 0), "TZS"),
        account: None,
        description: Some("Mkopo loan L0000123455".into()),
    }
}

fn collection() -> OutboundRequest {
    OutboundRequest {
        reference: Reference::parse("C0000000174").unwrap(),
        direction: Direction::Collection,
        msisdn: Msisdn::parse("255712345678", "255").unwrap(),
        amount: Money::new(Decimal::from_str("11100.00").unwrap(), "TZS"),
        account: Some("L0000123455".into()),
        description: Some("Mkopo repayment".into()),
    }
}

/// A wallet route that must receive exactly `body` with our headers, answering `status` `hits` times.
async fn route(server: &mut ServerGuard, path: &str, body: &str, status: usize, answer: &str, hits: usize) -> Mock {
    server
        .mock("POST", path)
        .match_header("authorization", "Bearer test-api-key")
        .match_header("content-type", "application/json")
        .match_header("accept", "application/json")
        .match_body(Matcher::Exact(body.to_owned()))
        .with_status(status)
        .with_header("content-type", "application/json")
        .with_body(answer)
        .expect(hits)
        .create_async()
        .await
}

async fn submit_payout_answered(status: usize, answer: &str) -> SubmitResult {
    let mut server = Server::new_async().await;
    let mock = route(&mut server, "/payouts", PAYOUT_BODY, status, answer, 1).await;
    let result = client(&server.url()).submit(&payout()).await;
    mock.assert_async().await;
    result
}

#[tokio::test]
async fn a_payout_is_posted_exactly_with_the_bearer_key_and_a_202_pending_is_accepted() {
    assert_eq!(submit_payout_answered(202, PAYOUT_PENDING).await, SubmitResult::Accepted(Outcome::Pending));
}

#[tokio::test]
async fn a_collection_is_posted_exactly_and_a_completed_200_replay_is_accepted_as_succeeded() {
    let mut server = Server::new_async().await;
    let mock = route(&mut server, "/collections", COLLECTION_BODY, 200, COLLECTION_COMPLETED, 1).await;
    let result = client(&server.url()).submit(&collection()).await;
    mock.assert_async().await;
    let SubmitResult::Accepted(Outcome::Succeeded { receipt, amount, occurred_at }) = result else {
        panic!("expected a success, got {result:?}")
    };
    assert_eq!(receipt.as_deref(), Some("HP9T2W5Y8B"));
    assert_eq!(amount, Some(Money::new(Decimal::new(11_100, 0), "TZS")));
    assert_eq!(occurred_at.map(|t| t.to_rfc3339()), Some("2026-05-25T10:02:39+00:00".into()));
}

#[tokio::test]
async fn a_202_that_is_already_failed_is_accepted_as_a_definite_failure() {
    let failed = PAYOUT_PENDING
        .replace(r#""status":"pending""#, r#""status":"failed""#)
        .replace(r#""failure_code":null"#, r#""failure_code":"recipient_invalid""#);
    assert_eq!(
        submit_payout_answered(202, &failed).await,
        SubmitResult::Accepted(Outcome::Failed { code: "recipient_invalid".into(), message: None })
    );
}

#[tokio::test]
async fn a_400_is_a_definite_rejection_carrying_the_wallets_code_with_digits_masked() {
    let answer = r#"{"error":"invalid_request","message":"msisdn 255712345678 is barred"}"#;
    assert_eq!(
        submit_payout_answered(400, answer).await,
        SubmitResult::Rejected { code: "invalid_request".into(), message: "msisdn 25571****678 is barred".into() }
    );
}

#[tokio::test]
async fn a_401_429_or_503_means_nothing_was_recorded_and_the_same_reference_is_retried_later() {
    for (status, code) in [(401, "unauthorized"), (429, "rate_limited"), (503, "unavailable")] {
        let answer = format!(r#"{{"error":"{code}","message":"later"}}"#);
        let result = submit_payout_answered(status, &answer).await;
        assert_eq!(result, SubmitResult::RetryLater { why: format!("HTTP {status} {code}: later") }, "{status}");
    }
}

#[tokio::test]
async fn a_409_reference_conflict_is_unknown_never_a_failure() {
    let result = submit_payout_answered(409, r#"{"error":"reference_conflict","message":"other fields"}"#).await;
    assert!(matches!(&result, SubmitResult::Unknown { why } if why.contains("reference_conflict")), "{result:?}");
}

#[tokio::test]
async fn other_5xx_and_unnamed_4xx_answers_are_unknown() {
    for status in [500, 502, 504, 403, 404] {
        let result = submit_payout_answered(status, "<html>oops</html>").await;
        assert_eq!(result, SubmitResult::Unknown { why: format!("HTTP {status}") }, "{status}");
    }
}

#[tokio::test]
async fn a_2xx_whose_body_is_unusable_is_unknown() {
    let number_amount = PAYOUT_PENDING.replace(r#""50000.00""#, "50000");
    let other_reference = PAYOUT_PENDING.replace("L0000123455", "L0000123471");
    let other_amount = PAYOUT_PENDING.replace(r#""50000.00""#, r#""5000.00""#);
    let a_collection = PAYOUT_PENDING.replace(r#""kind":"payout""#, r#""kind":"collection""#);
    for answer in ["", "{}", "not json", &number_amount, &other_reference, &other_amount, &a_collection] {
        let result = submit_payout_answered(202, answer).await;
        assert!(matches!(result, SubmitResult::Unknown { .. }), "{answer}: {result:?}");
    }
}

#[tokio::test]
async fn a_request_without_a_wire_form_is_never_sent() {
    let mut server = Server::new_async().await;
    let mock = server.mock("POST", Matcher::Any).expect(0).create_async().await;
    let mut request = collection();
    request.account = None;
    let result = client(&server.url()).submit(&request).await;
    mock.assert_async().await;
    assert!(matches!(&result, SubmitResult::Rejected { code, .. } if code == "not_sent"), "{result:?}");
}

/// A server that accepts connections and never answers.
async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, task)
}

#[tokio::test]
async fn a_submit_without_an_answer_in_time_is_unknown_and_a_refused_connection_is_retried_later() {
    let (url, task) = silent_server().await;
    let slow = GenericWalletClient::new("sandbox", &settings(&url, Duration::from_millis(300))).unwrap();
    let result = slow.submit(&payout()).await;
    assert!(matches!(&result, SubmitResult::Unknown { why } if why.contains("in time")), "{result:?}");
    let status = slow.status(&payout().reference).await;
    assert!(matches!(&status, StatusAnswer::Unclear(why) if why.contains("in time")), "{status:?}");
    task.abort();

    // Nothing listens on a port just released: the request never left, so the same reference is resent.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = client(&format!("http://127.0.0.1:{port}")).submit(&payout()).await;
    assert!(matches!(refused, SubmitResult::RetryLater { .. }), "{refused:?}");
}

async fn status_answered(status: usize, answer: &str) -> StatusAnswer {
    let mut server = Server::new_async().await;
    let mock = server
        .mock("GET", "/transactions/C0000000174")
        .match_header("authorization", "Bearer test-api-key")
        .with_status(status)
        .with_body(answer)
        .expect(1)
        .create_async()
        .await;
    let answer = client(&server.url()).status(&collection().reference).await;
    mock.assert_async().await;
    answer
}

#[tokio::test]
async fn a_status_200_is_found_with_the_objects_outcome() {
    let answer = status_answered(200, COLLECTION_COMPLETED).await;
    assert!(matches!(answer, StatusAnswer::Found(Outcome::Succeeded { .. })), "{answer:?}");
}

#[tokio::test]
async fn a_status_404_means_never_recorded() {
    let answer = status_answered(404, r#"{"error":"not_found","message":"no transaction with this reference"}"#).await;
    assert_eq!(answer, StatusAnswer::NotFound);
}

#[tokio::test]
async fn any_other_status_answer_is_unclear() {
    assert_eq!(status_answered(500, "").await, StatusAnswer::Unclear("HTTP 500".into()));
    let about_another = COLLECTION_COMPLETED.replace("C0000000174", "C0000000182");
    assert!(matches!(status_answered(200, &about_another).await, StatusAnswer::Unclear(_)));
}

#[tokio::test]
async fn the_wallet_api_trait_asks_by_the_requests_reference() {
    let mut server = Server::new_async().await;
    let mock = server
        .mock("GET", "/transactions/L0000123455")
        .with_status(200)
        .with_body(PAYOUT_PENDING)
        .expect(1)
        .create_async()
        .await;
    let wallet: &dyn WalletApi = &client(&server.url());
    assert_eq!(wallet.name(), "sandbox");
    assert_eq!(wallet.status(&payout()).await, StatusAnswer::Found(Outcome::Pending));
    mock.assert_async().await;
}
