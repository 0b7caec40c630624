//! The pure menu engine: `begin`, `answer` and `resume` move a [`State`] through the menu and return
//! either a screen for the subscriber or a task for the handler (LMS calls, payouts, settings). No IO
//! happens here, so every transition is a unit test and a handler cannot half-run a screen.

use serde::{Deserialize, Serialize};

use super::model::{MenuOption, NavKey, Node, Task, Validator};
use super::value::{Slots, Value};
use super::Menu;
use crate::ussd::ScreenBudget;

/// Everything a session remembers between hops. Kept small: it is written to Redis on every hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    #[serde(rename = "n")]
    pub node: String,
    #[serde(rename = "l")]
    pub lang: String,
    #[serde(rename = "s", default, skip_serializing_if = "is_empty_slots")]
    pub slots: Slots,
    /// Page of the current list screen.
    #[serde(rename = "p", default, skip_serializing_if = "is_zero")]
    pub page: u16,
    /// Screens to go Back to, newest last.
    #[serde(rename = "h", default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<String>,
    /// A message shown once above the current screen (a validation error, a wrong PIN).
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The session this journey began in, when it was resumed in another: its effects (a borrow, a
    /// repay prompt) keep that session's idempotency keys, so a resume can never run one twice.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

fn is_empty_slots(s: &Slots) -> bool {
    s.iter().next().is_none()
}

fn is_zero(p: &u16) -> bool {
    *p == 0
}

const MAX_HISTORY: usize = 8;

/// A subscriber's secret answer (a PIN) on its way to the task that consumes it. Never stored or printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    pub text: String,
    pub end: bool,
    /// The node shown, for logs and metrics.
    pub node: String,
    /// The renderer had to drop lines to fit the budget (counted as a metric).
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskCall {
    pub task: Task,
    /// The task node's id: with the session key it makes the effect's idempotency key.
    pub node: String,
    pub secret: Option<Secret>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Turn {
    Screen(Screen),
    Task(TaskCall),
}

/// What a task hands back to the engine.
#[derive(Debug, Clone, Default)]
pub struct TaskResult {
    pub outcome: &'static str,
    pub slots: Slots,
    /// Message id shown above the next screen.
    pub error: Option<String>,
    /// Replace the whole state (resuming an earlier session) before routing the outcome.
    pub replace: Option<Box<State>>,
    /// Items to store under a prefix, as if chosen from a list (`loan` → `loan.id`, `loan.product`, …).
    pub items: Vec<(String, super::value::Item)>,
}

impl TaskResult {
    pub fn outcome(outcome: &'static str) -> Self {
        Self { outcome, ..Self::default() }
    }

    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.slots.set(name, value);
        self
    }

    /// Stores `item` under `prefix`, replacing whatever was chosen there before.
    pub fn with_item(mut self, prefix: &str, item: &super::value::Item) -> Self {
        self.items.push((prefix.to_owned(), item.clone()));
        self
    }

    pub fn with_error(mut self, id: &str) -> Self {
        self.error = Some(id.to_owned());
        self
    }
}

impl Menu {
    /// A new session in `lang`, entering the start node.
    pub fn begin(&self, lang: &str, budget: ScreenBudget) -> (State, Turn) {
        let mut state = State {
            node: self.file.start.clone(),
            lang: self.catalog.resolve(lang).to_owned(),
            slots: Slots::new(),
            page: 0,
            history: Vec::new(),
            error: None,
            origin: None,
        };
        let start = self.file.start.clone();
        let turn = self.enter(&mut state, &start, None, budget);
        (state, turn)
    }

    /// The subscriber's answer to the current screen.
    pub fn answer(&self, state: &mut State, input: &str, budget: ScreenBudget) -> Turn {
        state.error = None;
        let input = input.trim();
        let Some(node) = self.file.nodes.get(&state.node) else {
            return self.system_end(state, "msg-error");
        };
        match node {
            Node::Menu { options, .. } => {
                if let Some(turn) = self.navigate(state, input, &[NavKey::Back, NavKey::Home], budget) {
                    return turn;
                }
                match choice(input, options.len()) {
                    Some(i) => self.take(state, &options[i], budget),
                    None => self.reject(state, "error-choice", budget),
                }
            }
            Node::List { items, store, goto, options, .. } => {
                let more = self.render_list_has_more(state, budget);
                if more && input == self.nav.more {
                    state.page += 1;
                    return Turn::Screen(self.render(state, budget));
                }
                if input == self.nav.back && state.page > 0 {
                    state.page -= 1;
                    return Turn::Screen(self.render(state, budget));
                }
                if let Some(turn) = self.navigate(state, input, &[NavKey::Back, NavKey::Home], budget) {
                    return turn;
                }
                let rows = if store.is_some() { state.slots.list(items).len() } else { 0 };
                match choice(input, rows + options.len()) {
                    Some(i) if i < rows => {
                        let item = state.slots.list(items)[i].clone();
                        let (store, goto) = (store.clone().unwrap_or_default(), goto.clone().unwrap_or_default());
                        state.slots.set_item(&store, &item);
                        self.forward(state, &goto, None, budget)
                    }
                    Some(i) => self.take(state, &options[i - rows], budget),
                    None => self.reject(state, "error-choice", budget),
                }
            }
            Node::Input { validate, store, goto, secret, nav, .. } => {
                if let Some(turn) = self.navigate(state, input, nav, budget) {
                    return turn;
                }
                match validate_input(validate, input, &state.slots) {
                    Ok(value) => {
                        if *secret {
                            let goto = goto.clone();
                            return self.forward(state, &goto, Some(Secret(input.to_owned())), budget);
                        }
                        if let Some(store) = store {
                            state.slots.set(store.clone(), value);
                        }
                        let goto = goto.clone();
                        self.forward(state, &goto, None, budget)
                    }
                    Err((id, limit)) => {
                        if let Some(limit) = limit {
                            state.slots.set("limit", limit);
                        }
                        self.reject(state, id, budget)
                    }
                }
            }
            // A closed screen stays closed; a task node is never current between hops.
            Node::End { .. } => Turn::Screen(self.render(state, budget)),
            Node::Task { .. } => self.system_end(state, "msg-error"),
        }
    }

    /// Routes a finished task's outcome.
    pub fn resume(&self, state: &mut State, result: TaskResult, budget: ScreenBudget) -> Turn {
        if let Some(replacement) = result.replace {
            *state = *replacement;
        }
        let next = match self.file.nodes.get(&state.node) {
            Some(Node::Task { on, task }) => {
                // Back never leads to a screen before something happened (a loan, a prompt, a customer).
                if task.seals_history() {
                    state.history.clear();
                }
                on.get(result.outcome).cloned()
            }
            // A replaced state sits on a screen already: show it again.
            Some(_) => return Turn::Screen(self.render(state, budget)),
            None => None,
        };
        let Some(next) = next else {
            tracing::error!(node = %state.node, outcome = result.outcome, "task outcome not routed by the menu");
            return self.system_end(state, "msg-error");
        };
        state.slots.merge(result.slots);
        for (prefix, item) in &result.items {
            state.slots.set_item(prefix, item);
        }
        state.error = result.error;
        self.enter(state, &next, None, budget)
    }

    /// An `END` with one of the system messages (`msg-timeout`, `msg-error`, …) in the session's language.
    pub fn system_end(&self, state: &State, id: &str) -> Turn {
        Turn::Screen(self.message_screen(&state.lang, id, &state.slots))
    }

    pub fn message_screen(&self, lang: &str, id: &str, slots: &Slots) -> Screen {
        let text = crate::ussd::transliterate(&self.catalog.format(lang, id, slots, None)).into_owned();
        Screen { text, end: true, node: id.to_owned(), truncated: false }
    }

    /// Leaves the current screen for `target`, remembering it for Back.
    fn forward(&self, state: &mut State, target: &str, secret: Option<Secret>, budget: ScreenBudget) -> Turn {
        let here = state.node.clone();
        if state.history.last() != Some(&here) {
            state.history.push(here);
            if state.history.len() > MAX_HISTORY {
                state.history.remove(0);
            }
        }
        self.enter(state, target, secret, budget)
    }

    fn take(&self, state: &mut State, option: &MenuOption, budget: ScreenBudget) -> Turn {
        for (slot, source) in &option.set {
            let value = match source.strip_prefix('=') {
                Some(from) => state.slots.get(from).cloned(),
                None => Some(Value::Text(source.clone())),
            };
            match value {
                Some(v) => state.slots.set(slot.clone(), v),
                None => state.slots.remove(slot),
            }
        }
        self.forward(state, &option.goto, None, budget)
    }

    /// Enters `id`: a task is handed to the caller, a screen is rendered and becomes current.
    fn enter(&self, state: &mut State, id: &str, secret: Option<Secret>, budget: ScreenBudget) -> Turn {
        state.node = id.to_owned();
        state.page = 0;
        if id == self.file.home {
            state.history.clear();
        }
        match self.file.nodes.get(id) {
            Some(Node::Task { task, .. }) => Turn::Task(TaskCall { task: *task, node: id.to_owned(), secret }),
            Some(_) => Turn::Screen(self.render(state, budget)),
            None => self.system_end(state, "msg-error"),
        }
    }

    fn reject(&self, state: &mut State, error: &str, budget: ScreenBudget) -> Turn {
        state.error = Some(error.to_owned());
        Turn::Screen(self.render(state, budget))
    }

    /// Back and Home where the screen honours them; `None` when the input is not a navigation key.
    fn navigate(&self, state: &mut State, input: &str, allowed: &[NavKey], budget: ScreenBudget) -> Option<Turn> {
        if allowed.contains(&NavKey::Home) && input == self.nav.home {
            state.history.clear();
            let home = self.file.home.clone();
            return Some(self.enter(state, &home, None, budget));
        }
        if allowed.contains(&NavKey::Back) && input == self.nav.back {
            return Some(match state.history.pop() {
                Some(previous) => self.enter(state, &previous, None, budget),
                None => self.reject(state, "error-choice", budget),
            });
        }
        None
    }
}

/// `"2"` with 3 options → `Some(1)`.
fn choice(input: &str, count: usize) -> Option<usize> {
    if input.is_empty() || input.len() > 3 || !input.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: usize = input.parse().ok()?;
    (1..=count).contains(&n).then(|| n - 1)
}

type Invalid = (&'static str, Option<Value>);

fn validate_input(validator: &Validator, input: &str, slots: &Slots) -> Result<Value, Invalid> {
    match validator {
        Validator::Amount { min, max } => {
            let cleaned: String = input.chars().filter(|c| *c != ',').collect();
            if cleaned.is_empty() || cleaned.len() > 12 || !cleaned.bytes().all(|b| b.is_ascii_digit()) {
                return Err(("error-not-number", None));
            }
            let amount: rust_decimal::Decimal = cleaned.parse().map_err(|_| ("error-not-number", None))?;
            let (Some(lo), Some(hi)) = (slots.amount(min), slots.amount(max)) else {
                return Err(("error-choice", None));
            };
            if amount < lo {
                return Err(("error-min", Some(Value::Amount(lo))));
            }
            if amount > hi {
                return Err(("error-max", Some(Value::Amount(hi))));
            }
            Ok(Value::Amount(amount))
        }
        Validator::Digits { min, max } => {
            if input.bytes().all(|b| b.is_ascii_digit()) && (*min..=*max).contains(&input.len()) {
                Ok(Value::Text(input.to_owned()))
            } else {
                Err(("error-digits", None))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_one_based_digits_within_range() {
        assert_eq!(choice("1", 3), Some(0));
        assert_eq!(choice("3", 3), Some(2));
        assert_eq!(choice("4", 3), None);
        assert_eq!(choice("0", 3), None);
        assert_eq!(choice("", 3), None);
        assert_eq!(choice("1a", 3), None);
        assert_eq!(choice("99999999999999999999", 3), None);
    }

    #[test]
    fn amounts_accept_separators_and_refuse_letters_and_out_of_range_values() {
        let mut slots = Slots::new();
        slots.set("lo", Value::Amount(1000.into()));
        slots.set("hi", Value::Amount(50000.into()));
        let v = Validator::Amount { min: "lo".into(), max: "hi".into() };
        assert_eq!(validate_input(&v, "5,000", &slots), Ok(Value::Amount(5000.into())));
        assert_eq!(validate_input(&v, "abc", &slots).unwrap_err().0, "error-not-number");
        assert_eq!(validate_input(&v, "12.5", &slots).unwrap_err().0, "error-not-number");
        assert_eq!(validate_input(&v, "999", &slots), Err(("error-min", Some(Value::Amount(1000.into())))));
        assert_eq!(validate_input(&v, "50001", &slots), Err(("error-max", Some(Value::Amount(50000.into())))));
        assert_eq!(validate_input(&v, "50000", &slots), Ok(Value::Amount(50000.into())));
    }

    #[test]
    fn digits_check_length() {
        let v = Validator::Digits { min: 4, max: 4 };
        assert!(validate_input(&v, "1234", &Slots::new()).is_ok());
        assert_eq!(validate_input(&v, "123", &Slots::new()).unwrap_err().0, "error-digits");
        assert_eq!(validate_input(&v, "12a4", &Slots::new()).unwrap_err().0, "error-digits");
    }
}
