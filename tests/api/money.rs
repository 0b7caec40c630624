//! Money moving exactly once, against real Redis, the sandbox LMS and the sandbox wallet: callbacks
//! stored before they are acknowledged, duplicates that change nothing, an LMS that is down for a
//! while, a worker that dies between the LMS call and its acknowledgement, and the disbursement saga
//! through success, definite failure, timeout and a restart.

use std::sync::Arc;
use std::time::Duration;

use mkopo::domain::clock::Clock;
use mkopo::domain::Msisdn;
use mkopo::lms::{LmsClient, NewLoan, NewRepayment};
use mkopo::momo::generic::{GenericWalletClient, GenericWalletSettings};
use mkopo::momo::records::{EventRecord, EventState};
use mkopo::momo::saga::{self, Phase};
use mkopo::momo::service::MoneyService;
use mkopo::momo::signature::{sign, WebhookSecret};
use mkopo::momo::store::{OpsList, RedisMoneyStore};
use mkopo::momo::{collect, worker, Money, Reference};
use mkopo::sandbox::wallet::Behaviour;
use serde_json::json;

use crate::helpers::*;

const SECRET: &str = "whsec_bWtvcG8tdGVzdC12ZWN0b3Itc2VjcmV0LTMyYnl0ZXM=";

fn tzs(amount: &str) -> Money {
    Money::new(dec(amount), "TZS")
}

/// A registered subscriber with one Active product-1 loan of 10000 (11100 owed) under `reference`.
async fn subscriber_with_loan(lms: &LmsClient, msisdn: &str, reference: &str) {
    lms.ensure_customer(msisdn).await.unwrap();
    let loan = NewLoan {
        customer_external_id: msisdn.into(),
        product_id: "1".into(),
        principal: dec("10000"),
        external_id: reference.into(),
    };
    lms.create_loan(&loan).await.unwrap();
}

fn payment_body(receipt: &str, account: &str, msisdn: &str, amount: &str) -> String {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    json!({
        "type": "payment.received", "timestamp": now.to_string(),
        "data": { "kind": "payment", "reference": null, "receipt": receipt, "account": account, "msisdn": msisdn,
                  "amount": amount, "currency": "TZS", "status": "completed", "failure_code": null,
                  "failure_message": null, "occurred_at": now.to_string() }
    })
    .to_string()
}

async fn repayments(lms: &LmsClient, loan: &str) -> usize {
    lms.list_repayments(loan, 1, 100).await.unwrap().items.len()
}

