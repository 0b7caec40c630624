//! Resume only when it helps: a screen that was read leaves nothing to continue, a journey broken off
//! with something to lose is offered on the next dial of the same service code (through whichever
//! aggregator carries it), and a resumed journey never runs an effect twice.

use mkopo::sandbox::lms::{Fault, FaultKind};

use super::journeys::{borrow, registered};
use super::phone::{Phone, Screen, Via, ALL};
use crate::helpers::{dec, TestApp};

const OFFER: &str = "You did not finish your last session.\n1. Continue\n2. Start again";
const MAIN: &str = "Mkopo\n1. Borrow\n2. My balance";

/// The provider's ways of ending a session, per aggregator (`Phone::notice` kinds).
fn notices(via: Via) -> &'static [&'static str] {
    match via {
        Via::AfricasTalking => &["Incomplete", "Success", "Failed"],
        Via::Beem => &["terminate"],
        Via::Hubtel => &["Release", "Timeout"],
    }
}

#[tokio::test]
async fn a_balance_check_then_a_new_dial_shows_the_main_menu_with_or_without_an_end_notice_in_every_dialect() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(1200 + i as u32);
        let mut phone = registered(&app, via, &msisdn).await;
        borrow(&mut phone, "10000").await;

        // Read the balance and walk away (no notice, as when the network drops the session).
        let mut phone = Phone::dial(&app, via, &msisdn).await;
        phone.walk(&["My balance"]).await;
        assert!(phone.screen.text.starts_with("Halotel 7-Day Loan\nOwed:"), "{via:?}: {}", phone.screen.text);
        let again = Phone::dial(&app, via, &msisdn).await;
        assert!(again.screen.text.starts_with(MAIN), "{via:?}: no offer after a read: {}", again.screen.text);

        // The same after each of the provider's end notices (the simulator's hang-up sends these).
        for kind in notices(via) {
            let mut phone = Phone::dial(&app, via, &msisdn).await;
            phone.walk(&["My balance"]).await;
            assert_eq!(phone.notice(kind).await.0, 200, "{via:?} {kind}");
            let again = Phone::dial(&app, via, &msisdn).await;
            assert!(again.screen.text.starts_with(MAIN), "{via:?} after {kind}: {}", again.screen.text);
        }

        // Nor through another aggregator carrying the same short code.
        let mut phone = Phone::dial(&app, via, &msisdn).await;
        phone.walk(&["My balance"]).await;
        let other = if via == Via::Hubtel { Via::AfricasTalking } else { Via::Hubtel };
        let code = if via == Via::Hubtel { "*713*20#" } else { "*150*88#" };
        let again = Phone::dial_code(&app, other, &msisdn, code).await;
        assert!(again.screen.text.starts_with(MAIN), "{via:?} then {other:?}: {}", again.screen.text);
    }
}

#[tokio::test]
async fn a_borrow_broken_off_after_choosing_the_amount_is_offered_again_and_lends_once_in_every_dialect() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(1210 + i as u32);
        let mut first = registered(&app, via, &msisdn).await;
        first.walk(&["Borrow", "7-Day", "1"]).await;
        let confirmation = first.screen.text.clone();
        assert!(confirmation.starts_with("Borrow TZS 1,000\n"), "{via:?}: {confirmation}");

        let mut again = Phone::dial(&app, via, &msisdn).await;
        assert_eq!(again.screen, Screen { text: OFFER.into(), end: false }, "{via:?}");
        again.walk(&["Continue"]).await;
        assert_eq!(again.screen.text, confirmation, "{via:?}: the confirmation again");
        again.walk(&["Confirm"]).await;
        assert!(again.screen.text.starts_with("TZS 1,000 has been sent"), "{via:?}: {}", again.screen.text);
        assert_eq!(lms.active_loans(&msisdn).await.unwrap().len(), 1, "{via:?}");

        let later = Phone::dial(&app, via, &msisdn).await;
        assert!(later.screen.text.starts_with(MAIN), "{via:?}: a finished journey clears the mark");
    }
}

#[tokio::test]
async fn a_mark_is_offered_through_another_aggregator_on_the_same_code_and_not_on_another_code() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let msisdn = Via::AfricasTalking.msisdn(1220);
    let mut first = registered(&app, Via::AfricasTalking, &msisdn).await;
    first.walk(&["Borrow", "7-Day", "1"]).await;
    assert_eq!(first.notice("Incomplete").await.0, 200);

    // Another service code of the same gateway: no offer, and the mark stays for its own code.
    let other_code = Phone::dial_code(&app, Via::Hubtel, &msisdn, "*713*20#").await;
    assert!(other_code.screen.text.starts_with(MAIN), "another code: {}", other_code.screen.text);

    // The same short code, routed through Hubtel this time.
    let mut again = Phone::dial_code(&app, Via::Hubtel, &msisdn, "*150*88#").await;
    assert_eq!(again.screen.text, OFFER, "the same code through another aggregator");
    again.walk(&["Continue"]).await;
    assert!(again.screen.text.starts_with("Borrow TZS 1,000\n"), "{}", again.screen.text);
}

#[tokio::test]
async fn a_resumed_confirmation_follows_the_borrow_its_first_session_started_instead_of_lending_twice() {
    // A long hop budget and borrow wait give the second session seconds to dial and continue while the
    // first session's Confirm is still waiting, even on a loaded machine.
    let app = TestApp::spawn_on_redis(|s| {
        s.ussd.hop_budget = std::time::Duration::from_secs(10);
        s.ussd.borrow_wait = std::time::Duration::from_secs(8);
    })
    .await;
    let lms = app.sandbox_client();
    let msisdn = Via::AfricasTalking.msisdn(1230);
    let mut first = registered(&app, Via::AfricasTalking, &msisdn).await;
    first.walk(&["Borrow", "7-Day", "1"]).await;
    // The LMS is slow to create the loan, so the first session's Confirm is still running when the
    // subscriber, who saw nothing happen, dials again and continues (through another aggregator).
    app.sandbox.inject_fault(Fault { delay_ms: 5000, ..Fault::new("POST", "/v1/loans", FaultKind::Delay) });
    let confirming = tokio::spawn(async move {
        first.send("1").await;
        first.screen.text.clone()
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut again = Phone::dial_code(&app, Via::Hubtel, &msisdn, "*150*88#").await;
    assert_eq!(again.screen.text, OFFER);
    again.walk(&["Continue", "Confirm"]).await;
    let second = again.screen.text.clone();
    let first = confirming.await.unwrap();
    for outcome in [&first, &second] {
        assert!(
            outcome.starts_with("TZS 1,000 has been sent")
                || outcome.starts_with("Your loan of TZS 1,000 is being sent"),
            "{outcome}"
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let loans = lms.active_loans(&msisdn).await.unwrap();
    assert_eq!(loans.len(), 1, "one loan for one journey");
    assert_eq!(loans[0].principal, dec("1000"));
    let payouts = app.wallet.as_ref().unwrap().transactions().into_iter().filter(|t| t.msisdn == msisdn).count();
    assert_eq!(payouts, 1, "one payout");
}
