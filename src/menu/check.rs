//! Load-time checks of a menu (STYLE 5: a broken menu fails the boot, not a subscriber's session) and
//! its Mermaid picture for reviews. Screens are rendered with [`sample_slots`], the widest values each
//! task can produce, in every language, with the error line each screen can carry.

use std::collections::{BTreeSet, VecDeque};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::engine::State;
use super::model::{Node, Validator};
use super::value::{Item, Slots, Value};
use super::Menu;
use crate::ussd::ScreenBudget;

/// Messages the engine and the handler use by id, whatever the menu says.
pub const SYSTEM_MESSAGES: [&str; 16] = [
    "error-choice",
    "error-not-number",
    "error-min",
    "error-max",
    "error-digits",
    "error-pin-wrong",
    "error-pin-mismatch",
    "nav-more",
    "nav-back",
    "msg-timeout",
    "msg-slow",
    "msg-error",
    "msg-expired",
    "msg-ended",
    "msg-unsupported",
    super::i18n::UNNAMED_PRODUCT,
];

fn amount(v: i64) -> Value {
    Value::Amount(Decimal::from(v))
}

fn row(fields: &[(&str, Value)]) -> Item {
    fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// The slots tasks fill, at their widest: this is the data contract between the handler's tasks and
/// the message files. A message using a variable not listed here fails the check.
pub fn sample_slots() -> Slots {
    let date = Value::Date(NaiveDate::from_ymd_opt(2026, 12, 31).expect("valid date"));
    // Product 3 as the sandbox names it: each language shows its own `product-3` where it has one.
    let name = Value::Product("3".into(), "Halotel 3-Month Loan".into());
    let product = row(&[
        ("id", Value::Text("3".into())),
        ("name", name.clone()),
        ("min", amount(50_000)),
        ("max", amount(1_500_000)),
    ]);
    let loan = row(&[
        ("id", Value::Text("L0000000123".into())),
        ("product", name),
        ("outstanding", amount(1_590_000)),
        ("next_amount", amount(1_590_000)),
        ("next_date", date.clone()),
        ("overdue", Value::Flag(true)),
        ("closed", Value::Flag(false)),
        ("repay_min", amount(1_000)),
    ]);
    let payment = row(&[("date", date.clone()), ("amount", amount(1_590_000))]);
    let mut slots = Slots::new();
    slots.set("products", Value::List(vec![product.clone(), product.clone()]));
    slots.set_item("product", &product);
    slots.set("amounts", Value::List(vec![row(&[("amount", amount(1_500_000))]); 2]));
    slots.set("amount", amount(1_500_000));
    slots.set("charges", amount(270_000));
    slots.set("total", amount(1_770_000));
    slots.set("due", date);
    slots.set("reference", Value::Text("L0000000123".into()));
    slots.set("loans", Value::List(vec![loan.clone(), loan.clone()]));
    slots.set("count", Value::Count(2));
    slots.set_item("loan", &loan);
    slots.set("payments", Value::List(vec![payment.clone(), payment]));
    slots.set("tries", Value::Count(2));
    slots.set("limit", amount(1_500_000));
    slots.set("lang", Value::Text("sw".into()));
    slots
}

/// Every problem of the menu, in words; empty when it is fit to serve.
pub(super) fn check(menu: &Menu, budget: ScreenBudget) -> Vec<String> {
    let mut problems = Vec::new();
    let nodes = &menu.file.nodes;
    let exists = |id: &str| nodes.contains_key(id);
    for (name, id) in [("start", &menu.file.start), ("home", &menu.file.home), ("resume", &menu.file.resume)] {
        if !exists(id) {
            problems.push(format!("`{name}` names the unknown node `{id}`"));
        }
    }
    // Offering to resume the home menu or the offer itself would nag every subscriber on every dial.
    for id in [&menu.file.home, &menu.file.resume] {
        if menu.file.resumable(id) {
            problems.push(format!("node `{id}` cannot be marked `resume`: it is where every session passes"));
        }
    }
    let mut messages: BTreeSet<String> = SYSTEM_MESSAGES.iter().map(|s| (*s).to_owned()).collect();
    for (id, node) in nodes {
        for target in targets(node) {
            if !exists(target) {
                problems.push(format!("node `{id}` leads to the unknown node `{target}`"));
            }
        }
        match node {
            Node::Menu { text, options, .. } | Node::List { text, options, .. } => {
                messages.insert(text.clone());
                messages.extend(options.iter().map(|o| o.label.clone()));
                if let Node::List { item, store, goto, .. } = node {
                    messages.insert(item.clone());
                    if store.is_some() != goto.is_some() {
                        problems.push(format!("list `{id}` needs both `store` and `goto`, or neither"));
                    }
                }
                if options.is_empty() && matches!(node, Node::Menu { .. }) {
                    problems.push(format!("menu `{id}` has no options"));
                }
            }
            Node::Input { text, secret, goto, store, .. } => {
                messages.insert(text.clone());
                if *secret && !matches!(nodes.get(goto), Some(Node::Task { .. })) {
                    problems.push(format!("secret input `{id}` must lead straight to a task, not `{goto}`"));
                }
                if !*secret && store.is_none() {
                    problems.push(format!("input `{id}` stores its answer nowhere (`store`)"));
                }
            }
            Node::End { text } => {
                messages.insert(text.clone());
            }
            Node::Task { task, on } => {
                let expected: BTreeSet<&str> = task.outcomes().iter().copied().collect();
                let routed: BTreeSet<&str> = on.keys().map(String::as_str).collect();
                for missing in expected.difference(&routed) {
                    problems.push(format!("task `{id}` ({}) does not route its outcome `{missing}`", task.name()));
                }
                for extra in routed.difference(&expected) {
                    problems.push(format!("task `{id}` ({}) has no outcome `{extra}`", task.name()));
                }
            }
        }
    }
    let reachable = reachable(menu);
    for id in nodes.keys().filter(|id| !reachable.contains(id.as_str())) {
        problems.push(format!("node `{id}` cannot be reached"));
    }
    let first = menu.catalog.default_language().to_owned();
    for lang in menu.catalog.languages() {
        for id in &messages {
            if !menu.catalog.has(lang, id) {
                problems.push(format!("message `{id}` is missing in {lang}.ftl"));
            }
        }
        // Product names are optional per language (the LMS's name stands in): `Menu::untranslated_products`
        // reports the offered ones a language lacks.
        let paired = |id: &&String| !id.starts_with(super::i18n::PRODUCT_PREFIX);
        if *lang != first {
            for id in menu.catalog.ids(&first).filter(paired).filter(|id| !menu.catalog.has(lang, id)) {
                problems.push(format!("{lang}.ftl lacks `{id}`, which {first}.ftl has"));
            }
            for id in menu.catalog.ids(lang).filter(paired).filter(|id| !menu.catalog.has(&first, id)) {
                problems.push(format!("{lang}.ftl has `{id}`, which {first}.ftl lacks"));
            }
        }
        problems.extend(screen_lengths(menu, lang, budget));
    }
    problems
}

fn targets(node: &Node) -> Vec<&str> {
    match node {
        Node::Menu { options, .. } => options.iter().map(|o| o.goto.as_str()).collect(),
        Node::List { goto, options, .. } => {
            goto.iter().map(String::as_str).chain(options.iter().map(|o| o.goto.as_str())).collect()
        }
        Node::Input { goto, .. } => vec![goto.as_str()],
        Node::End { .. } => Vec::new(),
        Node::Task { on, .. } => on.values().map(String::as_str).collect(),
    }
}

fn reachable(menu: &Menu) -> BTreeSet<&str> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<&str> =
        [menu.file.start.as_str(), menu.file.home.as_str(), menu.file.resume.as_str()].into();
    while let Some(id) = queue.pop_front() {
        if !seen.insert(id) {
            continue;
        }
        if let Some(node) = menu.file.nodes.get(id) {
            queue.extend(targets(node));
        }
    }
    seen
}

