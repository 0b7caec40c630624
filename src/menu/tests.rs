//! Engine transitions over the shipped menu, and the loader's checks over small broken menus.

use super::*;
use crate::ussd::ScreenBudget;

fn menu() -> Menu {
    Menu::load(None, &[], NavKeys::default(), ScreenBudget::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn budget() -> ScreenBudget {
    ScreenBudget::default()
}

fn screen(turn: Turn) -> Screen {
    match turn {
        Turn::Screen(s) => s,
        Turn::Task(t) => panic!("expected a screen, got task {t:?}"),
    }
}

fn task(turn: Turn) -> TaskCall {
    match turn {
        Turn::Task(t) => t,
        Turn::Screen(s) => panic!("expected a task, got screen {}:\n{}", s.node, s.text),
    }
}

/// A registered subscriber at the main menu.
fn at_main(m: &Menu, lang: &str) -> State {
    let (mut state, turn) = m.begin(lang, budget());
    assert_eq!(task(turn).task, Task::Lookup);
    let s = screen(m.resume(&mut state, TaskResult::outcome("registered"), budget()));
    assert_eq!(s.node, "main");
    state
}

fn loans() -> Value {
    let sample = sample_slots();
    sample.get("loans").cloned().unwrap()
}

#[test]
fn the_shipped_menu_passes_every_check() {
    let m = menu();
    assert_eq!(m.catalog().languages(), ["en", "sw"]);
}

#[test]
fn a_new_session_starts_with_the_lookup_task_and_shows_the_main_menu_to_a_registered_subscriber() {
    let m = menu();
    let state = at_main(&m, "en");
    let s = m.render(&state, budget());
    assert_eq!(s.text, "Mkopo\n1. Borrow\n2. My balance\n3. Repay\n4. My payments\n5. Language");
    assert!(!s.end);
}

#[test]
fn an_unregistered_subscriber_is_offered_registration_and_accepting_runs_the_register_task() {
    let m = menu();
    let (mut state, turn) = m.begin("sw", budget());
    task(turn);
    let s = screen(m.resume(&mut state, TaskResult::outcome("unregistered"), budget()));
    assert_eq!(s.node, "register");
    assert!(s.text.starts_with("Karibu Mkopo"), "{}", s.text);
    let t = task(m.answer(&mut state, "1", budget()));
    assert_eq!(t.task, Task::Register);
    let s = screen(m.resume(&mut state, TaskResult::outcome("ok"), budget()));
    assert_eq!(s.node, "registered");
}

#[test]
fn an_invalid_choice_shows_the_same_screen_with_an_error_line_once() {
    let m = menu();
    let mut state = at_main(&m, "en");
    let s = screen(m.answer(&mut state, "9", budget()));
    assert_eq!(s.node, "main");
    assert!(s.text.starts_with("Invalid choice.\nMkopo\n1. Borrow"), "{}", s.text);
    let s = screen(m.answer(&mut state, "", budget()));
    assert!(s.text.starts_with("Invalid choice"), "{}", s.text);
    assert_eq!(task(m.answer(&mut state, "2", budget())).task, Task::Loans);
}

#[test]
fn borrow_walks_products_amounts_quote_and_confirmation_to_the_borrow_task() {
    let m = menu();
    let mut state = at_main(&m, "en");
    assert_eq!(task(m.answer(&mut state, "1", budget())).task, Task::Eligibility);
    let sample = sample_slots();
    let products = sample.get("products").cloned().unwrap();
    let s = screen(m.resume(
        &mut state,
        TaskResult::outcome("eligible").with("products", products).with("currency", Value::Text("TZS".into())),
        budget(),
    ));
    assert_eq!(s.node, "borrow-products");
    assert!(s.text.contains("1. Halotel 3-Month Loan (50,000-1,500,000)"), "{}", s.text);
    assert_eq!(task(m.answer(&mut state, "2", budget())).task, Task::Amounts);
    assert_eq!(state.slots.text("product.id"), Some("3"));
    let amounts = Value::List(vec![
        [("amount".to_owned(), Value::Amount(50_000.into()))].into_iter().collect(),
        [("amount".to_owned(), Value::Amount(100_000.into()))].into_iter().collect(),
    ]);
    let s = screen(m.resume(&mut state, TaskResult::outcome("ok").with("amounts", amounts), budget()));
    assert_eq!(s.text, "Halotel 3-Month Loan. Choose amount (TZS):\n1. 50,000\n2. 100,000\n3. Other amount\n0. Back");
    // "Other amount" takes free text, which is validated against the product's range.
    let s = screen(m.answer(&mut state, "3", budget()));
    assert_eq!(s.node, "borrow-other");
    let s = screen(m.answer(&mut state, "lots", budget()));
    assert!(s.text.starts_with("Enter numbers only.\nEnter amount (50,000-1,500,000 TZS):"), "{}", s.text);
    let s = screen(m.answer(&mut state, "2000000", budget()));
    assert!(s.text.starts_with("The maximum is 1,500,000."), "{}", s.text);
    assert_eq!(task(m.answer(&mut state, "60,000", budget())).task, Task::Quote);
    assert_eq!(state.slots.amount("choice.amount"), Some(60_000.into()));
    let quote = TaskResult::outcome("ok")
        .with("amount", Value::Amount(60_000.into()))
        .with("charges", Value::Amount(10_800.into()))
        .with("total", Value::Amount(70_800.into()))
        .with("due", Value::Date(chrono::NaiveDate::from_ymd_opt(2027, 2, 25).unwrap()));
    let s = screen(m.resume(&mut state, quote, budget()));
    assert_eq!(
        s.text,
        "Borrow TZS 60,000\nCharges: 10,800\nRepay 70,800 by 25/02/2027\n1. Confirm\n2. Cancel\n0. Back"
    );
    assert_eq!(task(m.answer(&mut state, "1", budget())).task, Task::PinGate);
    let t = task(m.resume(&mut state, TaskResult::outcome("off"), budget()));
    assert_eq!((t.task, t.node.as_str()), (Task::Borrow, "borrow-do"));
}

#[test]
fn zero_is_data_on_an_amount_screen_but_back_where_the_screen_opts_in() {
    let m = menu();
    let mut state = at_main(&m, "en");
    task(m.answer(&mut state, "3", budget()));
    let s = screen(m.resume(&mut state, TaskResult::outcome("some").with("loans", loans()), budget()));
    assert_eq!(s.node, "repay-loans");
    screen(m.answer(&mut state, "1", budget()));
    let s = screen(m.answer(&mut state, "3", budget()));
    assert_eq!(s.node, "repay-other");
    // repay-other opts in to Back, so 0 goes back to the previous screen.
    let s = screen(m.answer(&mut state, "0", budget()));
    assert_eq!(s.node, "repay-how");
}

#[test]
fn a_pin_is_handed_to_its_task_and_never_stored_in_the_session() {
    let m = menu();
    let mut state = at_main(&m, "en");
    state.node = "borrow-pin".into();
    let t = task(m.answer(&mut state, "4321", budget()));
    assert_eq!(t.task, Task::PinCheck);
    assert_eq!(t.secret, Some(Secret("4321".into())));
    assert!(!serde_json::to_string(&state).unwrap().contains("4321"));
    assert_eq!(format!("{:?}", t.secret), "Some(Secret(..))");
    let s = screen(m.resume(
        &mut state,
        TaskResult::outcome("wrong").with("tries", Value::Count(2)).with_error("error-pin-wrong"),
        budget(),
    ));
    assert_eq!(s.text, "Wrong PIN. 2 tries left.\nEnter your PIN:");
}

#[test]
fn repay_full_copies_the_outstanding_amount_into_the_confirmation() {
    let m = menu();
    let mut state = at_main(&m, "sw");
    task(m.answer(&mut state, "3", budget()));
    screen(m.resume(&mut state, TaskResult::outcome("some").with("loans", loans()), budget()));
    screen(m.answer(&mut state, "2", budget()));
    let s = screen(m.answer(&mut state, "1", budget()));
    assert_eq!(s.node, "repay-confirm");
    assert_eq!(state.slots.amount("amount"), Some(1_590_000.into()));
    assert_eq!(task(m.answer(&mut state, "1", budget())).task, Task::Repay);
}

#[test]
fn a_long_list_is_paged_with_more_and_back_and_numbers_stay_stable_across_pages() {
    let m = menu();
    let mut state = at_main(&m, "en");
    task(m.answer(&mut state, "2", budget()));
    let many = Value::List(vec![sample_slots().list("loans")[0].clone(); 5]);
    let s = screen(m.resume(&mut state, TaskResult::outcome("some").with("loans", many), budget()));
    assert_eq!(s.node, "balance-list");
    assert!(s.text.contains("98. More"), "{}", s.text);
    assert!(crate::ussd::fits(&s.text, budget()));
    let first_page = s.text.clone();
    let s = screen(m.answer(&mut state, "98", budget()));
    assert_ne!(s.text, first_page);
    assert!(s.text.contains("2. ") || s.text.contains("3. "), "{}", s.text);
    assert_eq!(state.page, 1);
    let s = screen(m.answer(&mut state, "0", budget()));
    assert_eq!(s.text, first_page);
    // Back on the first page leaves the list for the previous screen.
    let s = screen(m.answer(&mut state, "0", budget()));
    assert_eq!(s.node, "main");
}

#[test]
fn home_returns_to_the_main_menu_and_forgets_the_way_back() {
    let m = menu();
    let mut state = at_main(&m, "en");
    screen(m.answer(&mut state, "5", budget()));
    let s = screen(m.answer(&mut state, "00", budget()));
    assert_eq!(s.node, "main");
    assert!(state.history.is_empty());
}

#[test]
fn choosing_a_language_sets_the_slot_the_task_reads() {
    let m = menu();
    let mut state = at_main(&m, "en");
    screen(m.answer(&mut state, "5", budget()));
    let t = task(m.answer(&mut state, "2", budget()));
    assert_eq!(t.task, Task::SetLanguage);
    assert_eq!(state.slots.text("lang"), Some("sw"));
}

#[test]
fn an_unrouted_outcome_ends_the_session_with_the_error_screen() {
    let m = menu();
    let (mut state, _) = m.begin("en", budget());
    let s = screen(m.resume(&mut state, TaskResult::outcome("surprise"), budget()));
    assert!(s.end);
    assert_eq!(s.node, "msg-error");
}

#[test]
fn session_state_stays_small() {
    let m = menu();
    let mut state = at_main(&m, "en");
    task(m.answer(&mut state, "3", budget()));
    screen(m.resume(&mut state, TaskResult::outcome("some").with("loans", loans()), budget()));
    let bytes = serde_json::to_vec(&state).unwrap();
    assert!(bytes.len() < 1024, "{} bytes: {}", bytes.len(), String::from_utf8_lossy(&bytes));
}

const TINY_FTL: &str = "a = A\nb = B\nerror-choice = x\nerror-not-number = x\nerror-min = x\nerror-max = x\n\
error-digits = x\nerror-pin-wrong = x\nerror-pin-mismatch = x\nnav-more = x\nnav-back = x\nmsg-timeout = x\nmsg-slow = x\n\
msg-error = x\nmsg-expired = x\nmsg-ended = x\nmsg-unsupported = x\n";

fn problems(menu: &str, langs: &[(&str, &str)]) -> Vec<String> {
    let langs: Vec<(String, String)> = langs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    match Menu::from_sources(menu, &langs, NavKeys::default(), budget()) {
        Ok(_) => Vec::new(),
        Err(MenuError::Invalid(p)) => p,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn the_loader_reports_unknown_targets_unreachable_screens_and_unrouted_outcomes() {
    let menu = r#"
start = "s"
home = "m"
resume = "m"
[nodes.s]
kind = "task"
task = "loans"
on = { some = "m", none = "nowhere" }
[nodes.m]
kind = "menu"
text = "a"
options = [{ label = "b", goto = "m" }]
[nodes.orphan]
kind = "end"
text = "a"
[nodes.t]
kind = "task"
task = "repay"
on = { requested = "m", extra = "m" }
"#;
    let p = problems(menu, &[("en", TINY_FTL)]);
    assert!(p.contains(&"node `s` leads to the unknown node `nowhere`".to_owned()), "{p:#?}");
    assert!(p.contains(&"node `orphan` cannot be reached".to_owned()), "{p:#?}");
    assert!(p.contains(&"task `t` (repay) has no outcome `extra`".to_owned()), "{p:#?}");
}

#[test]
fn the_loader_reports_missing_translations_and_screens_over_the_budget() {
    let menu = r#"
start = "m"
home = "m"
resume = "m"
[nodes.m]
kind = "menu"
text = "a"
options = [{ label = "b", goto = "m" }]
"#;
    let long = TINY_FTL.replace("a = A", &format!("a = {}", "x".repeat(170)));
    let sw = "a = A\n";
    let p = problems(menu, &[("en", &long), ("sw", sw)]);
    assert!(p.iter().any(|p| p.starts_with("screen `m` in en does not fit")), "{p:#?}");
    assert!(p.contains(&"message `b` is missing in sw.ftl".to_owned()), "{p:#?}");
    assert!(p.contains(&"sw.ftl lacks `nav-more`, which en.ftl has".to_owned()), "{p:#?}");
}

#[test]
fn the_loader_refuses_a_message_using_a_variable_no_task_provides() {
    let menu = r#"
start = "m"
home = "m"
resume = "m"
[nodes.m]
kind = "end"
text = "a"
"#;
    let ftl = TINY_FTL.replace("a = A", "a = Hello { $nickname }");
    let p = problems(menu, &[("en", &ftl)]);
    assert!(p.contains(&"screen `m` in en uses {$nickname}, which no task provides".to_owned()), "{p:#?}");
}

#[test]
fn the_graph_is_a_mermaid_flowchart_with_every_node_and_edge() {
    let g = mermaid(&menu());
    assert!(g.starts_with("flowchart TD\n"));
    assert!(g.contains("  main -->|1| borrow\n"), "{g}");
    assert!(g.contains("  borrow -->|eligible| borrow_products\n"), "{g}");
    assert!(g.contains("  start{{\"start: lookup\"}}\n"), "{g}");
}

/// Every screen of every journey, rendered at its widest in one language, as reviewed text.
fn all_screens(m: &Menu, lang: &str) -> String {
    let mut out = String::new();
    for (id, node) in &m.file().nodes {
        if matches!(node, Node::Task { .. }) {
            continue;
        }
        let state = State {
            node: id.clone(),
            lang: lang.to_owned(),
            slots: sample_slots(),
            page: 0,
            history: vec![m.file().home.clone()],
            error: None,
        };
        let screen = m.render(&state, budget());
        let count = crate::ussd::count(&screen.text);
        let kind = if screen.end { "END" } else { "CON" };
        out.push_str(&format!("## {id} [{kind}, {} units]\n{}\n\n", count.units, screen.text));
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
