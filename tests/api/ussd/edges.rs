//! Edge cases of a USSD session in every dialect: resent hops, the provider ending a session, hops for
//! sessions the gateway never saw, bad amounts, and resuming a broken-off session.

use serde_json::{json, Value};

use super::journeys::registered;
use super::phone::{Phone, Screen, Via, ALL};
use crate::helpers::{dec, TestApp};

const EXPIRED: &str = "Session expired. Please dial again.";

/// An app on real Redis under a prefix the test knows, so it can look at the raw keys.
pub async fn app_with_prefix(tweak: impl FnOnce(&mut mkopo::config::Settings)) -> (TestApp, String) {
    let prefix = format!("mkopo-test-{}", uuid::Uuid::new_v4());
    let chosen = prefix.clone();
    let app = TestApp::spawn_on_redis(move |s| {
        s.redis.key_prefix = chosen;
        tweak(s);
    })
    .await;
    (app, prefix)
}

pub async fn raw_redis() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(crate::store::redis_url()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

/// Whether the session state of `phone` is in Redis (R1 key; the test session ids need no encoding).
pub async fn session_stored(prefix: &str, phone: &Phone) -> bool {
    let key = format!("{prefix}:ussd:{}:{}:{}", phone.via.route(), phone.msisdn, phone.session_id);
    redis::cmd("EXISTS").arg(key).query_async::<i64>(&mut raw_redis().await).await.unwrap() == 1
}

fn ended(text: &str) -> Screen {
    Screen { text: text.to_owned(), end: true }
}

#[tokio::test]
async fn a_resent_hop_replays_its_reply_byte_for_byte_and_repeats_no_side_effect_in_every_dialect() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(600 + i as u32);
        registered(&app, via, &msisdn).await;
        let mut phone = Phone::dial(&app, via, &msisdn).await;
        assert_eq!(phone.resend().await, (200, phone.raw.clone()), "{via:?}: a resent dial replays the first screen");

        phone.walk(&["Borrow", "7-Day", "Other amount"]).await;
        assert_eq!(phone.resend().await, (200, phone.raw.clone()), "{via:?}: a resent choice replays its screen");
        // Had the resent choice run as a turn, its option number would have been taken as an amount.
        phone.walk(&["10000"]).await;
        assert!(phone.screen.text.starts_with("Borrow TZS 10,000\n"), "{via:?}: {}", phone.screen.text);

        phone.walk(&["Confirm"]).await;
        assert!(phone.screen.end, "{via:?}");
        assert!(phone.screen.text.starts_with("TZS 10,000 has been sent to your wallet."), "{}", phone.screen.text);
        let (status, replay) = phone.resend().await;
        assert_eq!((status, replay.as_str()), (200, phone.raw.as_str()), "{via:?}: the final screen is replayed");
        if via == Via::Beem {
            let id = |body: &str| serde_json::from_str::<Value>(body).unwrap()["payload"]["request_id"].clone();
            assert_eq!(id(&replay), id(&phone.raw), "the replay carries the original request_id");
        }

        let loans = lms.active_loans(&msisdn).await.unwrap();
        assert_eq!(loans.len(), 1, "{via:?}: exactly one loan");
        assert_eq!(loans[0].principal, dec("10000"));
        let wallet = app.wallet.as_ref().unwrap().transactions();
        assert_eq!(wallet.iter().filter(|t| t.msisdn == msisdn).count(), 1, "{via:?}: exactly one payout");
    }
}

#[tokio::test]
async fn a_hubtel_timeout_or_release_is_acknowledged_and_the_session_forgotten() {
    let (app, prefix) = app_with_prefix(|_| {}).await;
    for (n, kind) in [(610, "Timeout"), (611, "Release")] {
        let mut phone = Phone::dial(&app, Via::Hubtel, &Via::Hubtel.msisdn(n)).await;
        phone.walk(&["Read terms"]).await;
        assert!(session_stored(&prefix, &phone).await, "{kind}: the session is stored before the notice");

        let ack = phone.notice(kind).await;
        assert_eq!(ack, (200, r#"{"Type":"Release","Message":""}"#.to_owned()), "{kind}");
        assert!(!session_stored(&prefix, &phone).await, "{kind}: the session state is deleted");
        assert_eq!(phone.notice(kind).await, ack, "{kind}: a repeated notice is acknowledged the same way");

        phone.send("1").await;
        assert_eq!(phone.screen, ended(EXPIRED), "{kind}: a later Response finds no session");
        assert!(!session_stored(&prefix, &phone).await, "{kind}: the expired answer recreates nothing");
    }
}

#[tokio::test]
async fn a_beem_terminate_is_acknowledged_with_the_echoed_envelope_and_the_session_forgotten() {
    let (app, prefix) = app_with_prefix(|_| {}).await;
    let msisdn = Via::Beem.msisdn(612);
    let mut phone = Phone::dial(&app, Via::Beem, &msisdn).await;
    phone.walk(&["Read terms"]).await;
    assert!(session_stored(&prefix, &phone).await);

    let (status, body) = phone.notice("terminate").await;
    assert_eq!(status, 200);
    let expected = json!({
        "msisdn": msisdn, "operator": "vodacom", "session_id": phone.session_id, "command": "terminate",
        "payload": { "request_id": 2, "request": "" }
    });
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), expected, "echo of the envelope at the last hop");
    assert!(!session_stored(&prefix, &phone).await, "the session state is deleted");

    phone.send("1").await;
    assert_eq!(phone.screen, ended(EXPIRED), "a later continue finds no session");
}