async fn event_state(money: &MoneyService, key: &str) -> Option<EventState> {
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
struct Delivery {
    base: String,
}

impl Delivery {
    async fn deliver(&self, id: &str, body: &str) -> (u16, bytes::Bytes) {
        let ts = chrono::Utc::now().timestamp();
        let signature = sign(&WebhookSecret::parse(SECRET).unwrap(), id, ts, body.as_bytes());
        let response = reqwest::Client::new()
            .post(format!("{}/v1/callbacks/sandbox", self.base))
            .header("webhook-id", id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.bytes().await.unwrap())
    }
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
async fn own_money(app: &TestApp, prefix: &str) -> MoneyService {
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
    lms.post_repayment("L0000000075", &repayment).await.unwrap();

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

async fn phase(money: &MoneyService, reference: &Reference) -> Phase {
    saga::load(money, reference).await.unwrap().unwrap().1.phase
}

async fn settled(money: &MoneyService, reference: &Reference, want: Phase, secs: u64) {
    eventually(secs, &format!("{reference} to reach {want:?}"), || async {
        (phase(money, reference).await == want).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_disbursement_creates_the_loan_and_pays_it_out_under_one_reference() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    lms.ensure_customer("255713000008").await.unwrap();
    let msisdn = Msisdn::parse("255713000008", "255").unwrap();
    let reference = saga::disburse(&app.money, &msisdn, "1", tzs("10000")).await.unwrap();
    settled(&app.money, &reference, Phase::Done, 15).await;
    let loan = lms.get_loan(reference.as_str()).await.unwrap().expect("the loan carries the payout reference");
    assert_eq!(loan.status, mkopo::lms::LoanStatus::Active);
    let payout =
        app.wallet.as_ref().unwrap().transaction(reference.as_str()).expect("the payout carries the same reference");
    assert_eq!(payout.amount, dec("10000"));
    let (_, saga) = saga::load(&app.money, &reference).await.unwrap().unwrap();
    assert_eq!(saga.receipt, payout.receipt);
    app.stop().await;
}

#[tokio::test]
async fn a_payout_that_fails_definitively_rolls_the_loan_back() {
    let app = TestApp::spawn_on_redis(|s| {
        s.sandbox.wallet.rules.push(rule(
            "255713000009",
            Some("payout"),
            Behaviour::Fail { code: "recipient_invalid".into() },
        ));
    })
    .await;
    let lms = app.sandbox_client();
    lms.ensure_customer("255713000009").await.unwrap();
    let msisdn = Msisdn::parse("255713000009", "255").unwrap();
    let reference = saga::disburse(&app.money, &msisdn, "1", tzs("10000")).await.unwrap();
    settled(&app.money, &reference, Phase::RolledBack, 15).await;
    assert!(lms.get_loan(reference.as_str()).await.unwrap().is_none(), "no loan without its payout");
    let (_, saga) = saga::load(&app.money, &reference).await.unwrap().unwrap();
    assert!(saga.reason.unwrap().contains("recipient_invalid"));
    app.stop().await;
}

#[tokio::test]
async fn a_payout_that_is_rejected_outright_rolls_the_loan_back() {
    let app = TestApp::spawn_on_redis(|s| {
        s.sandbox.wallet.rules.push(rule("255713000010", None, Behaviour::Reject));
    })
    .await;
    let lms = app.sandbox_client();
    lms.ensure_customer("255713000010").await.unwrap();
    let reference =
        saga::disburse(&app.money, &Msisdn::parse("255713000010", "255").unwrap(), "1", tzs("5000")).await.unwrap();
    settled(&app.money, &reference, Phase::RolledBack, 15).await;
    assert!(lms.get_loan(reference.as_str()).await.unwrap().is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_payout_that_times_out_is_never_rolled_back_and_polling_settles_it() {
    let app = TestApp::spawn_on_redis(|s| {
        s.wallets.generic.get_mut("sandbox").unwrap().request_timeout = Duration::from_millis(300);
        s.sandbox.wallet.rules.push(rule("255713000011", Some("payout"), Behaviour::Timeout { delay_ms: 2000 }));
    })
    .await;
    let lms = app.sandbox_client();
    lms.ensure_customer("255713000011").await.unwrap();
    let reference =
        saga::disburse(&app.money, &Msisdn::parse("255713000011", "255").unwrap(), "1", tzs("10000")).await.unwrap();
    eventually(10, "the payout outcome to be unknown", || async {
        let p = phase(&app.money, &reference).await;
        assert_ne!(p, Phase::RollingBack, "an unknown payout is never rolled back");
        matches!(p, Phase::PayoutUnknown | Phase::Done).then_some(())
    })
    .await;
    settled(&app.money, &reference, Phase::Done, 20).await;
    assert_eq!(lms.get_loan(reference.as_str()).await.unwrap().unwrap().status, mkopo::lms::LoanStatus::Active);
    assert_eq!(
        app.wallet
            .as_ref()
            .unwrap()
            .transactions()
            .iter()
            .filter(|t| t.reference.as_deref() == Some(reference.as_str()))
            .count(),
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn an_ambiguous_payout_answer_is_resolved_by_status_without_a_second_payout() {
    let app = TestApp::spawn_on_redis(|s| {
        s.sandbox.wallet.rules.push(rule("255713000012", Some("payout"), Behaviour::ErrorBeforeCommit));
    })
    .await;
    let lms = app.sandbox_client();
    lms.ensure_customer("255713000012").await.unwrap();
    let reference =
        saga::disburse(&app.money, &Msisdn::parse("255713000012", "255").unwrap(), "1", tzs("10000")).await.unwrap();
    settled(&app.money, &reference, Phase::PayoutUnknown, 10).await;
    // The wallet never recorded it (GET 404): the saga re-submits the same reference once the wallet works.
    app.wallet.as_ref().unwrap().clear_rules();
    settled(&app.money, &reference, Phase::Done, 20).await;
    assert_eq!(
        app.wallet
            .as_ref()
            .unwrap()
            .transactions()
            .iter()
            .filter(|t| t.reference.as_deref() == Some(reference.as_str()))
            .count(),
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn a_restart_in_the_middle_of_a_disbursement_completes_it() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    lms.ensure_customer("255713000013").await.unwrap();
    let prefix = format!("mkopo-test-{}", uuid::Uuid::new_v4());
    let msisdn = Msisdn::parse("255713000013", "255").unwrap();

    // First life: the saga is persisted, the loan created, and the wallet is down when the process dies.
    let first = own_money(&app, &prefix).await;
    app.wallet.as_ref().unwrap().add_rule(rule("255713000013", None, Behaviour::Unavailable));
    let reference = saga::create(&first, &msisdn, "1", tzs("10000")).await.unwrap();
    saga::advance(&first, &reference).await.unwrap();
    assert_eq!(phase(&first, &reference).await, Phase::LoanActive, "loan created, payout not accepted");
    drop(first);

    // Second life: a fresh process over the same Redis runs its recovery sweep.
    app.wallet.as_ref().unwrap().clear_rules();
    let second = own_money(&app, &prefix).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let sweeper = tokio::spawn(mkopo::momo::timers::run(second.clone(), stopped));
    assert_eq!(saga::recover(&second).await.unwrap(), 1);
    // The wallet's callback goes to the app's own store; this life learns the result by polling.
    settled(&second, &reference, Phase::Done, 15).await;
    stop.send(true).unwrap();
    sweeper.await.unwrap();
    assert_eq!(lms.active_loans("255713000013").await.unwrap().len(), 1, "one loan");
    assert_eq!(
        app.wallet
            .as_ref()
            .unwrap()
            .transactions()
            .iter()
            .filter(|t| t.reference.as_deref() == Some(reference.as_str()))
            .count(),
        1,
        "one payout"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_collection_prompts_the_wallet_and_its_payment_is_posted_to_the_loan() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    subscriber_with_loan(&lms, "255713000014", "L0000000083").await;
    let msisdn = Msisdn::parse("255713000014", "255").unwrap();
    let reference = collect::request(&app.money, &msisdn, "L0000000083", tzs("11100"), Duration::ZERO).await.unwrap();
    eventually(15, "the collection to succeed", || async {
        let (_, c) = collect::load(&app.money, &reference).await.unwrap().unwrap();
        (c.state == collect::CollectionState::Succeeded).then_some(())
    })
    .await;
    eventually(15, "the loan to be repaid", || async {
        let loan = lms.get_loan("L0000000083").await.unwrap().unwrap();
        (loan.status == mkopo::lms::LoanStatus::ClosedObligationsMet).then_some(())
    })
    .await;
    assert_eq!(repayments(&lms, "L0000000083").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_reference_already_taken_by_another_loan_restarts_the_disbursement_under_a_new_one() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    // The first reference this fresh counter mints is L0000000018; another loan already owns it.
    subscriber_with_loan(&lms, "255713000030", "L0000000018").await;
    lms.ensure_customer("255713000031").await.unwrap();
    let msisdn = Msisdn::parse("255713000031", "255").unwrap();
    let first = saga::disburse(&app.money, &msisdn, "1", tzs("5000")).await.unwrap();
    assert_eq!(first.as_str(), "L0000000018");
    let done = eventually(15, "the restarted disbursement to finish", || async {
        saga::current(&app.money, &first).await.unwrap().filter(|s| s.phase == Phase::Done)
    })
    .await;
    assert_ne!(done.reference, first, "it carried on under a fresh reference");
    let (_, old) = saga::load(&app.money, &first).await.unwrap().unwrap();
    assert_eq!((old.phase, old.superseded_by.as_ref()), (Phase::Rejected, Some(&done.reference)));
    let other = lms.get_loan("L0000000018").await.unwrap().unwrap();
    assert_eq!(other.principal, dec("10000"), "the other subscriber's loan is untouched");
    assert_eq!(lms.get_loan(done.reference.as_str()).await.unwrap().unwrap().principal, dec("5000"));
    app.stop().await;
}

#[tokio::test]
async fn a_payout_credited_on_a_later_day_moves_the_loans_disbursement_date() {
    let app = TestApp::spawn_on_redis(|s| {
        s.sandbox.wallet.rules.push(rule("255713000040", Some("payout"), Behaviour::StayPending));
    })
    .await;
    let lms = app.sandbox_client();
    lms.ensure_customer("255713000040").await.unwrap();
    let today = app.sandbox.today();
    app.sandbox.set_today(today - chrono::Duration::days(1));
    let msisdn = Msisdn::parse("255713000040", "255").unwrap();
    let reference = saga::disburse(&app.money, &msisdn, "1", tzs("10000")).await.unwrap();
    settled(&app.money, &reference, Phase::PayoutPending, 10).await;
    app.sandbox.set_today(today);
    // The wallet's result arrives today.
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let body = json!({
        "type": "payout.completed", "timestamp": now,
        "data": { "kind": "payout", "reference": reference.as_str(), "receipt": "HPLATE0001", "account": null,
                  "msisdn": "255713000040", "amount": "10000.00", "currency": "TZS", "status": "completed",
                  "failure_code": null, "failure_message": null, "occurred_at": now }
    })
    .to_string();
    let (status, _) = Delivery { base: app.base.clone() }.deliver("evt_late_credit", &body).await;
    assert_eq!(status, 200);
    settled(&app.money, &reference, Phase::Done, 10).await;
    let loan = lms.get_loan(reference.as_str()).await.unwrap().unwrap();
    assert_eq!(loan.disbursement_date(), Some(today), "the schedule starts on the day the money arrived");
    app.stop().await;
}
