//! The gateway against the LMS as its partner documents it, in **both** documentation generations: real
//! HTTP hops and signed callbacks into a running app, the sandbox LMS switched to the generation and to
//! each documented quirk (loans without externalId, empty `nextDueDate`, an incomplete product, an
//! ignored `idempotencyKey`, no rollback route, an interest rule other than the flat quote).

use std::time::Duration;

use mkopo::config::Settings;
use mkopo::domain::Msisdn;
use mkopo::lms::{Generation, LoanKey, NewRepayment};
use mkopo::momo::records::{EventRecord, EventState, PartStatus};
use mkopo::momo::saga::{self, Phase};
use mkopo::momo::Reference;
use mkopo::sandbox::lms::{InterestRule, SandboxGeneration, SeedProduct};
use mkopo::sandbox::wallet::Behaviour;
use serde_json::json;

use crate::helpers::*;
use crate::money::{event_state, payment_body, subscriber_with_loan, tzs, Delivery};
use crate::ussd::journeys::registered;
use crate::ussd::phone::{Phone, Via};

const BOTH: [Generation; 2] = [Generation::Current, Generation::Legacy];

/// An app on Redis whose LMS client and built-in sandbox both speak `generation`.
async fn app_of(generation: Generation, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    TestApp::spawn_on_redis(|s| {
        s.lms.generation = generation;
        s.sandbox.lms.generation = match generation {
            Generation::Current => SandboxGeneration::Current,
            Generation::Legacy => SandboxGeneration::Legacy,
        };
        tweak(s);
    })
    .await
}

/// A loan reference as the gateway mints them (check digit included), from a range no saga reaches.
fn loan_reference(n: u64) -> String {
    mkopo::momo::Reference::mint(mkopo::momo::reference::ReferenceKind::Loan, 5_000_000 + n)
        .unwrap()
        .as_str()
        .to_owned()
}

async fn metrics_text(app: &TestApp) -> String {
    reqwest::get(format!("{}/metrics", app.base)).await.unwrap().text().await.unwrap()
}

async fn record(app: &TestApp, key: &str) -> EventRecord {
    EventRecord::from_bytes(&app.money.store.load_event(key).await.unwrap().unwrap()).unwrap()
}

