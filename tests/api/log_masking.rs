//! The log lines of the real binary (JSON, at info) never carry a whole phone number from provider
//! text: an unreadable Daraja `TransTime`, an `OriginatorConversationID` that is not ours, a USSD session
//! id built from the subscriber's number. What is logged goes through the one digit mask.

use std::time::Duration;

use crate::config_currency::DARAJA_ENV;
use crate::shutdown::{wait_ready, Process};

const NUMBER: &str = "254712345678";
const MASKED: &str = "25471****678";

#[tokio::test]
async fn provider_fields_that_fail_to_parse_reach_the_log_masked_never_raw() {
    let log = std::env::temp_dir().join(format!("mkopo-logs-{}.log", uuid::Uuid::new_v4().simple()));
    // A KES lender, so Daraja is a valid wallet for it.
    let mut env: Vec<(&str, String)> = vec![
        ("MKOPO_SERVER__PORT", "0".into()),
        ("MKOPO_TELEMETRY__FORMAT", "json".into()),
        ("MKOPO_LMS__CURRENCY", "KES".into()),
        ("MKOPO_WALLETS__GENERIC__SANDBOX__CURRENCY", "KES".into()),
        ("MKOPO_SANDBOX__WALLET__CURRENCY", "KES".into()),
    ];
    let keys: Vec<String> = DARAJA_ENV.iter().map(|(k, _)| format!("MKOPO_WALLETS__DARAJA__{k}")).collect();
    env.extend(keys.iter().zip(DARAJA_ENV).map(|(key, (_, value))| (key.as_str(), value.to_owned())));
    let gateway = Process::start(&["serve"], &env, log.clone());
    wait_ready(&format!("{}/readyz", gateway.base)).await;
    let token = DARAJA_ENV.iter().find(|(k, _)| *k == "PATH_TOKEN").unwrap().1;
    let daraja = format!("{}/v1/callbacks/daraja/{token}", gateway.base);
    let client = reqwest::Client::new();

    let c2b = format!(
        r#"{{"TransactionType":"Pay Bill","TransID":"RKTQDM7W6T","TransTime":"{NUMBER}","TransAmount":"10","BusinessShortCode":"600000","BillRefNumber":"L0000123455","MSISDN":"2547*****149"}}"#
    );
    let stored = client.post(format!("{daraja}/c2b/confirmation")).body(c2b).send().await.unwrap();
    assert_eq!(stored.status(), 200, "an unreadable time does not refuse money that moved");
    let timeout =
        format!(r#"{{"Result":{{"ResultCode":1,"OriginatorConversationID":"{NUMBER}","ConversationID":"AG_1"}}}}"#);
    assert_eq!(client.post(format!("{daraja}/b2c/timeout")).body(timeout).send().await.unwrap().status(), 200);
    let hop = client
        .post(format!("{}/ussd/africastalking", gateway.base))
        .form(&[
            ("sessionId", format!("{NUMBER}-1")),
            ("serviceCode", "*150*88#".into()),
            ("phoneNumber", "+255713800001".into()),
            ("text", String::new()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(hop.status(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let output = std::fs::read_to_string(&log).unwrap();
    let leaks: Vec<&str> = output.lines().filter(|l| l.contains(NUMBER) || l.contains("713800001")).collect();
    assert!(leaks.is_empty(), "whole numbers in the log ({}):\n{}", log.display(), leaks.join("\n"));
    let line = |message: &str| {
        output.lines().find(|l| l.contains(message)).unwrap_or_else(|| panic!("no {message:?} line in:\n{output}"))
    };
    assert!(line("unreadable TransTime").contains(MASKED), "the warning still shows the shape of what came");
    assert!(line("Daraja queue timeout").contains(r#""reference":"none of ours""#), "{output}");
    assert!(output.contains(&format!("{MASKED}-1")), "the session id is masked in the hop's span");
    drop(gateway);
    let _ = std::fs::remove_file(&log);
}