/// Renders every screen at its widest, with the error line it may carry, and reports what does not fit
/// or uses a variable no task provides.
fn screen_lengths(menu: &Menu, lang: &str, budget: ScreenBudget) -> Vec<String> {
    let mut problems = Vec::new();
    for (id, node) in &menu.file.nodes {
        let errors: &[Option<&str>] = match node {
            Node::Menu { .. } | Node::List { .. } => &[None, Some("error-choice")],
            Node::Input { validate: Validator::Amount { .. }, .. } => {
                &[None, Some("error-not-number"), Some("error-min"), Some("error-max"), Some("error-pin-wrong")]
            }
            Node::Input { .. } => &[None, Some("error-digits"), Some("error-pin-wrong"), Some("error-pin-mismatch")],
            Node::End { .. } => &[None],
            Node::Task { .. } => continue,
        };
        for error in errors {
            let state = State {
                node: id.clone(),
                lang: lang.to_owned(),
                slots: sample_slots(),
                page: 0,
                history: vec![menu.file.home.clone()],
                error: error.map(str::to_owned),
                origin: None,
            };
            let screen = menu.render(&state, budget);
            let shown = error.map(|e| format!(" with `{e}`")).unwrap_or_default();
            if screen.truncated {
                problems.push(format!("screen `{id}` in {lang}{shown} does not fit the {} budget", budget.gsm7));
            }
            // Fluent shows what it could not resolve in braces: a missing variable, or MONEY() given text.
            if let Some(at) = screen.text.find('{') {
                let var: String = screen.text[at..].chars().take_while(|c| *c != '}').collect();
                problems.push(format!(
                    "screen `{id}` in {lang} shows {var}}}: a variable no task provides, or MONEY() of no amount"
                ));
            }
        }
    }
    for id in SYSTEM_MESSAGES.iter().filter(|id| id.starts_with("msg-")) {
        let screen = menu.message_screen(lang, id, &sample_slots());
        if !crate::ussd::fits(&screen.text, budget) {
            problems.push(format!("message `{id}` in {lang} does not fit the {} budget", budget.gsm7));
        }
    }
    problems
}

