//! The screen settings end to end: a product's own presets, amounts without the currency, another date
//! format; and the boot's refusal of the ones that cannot work.

use mkopo::config::{validate, Settings};

use super::journeys::registered;
use super::phone::Via;
use crate::helpers::TestApp;

#[tokio::test]
async fn a_products_own_presets_bare_amounts_and_another_date_format_show_on_every_screen() {
    let app = TestApp::spawn_on_redis(|s| {
        s.ussd.amount_presets_by_product.insert("1".into(), vec![2000, 5000, 200_000]);
        s.ussd.show_currency = false;
        s.ussd.date_format = "%Y-%m-%d".into();
    })
    .await;
    let msisdn = Via::AfricasTalking.msisdn(1400);
    let mut phone = registered(&app, Via::AfricasTalking, &msisdn).await;
    phone.walk(&["Borrow"]).await;
    assert!(phone.screen.text.contains("1. Halotel 7-Day Loan (1,000-50,000)\n"), "{}", phone.screen.text);
    phone.walk(&["7-Day"]).await;
    // As listed, without the 200,000 beyond the subscriber's limit; the rule's ends are not added.
    assert_eq!(phone.screen.text, "Halotel 7-Day Loan. Choose amount:\n1. 2,000\n2. 5,000\n3. Other amount\n0. Back");
    phone.walk(&["Other amount"]).await;
    assert_eq!(phone.screen.text, "Enter amount (1,000-50,000):\n0. Back");
    phone.walk(&["0", "Other amount", "5,000"]).await;
    let due = (app.app_lms.business_today() + chrono::Days::new(7)).format("%Y-%m-%d").to_string();
    assert_eq!(
        phone.screen.text,
        format!("Borrow 5,000\nCharges: 550\nRepay 5,550 by {due}\n1. Confirm\n2. Cancel\n0. Back")
    );
}

#[test]
fn presets_for_a_product_not_offered_or_of_no_use_and_an_unknown_date_pattern_are_refused_at_boot() {
    let mut s = Settings::local_defaults();
    s.ussd.amount_presets_by_product.insert("9".into(), vec![1000]);
    s.ussd.amount_presets_by_product.insert("1".into(), vec![1000, 2000, 3000, 4000, 5000]);
    s.ussd.date_format = "%d/%Q".into();
    let problems = validate(&s).join("\n");
    assert!(
        problems.contains(r#"ussd.amount_presets_by_product."9" names a product not in lms.product_ids"#),
        "{problems}"
    );
    assert!(problems.contains(r#"ussd.amount_presets_by_product."1" must list 1 to 4 amounts"#), "{problems}");
    assert!(problems.contains(r#"ussd.date_format "%d/%Q" is not a date pattern"#), "{problems}");
}
