//! Callback delivery: retries with the same id and bytes, giving up, duplicates, transport failures and
//! the request timeout; and the pure retry decision.

use std::collections::HashSet;
use std::net::TcpListener;
use std::time::Duration;

use rust_decimal::Decimal;

use super::receiver::{Answer, Receiver};
use super::{eventually, fast, settle, start, start_with, MSISDN};
use crate::sandbox::wallet::delivery::{decide, Attempt, Step};
use crate::sandbox::wallet::{SandboxWallet, SandboxWalletSettings};

#[actix_web::test]
async fn retries_until_the_receiver_answers_2xx_with_the_same_id_and_body_bytes() {
    let t = start().await;
    t.receiver.answer(&[500, 503]);
    t.payout("L0000123455", MSISDN, "50000.00").await.assert_status(202);
    t.receiver.wait_for(3).await;
    settle().await;
    let got = t.receiver.received();
    assert_eq!(got.len(), 3, "two failures, then the 2xx; nothing after");
    assert_eq!(got.iter().map(|r| r.id.as_str()).collect::<HashSet<_>>().len(), 1, "same webhook-id");
    assert!(got.iter().all(|r| r.body == got[0].body), "the exact same bytes every time");
    for attempt in &got {
        assert_eq!(attempt.verify(), Ok(()), "each attempt is signed for its own timestamp");
    }
    let d = &t.wallet.deliveries()[0];
    assert_eq!((d.attempts, d.last_status, d.delivered, d.gave_up), (3, Some(200), true, false));
}

#[actix_web::test]
async fn delivery_gives_up_when_the_schedule_runs_out() {
    let t = start().await;
    t.receiver.answer(&[500, 500, 500, 500]);
    t.payout("L0000123455", MSISDN, "10.00").await.assert_status(202);
    let d = eventually("the delivery to give up", || t.wallet.deliveries().into_iter().find(|d| d.gave_up)).await;
    assert_eq!((d.attempts, d.last_status, d.delivered), (3, Some(500), false), "three delays, three attempts");
    settle().await;
    assert_eq!(t.receiver.received().len(), 3);
}

#[actix_web::test]
async fn duplicates_repeat_a_delivered_callback_under_the_same_id() {
    let t = start_with(SandboxWalletSettings { duplicate_deliveries: 2, ..fast() }).await;
    t.payout("L0000123455", MSISDN, "10.00").await.assert_status(202);
    let got = t.receiver.wait_for(3).await;
    settle().await;
    assert_eq!(t.receiver.received().len(), 3);
    assert!(got.iter().all(|r| r.id == got[0].id && r.body == got[0].body));
    assert!(got.iter().all(|r| r.verify().is_ok()));
    let d =
        eventually("duplicates counted", || t.wallet.deliveries().into_iter().find(|d| d.duplicates_sent == 2)).await;
    assert_eq!((d.attempts, d.delivered), (1, true));
}

#[actix_web::test]
async fn an_unreachable_receiver_is_retried_and_the_error_recorded() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let wallet = SandboxWallet::new(&fast(), format!("http://127.0.0.1:{port}/v1/callbacks/sandbox")).unwrap();
    wallet.simulate_payment(MSISDN, Decimal::TEN, "TZS", None).unwrap();
    let d = eventually("the delivery to give up", || wallet.deliveries().into_iter().find(|d| d.gave_up)).await;
    assert_eq!((d.attempts, d.last_status, d.delivered), (3, None, false));
    assert!(d.last_error.is_some_and(|e| !e.is_empty()));
}

#[actix_web::test]
async fn a_hanging_receiver_times_out_and_the_retry_delivers() {
    let receiver = Receiver::start().await;
    receiver.answer_slowly(Answer { status: 200, after: Duration::from_secs(2) });
    let wallet = SandboxWallet::build(&fast(), receiver.url.clone(), Duration::from_millis(200)).unwrap();
    wallet.simulate_payment(MSISDN, Decimal::TEN, "TZS", None).unwrap();
    let d = eventually("delivery", || wallet.deliveries().into_iter().find(|d| d.delivered)).await;
    assert_eq!((d.attempts, d.last_status, d.last_error), (2, Some(200), None));
    let got = receiver.received();
    assert_eq!((got.len(), got[0].id == got[1].id, got[0].body == got[1].body), (2, true, true));
    receiver.stop().await;
}

#[test]
fn the_retry_decision_stops_on_2xx_and_gives_up_after_the_schedule() {
    let delays = [Duration::ZERO, Duration::from_secs(1), Duration::from_secs(2)];
    for status in [200, 202, 204, 299] {
        assert_eq!(decide(&Attempt::Answered(status), 1, &delays), Step::Delivered, "{status}");
    }
    for status in [199, 301, 400, 401, 404, 500, 503] {
        assert_eq!(
            decide(&Attempt::Answered(status), 1, &delays),
            Step::RetryAfter(Duration::from_secs(1)),
            "{status}"
        );
    }
    assert_eq!(decide(&Attempt::Failed("timed out".into()), 2, &delays), Step::RetryAfter(Duration::from_secs(2)));
    assert_eq!(decide(&Attempt::Answered(500), 3, &delays), Step::GiveUp);
    assert_eq!(decide(&Attempt::Answered(200), 3, &delays), Step::Delivered);
}