#[tokio::test]
async fn an_africastalking_end_notification_answers_ok_and_deletes_the_session_state() {
    let (app, prefix) = app_with_prefix(|_| {}).await;
    let lms = app.sandbox_client();
    for (n, status) in [(613, "Success"), (614, "Incomplete"), (615, "Failed")] {
        let msisdn = Via::AfricasTalking.msisdn(n);
        let mut phone = Phone::dial(&app, Via::AfricasTalking, &msisdn).await;
        phone.walk(&["Read terms"]).await;
        assert!(session_stored(&prefix, &phone).await, "{status}");

        assert_eq!(phone.notice(status).await, (200, "OK".to_owned()), "{status}");
        assert!(!session_stored(&prefix, &phone).await, "{status}: the session state is deleted");
        // The next hop of that session is a Begin again (docs/ussd.md rule 1): its "1" is not taken as Accept.
        phone.send("1").await;
        assert!(phone.screen.text.starts_with("Welcome to Mkopo loans."), "{status}: {}", phone.screen.text);
        assert!(lms.get_customer(&msisdn).await.unwrap().is_none(), "{status}: nothing was accepted");
    }
    let mut stranger = Phone::unseen(&app, Via::AfricasTalking, &Via::AfricasTalking.msisdn(616));
    assert_eq!(stranger.notice("Success").await, (200, "OK".to_owned()), "an unknown session is acknowledged");
    assert_eq!(stranger.notice("Bogus").await, (200, "OK".to_owned()), "an unknown status is acknowledged");
}

#[tokio::test]
async fn a_continuation_for_a_session_never_seen_gets_the_expired_screen_and_runs_no_turn() {
    let (app, prefix) = app_with_prefix(|_| {}).await;
    for (n, via) in [(620, Via::Beem), (621, Via::Hubtel)] {
        let mut phone = Phone::unseen(&app, via, &via.msisdn(n));
        phone.send("1").await;
        assert_eq!(phone.screen, ended(EXPIRED), "{via:?}");
        assert!(!session_stored(&prefix, &phone).await, "{via:?}: no session is created");
    }

    // AT has no continue flag: an unknown sessionId with a path is a Begin whose path becomes the stored
    // one; deep dial is off, so the inputs route nowhere and the first screen shows.
    let lms = app.sandbox_client();
    let msisdn = Via::AfricasTalking.msisdn(622);
    let mut phone = Phone::unseen(&app, Via::AfricasTalking, &msisdn);
    phone.send("1*2").await;
    assert!(!phone.screen.end);
    assert!(phone.screen.text.starts_with("Welcome to Mkopo loans."), "{}", phone.screen.text);
    assert!(lms.get_customer(&msisdn).await.unwrap().is_none(), "the lost path's \"1\" was not taken as Accept");
    phone.walk(&["Read terms"]).await;
    assert!(phone.screen.text.starts_with("Loans go to your wallet."), "the path extends from \"1*2\"");
}

/// A registered subscriber at the "Other amount" screen of the 7-day loan, and that screen's text.
async fn at_other_amount(app: &TestApp, via: Via, msisdn: &str) -> (Phone, String) {
    let mut phone = registered(app, via, msisdn).await;
    phone.walk(&["Borrow", "7-Day", "Other amount"]).await;
    assert_eq!(phone.screen.text, "Enter amount (TZS 1,000-50,000):\n0. Back", "{via:?}");
    let asked = phone.screen.text.clone();
    (phone, asked)
}

#[tokio::test]
async fn letters_where_an_amount_is_expected_show_the_same_screen_with_an_error_in_every_dialect() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    for (i, via) in ALL.into_iter().enumerate() {
        let (mut phone, asked) = at_other_amount(&app, via, &via.msisdn(630 + i as u32)).await;
        phone.send("abc").await;
        assert_eq!(phone.screen, Screen { text: format!("Enter numbers only.\n{asked}"), end: false }, "{via:?}");
        phone.send("5000").await;
        assert!(
            phone.screen.text.starts_with("Borrow TZS 5,000\nCharges: TZS 550\n"),
            "{via:?}: {}",
            phone.screen.text
        );
    }
}

