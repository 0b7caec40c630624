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
            phone.screen.text.starts_with("Choose a loan:\n1. Halotel 7-Day Loan (TZS 1,000-50,000)"),
            "{}",
            phone.screen.text
        );
        phone.walk(&["7-Day", "Other amount", "10000"]).await;
        assert_eq!(
            phone.screen.text,
            "Borrow TZS 10,000\nCharges: TZS 1,100\nRepay TZS 11,100 by {due}\n1. Confirm\n2. Cancel\n0. Back"
                .replace("{due}", &due_in_days(&app, 7)),
        );
        phone.walk(&["Confirm"]).await;
        assert!(phone.screen.end, "{via:?}");
        assert!(
            phone.screen.text.starts_with("TZS 10,000 has been sent to your wallet. Repay TZS 11,100 by"),
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
async fn balance_shows_the_one_loan_with_everything_on_one_screen_in_every_dialect() {
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
            format!(
                "Halotel 7-Day Loan\nOwed: TZS 22,200\nNext: TZS 22,200 by {}\n1. Repay\n0. Back",
                due_in_days(&app, 7)
            )
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
        // One loan: nothing to choose, straight to how much.
        phone.walk(&["Repay"]).await;
        assert_eq!(
            phone.screen.text,
            "Owed: TZS 11,100\n1. Full TZS 11,100\n2. Next TZS 11,100\n3. Other amount\n0. Back"
        );
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
        phone.walk(&["My payments"]).await;
        assert_eq!(phone.screen.text, "No payments on this loan yet.");

        let external = lms.active_loans(&msisdn).await.unwrap()[0].external_id.clone().unwrap();
        let mut phone = Phone::dial(&app, via, &msisdn).await;
        phone.walk(&["Repay", "Other amount", "2500", "Confirm"]).await;
        eventually(10, "the repayment lands", || {
            let lms = lms.clone();
            let external = external.clone();
            async move { (lms.list_repayments(&external, 1, 10).await.unwrap().items.len() == 1).then_some(()) }
        })
        .await;
        let mut phone = Phone::dial(&app, via, &msisdn).await;
        phone.walk(&["My payments"]).await;
        let today = app.app_lms.business_today().format("%d/%m/%Y").to_string();
        assert_eq!(phone.screen.text, format!("Recent payments:\n{today}: TZS 2,500\n0. Back"));
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

#[tokio::test]
async fn my_payments_shows_the_payment_that_closed_a_loan_beside_the_active_one_in_every_dialect() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    let today = app.app_lms.business_today().format("%d/%m/%Y").to_string();
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(1300 + i as u32);
        let mut phone = registered(&app, via, &msisdn).await;
        borrow(&mut phone, "10000").await;
        let external = lms.active_loans(&msisdn).await.unwrap()[0].external_id.clone().unwrap();
        let mut phone = Phone::dial(&app, via, &msisdn).await;
        phone.walk(&["Repay", "Full", "Confirm"]).await;
        assert!(phone.screen.text.starts_with("You will get a wallet prompt to pay TZS 11,100."), "{via:?}");
        eventually(10, "the full repayment closes the loan", || {
            let (lms, external) = (lms.clone(), external.clone());
            async move { lms.get_loan(&external).await.unwrap().filter(|l| !l.is_active()).map(|_| ()) }
        })
        .await;

        // The closed loan is the only one: its payments, with the one that closed it.
        let mut phone = Phone::dial(&app, via, &msisdn).await;
        phone.walk(&["My payments"]).await;
        assert_eq!(phone.screen.text, format!("Recent payments:\n{today}: TZS 11,100\n0. Back"), "{via:?}");

        // With a new loan beside it, both are offered and the repaid one still shows its payment.
        let mut phone = Phone::dial(&app, via, &msisdn).await;
        borrow(&mut phone, "5000").await;
        let mut phone = Phone::dial(&app, via, &msisdn).await;
        phone.walk(&["My payments"]).await;
        assert_eq!(
            phone.screen.text,
            "Payments for which loan?\n1. Halotel 7-Day Loan: TZS 5,550\n2. Halotel 7-Day Loan: repaid\n0. Back",
            "{via:?}"
        );
        phone.walk(&["2"]).await;
        assert_eq!(phone.screen.text, format!("Recent payments:\n{today}: TZS 11,100\n0. Back"), "{via:?}");
    }
}

#[tokio::test]
async fn a_swahili_subscriber_reads_every_product_in_swahili_and_money_one_way() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms_names = ["Halotel 7-Day Loan", "Halotel 30-Day Loan", "Halotel 3-Month Loan"];
    let msisdn = Via::Beem.msisdn(1310);
    let mut phone = registered(&app, Via::Beem, &msisdn).await;
    phone.walk(&["Language", "Kiswahili"]).await;
    let mut seen = Vec::new();
    phone.walk(&["Kopa"]).await;
    seen.push(phone.screen.text.clone());
    phone.walk(&["Siku 7"]).await;
    seen.push(phone.screen.text.clone());
    phone.walk(&["Kiasi kingine", "10000"]).await;
    seen.push(phone.screen.text.clone());
    phone.walk(&["Thibitisha"]).await;
    seen.push(phone.screen.text.clone());
    let mut phone = Phone::dial(&app, Via::Beem, &msisdn).await;
    phone.walk(&["Salio"]).await;
    seen.push(phone.screen.text.clone());
    phone.walk(&["Lipa", "Kiasi kingine", "1000"]).await;
    seen.push(phone.screen.text.clone());
    assert_eq!(seen[0].lines().nth(1), Some("1. Mkopo wa Halotel wa Siku 7 (TZS 1,000-50,000)"), "{seen:#?}");
    assert!(seen[4].starts_with("Mkopo wa Halotel wa Siku 7\nDeni: TZS 11,100\n"), "{seen:#?}");
    assert_eq!(seen[5], "Lipa TZS 1,000 kwa Mkopo wa Halotel wa Siku 7?\n1. Thibitisha\n2. Ghairi\n0. Rudi");
    for screen in &seen {
        assert!(!lms_names.iter().any(|name| screen.contains(name)), "an English product name: {screen}");
    }
}