async fn settled_event(app: &TestApp, key: &str, want: EventState) {
    eventually(15, &format!("{key} to reach {want:?}"), || async {
        (event_state(&app.money, key).await == Some(want)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_loan_without_external_id_shows_on_the_balance_and_takes_a_payment_by_msisdn() {
    for (i, generation) in BOTH.into_iter().enumerate() {
        let app = app_of(generation, |_| {}).await;
        let msisdn = Via::AfricasTalking.msisdn(700 + i as u32);
        registered(&app, Via::AfricasTalking, &msisdn).await;
        let id = app.sandbox.seed_loan_without_external_id(&msisdn, "1", dec("5000")).unwrap();

        let mut phone = Phone::dial(&app, Via::AfricasTalking, &msisdn).await;
        phone.walk(&["My balance"]).await;
        assert!(
            phone.screen.text.starts_with("Halotel 7-Day Loan\nOwed: TZS 5,550\n"),
            "{generation:?}: {}",
            phone.screen.text
        );

        let receipt = format!("HPNOEXT{i:03}");
        let body = payment_body(&receipt, "", &msisdn, "550.00");
        assert_eq!(Delivery { base: app.base.clone() }.deliver(&format!("evt_{receipt}"), &body).await.0, 200);
        let key = format!("event:sandbox:{receipt}");
        settled_event(&app, &key, EventState::Posted).await;
        let lms = app.sandbox_client();
        let loan = lms.read_loan(&LoanKey::Id(id.clone())).await.unwrap().unwrap();
        assert_eq!(loan.total_outstanding(), Some(dec("5000")), "{generation:?}: posted by LMS id");
        assert_eq!(record(&app, &key).await.plan[0].part.loan(), LoanKey::Id(id));
        app.stop().await;
    }
}

#[tokio::test]
async fn a_payment_referencing_a_settled_loan_goes_to_suspense_not_a_decode_error() {
    for (i, generation) in BOTH.into_iter().enumerate() {
        let app = app_of(generation, |s| s.sandbox.lms.quirks.empty_next_due = true).await;
        let lms = app.sandbox_client();
        let (msisdn, reference) = (format!("25571400{:04}", 10 + i), loan_reference(910 + i as u64));
        subscriber_with_loan(&lms, &msisdn, &reference).await;
        let pay_all = NewRepayment {
            transaction_amount: dec("11100"),
            transaction_date: app.sandbox.today(),
            idempotency_key: "PAID-IN-FULL".into(),
        };
        lms.post_repayment(&LoanKey::External(reference.clone()), &pay_all).await.unwrap();
        let settled = lms.get_loan(&reference).await.unwrap().unwrap();
        assert!(settled.status.is_settled() && settled.next_due_date.is_none(), "{generation:?}");

        let receipt = format!("HPSETTLED{i}");
        let body = payment_body(&receipt, &reference, &msisdn, "100.00");
        assert_eq!(Delivery { base: app.base.clone() }.deliver(&format!("evt_{receipt}"), &body).await.0, 200);
        let key = format!("event:sandbox:{receipt}");
        settled_event(&app, &key, EventState::Suspense).await;
        let parked = record(&app, &key).await;
        assert_eq!(parked.suspense.as_deref(), Some("lms_failed_precondition"), "{generation:?}: {parked:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn borrowing_goes_on_while_one_product_is_incomplete() {
    for (i, generation) in BOTH.into_iter().enumerate() {
        let app = app_of(generation, |s| {
            let mut products = SeedProduct::defaults();
            products[1].min_principal = None;
            s.sandbox.lms.products = Some(products);
        })
        .await;
        let msisdn = Via::Beem.msisdn(710 + i as u32);
        let mut phone = registered(&app, Via::Beem, &msisdn).await;
        phone.walk(&["Borrow"]).await;
        let text = phone.screen.text.clone();
        assert!(
            text.contains("7-Day") && text.contains("3-Month") && !text.contains("30-Day"),
            "{generation:?}: {text}"
        );
        phone.walk(&["7-Day", "Other amount", "5000", "Confirm"]).await;
        assert!(phone.screen.text.starts_with("TZS 5,000 has been sent to your wallet."), "{}", phone.screen.text);
        let metrics = metrics_text(&app).await;
        assert!(metrics.contains(r#"mkopo_lms_products_skipped_total{product="2",reason="no_bounds"} 1"#), "{metrics}");
        app.stop().await;
    }
}

/// An app whose wallet fails every payout to `msisdn`, and a disbursement to that subscriber.
async fn failing_payout(generation: Generation, msisdn: &str, payout_delay: Duration) -> (TestApp, Reference) {
    let rule_msisdn = msisdn.to_owned();
    let app = app_of(generation, move |s| {
        s.sandbox.wallet.payout_delay = payout_delay;
        s.sandbox.wallet.rules.push(rule(
            &rule_msisdn,
            Some("payout"),
            Behaviour::Fail { code: "recipient_invalid".into() },
        ));
    })
    .await;
    app.sandbox_client().ensure_customer(msisdn).await.unwrap();
    let subscriber = Msisdn::parse(msisdn, "255").unwrap();
    let reference = saga::disburse(&app.money, &subscriber, "1", tzs("10000"), None).await.unwrap();
    (app, reference)
}

async fn ended(app: &TestApp, reference: &Reference) -> saga::Disbursement {
    eventually(15, "the saga to end", || async {
        let (_, saga) = saga::load(&app.money, reference).await.unwrap().unwrap();
        saga.phase.is_terminal().then_some(saga)
    })
    .await
}

#[tokio::test]
async fn a_failed_payout_on_an_lms_without_the_rollback_route_leaves_no_active_loan() {
    for (i, generation) in BOTH.into_iter().enumerate() {
        let msisdn = format!("25571400{:04}", 20 + i);
        let (app, reference) = failing_payout(generation, &msisdn, Duration::from_millis(50)).await;
        let saga = ended(&app, &reference).await;
        assert_eq!(saga.phase, Phase::RolledBack, "{generation:?}: {:?}", saga.reason);
        let lms = app.sandbox_client();
        assert!(lms.get_loan(reference.as_str()).await.unwrap().is_none(), "{generation:?}: the LMS no longer has it");
        assert!(lms.active_loans(&msisdn).await.unwrap().is_empty());
        app.stop().await;
    }
}

#[tokio::test]
async fn a_loan_the_lms_cannot_undo_goes_to_reconciliation_never_rolled_back() {
    for (i, generation) in BOTH.into_iter().enumerate() {
        let msisdn = format!("25571400{:04}", 30 + i);
        let (app, reference) = failing_payout(generation, &msisdn, Duration::from_millis(600)).await;
        // A repayment lands before the payout fails: the LMS refuses to undo a loan with repayments.
        let lms = app.sandbox_client();
        let loan = eventually(10, "the loan", || async { lms.get_loan(reference.as_str()).await.unwrap() }).await;
        let pay = NewRepayment {
            transaction_amount: dec("100"),
            transaction_date: app.sandbox.today(),
            idempotency_key: "EARLY".into(),
        };
        lms.post_repayment(&loan.key(), &pay).await.unwrap();
        let saga = ended(&app, &reference).await;
        assert_eq!(saga.phase, Phase::RollbackBlocked, "{generation:?}: {:?}", saga.reason);
        assert!(lms.get_loan(reference.as_str()).await.unwrap().unwrap().is_active(), "the LMS still shows it Active");
        let recon = app.money.store.list_members(mkopo::momo::store::OpsList::Reconciliation).await.unwrap();
        assert!(recon.iter().any(|(m, _)| m == reference.as_str()), "{generation:?}: on the reconciliation list");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_repayment_whose_first_attempt_timed_out_after_the_lms_committed_is_posted_once() {
    // Current generation with the key ignored, and the legacy generation (which never honours it).
    for (i, generation) in BOTH.into_iter().enumerate() {
        let app = app_of(generation, |s| {
            s.sandbox.lms.quirks.ignore_idempotency_key = true;
            s.lms.worker_request_timeout = Duration::from_millis(400);
        })
        .await;
        let lms = app.sandbox_client();
        let (msisdn, reference) = (format!("25571400{:04}", 40 + i), loan_reference(940 + i as u64));
        subscriber_with_loan(&lms, &msisdn, &reference).await;
        // The write lands; its answer comes after the worker's timeout.
        let fault = json!({ "method": "POST", "path": "/v1/loans/external/*/repayments", "kind": "commit_then_delay", "delayMs": 1200 });
        let hooked = reqwest::Client::new()
            .post(format!("{}/sandbox/lms/sandbox/faults", app.base))
            .json(&fault)
            .send()
            .await
            .unwrap();
        assert!(hooked.status().is_success());

        let receipt = format!("HPTIMEOUT{i}");
        let body = payment_body(&receipt, &reference, &msisdn, "1000.00");
        assert_eq!(Delivery { base: app.base.clone() }.deliver(&format!("evt_{receipt}"), &body).await.0, 200);
        let key = format!("event:sandbox:{receipt}");
        settled_event(&app, &key, EventState::Posted).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let postings = lms.repayments_of(&LoanKey::External(reference.clone())).await.unwrap().unwrap();
        assert_eq!(postings.len(), 1, "{generation:?}: exactly one posting: {postings:?}");
        let loan = lms.get_loan(&reference).await.unwrap().unwrap();
        assert_eq!(loan.total_outstanding(), Some(dec("10100")), "{generation:?}");
        let part = &record(&app, &key).await.plan[0].status;
        assert!(
            matches!(part, PartStatus::Posted { found_by: Some(how), .. } if how == "amount_date"),
            "{generation:?}: found on the loan, not resent: {part:?}"
        );
        assert!(metrics_text(&app).await.contains(r#"mkopo_lms_repayments_recovered_total{how="amount_date"} 1"#));
        app.stop().await;
    }
}

#[tokio::test]
async fn the_outcome_screen_shows_what_the_lms_charged_when_it_differs_from_the_quote() {
    for (i, generation) in BOTH.into_iter().enumerate() {
        let app = app_of(generation, |s| {
            let mut products = SeedProduct::defaults();
            // 11 basis points a day: 10000 over 7 days is charged 77, where the product-terms quote says 1,100.
            products[0].interest_rule = InterestRule::DailyBasisPoints;
            s.sandbox.lms.products = Some(products);
        })
        .await;
        let msisdn = Via::Hubtel.msisdn(720 + i as u32);
        let mut phone = registered(&app, Via::Hubtel, &msisdn).await;
        phone.walk(&["Borrow", "7-Day", "Other amount", "10000"]).await;
        assert!(phone.screen.text.contains("Repay TZS 11,100 by"), "the quote: {}", phone.screen.text);
        phone.walk(&["Confirm"]).await;
        assert!(
            phone.screen.text.starts_with("TZS 10,000 has been sent to your wallet. Repay TZS 10,077 by"),
            "{generation:?}: the LMS's figures: {}",
            phone.screen.text
        );
        let metrics = metrics_text(&app).await;
        assert!(metrics.contains(r#"mkopo_loan_quote_mismatch_total{product="1",field="total"} 1"#), "{metrics}");
        assert!(metrics.contains(r#"mkopo_loan_quote_mismatch_total{product="1",field="due"} 0"#), "{metrics}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_configured_quote_rule_that_matches_the_lms_raises_no_mismatch() {
    let app = app_of(Generation::Current, |s| {
        let mut products = SeedProduct::defaults();
        products[0].interest_rule = InterestRule::DailyBasisPoints;
        s.sandbox.lms.products = Some(products);
        s.lms.quotes.insert("1".into(), toml::from_str("rule = \"daily\"\nrate_percent = \"0.11\"").unwrap());
    })
    .await;
    let msisdn = Via::AfricasTalking.msisdn(730);
    let mut phone = registered(&app, Via::AfricasTalking, &msisdn).await;
    phone.walk(&["Borrow", "7-Day", "Other amount", "10000"]).await;
    assert!(phone.screen.text.contains("Charges: TZS 77\nRepay TZS 10,077 by"), "{}", phone.screen.text);
    phone.walk(&["Confirm"]).await;
    assert!(phone.screen.text.contains("Repay TZS 10,077 by"), "{}", phone.screen.text);
    assert!(metrics_text(&app).await.contains(r#"mkopo_loan_quote_mismatch_total{product="1",field="total"} 0"#));
    app.stop().await;
}
