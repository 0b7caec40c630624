//! The loans My payments offers besides the active ones: repaid in full since a day, read from one
//! unfiltered list call newest first and filtered by the client (the LMS's status filter takes one
//! exact status per call).

use mockito::Matcher;

use crate::helpers::*;
use crate::lms_client::server_with_token;

fn loan(id: &str, status: &str, history: &str, schedule: &str) -> String {
    format!(
        r#"{{"id":"{id}","externalId":"L{id}","customerId":"42","loanProductId":"1","status":"{status}",
            "currencyCode":"TZS","principal":10000,"totalOutstanding":0,"repaymentSchedule":[{schedule}],
            "repaymentHistory":[{history}]}}"#
    )
}

fn paid(day: &str) -> String {
    format!(r#"{{"id":"9{}","type":"Repayment","date":"{day}","amount":11100}}"#, &day[8..])
}

#[tokio::test]
async fn loans_repaid_since_a_day_come_from_one_list_call_newest_first_and_older_ones_stay_out() {
    let (mut server, token, bearer) = server_with_token(1).await;
    let rows = [
        loan("7", "Active", "", ""),
        loan("6", "Closed (obligations met)", &paid("2026-06-20"), ""),
        // No repayment on the row: the last instalment's due date stands in.
        loan("5", "Overpaid", "", r#"{"period":1,"dueDate":"2026-06-10"}"#),
        loan("4", "Closed (written off)", &paid("2026-06-15"), ""),
        loan("3", "Closed (obligations met)", &paid("2026-04-01"), ""),
    ];
    let body = format!(r#"{{"items":[{}],"total":5,"page":1,"rowsPerPage":50}}"#, rows.join(","));
    let list = server
        .mock("GET", "/v1/loans")
        .match_header("authorization", bearer.as_str())
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("customerExternalId".into(), "255712345678".into()),
            Matcher::UrlEncoded("orderBy".into(), "id".into()),
            Matcher::UrlEncoded("sortOrder".into(), "DESC".into()),
            Matcher::UrlEncoded("page".into(), "1".into()),
        ]))
        .with_status(200)
        .with_body(body)
        .expect(1)
        .create_async()
        .await;
    let since = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    let found = client(&server.url()).recently_settled("255712345678", since, 5).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["6", "5"], "repaid in full since 1 June, newest first; not active, written off or older");
    token.assert_async().await;
    list.assert_async().await;
}
