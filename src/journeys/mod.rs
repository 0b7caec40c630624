//! The menu's tasks mapped onto the LMS and the wallet (lms-api §8): lookup and registration, borrow
//! eligibility, quotes, the disbursement saga, balances, repay prompts, payment history, language and
//! PINs. Each task returns an outcome the menu routes; the handler bounds every task by the hop deadline.

mod borrow;
mod cache;
mod pin;

use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

use rust_decimal::Decimal;

use crate::config::UssdSettings;
use crate::domain::Msisdn;
use crate::lms::{LmsClient, LmsError, Loan, LoanKey};
use crate::menu::{Item, Secret, State, Task, TaskCall, TaskResult, Value};
use crate::momo::service::MoneyService;
use crate::momo::{collect, model::Money};
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
        let currency = Value::Text(self.settings.currency.clone());
        let customer = self.lms.get_customer(ctx.msisdn.as_str()).await?;
        let mark = ctx.subscriber.and_then(|s| s.resume.as_ref());
        let outcome = match (customer, mark) {
            (None, _) => "unregistered",
            (Some(_), Some(mark)) if self.sessions.resumable(mark, self.money.now().timestamp()).await?.is_some() => {
                "resume"
            }
            (Some(_), _) => "registered",
        };
        Ok(TaskResult::outcome(outcome)
            .with("currency", currency)
            .with("repay_min", Value::Amount(self.settings.repay_min)))
    }

    async fn resume(&self, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        let snapshot = match self.sessions.subscriber(ctx.msisdn).await?.resume {
            Some(mark) => self.sessions.resumable(&mark, self.money.now().timestamp()).await?,
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
            Ok((_, created)) => {
                tracing::info!(msisdn = %ctx.msisdn, created, "subscriber registered");
                Ok(TaskResult::outcome(if self.settings.pin.enabled { "pin" } else { "ok" }))
            }
            Err(error) if refused(&error) => {
                tracing::warn!(%error, msisdn = %ctx.msisdn, "registration refused");
                Ok(TaskResult::outcome("failed"))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Active loans, from the prefetch cache unless `fresh`.
    pub(crate) async fn active_loans(&self, msisdn: &Msisdn, fresh: bool) -> Result<Arc<Vec<Loan>>, LmsError> {
        if !fresh {
            if let Some(hit) = self.loans.get(msisdn.as_str()) {
                return Ok(hit);
            }
        }
        let loans = Arc::new(self.lms.active_loans(msisdn.as_str()).await?);
        self.loans.insert(msisdn.as_str(), loans.clone());
        Ok(loans)
    }

    pub(crate) fn forget_loans(&self, msisdn: &Msisdn) {
        self.loans.remove(msisdn.as_str());
    }

    async fn loans(&self, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        let loans = self.active_loans(ctx.msisdn, false).await?;
        if loans.is_empty() {
            return Ok(TaskResult::outcome("none"));
        }
        let today = self.lms.business_today();
        let rows: Vec<Item> = loans.iter().map(|loan| loan_row(loan, today)).collect();
        Ok(TaskResult::outcome("some").with("count", Value::Count(rows.len() as u32)).with("loans", Value::List(rows)))
    }

    async fn repayments(&self, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        let loan = ctx.state.slots.text("loan.id").ok_or_else(|| JourneyError::Broken("no loan chosen".into()))?;
        let mut payments = self.lms.repayments_of(&LoanKey::from_token(loan)).await?.unwrap_or_default();
        payments.retain(|r| r.counts());
        // Newest first whichever way the LMS ordered them (a loan's repaymentHistory may be oldest first).
        payments.sort_by_key(|r| std::cmp::Reverse(r.date));
        let rows: Vec<Item> = payments
            .iter()
            .take(5)
            .map(|r| {
                let mut row = Item::new();
                if let Some(date) = r.date {
                    row.insert("date".into(), Value::Date(date));
                } else {
                    row.insert("date".into(), Value::Text("-".into()));
                }
                row.insert("amount".into(), Value::Amount(r.amount));
                row
            })
            .collect();
        if rows.is_empty() {
            return Ok(TaskResult::outcome("none"));
        }
        Ok(TaskResult::outcome("some").with("payments", Value::List(rows)))
    }

    /// Stores a collection (push-to-pay) request, sent to the wallet after the USSD session closes.
    async fn repay(&self, ctx: &mut Ctx<'_>, node: &str) -> Result<TaskResult, JourneyError> {
        let slots = &ctx.state.slots;
        let loan = slots.text("loan.id").ok_or_else(|| JourneyError::Broken("no loan chosen".into()))?;
        // A loan without externalId cannot be named to the wallet: the collection carries the MSISDN,
        // and the payment is allocated across the subscriber's loans like any paid by number.
        let loan = match LoanKey::from_token(loan) {
            LoanKey::External(x) => x,
            LoanKey::Id(_) => ctx.msisdn.as_str().to_owned(),
        };
        let amount = slots.amount("amount").ok_or_else(|| JourneyError::Broken("no amount chosen".into()))?;
        let effect = ctx.key.effect(node);
        // Detached like the borrow: a claimed effect always gets its collection, deadline or not.
        let this = self.clone();
        let msisdn = ctx.msisdn.clone();
        let reference = tokio::spawn(
            async move {
                if let Err(previous) = this.sessions.claim_effect(&effect).await? {
                    tracing::info!(msisdn = %msisdn, "repay prompt already requested in this session; not sent again");
                    return Ok::<_, JourneyError>(String::from_utf8_lossy(&previous).into_owned());
                }
                let money = Money::new(amount, &this.settings.currency);
                let delay = this.settings.collection_delay;
                let reference = collect::request(&this.money, &msisdn, &loan, money, delay).await?;
                this.sessions.record_effect(&effect, reference.as_str().as_bytes()).await?;
                this.forget_loans(&msisdn);
                Ok(reference.as_str().to_owned())
            }
            .in_current_span(),
        )
        .await
        .map_err(|e| JourneyError::Broken(format!("repay task failed: {e}")))??;
        Ok(TaskResult::outcome("requested").with("reference", Value::Text(reference)))
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

fn loan_row(loan: &Loan, today: chrono::NaiveDate) -> Item {
    let outstanding = loan.total_outstanding().unwrap_or(Decimal::ZERO);
    let mut row = Item::new();
    row.insert("id".into(), Value::Text(loan.key().token()));
    let product = loan.loan_product_name.clone().unwrap_or_else(|| "Loan".to_owned());
    row.insert("product".into(), Value::Text(product));
    row.insert("outstanding".into(), Value::Amount(outstanding));
    row.insert("next_amount".into(), Value::Amount(loan.next_due_amount().unwrap_or(outstanding)));
    row.insert("next_date".into(), loan.next_due_date.map(Value::Date).unwrap_or_else(|| Value::Text("-".into())));
    row.insert("overdue".into(), Value::Flag(loan.is_overdue(today)));
    row
}
