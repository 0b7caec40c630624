//! The disbursement saga and collections end to end, against real Redis, the sandbox LMS and the
//! sandbox wallet: success, definite failure, timeout, ambiguity, restart, reference collision, late
//! credit, and a collection that repays its loan.

use std::time::Duration;

use mkopo::domain::Msisdn;
use mkopo::momo::saga::{self, Phase};
use mkopo::momo::service::MoneyService;
use mkopo::momo::{collect, Reference};
use mkopo::sandbox::wallet::Behaviour;
use serde_json::json;

use crate::helpers::*;
use crate::money::{own_money, repayments, subscriber_with_loan, tzs, Delivery};

/// How many payouts the sandbox wallet holds under `reference`.
fn payouts_for(app: &TestApp, reference: &Reference) -> usize {
    let wallet = app.wallet.as_ref().expect("the sandbox wallet is mounted");
    wallet.transactions().iter().filter(|t| t.reference.as_deref() == Some(reference.as_str())).count()
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
    let reference = saga::disburse(&app.money, &msisdn, "1", tzs("10000"), None).await.unwrap();
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
    let reference = saga::disburse(&app.money, &msisdn, "1", tzs("10000"), None).await.unwrap();
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
    let reference = saga::disburse(&app.money, &Msisdn::parse("255713000010", "255").unwrap(), "1", tzs("5000"), None)
        .await
        .unwrap();
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
    let reference = saga::disburse(&app.money, &Msisdn::parse("255713000011", "255").unwrap(), "1", tzs("10000"), None)
        .await
        .unwrap();
    eventually(10, "the payout outcome to be unknown", || async {
        let p = phase(&app.money, &reference).await;
        assert_ne!(p, Phase::RollingBack, "an unknown payout is never rolled back");
        matches!(p, Phase::PayoutUnknown | Phase::Done).then_some(())
    })
    .await;
    settled(&app.money, &reference, Phase::Done, 20).await;
    assert_eq!(lms.get_loan(reference.as_str()).await.unwrap().unwrap().status, mkopo::lms::LoanStatus::Active);
    assert_eq!(payouts_for(&app, &reference), 1);
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
    let reference = saga::disburse(&app.money, &Msisdn::parse("255713000012", "255").unwrap(), "1", tzs("10000"), None)
        .await
        .unwrap();
    settled(&app.money, &reference, Phase::PayoutUnknown, 10).await;
    // The wallet never recorded it (GET 404): the saga re-submits the same reference once the wallet works.
    app.wallet.as_ref().unwrap().clear_rules();
    settled(&app.money, &reference, Phase::Done, 20).await;
    assert_eq!(payouts_for(&app, &reference), 1);
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
    let reference = saga::create(&first, &msisdn, "1", tzs("10000"), None).await.unwrap();
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
    assert_eq!(payouts_for(&app, &reference), 1, "one payout");
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
    let first = saga::disburse(&app.money, &msisdn, "1", tzs("5000"), None).await.unwrap();
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
    let reference = saga::disburse(&app.money, &msisdn, "1", tzs("10000"), None).await.unwrap();
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

#[tokio::test]
async fn the_open_sagas_are_all_read_however_many_there_are() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let money = own_money(&app, &format!("mkopo-test-{}", uuid::Uuid::new_v4())).await;
    let msisdn = Msisdn::parse("255713000077", "255").unwrap();
    let mut created = Vec::new();
    for _ in 0..150 {
        created.push(saga::create(&money, &msisdn, "1", tzs("5000"), None).await.unwrap());
    }
    let mut open: Vec<String> =
        saga::open_sagas(&money).await.unwrap().into_iter().map(|s| s.reference.as_str().to_owned()).collect();
    let mut want: Vec<String> = created.iter().map(|r| r.as_str().to_owned()).collect();
    open.sort();
    want.sort();
    assert_eq!(open, want, "every open saga, each once");
    app.stop().await;
}
