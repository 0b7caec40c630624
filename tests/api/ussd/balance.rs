//! My balance as a subscriber uses it: one loan on one screen, several as rows that open each loan,
//! Repay from there, and what the journey costs the LMS; a product whose range is one amount.

use mkopo::lms::NewLoan;
use mkopo::momo::reference::{Reference, ReferenceKind};
use mkopo::sandbox::lms::{Fault, FaultKind};

use super::journeys::{borrow, registered};
use super::phone::{Phone, Via, ALL};
use crate::helpers::{dec, eventually, TestApp};

/// LMS calls the gateway made to `endpoint` so far, by its request-duration histogram.
async fn lms_calls(app: &TestApp, endpoint: &str) -> u64 {
    let text = reqwest::get(format!("{}/metrics", app.base)).await.unwrap().text().await.unwrap();
    let prefix = format!("mkopo_lms_request_duration_seconds_count{{endpoint=\"{endpoint}\",");
    text.lines().filter(|l| l.starts_with(&prefix)).filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok()).sum()
}

async fn all_lms_calls(app: &TestApp) -> u64 {
    let text = reqwest::get(format!("{}/metrics", app.base)).await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("mkopo_lms_request_duration_seconds_count{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test]
async fn a_loan_opened_from_the_balance_list_shows_everything_and_is_repaid_from_there_in_every_dialect() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(1100 + i as u32);
        let mut phone = registered(&app, via, &msisdn).await;
        borrow(&mut phone, "10000").await;
        // A second loan the lender's back office opened (the USSD borrow allows one at a time), under
        // a reference of the gateway's shape so a payment can name it.
        let second = Reference::mint(ReferenceKind::Loan, 900_000_000 + i as u64).unwrap().as_str().to_owned();
        let loan = NewLoan {
            customer_external_id: msisdn.clone(),
            product_id: "2".into(),
            principal: dec("5000"),
            external_id: second.clone(),
        };
        lms.create_loan(&loan).await.unwrap();

        let mut phone = Phone::dial(&app, via, &msisdn).await;
        phone.walk(&["My balance"]).await;
        assert_eq!(
            phone.screen.text,
            "Your 2 loans:\n1. Halotel 7-Day Loan: TZS 11,100\n2. Halotel 30-Day Loan: TZS 5,750\n0. Back",
            "{via:?}"
        );
        phone.walk(&["30-Day"]).await;
        let due = (app.app_lms.business_today() + chrono::Days::new(30)).format("%d/%m/%Y").to_string();
        assert_eq!(
            phone.screen.text,
            format!("Halotel 30-Day Loan\nOwed: TZS 5,750\nNext: TZS 5,750 by {due}\n1. Repay\n0. Back"),
            "{via:?}"
        );
        // Back returns to the list, and the row opens the same screen again.
        phone.walk(&["0"]).await;
        assert!(phone.screen.text.starts_with("Your 2 loans:"), "{via:?}: {}", phone.screen.text);
        phone.walk(&["30-Day", "Repay"]).await;
        assert_eq!(
            phone.screen.text, "Owed: TZS 5,750\n1. Full TZS 5,750\n2. Next TZS 5,750\n3. Other amount\n0. Back",
            "{via:?}"
        );
        phone.walk(&["Other amount", "1000"]).await;
        assert_eq!(phone.screen.text, "Pay TZS 1,000 for Halotel 30-Day Loan?\n1. Confirm\n2. Cancel\n0. Back");
        phone.walk(&["Confirm"]).await;
        assert!(phone.screen.text.starts_with("You will get a wallet prompt to pay TZS 1,000."), "{via:?}");

        eventually(10, "the payment reaches the loan chosen on the balance screen", || {
            let (lms, second) = (lms.clone(), second.clone());
            async move {
                let loan = lms.get_loan(&second).await.unwrap()?;
                (loan.total_outstanding() == Some(dec("4750"))).then_some(())
            }
        })
        .await;
        let first = lms.active_loans(&msisdn).await.unwrap();
        let first = first.iter().find(|l| l.external_id.as_deref() != Some(second.as_str())).unwrap();
        assert_eq!(first.total_outstanding(), Some(dec("11100")), "{via:?}: the other loan is untouched");
    }
}

