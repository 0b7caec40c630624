//! `/readyz` under a failing LMS and under a stalled worker: 503 naming the check and why, from what
//! the gateway saw on real work (no probe calls the LMS), and ready again once it recovers.

use std::time::{Duration, Instant};

use mkopo::momo::records::EventState;
use mkopo::sandbox::lms::{Fault, FaultKind};

use crate::helpers::{dec, eventually, fast_money, TestApp};
use crate::money::{event_state, subscriber_with_loan};

async fn readyz(app: &TestApp) -> (u16, serde_json::Value) {
    let response = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn fault(method: &str, path: &str, kind: FaultKind, count: u32, delay_ms: u64) -> Fault {
    Fault { method: method.into(), path: path.into(), kind, count, delay_ms }
}

#[tokio::test]
async fn readyz_reports_the_lms_down_while_its_calls_keep_failing_though_a_token_is_held() {
    let app = TestApp::spawn_with(|s| {
        s.lms.retry.base = Duration::from_millis(1);
        s.lms.retry.cap = Duration::from_millis(5);
    })
    .await;
    let (status, body) = readyz(&app).await;
    assert_eq!((status, &body["checks"]["lms"]), (200, &serde_json::json!("ok")), "{body}");

    app.sandbox.inject_fault(fault("GET", "/v1/loans/external/*", FaultKind::Unavailable, 10, 0));
    let failed = app.app_lms.get_loan("L0000000018").await;
    assert!(failed.is_err(), "every attempt met the fault");
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["store"], "ok");
    let lms = body["checks"]["lms"].as_str().unwrap();
    assert!(lms.starts_with("down: the last 3 LMS attempts within 30s failed"), "{lms}");
    assert!(lms.contains("unavailable on GET /v1/loans/external/{id}"), "the endpoint template, never a path: {lms}");
    assert!(body["message"].as_str().unwrap().contains("lms down"), "{body}");

    // One answer from the LMS (a 404 is an answer) and it is ready again.
    app.sandbox.clear_faults();
    assert!(app.app_lms.get_loan("L0000000018").await.unwrap().is_none());
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn readyz_names_a_worker_stuck_on_one_entry_and_is_ready_again_when_it_moves_on() {
    let app = TestApp::spawn_with(|s| {
        fast_money(&mut s.money);
        s.money.workers = 1;
        s.readiness.worker_stall_margin = Duration::from_millis(500);
    })
    .await;
    subscriber_with_loan(&app.sandbox_client(), "255713700001", "L0000000018").await;
    let (status, body) = readyz(&app).await;
    assert_eq!((status, &body["checks"]["workers"]), (200, &serde_json::json!("ok")), "{body}");
    assert!(body["checks"]["seconds_since_last_loop"]["inbox-0"].as_f64().unwrap() < 1.0, "{body}");

    // The worker's first LMS call for the payment hangs for 3 s: three 200 ms claims plus 500 ms pass.
    app.sandbox.inject_fault(fault("GET", "/v1/loans/external/*", FaultKind::Delay, 1, 3000));
    let wallet = app.wallet.clone().unwrap();
    let paid = wallet.simulate_payment("255713700001", dec("1000"), "TZS", Some("L0000000018".into())).unwrap();
    let started = Instant::now();
    let body = eventually(3, "readyz to name the stuck worker", || async {
        let (status, body) = readyz(&app).await;
        (status == 503).then_some(body)
    })
    .await;
    let workers = body["checks"]["workers"].as_str().unwrap();
    assert!(workers.starts_with("stalled: inbox-0 (no loop finished for "), "{workers}");
    assert!(workers.contains("expected within 1.1s"), "{workers}");
    assert!(!workers.contains("timers") && !workers.contains("recovery"), "only the stuck one: {workers}");
    assert!(body["message"].as_str().unwrap().contains("workers stalled"), "{body}");
    assert_eq!(body["checks"]["lms"], "ok", "a slow call is not a failed one");
    eprintln!("stall reported {:?} after the payment", started.elapsed());

    let key = format!("event:sandbox:{}", paid.receipt.unwrap());
    eventually(10, "the payment to be posted once the LMS answers", || async {
        (event_state(&app.money, &key).await == Some(EventState::Posted)).then_some(())
    })
    .await;
    eventually(3, "readyz to be ready again", || async { (readyz(&app).await.0 == 200).then_some(()) }).await;
    app.stop().await;
}
