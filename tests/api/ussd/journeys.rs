//! Every journey in every dialect: registration, borrow, balance, repay, payments and language, each
//! checked against what the sandbox LMS and wallet end up holding.

use super::phone::{Phone, Via, ALL};
use crate::helpers::{dec, eventually, TestApp};

/// Dials as a new subscriber, accepts the terms and lands on the main menu.
pub async fn registered(app: &TestApp, via: Via, msisdn: &str) -> Phone {
    let mut phone = Phone::dial(app, via, msisdn).await;
    assert!(phone.screen.text.starts_with("Welcome to Mkopo loans."), "{:?}: {}", via, phone.screen.text);
    phone.walk(&["Accept"]).await;
    assert!(phone.screen.text.starts_with("You are registered."), "{}", phone.screen.text);
    phone.walk(&["Main menu"]).await;
    assert!(phone.screen.text.starts_with("Mkopo\n1. Borrow"), "{}", phone.screen.text);
    phone
}

/// Borrows `amount` of the 7-day product through "Other amount" and returns the final screen.
pub async fn borrow(phone: &mut Phone, amount: &str) -> String {
    phone.walk(&["Borrow", "7-Day", "Other amount", amount, "Confirm"]).await;
    phone.screen.text.clone()
}

#[tokio::test]
async fn a_new_subscriber_registers_and_borrows_in_every_dialect() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(100 + i as u32);
        assert!(lms.get_customer(&msisdn).await.unwrap().is_none());
        let mut phone = registered(&app, via, &msisdn).await;
        assert!(lms.get_customer(&msisdn).await.unwrap().is_some_and(|c| c.active), "{via:?}: customer created");

        phone.walk(&["Borrow"]).await;
        assert!(
            phone.screen.text.starts_with("Choose a loan:\n1. Halotel 7-Day Loan (1,000-50,000)"),
            "{}",
            phone.screen.text
        );
        phone.walk(&["7-Day", "Other amount", "10000"]).await;
        assert_eq!(
            phone.screen.text,
            "Borrow TZS 10,000\nCharges: 1,100\nRepay 11,100 by {due}\n1. Confirm\n2. Cancel\n0. Back"
                .replace("{due}", &due_in_days(&app, 7)),
        );
        phone.walk(&["Confirm"]).await;
        assert!(phone.screen.end, "{via:?}");
        assert!(
            phone.screen.text.starts_with("TZS 10,000 has been sent to your wallet. Repay 11,100 by"),
            "{}",
            phone.screen.text
        );

        let loans = lms.active_loans(&msisdn).await.unwrap();
        assert_eq!(loans.len(), 1, "{via:?}: one loan");
        assert_eq!(loans[0].principal, dec("10000"));
        let payouts: Vec<_> =
            app.wallet.as_ref().unwrap().transactions().into_iter().filter(|t| t.msisdn == msisdn).collect();
        assert_eq!(payouts.len(), 1, "{via:?}: one payout to the wallet");
        assert_eq!(payouts[0].amount, dec("10000"));
    }
}

fn due_in_days(app: &TestApp, days: u64) -> String {
    (app.app_lms.business_today() + chrono::Days::new(days)).format("%d/%m/%Y").to_string()
}

#[tokio::test]
async fn balance_shows_each_active_loan_with_its_next_instalment_in_every_dialect() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(200 + i as u32);
        let mut phone = registered(&app, via, &msisdn).await;
        phone.walk(&["My balance"]).await;
        assert_eq!(phone.screen.text, "You have no active loan.");
        assert!(phone.screen.end);

        let mut phone = Phone::dial(&app, via, &msisdn).await;
        borrow(&mut phone, "20000").await;
        let mut phone = Phone::dial(&app, via, &msisdn).await;
        phone.walk(&["My balance"]).await;
        assert_eq!(
            phone.screen.text,
            format!("Your loan:\n1. Halotel 7-Day Loan: owe 22,200\nNext 22,200 by {}\n0. Back", due_in_days(&app, 7))
        );
    }
}

