//! Inbox workers, hops and callbacks after Redis was killed and restarted (with its append-only file),
//! and after Redis lost its data (FLUSHALL, a restart that kept nothing): no gateway restart needed.

use std::time::{Duration, Instant};

use mkopo::momo::records::EventState;

use super::{callback, hop, ThrowawayRedis};
use crate::helpers::{eventually, TestApp};
use crate::money::{event_state, repayments, subscriber_with_loan};

const LOAN: &str = "L0000000018";
const MSISDN: &str = "255713600001";

/// Delivers the callback until the gateway acknowledges it; fails the test after `bound`.
async fn acknowledged(client: &reqwest::Client, base: &str, receipt: &str, bound: Duration) {
    let started = Instant::now();
    while callback(client, base, receipt, LOAN, MSISDN).await != 200 {
        assert!(started.elapsed() < bound, "{receipt} not acknowledged within {bound:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn posted(app: &TestApp, receipt: &str, secs: u64) {
    let key = format!("event:sandbox:{receipt}");
    eventually(secs, &format!("{receipt} to be posted"), || async {
        (event_state(&app.money, &key).await == Some(EventState::Posted)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn after_redis_is_killed_and_restarted_callbacks_stored_afterwards_are_posted_and_hops_work() {
    let mut redis = ThrowawayRedis::start().await;
    let app = TestApp::spawn_on_redis_at(&redis.url, |_| {}).await;
    subscriber_with_loan(&app.sandbox_client(), MSISDN, LOAN).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    acknowledged(&client, &app.base, "HRBEFORE01", Duration::from_secs(2)).await;
    posted(&app, "HRBEFORE01", 10).await;

    redis.kill();
    assert_eq!(callback(&client, &app.base, "HRDURING01", LOAN, MSISDN).await, 503, "not stored, so not acknowledged");
    assert!(!hop(&client, &app.base, "heal-during").await, "the hop gets the error screen");
    // Long enough for every worker's read, the timer sweeper and the HTTP workers to fail and back off.
    tokio::time::sleep(Duration::from_secs(3)).await;
    redis.restart().await;
    let back = Instant::now();

    acknowledged(&client, &app.base, "HRAFTER01", Duration::from_secs(5)).await;
    let acked = back.elapsed();
    while !hop(&client, &app.base, &format!("heal-after-{}", back.elapsed().as_millis())).await {
        assert!(back.elapsed() < Duration::from_secs(5), "hops still fail 5s after Redis came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let hops = back.elapsed();
    posted(&app, "HRAFTER01", 10).await;
    eprintln!(
        "after the restart: callbacks acknowledged in {acked:?}, hops in {hops:?}, posted in {:?}",
        back.elapsed()
    );
    assert!(back.elapsed() < Duration::from_secs(6), "the inbox drained {:?} after Redis came back", back.elapsed());
    assert_eq!(repayments(&app.sandbox_client(), LOAN).await, 2, "before and after; the refused one never stored");
    app.stop().await;
}

#[tokio::test]
async fn a_redis_that_lost_its_data_gets_its_inbox_group_back_and_the_workers_go_on() {
    let mut redis = ThrowawayRedis::start_with(false).await;
    let app = TestApp::spawn_on_redis_at(&redis.url, |_| {}).await;
    subscriber_with_loan(&app.sandbox_client(), MSISDN, LOAN).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();

    let _: () = redis::cmd("FLUSHALL").query_async(&mut redis.raw().await).await.unwrap();
    acknowledged(&client, &app.base, "HRFLUSH01", Duration::from_secs(2)).await;
    posted(&app, "HRFLUSH01", 10).await;

    // A restart without persistence comes back empty, while the workers are blocked reading.
    redis.restart().await;
    acknowledged(&client, &app.base, "HRLOST01", Duration::from_secs(5)).await;
    posted(&app, "HRLOST01", 10).await;
    let mut raw = redis.raw().await;
    let inbox: Vec<String> = redis::cmd("KEYS").arg("*:inbox").query_async(&mut raw).await.unwrap();
    assert_eq!(inbox.len(), 1, "the inbox stream exists again: {inbox:?}");
    let groups: Vec<redis::Value> =
        redis::cmd("XINFO").arg("GROUPS").arg(&inbox[0]).query_async(&mut raw).await.unwrap();
    assert_eq!(groups.len(), 1, "the consumer group exists again");
    assert_eq!(repayments(&app.sandbox_client(), LOAN).await, 2);
    app.stop().await;
}

#[tokio::test]
async fn an_entry_in_a_workers_hands_when_redis_dies_is_finished_once_redis_is_back_not_after_reclaim_idle() {
    let mut redis = ThrowawayRedis::start().await;
    // Another consumer would take the entry over only after a minute: the worker must finish it itself.
    let app = TestApp::spawn_on_redis_at(&redis.url, |s| {
        s.money.workers = 1;
        s.money.reclaim_idle = Duration::from_secs(60);
    })
    .await;
    subscriber_with_loan(&app.sandbox_client(), MSISDN, LOAN).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    // The worker's first LMS call for the payment takes 1.5 s; Redis dies while it waits.
    app.sandbox.inject_fault(mkopo::sandbox::lms::Fault {
        method: "GET".into(),
        path: "/v1/loans/external/*".into(),
        kind: mkopo::sandbox::lms::FaultKind::Delay,
        count: 1,
        delay_ms: 1500,
    });
    acknowledged(&client, &app.base, "HRINHAND01", Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.kill();
    tokio::time::sleep(Duration::from_secs(2)).await;
    redis.restart().await;
    let back = Instant::now();
    posted(&app, "HRINHAND01", 8).await;
    eprintln!("the entry in hand was posted {:?} after Redis came back", back.elapsed());
    assert_eq!(repayments(&app.sandbox_client(), LOAN).await, 1);
    app.stop().await;
}