#[tokio::test]
async fn amounts_outside_the_limits_show_the_limit_above_the_same_screen_in_every_dialect() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    for (i, via) in ALL.into_iter().enumerate() {
        let (mut phone, asked) = at_other_amount(&app, via, &via.msisdn(640 + i as u32)).await;
        // The product allows 100,000; the subscriber's available limit caps it at 50,000.
        phone.send("50001").await;
        assert_eq!(
            phone.screen,
            Screen { text: format!("The maximum is TZS 50,000.\n{asked}"), end: false },
            "{via:?}"
        );
        phone.send("999").await;
        assert_eq!(phone.screen, Screen { text: format!("The minimum is TZS 1,000.\n{asked}"), end: false }, "{via:?}");
        phone.send("50000").await;
        assert!(phone.screen.text.starts_with("Borrow TZS 50,000\n"), "{via:?}: {}", phone.screen.text);
    }
}

#[tokio::test]
async fn dialling_again_after_breaking_off_offers_to_continue_where_the_subscriber_stopped() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(650 + i as u32);
        let mut first = registered(&app, via, &msisdn).await;
        first.walk(&["Borrow", "7-Day"]).await;
        let amounts = first.screen.text.clone();
        assert!(amounts.starts_with("Halotel 7-Day Loan. Choose amount:\n1. TZS 1,000"), "{via:?}: {amounts}");

        let mut again = Phone::dial(&app, via, &msisdn).await;
        assert_eq!(
            again.screen,
            Screen { text: "You did not finish your last session.\n1. Continue\n2. Start again".into(), end: false },
            "{via:?}"
        );
        again.walk(&["Continue"]).await;
        assert_eq!(again.screen, Screen { text: amounts, end: false }, "{via:?}: the amount list again");
        assert!(borrow_from_amounts(&mut again).await.starts_with("TZS 2,000 has been sent"), "{via:?}");
        assert_eq!(lms.active_loans(&msisdn).await.unwrap().len(), 1, "{via:?}: the resumed session lends");

        let later = Phone::dial(&app, via, &msisdn).await;
        assert!(later.screen.text.starts_with("Mkopo\n1. Borrow"), "{via:?}: nothing left to resume");
    }
}

/// From the amount list: "Other amount", 2,000, Confirm; returns the last screen.
async fn borrow_from_amounts(phone: &mut Phone) -> String {
    phone.walk(&["Other amount", "2000", "Confirm"]).await;
    assert!(phone.screen.end);
    phone.screen.text.clone()
}

#[tokio::test]
async fn a_session_the_provider_ended_midway_can_still_be_resumed_but_a_completed_one_cannot() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let kinds = [(Via::AfricasTalking, "Incomplete"), (Via::Beem, "terminate"), (Via::Hubtel, "Timeout")];
    for (i, (via, kind)) in kinds.into_iter().enumerate() {
        let msisdn = via.msisdn(660 + i as u32);
        let mut first = registered(&app, via, &msisdn).await;
        first.walk(&["Borrow", "7-Day"]).await;
        let amounts = first.screen.text.clone();
        assert_eq!(first.notice(kind).await.0, 200, "{via:?}");

        let mut again = Phone::dial(&app, via, &msisdn).await;
        assert!(
            again.screen.text.starts_with("You did not finish your last session."),
            "{via:?}: {}",
            again.screen.text
        );
        again.walk(&["Continue"]).await;
        assert_eq!(again.screen.text, amounts, "{via:?}: the amount list from the ended session");
    }
    let msisdn = Via::AfricasTalking.msisdn(665);
    let mut first = registered(&app, Via::AfricasTalking, &msisdn).await;
    first.walk(&["Borrow", "7-Day"]).await;
    assert_eq!(first.notice("Success").await.0, 200);
    let again = Phone::dial(&app, Via::AfricasTalking, &msisdn).await;
    assert!(again.screen.text.starts_with("Mkopo\n1. Borrow"), "completed: {}", again.screen.text);
}

#[tokio::test]
async fn hubtel_replies_carry_the_rich_channel_fields_and_an_app_channel_is_told_it_is_not_served() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let mut phone = Phone::dial(&app, Via::Hubtel, &Via::Hubtel.msisdn(880)).await;
    let first: Value = serde_json::from_str(&phone.raw).unwrap();
    assert_eq!(first["Type"], "Response");
    assert_eq!(
        (&first["Label"], &first["DataType"], &first["FieldType"]),
        (&first["Message"], &json!("input"), &json!("text"))
    );
    phone.choose("Decline").await;
    let last: Value = serde_json::from_str(&phone.raw).unwrap();
    assert_eq!(
        (&last["Type"], &last["DataType"], &last["Label"]),
        (&json!("Release"), &json!("display"), &last["Message"])
    );

    // The Hubtel Android app names itself in `Operator`: not a USSD session, as Hubtel's SDK decides.
    let other = Phone::unseen(&app, Via::Hubtel, &Via::Hubtel.msisdn(881));
    let body = other.hubtel_json("Initiation", 1, "").replace(r#""Operator":"mtn""#, r#""Operator":"Hubtel-Android""#);
    assert!(body.contains("Hubtel-Android"), "{body}");
    let (status, raw) = other.post_raw("", "application/json", body).await;
    let reply: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        reply,
        json!({"Type":"Release","Message":"This service is not available here.","ClientState":"1",
               "Label":"This service is not available here.","DataType":"display","FieldType":"text"})
    );
}
