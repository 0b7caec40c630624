//! The menu as declared in `menus/menu.toml`: nodes by id, each a screen the subscriber answers or a
//! task the handler runs. Subscriber-visible words are never here, only message ids of the language
//! files. [`super::check`] validates a loaded menu before anyone dials in.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole menu file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenuFile {
    /// Where every session starts (normally a lookup task).
    pub start: String,
    /// Where the Home key leads.
    pub home: String,
    /// Shown on a new dial when the subscriber's last session broke off within the resume window.
    pub resume: String,
    pub nodes: BTreeMap<String, Node>,
}

impl MenuFile {
    /// Whether a session left on `node` has something to lose and is worth offering to continue (the
    /// node's `resume = true`): mid-borrow once a product is chosen, mid-repay, a PIN being set.
    pub fn resumable(&self, node: &str) -> bool {
        match self.nodes.get(node) {
            Some(Node::Menu { resume, .. } | Node::List { resume, .. } | Node::Input { resume, .. }) => *resume,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Node {
    /// Numbered static options.
    Menu {
        text: String,
        options: Vec<MenuOption>,
        /// Worth resuming when a session breaks off here (see [`MenuFile::resumable`]).
        #[serde(default)]
        resume: bool,
    },
    /// Numbered rows of a list slot, paged to the screen budget, then the static options.
    List {
        text: String,
        /// The list slot a task filled.
        items: String,
        /// Message id for one row; the row's fields are its variables.
        item: String,
        /// Where a chosen row is stored (`<store>.<field>`); absent = rows are information only.
        #[serde(default)]
        store: Option<String>,
        /// Where a chosen row leads (required with `store`).
        #[serde(default)]
        goto: Option<String>,
        #[serde(default)]
        options: Vec<MenuOption>,
        #[serde(default)]
        resume: bool,
    },
    /// Free text checked by a validator.
    Input {
        text: String,
        validate: Validator,
        /// The slot the parsed value goes to; ignored for secret inputs.
        #[serde(default)]
        store: Option<String>,
        goto: String,
        /// A PIN: never stored, handed to the next node (which must be a task) and then dropped.
        #[serde(default)]
        secret: bool,
        /// Navigation keys honoured here; by default none, so `0` is data (R6). Back is shown when on.
        #[serde(default)]
        nav: Vec<NavKey>,
        #[serde(default)]
        resume: bool,
    },
    /// A last screen.
    End { text: String },
    /// Work for the handler (LMS calls, payouts, settings); the outcome picks the next node.
    Task { task: Task, on: BTreeMap<String, String> },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenuOption {
    pub label: String,
    pub goto: String,
    /// Slots to set when chosen: `slot = "literal"` or `slot = "=other.slot"` (copied).
    #[serde(default)]
    pub set: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NavKey {
    Back,
    Home,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Validator {
    /// Whole currency units between two amount slots (inclusive); separators `,` allowed.
    Amount { min: String, max: String },
    /// Only digits, `min..=max` of them.
    Digits { min: usize, max: usize },
}

/// What the handler knows how to do. Each task has a fixed set of outcomes the menu must route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Customer lookup on the first hop (and the prefetch of their loans).
    Lookup,
    /// Swaps in the broken-off session the subscriber chose to resume.
    Resume,
    /// Creates the LMS customer after consent.
    Register,
    /// Scorecard + active loans + products → the products on offer.
    Eligibility,
    /// Preset amounts within the chosen product's range; `fixed` when the range is one amount.
    Amounts,
    /// Charges, total and due date of the chosen product and amount.
    Quote,
    /// Starts the disbursement saga and waits (within the hop deadline) for its outcome.
    Borrow,
    /// The subscriber's active loans; `one` chooses it already (its fields under `loan.*`).
    Loans,
    /// The loans My payments offers: the active ones and those closed within the history window.
    PaymentLoans,
    /// Recent repayments of the chosen loan.
    Repayments,
    /// Asks the wallet to prompt the subscriber to pay.
    Repay,
    /// Stores the chosen language for this subscriber.
    SetLanguage,
    /// Whether a PIN must be entered before a borrow (`off`, `set`, `unset`).
    PinGate,
    /// First entry of a new PIN (kept only as a keyed digest until the second entry).
    PinStage,
    /// Second entry: both must match; stores the memory-hard hash.
    PinSet,
    /// Checks an entered PIN, counting failures.
    PinCheck,
}

impl Task {
    pub const ALL: [Task; 16] = [
        Task::Lookup,
        Task::Resume,
        Task::Register,
        Task::Eligibility,
        Task::Amounts,
        Task::Quote,
        Task::Borrow,
        Task::Loans,
        Task::PaymentLoans,
        Task::Repayments,
        Task::Repay,
        Task::SetLanguage,
        Task::PinGate,
        Task::PinStage,
        Task::PinSet,
        Task::PinCheck,
    ];

    /// Every outcome the handler may return; the menu must route each one.
    pub fn outcomes(self) -> &'static [&'static str] {
        match self {
            Task::Lookup => &["registered", "unregistered", "resume"],
            Task::Resume => &["ok", "gone"],
            Task::Register => &["ok", "pin", "failed"],
            Task::Eligibility => &["eligible", "has-loan", "unscored", "no-limit", "inactive"],
            Task::Amounts => &["ok", "fixed"],
            Task::Quote => &["ok"],
            Task::Borrow => &["done", "pending", "failed"],
            Task::Loans | Task::PaymentLoans => &["one", "some", "none"],
            Task::Repayments => &["some", "none"],
            Task::Repay => &["requested"],
            Task::SetLanguage => &["ok"],
            Task::PinGate => &["off", "set", "unset", "locked"],
            Task::PinStage => &["ok"],
            Task::PinSet => &["ok", "mismatch"],
            Task::PinCheck => &["ok", "wrong", "locked"],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Task::Lookup => "lookup",
            Task::Resume => "resume",
            Task::Register => "register",
            Task::Eligibility => "eligibility",
            Task::Amounts => "amounts",
            Task::Quote => "quote",
            Task::Borrow => "borrow",
            Task::Loans => "loans",
            Task::PaymentLoans => "payment-loans",
            Task::Repayments => "repayments",
            Task::Repay => "repay",
            Task::SetLanguage => "set-language",
            Task::PinGate => "pin-gate",
            Task::PinStage => "pin-stage",
            Task::PinSet => "pin-set",
            Task::PinCheck => "pin-check",
        }
    }

    /// Tasks whose effect must run at most once per session (R2 effect keys).
    pub fn is_effect(self) -> bool {
        matches!(self, Task::Register | Task::Borrow | Task::Repay)
    }

    /// After these, Back must not lead to the screens before them (the PIN is set, the loan is asked).
    pub fn seals_history(self) -> bool {
        self.is_effect() || matches!(self, Task::PinSet)
    }
}
