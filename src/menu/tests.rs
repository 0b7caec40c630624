//! Engine transitions over the shipped menu, and the loader's checks over small broken menus.

use super::*;
use crate::ussd::ScreenBudget;

fn menu() -> Menu {
    Menu::load(None, &[], NavKeys::default(), Formats::default(), ScreenBudget::default())
        .unwrap_or_else(|e| panic!("{e}"))
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
    let s = screen(m.resume(&mut state, TaskResult::outcome("eligible").with("products", products), budget()));
    assert_eq!(s.node, "borrow-products");
    assert!(s.text.contains("1. Halotel 3-Month Loan (TZS 50,000-1,500,000)"), "{}", s.text);
    assert_eq!(task(m.answer(&mut state, "2", budget())).task, Task::Amounts);
    assert_eq!(state.slots.text("product.id"), Some("3"));
    let amounts = Value::List(vec![
        [("amount".to_owned(), Value::Amount(50_000.into()))].into_iter().collect(),
        [("amount".to_owned(), Value::Amount(100_000.into()))].into_iter().collect(),
    ]);
    let s = screen(m.resume(&mut state, TaskResult::outcome("ok").with("amounts", amounts), budget()));
    assert_eq!(s.text, "Halotel 3-Month Loan. Choose amount:\n1. TZS 50,000\n2. TZS 100,000\n3. Other amount\n0. Back");
    // "Other amount" takes free text, which is validated against the product's range; it shows Back.
    let s = screen(m.answer(&mut state, "3", budget()));
    assert_eq!((s.node.as_str(), s.text.as_str()), ("borrow-other", "Enter amount (TZS 50,000-1,500,000):\n0. Back"));
    let s = screen(m.answer(&mut state, "lots", budget()));
    assert!(s.text.starts_with("Enter numbers only.\nEnter amount (TZS 50,000-1,500,000):"), "{}", s.text);
    let s = screen(m.answer(&mut state, "2000000", budget()));
    assert!(s.text.starts_with("The maximum is TZS 1,500,000."), "{}", s.text);
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
        "Borrow TZS 60,000\nCharges: TZS 10,800\nRepay TZS 70,800 by 25/02/2027\n1. Confirm\n2. Cancel\n0. Back"
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

#[test]
fn one_loan_is_one_balance_screen_with_everything_and_repay_leads_to_paying_it() {
    let m = menu();
    let mut state = at_main(&m, "en");
    assert_eq!(task(m.answer(&mut state, "2", budget())).task, Task::Loans);
    let loan = sample_slots().list("loans")[0].clone();
    let s = screen(m.resume(&mut state, TaskResult::outcome("one").with_item("loan", &loan), budget()));
    assert_eq!(
        s.text,
        "Halotel 3-Month Loan\nOwed: TZS 1,590,000\nNext: TZS 1,590,000 by 31/12/2026\nOVERDUE\n1. Repay\n0. Back"
    );
    let s = screen(m.answer(&mut state, "1", budget()));
    assert_eq!(s.node, "repay-how");
    assert_eq!(screen(m.answer(&mut state, "0", budget())).node, "balance-loan", "Back returns to the loan");
    assert_eq!(screen(m.answer(&mut state, "0", budget())).node, "main");
}

#[test]
fn each_row_of_several_loans_opens_that_loans_screen() {
    let m = menu();
    let mut state = at_main(&m, "en");
    task(m.answer(&mut state, "2", budget()));
    let mut second = sample_slots().list("loans")[0].clone();
    second.insert("id".into(), Value::Text("L2".into()));
    second.insert("product".into(), Value::Product("1".into(), "Halotel 7-Day Loan".into()));
    second.insert("overdue".into(), Value::Flag(false));
    let rows = Value::List(vec![sample_slots().list("loans")[0].clone(), second]);
    let result = TaskResult::outcome("some").with("loans", rows).with("count", Value::Count(2));
    let s = screen(m.resume(&mut state, result, budget()));
    assert_eq!(
        s.text,
        "Your 2 loans:\n1. Halotel 3-Month Loan: TZS 1,590,000 OVERDUE\n2. Halotel 7-Day Loan: TZS 1,590,000\n0. Back"
    );
    let s = screen(m.answer(&mut state, "2", budget()));
    assert_eq!(s.node, "balance-loan");
    assert!(s.text.starts_with("Halotel 7-Day Loan\nOwed: TZS 1,590,000\nNext: "), "{}", s.text);
    assert!(!s.text.contains("OVERDUE"), "{}", s.text);
    assert_eq!(state.slots.text("loan.id"), Some("L2"));
    assert_eq!(screen(m.answer(&mut state, "1", budget())).node, "repay-how");
    let s = screen(m.answer(&mut state, "1", budget()));
    assert_eq!(s.text, "Pay TZS 1,590,000 for Halotel 7-Day Loan?\n1. Confirm\n2. Cancel\n0. Back");
}

#[test]
fn a_product_of_one_amount_shows_it_once_and_skips_the_amount_screen() {
    let m = menu();
    let mut state = at_main(&m, "en");
    task(m.answer(&mut state, "1", budget()));
    let fixed: Item = [
        ("id".to_owned(), Value::Text("3".into())),
        ("name".to_owned(), Value::Product("3".into(), "Halotel 3-Month Loan".into())),
        ("min".to_owned(), Value::Amount(50_000.into())),
        ("max".to_owned(), Value::Amount(50_000.into())),
    ]
    .into_iter()
    .collect();
    let products = Value::List(vec![fixed]);
    let s = screen(m.resume(&mut state, TaskResult::outcome("eligible").with("products", products), budget()));
    assert_eq!(s.text, "Choose a loan:\n1. Halotel 3-Month Loan (TZS 50,000)\n0. Back");
    assert_eq!(task(m.answer(&mut state, "1", budget())).task, Task::Amounts);
    let fixed = TaskResult::outcome("fixed").with("choice.amount", Value::Amount(50_000.into()));
    assert_eq!(task(m.resume(&mut state, fixed, budget())).task, Task::Quote, "no amount to choose");
    assert_eq!(state.slots.amount("choice.amount"), Some(50_000.into()));
}

const TINY_FTL: &str = "a = A\nb = B\nerror-choice = x\nerror-not-number = x\nerror-min = x\nerror-max = x\n\
error-digits = x\nerror-pin-wrong = x\nerror-pin-mismatch = x\nnav-more = x\nnav-back = x\nmsg-timeout = x\nmsg-slow = x\n\
msg-error = x\nmsg-expired = x\nmsg-ended = x\nmsg-unsupported = x\nproduct-unnamed = x\n";

fn problems(menu: &str, langs: &[(&str, &str)]) -> Vec<String> {
    let langs: Vec<(String, String)> = langs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    match Menu::from_sources(menu, &langs, NavKeys::default(), Formats::default(), budget()) {
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
    let shown = "screen `m` in en shows {$nickname}: a variable no task provides, or MONEY() of no amount";
    assert!(p.contains(&shown.to_owned()), "{p:#?}");
    let ftl = TINY_FTL.replace("a = A", "a = Pay { MONEY($lang) }");
    let p = problems(menu, &[("en", &ftl)]);
    assert!(p.iter().any(|p| p.starts_with("screen `m` in en shows {MONEY}")), "text is not money: {p:#?}");
}

#[test]
fn the_graph_is_a_mermaid_flowchart_with_every_node_and_edge() {
    let g = mermaid(&menu());
    assert!(g.starts_with("flowchart TD\n"));
    assert!(g.contains("  main -->|1| borrow\n"), "{g}");
    assert!(g.contains("  borrow -->|eligible| borrow_products\n"), "{g}");
    assert!(g.contains("  start{{\"start: lookup\"}}\n"), "{g}");
}
