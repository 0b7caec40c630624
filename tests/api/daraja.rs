//! Daraja callbacks through the running gateway: origin checks, the exact acknowledgements, dedupe
//! of C2B confirmations (vector D1), validation (D2) and a B2C result settling a disbursement.

use std::time::Duration;

use mkopo::domain::Msisdn;
use mkopo::momo::daraja::DarajaSettings;
use mkopo::momo::records::EventRecord;
use mkopo::momo::saga::{self, Phase};
use mkopo::momo::Money;
use mkopo::sandbox::wallet::Behaviour;

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

/// Safaricom's callback ranges as a lender lists them in `allowed_ips`.
fn safaricom() -> Vec<String> {
    vec!["196.201.214.0/24".into(), "196.201.212.0/24".into()]
}

/// Posts `body` as a proxy would forward it: the test's TCP peer is 127.0.0.1, `forwarded` its header.
async fn post_forwarded(app: &TestApp, path: &str, body: &str, forwarded: &str) -> u16 {
    let url = format!("{}{path}", app.base);
    let response = reqwest::Client::new()
        .post(url)
        .header("x-forwarded-for", forwarded)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_a_forwarded_safaricom_address_is_allowed_and_others_are_not() {
    let app = TestApp::spawn_on_redis(|s| {
        s.wallets.daraja = Some(daraja(safaricom(), "KES"));
        s.server.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let path = format!("/v1/callbacks/daraja/{TOKEN}/c2b/confirmation");
    assert_eq!(post_forwarded(&app, &path, D1, "203.0.113.9").await, 403, "a forwarded address outside the list");
    // The caller wrote a Safaricom address on the left; our proxy appended the real one on the right.
    assert_eq!(post_forwarded(&app, &path, D1, "196.201.214.200, 203.0.113.9").await, 403);
    assert!(app.money.store.load_event("event:daraja:RKTQDM7W6S").await.unwrap().is_none());
    assert_eq!(post_forwarded(&app, &path, D1, "196.201.214.200").await, 200);
    let stored = app.money.store.load_event("event:daraja:RKTQDM7W6S").await.unwrap().expect("stored");
    let record = EventRecord::from_bytes(&stored).unwrap();
    assert_eq!(record.raw.source_ip.as_deref(), Some("196.201.214.200"), "the stored callback names its sender");
    // A second proxy hop of ours in between is walked past.
    assert_eq!(post_forwarded(&app, &path, D1, "196.201.212.10, 127.0.0.1").await, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_forwarded_safaricom_address_from_a_peer_that_is_no_trusted_proxy_is_refused() {
    let app = TestApp::spawn_on_redis(|s| s.wallets.daraja = Some(daraja(safaricom(), "KES"))).await;
    let path = format!("/v1/callbacks/daraja/{TOKEN}/c2b/confirmation");
    assert_eq!(post_forwarded(&app, &path, D1, "196.201.214.200").await, 403, "127.0.0.1 is not a trusted proxy");
    let proxied_elsewhere = TestApp::spawn_on_redis(|s| {
        s.wallets.daraja = Some(daraja(safaricom(), "KES"));
        s.server.trusted_proxies = vec!["10.0.0.0/8".into()];
    })
    .await;
    assert_eq!(post_forwarded(&proxied_elsewhere, &path, D1, "196.201.214.200").await, 403);
    assert!(app.money.store.load_event("event:daraja:RKTQDM7W6S").await.unwrap().is_none());
    app.stop().await;
    proxied_elsewhere.stop().await;
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
        s.sandbox.wallet.rules.push(rule("255713000020", Some("payout"), Behaviour::StayPending));
    })
    .await;
    let lms = app.sandbox_client();
    lms.ensure_customer("255713000020").await.unwrap();
    let msisdn = Msisdn::parse("255713000020", "255").unwrap();
    let reference = saga::disburse(&app.money, &msisdn, "1", Money::new(dec("8000"), "TZS"), None).await.unwrap();
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

/// A gateway whose wallet is Daraja, aimed at a mock Daraja, in TZS with Tanzanian numbers.
async fn gateway_on_daraja(server: &mockito::ServerGuard) -> TestApp {
    let mut settings = daraja(vec![], "TZS");
    settings.base_url = server.url();
    settings.usable_msisdn_pattern = "^255[67][0-9]{8}$".into();
    settings.country_code = "255".into();
    TestApp::spawn_on_redis(move |s| {
        s.wallets.default = "daraja".into();
        s.wallets.daraja = Some(settings);
        // Polls are slow here: the results arrive by callback.
        s.money.payout_poll_schedule = vec![Duration::from_secs(30)];
    })
    .await
}

async fn oauth(server: &mut mockito::ServerGuard) -> mockito::Mock {
    server
        .mock("GET", "/oauth/v1/generate")
        .match_query(mockito::Matcher::UrlEncoded("grant_type".into(), "client_credentials".into()))
        .with_body(r#"{"access_token":"daraja-token","expires_in":"3599"}"#)
        .expect(1)
        .create_async()
        .await
}

#[tokio::test]
async fn a_disbursement_through_daraja_b2c_is_settled_by_its_result_callback() {
    let mut server = mockito::Server::new_async().await;
    let token = oauth(&mut server).await;
    let b2c = server
        .mock("POST", "/mpesa/b2c/v3/paymentrequest")
        .match_header("authorization", "Bearer daraja-token")
        .match_body(mockito::Matcher::PartialJsonString(r#"{"CommandID":"BusinessPayment","PartyB":"255713000050","Amount":8000}"#.into()))
        .with_body(r#"{"ConversationID":"AG_20170717_00006be9c8b5cc46abb6","OriginatorConversationID":"x","ResponseCode":"0","ResponseDescription":"Accept the service request successfully."}"#)
        .expect(1)
        .create_async()
        .await;
    let app = gateway_on_daraja(&server).await;
    app.sandbox_client().ensure_customer("255713000050").await.unwrap();
    let msisdn = Msisdn::parse("255713000050", "255").unwrap();
    let reference = saga::disburse(&app.money, &msisdn, "1", Money::new(dec("8000"), "TZS"), None).await.unwrap();
    eventually(10, "the B2C payout to be pending", || async {
        (saga::load(&app.money, &reference).await.unwrap().unwrap().1.phase == Phase::PayoutPending).then_some(())
    })
    .await;
    let result = format!(
        r#"{{"Result":{{"ResultType":0,"ResultCode":0,"ResultDesc":"ok","OriginatorConversationID":"{reference}","ConversationID":"AG_20170717_00006be9c8b5cc46abb6","TransactionID":"LGH3197RIC","ResultParameters":{{"ResultParameter":[{{"Key":"TransactionAmount","Value":8000}},{{"Key":"TransactionCompletedDateTime","Value":"17.07.2017 10:54:57"}}]}}}}}}"#
    );
    assert_eq!(post(&app, &format!("/v1/callbacks/daraja/{TOKEN}/b2c/result"), &result).await.0, 200);
    let receipt = eventually(10, "the disbursement to finish", || async {
        let (_, s) = saga::load(&app.money, &reference).await.unwrap().unwrap();
        (s.phase == Phase::Done).then_some(s.receipt)
    })
    .await;
    assert_eq!(receipt.as_deref(), Some("LGH3197RIC"));
    token.assert_async().await;
    b2c.assert_async().await;
    app.stop().await;
}

#[tokio::test]
async fn an_stk_collection_is_matched_by_its_checkout_id_and_repays_its_loan() {
    let mut server = mockito::Server::new_async().await;
    let token = oauth(&mut server).await;
    let stk = server
        .mock("POST", "/mpesa/stkpush/v1/processrequest")
        .match_body(mockito::Matcher::PartialJsonString(r#"{"AccountReference":"L0000000125","PartyA":"255713000051"}"#.into()))
        .with_body(r#"{"MerchantRequestID":"29115-1","CheckoutRequestID":"ws_CO_191220191020363925","ResponseCode":"0","ResponseDescription":"Success. Request accepted for processing","CustomerMessage":"Success"}"#)
        .expect(1)
        .create_async()
        .await;
    let app = gateway_on_daraja(&server).await;
    let lms = app.sandbox_client();
    lms.ensure_customer("255713000051").await.unwrap();
    let loan = mkopo::lms::NewLoan {
        customer_external_id: "255713000051".into(),
        product_id: "1".into(),
        principal: dec("10000"),
        external_id: "L0000000125".into(),
    };
    lms.create_loan(&loan).await.unwrap();
    let msisdn = Msisdn::parse("255713000051", "255").unwrap();
    let reference = mkopo::momo::collect::request(
        &app.money,
        &msisdn,
        "L0000000125",
        Money::new(dec("11100"), "TZS"),
        Duration::ZERO,
    )
    .await
    .unwrap();
    eventually(10, "the prompt to be sent", || async {
        let (_, c) = mkopo::momo::collect::load(&app.money, &reference).await.unwrap().unwrap();
        (c.state == mkopo::momo::collect::CollectionState::Pending).then_some(())
    })
    .await;
    // The payer's number is not the borrower's: only the checkout id can tie the money to the loan.
    let paid_at = (chrono::Utc::now() + chrono::Duration::hours(3)).format("%Y%m%d%H%M%S"); // EAT
    let callback = format!(
        r#"{{"Body":{{"stkCallback":{{"MerchantRequestID":"29115-1","CheckoutRequestID":"ws_CO_191220191020363925","ResultCode":0,"ResultDesc":"ok","CallbackMetadata":{{"Item":[{{"Name":"Amount","Value":11100}},{{"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"}},{{"Name":"TransactionDate","Value":{paid_at}}},{{"Name":"PhoneNumber","Value":255799999999}}]}}}}}}}}"#
    );
    assert_eq!(
        post(&app, &format!("/v1/callbacks/daraja/{TOKEN}/stk"), &callback).await,
        (200, r#"{"ResultCode":0,"ResultDesc":"Accepted"}"#.to_owned())
    );
    eventually(10, "the loan to be repaid", || async {
        let loan = lms.get_loan("L0000000125").await.unwrap().unwrap();
        (loan.status == mkopo::lms::LoanStatus::ClosedObligationsMet).then_some(())
    })
    .await;
    let (_, c) = mkopo::momo::collect::load(&app.money, &reference).await.unwrap().unwrap();
    assert_eq!(c.state, mkopo::momo::collect::CollectionState::Succeeded);
    token.assert_async().await;
    stk.assert_async().await;
    app.stop().await;
}

#[tokio::test]
async fn a_slow_b2c_submission_is_never_sent_twice_even_when_a_timer_races_it() {
    let mut server = mockito::Server::new_async().await;
    let token = oauth(&mut server).await;
    let b2c = server
        .mock("POST", "/mpesa/b2c/v3/paymentrequest")
        .with_body_from_request(|_| {
            // Slower than the saga's first timer: the timer's step must not submit again.
            std::thread::sleep(Duration::from_millis(1500));
            br#"{"ConversationID":"AG_2","OriginatorConversationID":"x","ResponseCode":"0","ResponseDescription":"ok"}"#
                .to_vec()
        })
        .expect(1)
        .create_async()
        .await;
    let app = gateway_on_daraja(&server).await;
    app.sandbox_client().ensure_customer("255713000052").await.unwrap();
    let msisdn = Msisdn::parse("255713000052", "255").unwrap();
    let reference = saga::disburse(&app.money, &msisdn, "1", Money::new(dec("8000"), "TZS"), None).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, s) = saga::load(&app.money, &reference).await.unwrap().unwrap();
    assert!(matches!(s.phase, Phase::PayoutPending | Phase::PayoutUnknown), "{:?}", s.phase);
    token.assert_async().await;
    b2c.assert_async().await;
    app.stop().await;
}
