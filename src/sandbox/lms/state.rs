//! The shared state of one sandbox instance and [`SandboxLms`], the cheap-to-clone handle that owns it.
//!
//! Everything mutable sits behind one `Mutex`, taken and released inside a single synchronous call
//! (never across an `.await`), so each request sees and leaves a consistent world. The business clock has
//! its own lock so that reading "today" never nests inside the state lock.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use chrono::{Days, NaiveDate, Utc};

use super::errors::ApiError;
use super::faults::Fault;
use super::params::{numeric_id, LoanKey};
use super::records::{Customer, Loan};
use super::settings::{Config, SandboxLmsSettings, ScorecardEntry};

/// Customers, loans, tokens and the test-hook switches of one instance.
#[derive(Default)]
pub(crate) struct State {
    pub customers: BTreeMap<u64, Customer>,
    pub customer_ids: HashMap<String, u64>,
    pub loans: BTreeMap<u64, Loan>,
    pub loan_ids: HashMap<String, u64>,
    /// Issued bearer tokens and when each expires.
    pub tokens: HashMap<String, SystemTime>,
    /// Pending injected faults, in injection order.
    pub faults: Vec<Fault>,
    /// Set by the rollback fault hook: the next rollback stops after this many steps.
    pub rollback_stop: Option<u32>,
    /// Set by the best-effort hook: the scorecard reports no outstanding debt.
    pub scorecard_best_effort: bool,
    /// Scorecard entries set at runtime; they win over configured ones.
    pub scorecards: HashMap<String, ScorecardEntry>,
    last_customer_id: u64,
    last_loan_id: u64,
    last_transaction_id: u64,
}

impl State {
    pub fn next_customer_id(&mut self) -> u64 {
        self.last_customer_id += 1;
        self.last_customer_id
    }

    pub fn next_loan_id(&mut self) -> u64 {
        self.last_loan_id += 1;
        self.last_loan_id
    }

    pub fn next_transaction_id(&mut self) -> u64 {
        self.last_transaction_id += 1;
        self.last_transaction_id
    }

    pub fn customer_by_external(&self, external_id: &str) -> Option<&Customer> {
        self.customer_ids.get(external_id).and_then(|id| self.customers.get(id))
    }

    /// Resolves a loan route's key to the loan id: `invalid_argument` for a non-numeric id, `not_found`
    /// for an unknown (or deleted) loan.
    pub fn loan_id(&self, key: &LoanKey) -> Result<u64, ApiError> {
        let id = match key {
            LoanKey::External(ext) => self.loan_ids.get(ext).copied(),
            LoanKey::Id(raw) => Some(numeric_id("loanId", raw)?).filter(|id| self.loans.contains_key(id)),
        };
        id.ok_or_else(|| ApiError::not_found(format!("{key} does not exist")))
    }

    pub fn loan(&self, key: &LoanKey) -> Result<&Loan, ApiError> {
        let id = self.loan_id(key)?;
        self.loans.get(&id).ok_or_else(|| ApiError::not_found(format!("{key} does not exist")))
    }

    pub fn loan_mut(&mut self, key: &LoanKey) -> Result<&mut Loan, ApiError> {
        let id = self.loan_id(key)?;
        self.loans.get_mut(&id).ok_or_else(|| ApiError::not_found(format!("{key} does not exist")))
    }

    /// Deletes a loan; its externalId becomes free again.
    pub fn remove_loan(&mut self, id: u64) {
        if let Some(loan) = self.loans.remove(&id) {
            if let Some(ext) = loan.external_id {
                self.loan_ids.remove(&ext);
            }
        }
    }

    /// Forgets every record, token and switch. Id counters keep counting so that an id seen before a
    /// reset never names a different record after it.
    fn clear(&mut self) {
        *self = State {
            last_customer_id: self.last_customer_id,
            last_loan_id: self.last_loan_id,
            last_transaction_id: self.last_transaction_id,
            ..State::default()
        };
    }
}

struct Inner {
    config: Config,
    /// Random per instance: the `sub` of every token it issues.
    subject: String,
    /// The pinned business date, if the clock hook set one.
    clock: Mutex<Option<NaiveDate>>,
    state: Mutex<State>,
}

/// One in-process sandbox LMS. Clones share the same state.
#[derive(Clone)]
pub struct SandboxLms {
    inner: Arc<Inner>,
}

/// A poisoned lock only means another request panicked mid-update; the sandbox keeps serving.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SandboxLms {
    /// Builds an instance; fails on a bad time zone or an impossible product.
    pub fn new(settings: &SandboxLmsSettings) -> Result<Self, String> {
        Ok(Self {
            inner: Arc::new(Inner {
                config: settings.validate()?,
                subject: uuid::Uuid::new_v4().to_string(),
                clock: Mutex::new(None),
                state: Mutex::new(State::default()),
            }),
        })
    }

    /// The business date: the pinned one, else the current date in the business time zone.
    pub fn today(&self) -> NaiveDate {
        match *lock(&self.inner.clock) {
            Some(date) => date,
            None => Utc::now().with_timezone(&self.inner.config.timezone).date_naive(),
        }
    }

    /// Pins the business date.
    pub fn set_today(&self, date: NaiveDate) {
        *lock(&self.inner.clock) = Some(date);
    }

    /// Moves the business date by `days` (negative goes back) and pins it. Returns the new date, or `None`
    /// (leaving the clock alone) if it would leave chrono's range.
    pub fn advance_days(&self, days: i64) -> Option<NaiveDate> {
        let today = self.today();
        let magnitude = Days::new(days.unsigned_abs());
        let next = if days >= 0 { today.checked_add_days(magnitude) } else { today.checked_sub_days(magnitude) }?;
        self.set_today(next);
        Some(next)
    }

    /// Unpins the business date: "today" follows the wall clock again.
    pub fn clear_today(&self) {
        *lock(&self.inner.clock) = None;
    }

    /// Revokes every issued token; API calls then get `401` until a new token is fetched.
    pub fn revoke_tokens(&self) -> usize {
        self.with_state(|s| s.tokens.drain().count())
    }

    /// Queues a fault for the next matching calls (see [`Fault`]).
    pub fn inject_fault(&self, fault: Fault) {
        self.with_state(|s| s.faults.push(fault));
    }

    /// Drops every pending fault, including the rollback stop.
    pub fn clear_faults(&self) {
        self.with_state(|s| {
            s.faults.clear();
            s.rollback_stop = None;
        });
    }

    /// Makes the next rollback run only `steps` steps, then answer `500 internal`.
    pub fn stop_next_rollback_after(&self, steps: u32) {
        self.with_state(|s| s.rollback_stop = Some(steps));
    }

    /// While on, the scorecard reports `totalOutstanding` (and `totalPaid`) as 0, as the real scorecard
    /// does when it cannot reach the LMS.
    pub fn set_scorecard_best_effort(&self, enabled: bool) {
        self.with_state(|s| s.scorecard_best_effort = enabled);
    }

    /// Sets or overrides one externalId's scorecard entry.
    pub fn set_scorecard(&self, external_id: &str, entry: ScorecardEntry) {
        self.with_state(|s| s.scorecards.insert(external_id.to_owned(), entry));
    }

    /// Back to a fresh instance with the same settings: no customers, loans, tokens, faults, scorecard
    /// overrides or pinned date. Ids keep counting up.
    pub fn reset(&self) {
        self.with_state(State::clear);
        self.clear_today();
    }

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn subject(&self) -> &str {
        &self.inner.subject
    }

    /// Runs `f` under the state lock. `f` is synchronous, so the lock can never be held across an await.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut lock(&self.inner.state))
    }
}