#[tokio::test]
async fn repay_sends_a_wallet_prompt_and_the_approved_payment_reaches_the_loan_in_every_dialect() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(300 + i as u32);
        let mut phone = registered(&app, via, &msisdn).await;
        borrow(&mut phone, "10000").await;

        let mut phone = Phone::dial(&app, via, &msisdn).await;
        phone.walk(&["Repay", "7-Day"]).await;
        assert_eq!(phone.screen.text, "Owed: 11,100\n1. Full 11,100\n2. Next 11,100\n3. Other amount\n0. Back");
        phone.walk(&["Other amount", "4000"]).await;
        assert_eq!(phone.screen.text, "Pay TZS 4,000 for Halotel 7-Day Loan?\n1. Confirm\n2. Cancel\n0. Back");
        phone.walk(&["Confirm"]).await;
        assert!(phone.screen.end);
        assert!(
            phone.screen.text.starts_with("You will get a wallet prompt to pay TZS 4,000."),
            "{}",
            phone.screen.text
        );

        let external = lms.active_loans(&msisdn).await.unwrap()[0].external_id.clone().unwrap();
        eventually(10, "the approved collection is posted to the loan", || {
            let lms = lms.clone();
            let external = external.clone();
            async move {
                let loan = lms.get_loan(&external).await.unwrap()?;
                (loan.total_outstanding() == Some(dec("7100"))).then_some(())
            }
        })
        .await;
        let page = lms.list_repayments(&external, 1, 10).await.unwrap();
        assert_eq!(page.items.len(), 1, "{via:?}: exactly one repayment");
    }
}

#[tokio::test]
async fn my_payments_lists_the_recent_repayments_of_a_loan() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(400 + i as u32);
        let mut phone = registered(&app, via, &msisdn).await;
        borrow(&mut phone, "10000").await;
        let mut phone = Phone::dial(&app, via, &msisdn).await;
        phone.walk(&["My payments", "7-Day"]).await;
        assert_eq!(phone.screen.text, "No payments on this loan yet.");

        let external = lms.active_loans(&msisdn).await.unwrap()[0].external_id.clone().unwrap();
        let mut phone = Phone::dial(&app, via, &msisdn).await;
        phone.walk(&["Repay", "7-Day", "Other amount", "2500", "Confirm"]).await;
        eventually(10, "the repayment lands", || {
            let lms = lms.clone();
            let external = external.clone();
            async move { (lms.list_repayments(&external, 1, 10).await.unwrap().items.len() == 1).then_some(()) }
        })
        .await;
        let mut phone = Phone::dial(&app, via, &msisdn).await;
        phone.walk(&["My payments", "7-Day"]).await;
        let today = app.app_lms.business_today().format("%d/%m/%Y").to_string();
        assert_eq!(phone.screen.text, format!("Recent payments:\n{today}: 2,500\n0. Back"));
    }
}

#[tokio::test]
async fn the_language_choice_persists_for_the_next_dial_in_every_dialect() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(500 + i as u32);
        let mut phone = registered(&app, via, &msisdn).await;
        phone.walk(&["Language", "Kiswahili"]).await;
        assert_eq!(phone.screen.text, "Mkopo\n1. Kopa\n2. Salio la mkopo\n3. Lipa mkopo\n4. Malipo yangu\n5. Lugha");
        let mut phone = Phone::dial(&app, via, &msisdn).await;
        assert!(phone.screen.text.starts_with("Mkopo\n1. Kopa"), "{via:?}: {}", phone.screen.text);
        phone.walk(&["Lugha", "English"]).await;
        assert!(phone.screen.text.starts_with("Mkopo\n1. Borrow"));
    }
}

#[tokio::test]
async fn a_deep_dial_picks_a_home_menu_option_when_enabled_and_is_ignored_otherwise() {
    for enabled in [true, false] {
        let app = TestApp::spawn_on_redis(|s| s.ussd.deep_dial = enabled).await;
        let msisdn = Via::Hubtel.msisdn(950 + u32::from(enabled));
        registered(&app, Via::Hubtel, &msisdn).await;
        let phone = Phone::unseen(&app, Via::Hubtel, &msisdn);
        let (status, body) =
            phone.post_raw("", super::phone::JSON, phone.hubtel_json("Initiation", 1, "*713*20*2#")).await;
        assert_eq!(status, 200);
        let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
        let expected = if enabled { "You have no active loan." } else { "Mkopo\n1. Borrow\n2. My balance" };
        assert!(reply["Message"].as_str().unwrap().starts_with(expected), "deep dial {enabled}: {body}");
    }
}
