//! The LMS misbehaving under a USSD session: slower than the hop budget (the subscriber gets the timeout
//! screen in time, and a borrow still lands exactly once) or down (the error screen, never a 5xx).

use std::time::{Duration, Instant};

use serde_json::json;

use super::journeys::registered;
use super::phone::{Phone, Screen, ALL};
use crate::helpers::{dec, eventually, TestApp};

/// An effect (a borrow) overran: it completes alone and the subscriber hears by SMS.
const TIMEOUT: &str = "We are still working on your request. You will get an SMS.";
/// A read overran: nothing is under way, so no SMS is promised.
const SLOW: &str = "The service is slow right now. Please try again in a few minutes.";
const ERROR: &str = "Sorry, something went wrong. Please try again later.";
const BUDGET: Duration = Duration::from_millis(1500);

/// Injects a sandbox LMS fault (`src/sandbox/lms/faults.rs`).
async fn fault(app: &TestApp, body: serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/sandbox/lms/sandbox/faults", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "fault hook: {}", response.status());
}

fn ended(text: &str) -> Screen {
    Screen { text: text.to_owned(), end: true }
}

#[tokio::test]
async fn a_customer_lookup_slower_than_the_hop_budget_ends_the_dial_with_the_slow_screen_in_time() {
    let app = TestApp::spawn_on_redis(|s| s.ussd.hop_budget = BUDGET).await;
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(700 + i as u32);
        let slow = json!({ "method": "GET", "path": "/v1/customers/external/*", "kind": "delay", "count": 1, "delayMs": 3000 });
        fault(&app, slow).await;
        let started = Instant::now();
        let phone = Phone::dial(&app, via, &msisdn).await;
        let elapsed = started.elapsed();
        assert_eq!(phone.screen, ended(SLOW), "{via:?}");
        assert!(elapsed < BUDGET + Duration::from_secs(1), "{via:?}: answered after {elapsed:?}");

        let phone = Phone::dial(&app, via, &msisdn).await;
        assert!(phone.screen.text.starts_with("Welcome to Mkopo loans."), "{via:?}: the next dial is served");
    }
}

#[tokio::test]
async fn a_loan_create_slower_than_the_hop_budget_times_out_the_confirm_and_still_lends_exactly_once() {
    let app = TestApp::spawn_on_redis(|s| s.ussd.hop_budget = BUDGET).await;
    let lms = app.sandbox_client();
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(710 + i as u32);
        let mut phone = registered(&app, via, &msisdn).await;
        phone.walk(&["Borrow", "7-Day", "Other amount", "10000"]).await;
        // Longer than the hop budget, shorter than the saga's loan-create deadline (3 s in tests). Two
        // creates go out: the saga's own step, and its safety timer (after `money.claim_block`) while
        // the first is still in flight; both carry the same externalId, and both are slow.
        let slow = json!({ "method": "POST", "path": "/v1/loans", "kind": "delay", "count": 2, "delayMs": 2000 });
        fault(&app, slow).await;

        let started = Instant::now();
        phone.walk(&["Confirm"]).await;
        let elapsed = started.elapsed();
        assert_eq!(phone.screen, ended(TIMEOUT), "{via:?}");
        assert!(elapsed < BUDGET + Duration::from_secs(1), "{via:?}: answered after {elapsed:?}");
        assert_eq!(phone.resend().await, (200, phone.raw.clone()), "{via:?}: a resent Confirm is only replayed");

        let wallet = app.wallet.clone().unwrap();
        eventually(15, "the loan and its completed payout", || {
            let (lms, wallet, msisdn) = (lms.clone(), wallet.clone(), msisdn.clone());
            async move {
                let loans = lms.active_loans(&msisdn).await.unwrap();
                let paid = wallet.transactions().into_iter().any(|t| t.msisdn == msisdn && t.receipt.is_some());
                (!loans.is_empty() && paid).then_some(())
            }
        })
        .await;
        let loans = lms.active_loans(&msisdn).await.unwrap();
        assert_eq!(loans.len(), 1, "{via:?}: exactly one loan");
        assert_eq!(loans[0].principal, dec("10000"));
        let payouts: Vec<_> = wallet.transactions().into_iter().filter(|t| t.msisdn == msisdn).collect();
        assert_eq!(payouts.len(), 1, "{via:?}: exactly one payout");
        assert_eq!(payouts[0].amount, dec("10000"));
    }
}

#[tokio::test]
async fn an_lms_that_is_down_gets_the_error_screen_with_status_200_in_every_dialect() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let down = json!({ "method": "GET", "path": "/v1/customers/external/*", "kind": "unavailable", "count": 1000 });
    fault(&app, down).await;
    for (i, via) in ALL.into_iter().enumerate() {
        // `Phone` fails the test on any status but 200.
        let phone = Phone::dial(&app, via, &via.msisdn(720 + i as u32)).await;
        assert_eq!(phone.screen, ended(ERROR), "{via:?}");
    }
}