/// The menu as a Mermaid flowchart: screens as boxes, tasks as hexagons, edges labelled by option
/// number or task outcome.
pub fn mermaid(menu: &Menu) -> String {
    let id = |s: &str| s.replace('-', "_");
    let mut out = String::from("flowchart TD\n");
    for (name, node) in &menu.file.nodes {
        let shape = match node {
            Node::Task { task, .. } => format!("{{{{\"{name}: {}\"}}}}", task.name()),
            Node::End { .. } => format!("([\"{name}\"])"),
            _ => format!("[\"{name}\"]"),
        };
        out.push_str(&format!("  {}{shape}\n", id(name)));
    }
    for (name, node) in &menu.file.nodes {
        let edges: Vec<(String, &str)> = match node {
            Node::Menu { options, .. } => {
                options.iter().enumerate().map(|(i, o)| ((i + 1).to_string(), o.goto.as_str())).collect()
            }
            Node::List { goto, options, .. } => goto
                .iter()
                .map(|g| ("row".to_owned(), g.as_str()))
                .chain(options.iter().map(|o| (o.label.clone(), o.goto.as_str())))
                .collect(),
            Node::Input { goto, .. } => vec![("input".to_owned(), goto.as_str())],
            Node::End { .. } => Vec::new(),
            Node::Task { on, .. } => on.iter().map(|(k, v)| (k.clone(), v.as_str())).collect(),
        };
        for (label, target) in edges {
            out.push_str(&format!("  {} -->|{label}| {}\n", id(name), id(target)));
        }
    }
    out
}
