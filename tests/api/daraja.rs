//! Daraja callbacks through the running gateway: origin checks, the exact acknowledgements, dedupe
//! of C2B confirmations (vector D1), validation (D2) and a B2C result settling a disbursement.

use std::time::Duration;

use mkopo::domain::Msisdn;
use mkopo::momo::daraja::DarajaSettings;
use mkopo::momo::records::EventRecord;
use mkopo::momo::saga::{self, Phase};
use mkopo::momo::Money;
use mkopo::sandbox::wallet::{Behaviour, BehaviourRule};

use crate::helpers::*;

const TOKEN: &str = "Zr8q1VYb3xKpN2mTgHc7sWd4eFj6aLu0";
const D1: &str = r#"{"TransactionType":"Pay Bill","TransID":"RKTQDM7W6S","TransTime":"20191122063845","TransAmount":"10","BusinessShortCode":"600638","BillRefNumber":"L0000123455","InvoiceNumber":"","OrgAccountBalance":"49197.00","ThirdPartyTransID":"","MSISDN":"2547*****149","FirstName":"John","MiddleName":"","LastName":"Doe"}"#;

fn daraja(allowed_ips: Vec<String>, currency: &str) -> DarajaSettings {
    let secret = |s: &str| s.to_owned().into();
    DarajaSettings {
        base_url: "https://sandbox.safaricom.co.ke".into(),
        consumer_key: secret("key"),
        consumer_secret: secret("secret"),
        shortcode: "600638".into(),
        b2c_shortcode: "600996".into(),
        initiator_name: "mkopo_api".into(),
        security_credential: secret("Y3JlZGVudGlhbA=="),
        stk_shortcode: "174379".into(),
        stk_passkey: secret("passkey"),
        path_token: secret(TOKEN),
        allowed_ips,
        callback_base_url: "https://gw.example.com".into(),
        request_timeout: Duration::from_secs(5),
        usable_msisdn_pattern: "^254(7|1)[0-9]{8}$".into(),
        country_code: "254".into(),
        currency: currency.into(),
    }
}

async fn post(app: &TestApp, path: &str, body: &str) -> (u16, String) {
    let response =
        reqwest::Client::new().post(format!("{}{path}", app.base)).body(body.to_owned()).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_c2b_confirmation_is_stored_once_and_acknowledged_identically() {
    let app = TestApp::spawn_on_redis(|s| s.wallets.daraja = Some(daraja(vec![], "KES"))).await;
    let path = format!("/v1/callbacks/daraja/{TOKEN}/c2b/confirmation");
    let first = post(&app, &path, D1).await;
    assert_eq!(first, (200, r#"{"ResultCode":0,"ResultDesc":"Success"}"#.to_owned()));
    assert_eq!(post(&app, &path, D1).await, first, "a duplicate gets the identical answer");
    let stored = app.money.store.load_event("event:daraja:RKTQDM7W6S").await.unwrap().expect("stored before the ack");
    let record = EventRecord::from_bytes(&stored).unwrap();
    assert_eq!(record.event.amount, Some(Money::new(dec("10"), "KES")));
    assert_eq!(record.event.account.as_deref(), Some("L0000123455"));
    assert_eq!(record.event.occurred_at.unwrap().to_rfc3339(), "2019-11-22T03:38:45+00:00");
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_path_token_is_a_404_and_a_foreign_address_a_403() {
    let app = TestApp::spawn_on_redis(|s| s.wallets.daraja = Some(daraja(vec!["10.0.0.0/8".into()], "KES"))).await;
    let (status, _) = post(&app, "/v1/callbacks/daraja/not-the-token-at-all-0000000/c2b/confirmation", D1).await;
    assert_eq!(status, 404);
    let (status, _) = post(&app, &format!("/v1/callbacks/daraja/{TOKEN}/c2b/confirmation"), D1).await;
    assert_eq!(status, 403, "127.0.0.1 is outside 10.0.0.0/8");
    assert!(app.money.store.load_event("event:daraja:RKTQDM7W6S").await.unwrap().is_none());
    app.stop().await;
}

#[tokio::test]
async fn c2b_validation_rejects_only_what_is_neither_our_reference_nor_a_number() {
    let app = TestApp::spawn_on_redis(|s| s.wallets.daraja = Some(daraja(vec![], "KES"))).await;
    let path = format!("/v1/callbacks/daraja/{TOKEN}/c2b/validation");
    let hello = D1.replace("L0000123455", "HELLO");
    assert_eq!(post(&app, &path, &hello).await.1, r#"{"ResultCode":"C2B00012","ResultDesc":"Rejected"}"#);
    let phone = D1.replace("L0000123455", "0712345678");
    assert_eq!(post(&app, &path, &phone).await.1, r#"{"ResultCode":"0","ResultDesc":"Accepted"}"#);
    assert_eq!(post(&app, &path, D1).await.1, r#"{"ResultCode":"C2B00012","ResultDesc":"Rejected"}"#, "never issued");
    assert!(
        app.money.store.load_event("event:daraja:RKTQDM7W6S").await.unwrap().is_none(),
        "validation stores nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_b2c_result_settles_the_disbursement_it_names() {
    let app = TestApp::spawn_on_redis(|s| {
        s.wallets.daraja = Some(daraja(vec![], "TZS"));
        s.sandbox.wallet.rules.push(BehaviourRule {
            msisdn: Some("255713000020".into()),
            amount: None,
            direction: Some("payout".into()),
            behaviour: Behaviour::StayPending,
        });
    })
    .await;
    let lms = app.sandbox_client();
    lms.ensure_customer("255713000020").await.unwrap();
    let msisdn = Msisdn::parse("255713000020", "255").unwrap();
    let reference = saga::disburse(&app.money, &msisdn, "1", Money::new(dec("8000"), "TZS")).await.unwrap();
    eventually(10, "the payout to be pending", || async {
        (saga::load(&app.money, &reference).await.unwrap().unwrap().1.phase == Phase::PayoutPending).then_some(())
    })
    .await;
    let result = format!(
        r#"{{"Result":{{"ResultType":0,"ResultCode":0,"ResultDesc":"ok","OriginatorConversationID":"{reference}","ConversationID":"AG_1","TransactionID":"LGH3197RIB","ResultParameters":{{"ResultParameter":[{{"Key":"TransactionReceipt","Value":"LGH3197RIB"}},{{"Key":"TransactionAmount","Value":8000}},{{"Key":"TransactionCompletedDateTime","Value":"17.07.2017 10:54:57"}}]}},"ReferenceData":{{"ReferenceItem":{{"Key":"QueueTimeoutURL","Value":"x"}}}}}}}}"#
    );
    let answer = post(&app, &format!("/v1/callbacks/daraja/{TOKEN}/b2c/result"), &result).await;
    assert_eq!(answer, (200, r#"{"ResultCode":0,"ResultDesc":"Accepted"}"#.to_owned()));
    let receipt = eventually(10, "the disbursement to finish", || async {
        let (_, s) = saga::load(&app.money, &reference).await.unwrap().unwrap();
        (s.phase == Phase::Done).then_some(s.receipt)
    })
    .await;
    assert_eq!(receipt.as_deref(), Some("LGH3197RIB"));
    app.stop().await;
}
