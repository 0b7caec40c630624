//! Repayments moving exactly once, against real Redis, the sandbox LMS and the sandbox wallet: callbacks
//! stored before they are acknowledged, duplicates that change nothing, splits, suspense and re-drive,
//! an LMS that is down for a while, and a worker that dies between the LMS call and its ack.

use std::sync::Arc;
use std::time::Duration;

use mkopo::domain::clock::Clock;
use mkopo::lms::{LmsClient, NewLoan, NewRepayment};
use mkopo::momo::generic::{GenericWalletClient, GenericWalletSettings};
use mkopo::momo::records::{EventRecord, EventState};
use mkopo::momo::service::MoneyService;
use mkopo::momo::signature::{sign, WebhookSecret};
use mkopo::momo::store::{OpsList, RedisMoneyStore};
use mkopo::momo::{worker, Money};
use serde_json::json;

use crate::helpers::*;

pub(crate) const SECRET: &str = "whsec_bWtvcG8tdGVzdC12ZWN0b3Itc2VjcmV0LTMyYnl0ZXM=";

pub(crate) fn tzs(amount: &str) -> Money {
    Money::new(dec(amount), "TZS")
}

/// A registered subscriber with one Active product-1 loan of 10000 (11100 owed) under `reference`.
pub(crate) async fn subscriber_with_loan(lms: &LmsClient, msisdn: &str, reference: &str) {
    lms.ensure_customer(msisdn).await.unwrap();
    let loan = NewLoan {
        customer_external_id: msisdn.into(),
        product_id: "1".into(),
        principal: dec("10000"),
        external_id: reference.into(),
    };
    lms.create_loan(&loan).await.unwrap();
}

pub(crate) fn payment_body(receipt: &str, account: &str, msisdn: &str, amount: &str) -> String {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    json!({
        "type": "payment.received", "timestamp": now.to_string(),
        "data": { "kind": "payment", "reference": null, "receipt": receipt, "account": account, "msisdn": msisdn,
                  "amount": amount, "currency": "TZS", "status": "completed", "failure_code": null,
                  "failure_message": null, "occurred_at": now.to_string() }
    })
    .to_string()
}

pub(crate) async fn repayments(lms: &LmsClient, loan: &str) -> usize {
    lms.list_repayments(loan, 1, 100).await.unwrap().items.len()
}

pub(crate) async fn event_state(money: &MoneyService, key: &str) -> Option<EventState> {
    let bytes = money.store.load_event(key).await.unwrap()?;
    Some(EventRecord::from_bytes(&bytes).unwrap().state)
}

