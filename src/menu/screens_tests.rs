//! Every screen of every journey as reviewed text (`tests/snapshots/screens.{en,sw}.txt`), and what the
//! Swahili screens must never show.

use super::*;
use crate::ussd::ScreenBudget;

fn menu() -> Menu {
    Menu::load(None, &[], NavKeys::default(), Formats::default(), ScreenBudget::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn render(m: &Menu, lang: &str, node: &str, slots: Slots) -> Screen {
    let state = State {
        node: node.to_owned(),
        lang: lang.to_owned(),
        slots,
        page: 0,
        history: vec![m.file().home.clone()],
        error: None,
        origin: None,
    };
    m.render(&state, ScreenBudget::default())
}

/// Screens whose look depends on the data, beside their widest form: a product of one amount, a loan
/// not overdue, a loan already repaid in My payments.
fn variants() -> Vec<(&'static str, &'static str, Slots)> {
    let mut fixed = sample_slots();
    let mut product = fixed.list("products")[0].clone();
    product.insert("max".into(), Value::Amount(50_000.into()));
    fixed.set("products", Value::List(vec![product]));
    let mut on_time = sample_slots();
    on_time.set("loan.overdue", Value::Flag(false));
    let mut repaid = sample_slots();
    let mut loans = repaid.list("loans").to_vec();
    loans[1].insert("closed".into(), Value::Flag(true));
    loans[1].insert("outstanding".into(), Value::Amount(0.into()));
    repaid.set("loans", Value::List(loans));
    vec![
        ("borrow-products", "one amount", fixed),
        ("balance-loan", "on time", on_time),
        ("history-loans", "one repaid", repaid),
    ]
}

/// Every screen of every journey, rendered at its widest in one language, then the variants.
fn all_screens(m: &Menu, lang: &str) -> String {
    let mut out = String::new();
    let mut add = |id: &str, label: String, screen: Screen| {
        let count = crate::ussd::count(&screen.text);
        let kind = if screen.end { "END" } else { "CON" };
        out.push_str(&format!("## {id}{label} [{kind}, {} units]\n{}\n\n", count.units, screen.text));
    };
    for (id, node) in &m.file().nodes {
        if !matches!(node, Node::Task { .. }) {
            add(id, String::new(), render(m, lang, id, sample_slots()));
        }
    }
    for (id, label, slots) in variants() {
        add(id, format!(" ({label})"), render(m, lang, id, slots));
    }
    for id in check::SYSTEM_MESSAGES.iter().filter(|id| id.starts_with("msg-")) {
        let screen = m.message_screen(lang, id, &Slots::new());
        out.push_str(&format!("## {id} [END]\n{}\n\n", screen.text));
    }
    out
}

/// Snapshots of every screen in both languages: a wording change shows in review. `UPDATE_SNAPSHOTS=1`
/// rewrites them.
#[test]
fn every_screen_matches_its_reviewed_snapshot_in_both_languages() {
    let m = menu();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    for lang in ["en", "sw"] {
        let path = dir.join(format!("screens.{lang}.txt"));
        let actual = all_screens(&m, lang);
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_SNAPSHOTS=1", path.display()));
        if expected != actual {
            let first = expected.lines().zip(actual.lines()).position(|(a, b)| a != b).unwrap_or(0);
            panic!(
                "{} differs from the rendered screens at line {}:\n  expected: {:?}\n  actual:   {:?}\n\
                 review the change and run with UPDATE_SNAPSHOTS=1",
                path.display(),
                first + 1,
                expected.lines().nth(first),
                actual.lines().nth(first)
            );
        }
    }
}

/// The sandbox's products by LMS id and the English names the LMS gives them.
const LMS_PRODUCTS: [(&str, &str); 3] =
    [("1", "Halotel 7-Day Loan"), ("2", "Halotel 30-Day Loan"), ("3", "Halotel 3-Month Loan")];

/// The sample slots with every product and loan named `name` by the LMS, as product `id`.
fn named(id: &str, name: &str) -> Slots {
    let product = Value::Product(id.to_owned(), name.to_owned());
    let mut slots = sample_slots();
    for list in ["products", "loans"] {
        let field = if list == "products" { "name" } else { "product" };
        let mut rows = slots.list(list).to_vec();
        for row in &mut rows {
            row.insert(field.to_owned(), product.clone());
        }
        slots.set(list, Value::List(rows));
    }
    slots.set("product.name", product.clone());
    slots.set("loan.product", product);
    slots
}

#[test]
fn no_swahili_screen_shows_the_lms_english_name_of_a_product_swahili_names() {
    let m = menu();
    for (id, english) in LMS_PRODUCTS {
        assert!(m.catalog().has("sw", &product_message(id)), "sw.ftl names product {id}");
        for (node, kind) in &m.file().nodes {
            if matches!(kind, Node::Task { .. }) {
                continue;
            }
            let screen = render(&m, "sw", node, named(id, english));
            assert!(!screen.text.contains(english), "`{node}` in sw shows {english:?}:\n{}", screen.text);
        }
    }
    // Without a Swahili name, the LMS's own name is shown rather than nothing.
    let screen = render(&m, "sw", "repay-confirm", named("99", "Partner Loan"));
    assert!(screen.text.contains("Partner Loan"), "{}", screen.text);
}

#[test]
fn the_shipped_products_are_named_in_every_language() {
    let ids: Vec<String> = LMS_PRODUCTS.iter().map(|(id, _)| (*id).to_owned()).collect();
    assert!(menu().untranslated_products(&ids).is_empty());
    let missing = menu().untranslated_products(&["4".to_owned()]);
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert!(missing[1].starts_with("product 4 has no name in sw.ftl (`product-4`)"), "{missing:?}");
}
