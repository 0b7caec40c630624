//! [`SandboxWallet`], the cheap-to-clone handle over one wallet's state, and its Rust API (the twins
//! of the sandbox hooks, for tests and the browser simulator).
//!
//! Everything mutable sits behind one `Mutex`, taken inside a single synchronous closure (never across
//! an `.await`), so admitting a request, finishing a transaction and noting a delivery attempt are
//! each atomic. Background work (finishing transactions, delivering callbacks) runs on tokio tasks.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rust_decimal::Decimal;

use super::delivery::DeliveryView;
use super::errors::WalletError;
use super::ids;
use super::lifecycle::Ending;
use super::rules::BehaviourRule;
use super::settings::{Config, SandboxWalletSettings};
use super::transaction::{TransactionKind, TransactionView};

/// Request timeout of one callback delivery attempt (docs/money.md guarantee 5).
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(15);

/// Transactions, deliveries and rules of one wallet.
#[derive(Default)]
pub(crate) struct State {
    /// Every transaction in creation order, payments included.
    transactions: Vec<TransactionView>,
    /// Index into `transactions` of each referenced (payout, collection) transaction.
    by_reference: HashMap<String, usize>,
    /// Every receipt ever handed out, so none repeats.
    receipts: HashSet<String>,
    /// Every callback in creation order; a delivery task updates its own entry by index.
    pub deliveries: Vec<DeliveryView>,
    pub rules: Vec<BehaviourRule>,
}

impl State {
    pub fn insert(&mut self, view: TransactionView) {
        if let Some(reference) = &view.reference {
            self.by_reference.insert(reference.clone(), self.transactions.len());
        }
        self.transactions.push(view);
    }

    pub fn get(&self, reference: &str) -> Option<&TransactionView> {
        self.by_reference.get(reference).and_then(|&i| self.transactions.get(i))
    }

    pub fn get_mut(&mut self, reference: &str) -> Option<&mut TransactionView> {
        self.by_reference.get(reference).and_then(|&i| self.transactions.get_mut(i))
    }

    /// A receipt no transaction of this wallet has had.
    pub fn mint_receipt(&mut self) -> String {
        loop {
            let candidate = ids::receipt_candidate();
            if self.receipts.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

struct Inner {
    config: Config,
    callback_url: reqwest::Url,
    http: reqwest::Client,
    state: Mutex<State>,
}

/// One in-process sandbox wallet. Clones share the same state.
#[derive(Clone)]
pub struct SandboxWallet {
    inner: Arc<Inner>,
}

/// A poisoned lock only means another task panicked mid-update; the sandbox keeps serving.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SandboxWallet {
    /// Builds a wallet that POSTs its signed callbacks to `callback_url` (e.g.
    /// `http://127.0.0.1:8080/v1/callbacks/sandbox`). Fails on bad settings or URL.
    pub fn new(settings: &SandboxWalletSettings, callback_url: String) -> Result<Self, String> {
        Self::build(settings, callback_url, CALLBACK_TIMEOUT)
    }

    /// [`SandboxWallet::new`] with another delivery timeout (tests use a short one).
    pub(crate) fn build(
        settings: &SandboxWalletSettings,
        callback_url: String,
        request_timeout: Duration,
    ) -> Result<Self, String> {
        let (config, rules) = settings.config()?;
        let callback_url = reqwest::Url::parse(&callback_url)
            .map_err(|e| format!("sandbox wallet callback URL {callback_url:?}: {e}"))?;
        if !matches!(callback_url.scheme(), "http" | "https") {
            return Err(format!("sandbox wallet callback URL {callback_url} must be http or https"));
        }
        let http = reqwest::Client::builder()
            .timeout(request_timeout)
            .connect_timeout(request_timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| format!("sandbox wallet HTTP client: {e}"))?;
        let state = State { rules, ..State::default() };
        Ok(Self { inner: Arc::new(Inner { config, callback_url, http, state: Mutex::new(state) }) })
    }

    /// Every transaction, payments included, in creation order.
    pub fn transactions(&self) -> Vec<TransactionView> {
        self.with_state(|s| s.transactions.clone())
    }

    /// The payout or collection recorded under `reference`.
    pub fn transaction(&self, reference: &str) -> Option<TransactionView> {
        self.with_state(|s| s.get(reference).cloned())
    }

    /// Every callback so far with its delivery progress, in creation order.
    pub fn deliveries(&self) -> Vec<DeliveryView> {
        self.with_state(|s| s.deliveries.clone())
    }

    /// The active rules, first match first.
    pub fn rules(&self) -> Vec<BehaviourRule> {
        self.with_state(|s| s.rules.clone())
    }

    /// Appends a rule (after the configured ones). It is not checked: a rule with an unknown
    /// `direction` matches nothing. The `/sandbox/rules` hook checks before calling this.
    pub fn add_rule(&self, rule: BehaviourRule) {
        self.with_state(|s| s.rules.push(rule));
    }

    /// Drops every rule, configured ones included.
    pub fn clear_rules(&self) {
        self.with_state(|s| s.rules.clear());
    }

    /// The subscriber pays our business number from the wallet menu: records a completed `payment`
    /// and delivers `payment.received`. Same as `POST /payments`; needs a tokio runtime.
    pub fn simulate_payment(
        &self,
        msisdn: &str,
        amount: Decimal,
        currency: &str,
        account: Option<String>,
    ) -> Result<TransactionView, String> {
        self.record_payment(msisdn, amount, currency, account).map_err(|e| e.message().to_owned())
    }

    /// The subscriber approves a pending collection now (`collection.completed`); needs a tokio runtime.
    pub fn approve_collection(&self, reference: &str) -> Result<TransactionView, String> {
        self.resolve_collection(reference, Ending::Complete).map_err(|e| e.message().to_owned())
    }

    /// The subscriber declines a pending collection now (`collection.failed`, `cancelled_by_user`).
    pub fn decline_collection(&self, reference: &str) -> Result<TransactionView, String> {
        self.resolve_collection(reference, Ending::declined()).map_err(|e| e.message().to_owned())
    }

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn callback_url(&self) -> &reqwest::Url {
        &self.inner.callback_url
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The finishing delay of a new transaction of `kind`.
    pub(crate) fn delay_for(&self, kind: TransactionKind) -> Duration {
        match kind {
            TransactionKind::Collection => self.config().collection_approve_delay,
            TransactionKind::Payout | TransactionKind::Payment => self.config().payout_delay,
        }
    }

    /// Runs `f` under the state lock. `f` is synchronous, so the lock is never held across an await.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut lock(&self.inner.state))
    }
}

/// Fails unless called inside a tokio runtime, which the background work needs. Checked before any
/// state changes, so a refused call leaves nothing half done.
pub(crate) fn require_runtime() -> Result<(), WalletError> {
    tokio::runtime::Handle::try_current()
        .map(drop)
        .map_err(|_| WalletError::internal("the sandbox wallet must be driven from inside a tokio runtime"))
}

/// Spawns background work on the current runtime (callers checked [`require_runtime`] first).
pub(crate) fn spawn(work: impl Future<Output = ()> + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn(work)),
        Err(_) => tracing::error!("sandbox wallet: no tokio runtime, background work dropped"),
    }
}