#[tokio::test]
async fn the_balance_journey_reads_the_loans_once_on_the_first_hop_and_never_again() {
    // As deployed (config/base.toml); the local profile asks the sandbox on every dial.
    let app = TestApp::spawn_on_redis(|s| s.ussd.registered_ttl = std::time::Duration::from_secs(24 * 3600)).await;
    let msisdn = Via::AfricasTalking.msisdn(1110);
    registered(&app, Via::AfricasTalking, &msisdn).await;
    eventually(5, "the registration dial's prefetch", || async {
        (lms_calls(&app, "GET /v1/loans").await >= 1).then_some(())
    })
    .await;
    // Seeded in the sandbox directly, so the gateway makes no call for it.
    app.sandbox.seed_loan_without_external_id(&msisdn, "1", dec("5000")).unwrap();
    let (loans, customer, all) = (
        lms_calls(&app, "GET /v1/loans").await,
        lms_calls(&app, "GET /v1/customers/external/{id}").await,
        all_lms_calls(&app).await,
    );

    let mut phone = Phone::dial(&app, Via::AfricasTalking, &msisdn).await;
    // The first hop's prefetch runs in the background; once it is in, the balance screen asks nothing.
    eventually(5, "the first hop's loan prefetch", || async {
        (lms_calls(&app, "GET /v1/loans").await == loans + 1).then_some(())
    })
    .await;
    phone.walk(&["My balance"]).await;
    assert!(phone.screen.text.starts_with("Halotel 7-Day Loan\nOwed: TZS 5,550\n"), "{}", phone.screen.text);
    phone.walk(&["Repay"]).await;
    assert!(phone.screen.text.starts_with("Owed: TZS 5,550\n1. Full"), "{}", phone.screen.text);
    assert_eq!(lms_calls(&app, "GET /v1/loans").await, loans + 1, "one list call, on the first hop");
    assert_eq!(
        lms_calls(&app, "GET /v1/customers/external/{id}").await,
        customer,
        "no lookup: the registration dial cached the fact (ussd.registered_ttl)"
    );
    assert_eq!(all_lms_calls(&app).await, all + 1, "nothing else: the balance journey costs one call");
}

#[tokio::test]
async fn a_product_of_one_amount_shows_it_once_and_goes_straight_to_the_quote_in_every_dialect() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let lms = app.sandbox_client();
    for (i, via) in ALL.into_iter().enumerate() {
        // The 3-month loan starts at 50,000, which is also the subscriber's whole limit.
        let msisdn = via.msisdn(1120 + i as u32);
        let mut phone = registered(&app, via, &msisdn).await;
        phone.walk(&["Borrow"]).await;
        assert!(
            phone.screen.text.contains("3. Halotel 3-Month Loan (TZS 50,000)\n"),
            "{via:?}: the bound once: {}",
            phone.screen.text
        );
        phone.walk(&["3-Month"]).await;
        assert!(
            phone.screen.text.starts_with("Borrow TZS 50,000\nCharges: TZS "),
            "{via:?}: no amount to choose: {}",
            phone.screen.text
        );
        assert!(!phone.screen.text.contains("Other amount"), "{via:?}");
        // Back leads to the products, not to an amount screen that was never shown.
        phone.walk(&["0"]).await;
        assert!(phone.screen.text.starts_with("Choose a loan:"), "{via:?}: {}", phone.screen.text);
        phone.walk(&["3-Month", "Confirm"]).await;
        assert!(phone.screen.text.starts_with("TZS 50,000 has been sent to your wallet."), "{via:?}");
        assert_eq!(lms.active_loans(&msisdn).await.unwrap()[0].principal, dec("50000"));
    }
}

#[tokio::test]
async fn a_new_dial_never_shows_the_loans_an_earlier_dial_cached() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let msisdn = Via::Beem.msisdn(1130);
    registered(&app, Via::Beem, &msisdn).await;
    eventually(5, "the registration dial's prefetch (no loans)", || async {
        (lms_calls(&app, "GET /v1/loans").await >= 1).then_some(())
    })
    .await;
    app.sandbox.seed_loan_without_external_id(&msisdn, "1", dec("5000")).unwrap();
    // This dial's prefetch is slow: the balance screen comes first and must not use the old empty list.
    app.sandbox.inject_fault(Fault { delay_ms: 1500, ..Fault::new("GET", "/v1/loans", FaultKind::Delay) });
    let mut phone = Phone::dial(&app, Via::Beem, &msisdn).await;
    phone.walk(&["My balance"]).await;
    assert!(phone.screen.text.starts_with("Halotel 7-Day Loan\nOwed: TZS 5,550\n"), "{}", phone.screen.text);
}