#[tokio::test]
async fn a_callback_delivered_twice_and_twenty_times_concurrently_posts_one_repayment() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    subscriber_with_loan(&lms, "255713000001", "L0000000018").await;
    let body = payment_body("HPDUP00001", "L0000000018", "255713000001", "5000.00");

    let wallet = Delivery { base: app.base.clone() };
    let (first_status, first_ack) = wallet.deliver("evt_first", &body).await;
    assert_eq!((first_status, &first_ack[..]), (200, &br#"{"received":true}"#[..]));
    let (again_status, again_ack) = wallet.deliver("evt_first", &body).await;
    assert_eq!((again_status, again_ack), (200, first_ack.clone()), "a duplicate gets the byte-identical ack");

    let copies = (0..20).map(|i| {
        let (wallet, body) = (Delivery { base: app.base.clone() }, body.clone());
        async move { wallet.deliver(&format!("evt_copy_{i}"), &body).await }
    });
    for (status, ack) in futures::future::join_all(copies).await {
        assert_eq!((status, ack), (200, first_ack.clone()));
    }
    let key = "event:sandbox:HPDUP00001";
    eventually(10, "the repayment to be posted", || async {
        (event_state(&app.money, key).await == Some(EventState::Posted)).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(repayments(&lms, "L0000000018").await, 1, "one repayment, whatever the deliveries");
    let loan = lms.get_loan("L0000000018").await.unwrap().unwrap();
    assert_eq!(loan.total_outstanding(), Some(dec("6100")));
    app.stop().await;
}

/// Delivers signed callbacks to a gateway, as a wallet would.
pub(crate) struct Delivery {
    pub base: String,
}

impl Delivery {
    pub async fn deliver(&self, id: &str, body: &str) -> (u16, bytes::Bytes) {
        let response = send_signed(&reqwest::Client::new(), &self.base, id, body.to_owned()).await.unwrap();
        (response.status().as_u16(), response.bytes().await.unwrap())
    }
}

/// POSTs `body` to the sandbox wallet's callback route, signed now with the sandbox secret.
pub(crate) async fn send_signed(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    body: String,
) -> reqwest::Result<reqwest::Response> {
    let ts = chrono::Utc::now().timestamp();
    let signature = sign(&WebhookSecret::parse(SECRET).unwrap(), id, ts, body.as_bytes());
    client
        .post(format!("{base}/v1/callbacks/sandbox"))
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
}

#[tokio::test]
async fn a_badly_signed_or_stale_callback_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let body = payment_body("HPBAD00001", "L0000000018", "255713000002", "100.00");
    let stale = chrono::Utc::now().timestamp() - 301;
    let client = reqwest::Client::new();
    let post = |sig: String, ts: i64| {
        client
            .post(format!("{}/v1/callbacks/sandbox", app.base))
            .header("webhook-id", "evt_bad")
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", sig)
            .body(body.clone())
            .send()
    };
    let forged =
        post("v1,AFIpc4FWhe/DzgnZK/vLF77m0B0Vptm/ZYwW05Pgbbg=".into(), chrono::Utc::now().timestamp()).await.unwrap();
    assert_eq!(forged.status(), 401);
    let refusal: serde_json::Value = forged.json().await.unwrap();
    assert_eq!(refusal["error"], "invalid_signature");
    let valid_sig = sign(&WebhookSecret::parse(SECRET).unwrap(), "evt_bad", stale, body.as_bytes());
    let old = post(valid_sig, stale).await.unwrap();
    assert_eq!(old.status(), 401);
    let refusal: serde_json::Value = old.json().await.unwrap();
    assert_eq!(refusal["error"], "timestamp_out_of_tolerance");
    assert!(app.money.store.load_event("event:sandbox:HPBAD00001").await.unwrap().is_none(), "nothing stored");
    let unknown_wallet = client.post(format!("{}/v1/callbacks/nobody", app.base)).body("{}").send().await.unwrap();
    assert_eq!(unknown_wallet.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn a_payment_made_in_the_sandbox_wallet_with_duplicate_deliveries_is_posted_once() {
    let app = TestApp::spawn_on_redis(|s| s.sandbox.wallet.duplicate_deliveries = 3).await;
    let lms = app.sandbox_client();
    subscriber_with_loan(&lms, "255713000003", "L0000000026").await;
    let wallet = app.wallet.clone().unwrap();
    let paid = wallet.simulate_payment("255713000003", dec("11100"), "TZS", Some("L0000000026".into())).unwrap();
    let key = format!("event:sandbox:{}", paid.receipt.clone().unwrap());
    eventually(10, "the payment to be posted", || async {
        (event_state(&app.money, &key).await == Some(EventState::Posted)).then_some(())
    })
    .await;
    eventually(10, "all duplicate deliveries", || async {
        wallet.deliveries().iter().all(|d| d.delivered && d.attempts >= 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(repayments(&lms, "L0000000026").await, 1);
    let loan = lms.get_loan("L0000000026").await.unwrap().unwrap();
    assert_eq!(loan.status, mkopo::lms::LoanStatus::ClosedObligationsMet);
    app.stop().await;
}

#[tokio::test]
async fn a_payment_by_msisdn_is_split_across_active_loans_oldest_due_first() {
    let app = TestApp::spawn_on_redis(|s| {
        s.sandbox.lms.default_credit_limit = dec("500000");
    })
    .await;
    let lms = app.sandbox_client();
    subscriber_with_loan(&lms, "255713000004", "L0000000034").await;
    let second = NewLoan {
        customer_external_id: "255713000004".into(),
        product_id: "2".into(),
        principal: dec("10000"),
        external_id: "L0000000042".into(),
    };
    lms.create_loan(&second).await.unwrap();
    let wallet = app.wallet.clone().unwrap();
    let paid = wallet.simulate_payment("255713000004", dec("12000"), "TZS", None).unwrap();
    let key = format!("event:sandbox:{}", paid.receipt.unwrap());
    eventually(10, "the split payment to be posted", || async {
        (event_state(&app.money, &key).await == Some(EventState::Posted)).then_some(())
    })
    .await;
    let first = lms.get_loan("L0000000034").await.unwrap().unwrap();
    assert_eq!(
        first.status,
        mkopo::lms::LoanStatus::ClosedObligationsMet,
        "the 7-day loan is due first and takes 11100"
    );
    let rest = lms.get_loan("L0000000042").await.unwrap().unwrap();
    assert_eq!(rest.total_repayment(), Some(dec("900")));
    app.stop().await;
}

#[tokio::test]
async fn a_payment_for_nobody_goes_to_suspense_and_an_operator_can_re_drive_it() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    let wallet = app.wallet.clone().unwrap();
    let paid = wallet.simulate_payment("255713000005", dec("700"), "TZS", Some("HELLO".into())).unwrap();
    let key = format!("event:sandbox:{}", paid.receipt.unwrap());
    eventually(10, "the payment to reach suspense", || async {
        (event_state(&app.money, &key).await == Some(EventState::Suspense)).then_some(())
    })
    .await;

    let admin = reqwest::Client::new();
    let listed: serde_json::Value = admin
        .get(format!("{}/admin/suspense", app.base))
        .bearer_auth("local-admin")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = &listed["items"][0];
    assert_eq!(
        (item["id"].as_str(), item["reason"].as_str(), item["amount"].as_str()),
        (Some(key.as_str()), Some("unknown_reference"), Some("700.00"))
    );
    assert!(!listed.to_string().contains("255713000005"), "MSISDNs are masked: {listed}");
    let refused = admin.get(format!("{}/admin/suspense", app.base)).send().await.unwrap();
    assert_eq!(refused.status(), 401);

    // The subscriber registers and borrows; the operator re-drives the payment.
    subscriber_with_loan(&lms, "255713000005", "L0000000059").await;
    let retried =
        admin.post(format!("{}/admin/suspense/{key}/retry", app.base)).bearer_auth("local-admin").send().await.unwrap();
    assert_eq!(retried.status(), 202);
    eventually(10, "the re-driven payment to be posted", || async {
        (event_state(&app.money, &key).await == Some(EventState::Posted)).then_some(())
    })
    .await;
    assert_eq!(repayments(&lms, "L0000000059").await, 1);
    assert!(app.money.store.list_members(OpsList::Suspense).await.unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn repayments_land_once_the_lms_recovers_from_being_unavailable() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    subscriber_with_loan(&lms, "255713000006", "L0000000067").await;
    let fault =
        json!({ "method": "POST", "path": "/v1/loans/external/*/repayments", "kind": "unavailable", "count": 12 });
    let injected = reqwest::Client::new()
        .post(format!("{}/sandbox/lms/sandbox/faults", app.base))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert!(injected.status().is_success());
    let wallet = app.wallet.clone().unwrap();
    let receipts: Vec<String> = (0..3)
        .map(|_| {
            wallet
                .simulate_payment("255713000006", dec("1000"), "TZS", Some("L0000000067".into()))
                .unwrap()
                .receipt
                .unwrap()
        })
        .collect();
    for receipt in &receipts {
        let key = format!("event:sandbox:{receipt}");
        eventually(30, "every repayment to land", || async {
            (event_state(&app.money, &key).await == Some(EventState::Posted)).then_some(())
        })
        .await;
    }
    assert_eq!(repayments(&lms, "L0000000067").await, 3);
    assert_eq!(lms.get_loan("L0000000067").await.unwrap().unwrap().total_outstanding(), Some(dec("8100")));
    app.stop().await;
}

/// A money service of the test's own over Redis, with no background tasks: the test drives it.
pub(crate) async fn own_money(app: &TestApp, prefix: &str) -> MoneyService {
    let store = RedisMoneyStore::connect(&crate::store::redis_url(), prefix, Duration::from_secs(2)).await.unwrap();
    let wallet = GenericWalletSettings {
        base_url: format!("{}/sandbox/wallet", app.base),
        api_key: "sandbox-wallet-key".to_owned().into(),
        request_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let mut settings = mkopo::config::MoneySettings::default();
    fast_money(&mut settings);
    MoneyService {
        store: Arc::new(store),
        lms: app.sandbox_client().for_workers(),
        wallet: Arc::new(GenericWalletClient::new("sandbox", &wallet).unwrap()),
        settings: Arc::new(settings),
        clock: Clock::system(),
        metrics: Default::default(),
    }
}

#[tokio::test]
async fn a_worker_killed_between_the_lms_call_and_its_ack_causes_no_double_post() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    subscriber_with_loan(&lms, "255713000007", "L0000000075").await;
    let prefix = format!("mkopo-test-{}", uuid::Uuid::new_v4());
    let money = own_money(&app, &prefix).await;

    // The callback is stored and the dying consumer takes it.
    let body = payment_body("HPKILL0001", "L0000000075", "255713000007", "2500.00");
    let raw = mkopo::momo::RawCallback {
        body: body.clone().into_bytes(),
        headers: Default::default(),
        received_at: chrono::Utc::now(),
        source_ip: None,
    };
    let event = mkopo::momo::generic::parse("sandbox", &raw, "255").unwrap();
    let record = EventRecord::new(event, raw);
    money.store.ingest(&record.dedupe_key(), &record.id, &record.to_bytes()).await.unwrap();
    let taken = money.store.claim("dying", 10, Duration::from_millis(100)).await.unwrap();
    assert_eq!(taken.len(), 1);
    // It reached the LMS (same date and key the worker uses) and died before writing or acknowledging.
    let repayment = NewRepayment {
        transaction_amount: dec("2500.00"),
        transaction_date: money.lms.business_date(chrono::Utc::now()),
        idempotency_key: "HPKILL0001".into(),
    };
    lms.post_repayment(&mkopo::lms::LoanKey::External("L0000000075".into()), &repayment).await.unwrap();

    // A live consumer reclaims the abandoned entry and finishes it.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let live = tokio::spawn(worker::run(money.clone(), "live".into(), stopped));
    eventually(15, "the reclaimed event to be posted", || async {
        (event_state(&money, &record.id).await == Some(EventState::Posted)).then_some(())
    })
    .await;
    stop.send(true).unwrap();
    live.await.unwrap();
    assert_eq!(repayments(&lms, "L0000000075").await, 1, "the LMS idempotency key absorbed the second post");
    assert_eq!(money.store.inbox_stats().await.unwrap().pending, 0);
    app.stop().await;
}

#[tokio::test]
async fn the_admin_api_answers_404_for_a_well_formed_reference_it_does_not_hold_and_400_for_garbage() {
    let app = TestApp::spawn().await;
    let get = |path: String| {
        let client = reqwest::Client::new();
        async move { client.get(path).bearer_auth("local-admin").send().await.unwrap().status().as_u16() }
    };
    let unknown = mkopo::momo::Reference::mint(mkopo::momo::reference::ReferenceKind::Loan, 777_777).unwrap();
    assert_eq!(get(format!("{}/admin/disbursements/{unknown}", app.base)).await, 404);
    assert_eq!(get(format!("{}/admin/disbursements/L0000000010", app.base)).await, 404, "a wrong check digit");
    assert_eq!(get(format!("{}/admin/collections/C0000000018", app.base)).await, 404);
    assert_eq!(get(format!("{}/admin/disbursements/not-a-ref", app.base)).await, 400);
    app.stop().await;
}

#[tokio::test]
async fn two_workers_holding_the_same_entry_post_it_once_on_an_lms_that_ignores_keys() {
    // A worker's batch entry can go idle past money.reclaim_idle and be reclaimed by another worker while
    // the first is still busy with the event: the event's lease keeps the second one off it.
    let app = TestApp::spawn_on_redis(|s| s.sandbox.lms.quirks.ignore_idempotency_key = true).await;
    let lms = app.sandbox_client();
    subscriber_with_loan(&lms, "255713000017", "L0000000083").await;
    let prefix = format!("mkopo-test-{}", uuid::Uuid::new_v4());
    let money = own_money(&app, &prefix).await;
    let body = payment_body("HPRACE0001", "L0000000083", "255713000017", "1500.00");
    let raw = mkopo::momo::RawCallback {
        body: body.into_bytes(),
        headers: Default::default(),
        received_at: chrono::Utc::now(),
        source_ip: None,
    };
    let record = EventRecord::new(mkopo::momo::generic::parse("sandbox", &raw, "255").unwrap(), raw);
    money.store.ingest(&record.dedupe_key(), &record.id, &record.to_bytes()).await.unwrap();
    let entry = money.store.claim("first", 10, Duration::from_millis(100)).await.unwrap().remove(0);
    // The LMS is slow: both workers are inside the event at once.
    app.sandbox.inject_fault(mkopo::sandbox::lms::Fault {
        delay_ms: 400,
        count: 4,
        ..mkopo::sandbox::lms::Fault::new(
            "POST",
            "/v1/loans/external/*/repayments",
            mkopo::sandbox::lms::FaultKind::Delay,
        )
    });
    let (a, b) = tokio::join!(worker::process_entry(&money, &entry), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        worker::process_entry(&money, &entry).await
    });
    assert!(a && b);
    assert_eq!(event_state(&money, &record.id).await, Some(EventState::Posted));
    assert_eq!(repayments(&lms, "L0000000083").await, 1, "one posting, although the LMS ignores the key");
    app.stop().await;
}
