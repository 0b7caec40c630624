//! The subscriber's loans on screen (docs/lms.md): balance and repay read the active loans the
//! first hop prefetched; My payments adds the loans repaid in full within `ussd.history_closed_window`;
//! repay prompts go to the wallet. A single loan is never a choice: the `one` outcome puts it straight
//! under `loan.*`, so the journey goes on to that loan's screen.

use std::sync::Arc;

use rust_decimal::Decimal;
use tracing::Instrument;

use super::{Ctx, JourneyError, Journeys};
use crate::domain::Msisdn;
use crate::lms::{LmsError, Loan, LoanKey};
use crate::menu::{Item, TaskResult, Value};
use crate::momo::{collect, model::Money};

/// Closed loans My payments offers at most, newest first: a daily borrower may close thirty a month,
/// and a session carries its rows on every hop.
const CLOSED_SHOWN: usize = 5;

/// Repayments shown for one loan, newest first.
const PAYMENTS_SHOWN: usize = 5;

impl Journeys {
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

    /// Balance and repay: the active loans (no LMS call when the first hop's prefetch is in).
    pub(super) async fn loans(&self, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        let loans = self.active_loans(ctx.msisdn, false).await?;
        let today = self.lms.business_today();
        let rows: Vec<Item> = loans.iter().map(|loan| self.loan_row(loan, today)).collect();
        Ok(choose(rows))
    }

    /// My payments: the active loans, then those repaid in full within the window (newest first). The
    /// closed ones cost one list call; with the window at 0 none is made.
    pub(super) async fn payment_loans(&self, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        let today = self.lms.business_today();
        let window = chrono::Days::new(self.settings.history_closed_window.as_secs().div_ceil(24 * 3600));
        let closed = async {
            if window == chrono::Days::new(0) {
                return Ok(Vec::new());
            }
            let since = today.checked_sub_days(window).unwrap_or(chrono::NaiveDate::MIN);
            self.lms.recently_settled(ctx.msisdn.as_str(), since, CLOSED_SHOWN).await
        };
        let (active, closed) = tokio::join!(self.active_loans(ctx.msisdn, false), closed);
        let rows: Vec<Item> = active?.iter().chain(closed?.iter()).map(|loan| self.loan_row(loan, today)).collect();
        Ok(choose(rows))
    }

    /// The chosen loan's recent repayments, newest first.
    pub(super) async fn repayments(&self, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        let loan = ctx.state.slots.text("loan.id").ok_or_else(|| JourneyError::Broken("no loan chosen".into()))?;
        let mut payments = self.lms.repayments_of(&LoanKey::from_token(loan)).await?.unwrap_or_default();
        payments.retain(|r| r.counts());
        // Newest first whichever way the LMS ordered them (a loan's repaymentHistory may be oldest first).
        payments.sort_by_key(|r| std::cmp::Reverse(r.date));
        let rows: Vec<Item> = payments
            .iter()
            .take(PAYMENTS_SHOWN)
            .map(|r| {
                let mut row = Item::new();
                let date = r.date.map(Value::Date).unwrap_or_else(|| Value::Text("-".into()));
                row.insert("date".into(), date);
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
    pub(super) async fn repay(&self, ctx: &mut Ctx<'_>, node: &str) -> Result<TaskResult, JourneyError> {
        let slots = &ctx.state.slots;
        let loan = slots.text("loan.id").ok_or_else(|| JourneyError::Broken("no loan chosen".into()))?;
        // A loan without externalId cannot be named to the wallet: the collection carries the MSISDN,
        // and the payment is allocated across the subscriber's loans like any paid by number.
        let loan = match LoanKey::from_token(loan) {
            LoanKey::External(x) => x,
            LoanKey::Id(_) => ctx.msisdn.as_str().to_owned(),
        };
        let amount = slots.amount("amount").ok_or_else(|| JourneyError::Broken("no amount chosen".into()))?;
        let effect = ctx.effect(node);
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

    /// One loan as the screens show it; `repay_min` is the smallest "other amount", never above what
    /// is owed (a loan owing less than `ussd.repay_min` can still be paid off).
    fn loan_row(&self, loan: &Loan, today: chrono::NaiveDate) -> Item {
        let outstanding = loan.total_outstanding().unwrap_or(Decimal::ZERO);
        let mut row = Item::new();
        row.insert("id".into(), Value::Text(loan.key().token()));
        let product = Value::Product(
            loan.loan_product_id.clone().unwrap_or_default(),
            loan.loan_product_name.clone().unwrap_or_default(),
        );
        row.insert("product".into(), product);
        row.insert("outstanding".into(), Value::Amount(outstanding));
        row.insert("next_amount".into(), Value::Amount(loan.next_due_amount().unwrap_or(outstanding)));
        row.insert("next_date".into(), loan.next_due_date.map(Value::Date).unwrap_or_else(|| Value::Text("-".into())));
        row.insert("overdue".into(), Value::Flag(loan.is_overdue(today)));
        row.insert("closed".into(), Value::Flag(!loan.is_active()));
        let repay_min =
            if outstanding > Decimal::ZERO { self.settings.repay_min.min(outstanding) } else { Decimal::ZERO };
        row.insert("repay_min".into(), Value::Amount(repay_min));
        row
    }
}

/// No loan, one loan (already chosen, under `loan.*`), or a list to choose from.
fn choose(mut rows: Vec<Item>) -> TaskResult {
    match rows.len() {
        0 => TaskResult::outcome("none"),
        1 => TaskResult::outcome("one").with_item("loan", &rows.remove(0)),
        n => TaskResult::outcome("some").with("count", Value::Count(n as u32)).with("loans", Value::List(rows)),
    }
}
