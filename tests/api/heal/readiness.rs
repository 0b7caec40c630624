//! `/readyz` under a stalled worker: 503 naming the check and why, and ready again once it recovers.

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
