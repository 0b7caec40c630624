//! The menu's tasks mapped onto the LMS and the wallet (docs/lms.md): lookup, resume and registration
//! here, borrowing in [`borrow`], balances, repay prompts and payment history in [`loans`], PINs in
//! [`pin`]. Each task returns an outcome the menu routes; the handler bounds every task by the hop
//! deadline.

mod borrow;
mod cache;
mod loans;
mod pin;

use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

use crate::config::UssdSettings;
use crate::domain::Msisdn;
use crate::lms::{LmsClient, LmsError, Loan};
use crate::menu::{Secret, State, Task, TaskCall, TaskResult};
use crate::momo::service::MoneyService;
use crate::session::{SessionKey, Sessions, Subscriber};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum JourneyError {
    #[error("LMS: {0}")]
    Lms(#[from] LmsError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Broken(String),
}

/// The session a task runs for.
pub struct Ctx<'a> {
    pub key: &'a SessionKey,
    pub msisdn: &'a Msisdn,
    pub state: &'a mut State,
    /// Read on the first hop (language, resume mark); `None` later.
    pub subscriber: Option<&'a Subscriber>,
    /// The service code the session was dialled on: a resume is offered on the same code only.
    pub service_code: Option<&'a str>,
}

impl Ctx<'_> {
    /// The idempotency key of the effect `node` runs: keyed by the session the journey began in, so a
    /// resumed journey (in another session, maybe through another aggregator) never runs it twice.
    pub fn effect(&self, node: &str) -> String {
        match &self.state.origin {
            Some(origin) => crate::session::effect_key(origin, node),
            None => self.key.effect(node),
        }
    }
}

#[derive(Clone)]
pub struct Journeys {
    pub(crate) lms: LmsClient,
    pub(crate) money: MoneyService,
    pub(crate) sessions: Sessions,
    pub(crate) settings: Arc<UssdSettings>,
    /// Active loans prefetched on the first hop for the balance, repay and history screens. Never used
    /// for borrow eligibility, which always reads the LMS.
    loans: Arc<cache::TtlCache<Vec<Loan>>>,
}

impl Journeys {
    pub fn new(lms: LmsClient, money: MoneyService, sessions: Sessions, settings: Arc<UssdSettings>) -> Self {
        let loans = Arc::new(cache::TtlCache::new(Duration::from_secs(60), 100_000));
        Self { lms, money, sessions, settings, loans }
    }

    pub async fn run(&self, call: TaskCall, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        match call.task {
            Task::Lookup => self.lookup(ctx).await,
            Task::Resume => self.resume(ctx).await,
            Task::Register => self.register(ctx).await,
            Task::Eligibility => self.eligibility(ctx).await,
            Task::Amounts => Ok(self.amounts(ctx)),
            Task::Quote => self.quote(ctx).await,
            Task::Borrow => self.borrow(ctx, &call.node).await,
            Task::Loans => self.loans(ctx).await,
            Task::PaymentLoans => self.payment_loans(ctx).await,
            Task::Repayments => self.repayments(ctx).await,
            Task::Repay => self.repay(ctx, &call.node).await,
            Task::SetLanguage => self.set_language(ctx).await,
            Task::PinGate => self.pin_gate(ctx).await,
            Task::PinStage => self.pin_stage(ctx, secret(&call)?),
            Task::PinSet => self.pin_set(ctx, secret(&call)?).await,
            Task::PinCheck => self.pin_check(ctx, secret(&call)?).await,
        }
    }

    /// First hop: is the subscriber a customer, and did they break off a session recently? Their active
    /// loans are fetched in the background meanwhile, ready for the balance screen.
    async fn lookup(&self, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        // What an earlier dial cached may be stale by now (a loan the back office opened, a payment):
        // until this dial's prefetch lands, the balance screen asks the LMS itself rather than show it.
        self.forget_loans(ctx.msisdn);
        let prefetch = self.clone();
        let msisdn = ctx.msisdn.clone();
        tokio::spawn(
            async move {
                if let Err(error) = prefetch.active_loans(&msisdn, true).await {
                    tracing::debug!(%error, "loan prefetch failed; the balance screen will ask again");
                }
            }
            .in_current_span(),
        );
        // A subscriber known to be registered stays registered: no LMS call until the fact expires
        // (`ussd.registered_ttl`) or an LMS call finds no such customer ([`Self::eligibility`]).
        let known = ctx.subscriber.and_then(|s| s.customer.clone());
        let customer = match known {
            Some(id) => Some(id),
            None => {
                let found = self.lms.get_customer(ctx.msisdn.as_str()).await?.map(|c| c.id);
                if let Some(id) = &found {
                    self.remember_registered(ctx.msisdn, id).await;
                }
                found
            }
        };
        let mark = ctx.subscriber.and_then(|s| s.resume.as_ref());
        let now = self.money.now().timestamp();
        let outcome = match (customer, mark) {
            (None, _) => "unregistered",
            (Some(_), Some(mark)) if self.sessions.resumable(mark, now, ctx.service_code).await?.is_some() => "resume",
            (Some(_), _) => "registered",
        };
        Ok(TaskResult::outcome(outcome))
    }

    async fn resume(&self, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        let now = self.money.now().timestamp();
        let snapshot = match self.sessions.subscriber(ctx.msisdn).await?.resume {
            Some(mark) => self.sessions.resumable(&mark, now, ctx.service_code).await?,
            None => None,
        };
        self.sessions.clear_snapshot(ctx.msisdn).await?;
        Ok(match snapshot {
            Some(mut previous) => {
                previous.lang = ctx.state.lang.clone();
                previous.error = None;
                TaskResult { outcome: "ok", replace: Some(Box::new(previous)), ..TaskResult::default() }
            }
            None => TaskResult::outcome("gone"),
        })
    }

    async fn register(&self, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        match self.lms.ensure_customer(ctx.msisdn.as_str()).await {
            Ok((customer, created)) => {
                tracing::info!(msisdn = %ctx.msisdn, created, "subscriber registered");
                self.remember_registered(ctx.msisdn, &customer.id).await;
                Ok(TaskResult::outcome(if self.settings.pin.enabled { "pin" } else { "ok" }))
            }
            Err(error) if refused(&error) => {
                tracing::warn!(%error, msisdn = %ctx.msisdn, "registration refused");
                Ok(TaskResult::outcome("failed"))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Caches the registration; a store failure only costs the next dial an LMS lookup.
    async fn remember_registered(&self, msisdn: &Msisdn, lms_id: &str) {
        let ttl = self.settings.registered_ttl;
        if ttl.is_zero() {
            return;
        }
        if let Err(error) = self.sessions.remember_registered(msisdn, lms_id, ttl).await {
            tracing::warn!(%error, "could not cache a registration; the next dial asks the LMS");
        }
    }

    async fn set_language(&self, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        let wanted = ctx.state.slots.text("lang").unwrap_or_default().to_owned();
        if self.settings.languages.contains(&wanted) {
            self.sessions.set_language(ctx.msisdn, &wanted).await?;
            ctx.state.lang = wanted;
        }
        Ok(TaskResult::outcome("ok"))
    }
}

/// A definite "no" from the LMS, as opposed to an outage.
fn refused(error: &LmsError) -> bool {
    use crate::lms::ErrorCode::*;
    matches!(error.code(), InvalidArgument | PermissionDenied | FailedPrecondition | Rejected | Conflict)
}

fn secret(call: &TaskCall) -> Result<&Secret, JourneyError> {
    call.secret.as_ref().ok_or_else(|| JourneyError::Broken(format!("task {} needs the PIN", call.task.name())))
}
