//! Borrowing (lms-api §8): eligibility from the scorecard and the active loans, the products' ranges
//! capped by the available limit, preset amounts, a quote, and the disbursement saga.

use std::time::Duration;
use tracing::Instrument;

use chrono::{Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use super::{Ctx, JourneyError, Journeys};
use crate::lms::LoanProduct;
use crate::menu::{Item, TaskResult, Value};
use crate::momo::model::Money;
use crate::momo::reference::Reference;
use crate::momo::saga::{self, Phase};

impl Journeys {
    /// Eligible only if the customer is active, scored (`XX` is not), has a positive available limit and
    /// no active loan; each configured product is offered on `[min, min(max, available)]`.
    pub(super) async fn eligibility(&self, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        let id = ctx.msisdn.as_str();
        let (customer, scorecard, loans, products) = tokio::join!(
            self.lms.get_customer(id),
            self.lms.scorecard(id),
            self.active_loans(ctx.msisdn, true),
            self.lms.offered_products(),
        );
        match customer? {
            Some(c) if c.active => {}
            _ => return Ok(TaskResult::outcome("inactive")),
        }
        if !loans?.is_empty() {
            return Ok(TaskResult::outcome("has-loan"));
        }
        let scorecard = match scorecard {
            Ok(s) => s,
            // The scoring service failing is "not eligible right now", not an outage screen (§6.5).
            Err(error) => {
                tracing::warn!(%error, msisdn = %ctx.msisdn, "scorecard unavailable; not lending now");
                return Ok(TaskResult::outcome("no-limit"));
            }
        };
        if scorecard.halopesa_grade.as_deref().is_none_or(|g| g.eq_ignore_ascii_case("XX")) {
            return Ok(TaskResult::outcome("unscored"));
        }
        let available = scorecard.available_credit_limit;
        if available <= Decimal::ZERO {
            return Ok(TaskResult::outcome("no-limit"));
        }
        let rows: Vec<Item> = products?
            .iter()
            .filter_map(|p| {
                let max = p.max_principal.min(available);
                (p.min_principal <= max).then(|| product_row(p, max))
            })
            .collect();
        if rows.is_empty() {
            return Ok(TaskResult::outcome("no-limit"));
        }
        Ok(TaskResult::outcome("eligible").with("products", Value::List(rows)))
    }

    /// Up to four amounts: the product's minimum, configured presets inside the range, and its maximum.
    pub(super) fn amounts(&self, ctx: &mut Ctx<'_>) -> TaskResult {
        let slots = &ctx.state.slots;
        let (Some(min), Some(max)) = (slots.amount("product.min"), slots.amount("product.max")) else {
            return TaskResult::outcome("ok").with("amounts", Value::List(Vec::new()));
        };
        let rows = presets(min, max, &self.settings.amount_presets)
            .into_iter()
            .map(|a| [("amount".to_owned(), Value::Amount(a))].into_iter().collect())
            .collect();
        TaskResult::outcome("ok").with("amounts", Value::List(rows))
    }

    /// Charges, total and due date of the chosen product and amount, from the product's terms.
    pub(super) async fn quote(&self, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        let slots = &ctx.state.slots;
        let amount = slots.amount("choice.amount").ok_or_else(|| JourneyError::Broken("no amount chosen".into()))?;
        let product_id = slots.text("product.id").ok_or_else(|| JourneyError::Broken("no product chosen".into()))?;
        let products = self.lms.offered_products().await?;
        let product = products
            .iter()
            .find(|p| p.id == product_id)
            .ok_or_else(|| JourneyError::Broken(format!("product {product_id} is no longer offered")))?;
        let quote = Quote::of(product, amount, self.lms.business_today());
        Ok(TaskResult::outcome("ok")
            .with("amount", Value::Amount(amount))
            .with("charges", Value::Amount(quote.charges))
            .with("total", Value::Amount(amount + quote.charges))
            .with("due", Value::Date(quote.due)))
    }

    /// Starts the disbursement saga (at most once per session: the effect key) and waits a little for its
    /// outcome; past that, the subscriber is told the money is on its way and the saga finishes alone.
    pub(super) async fn borrow(&self, ctx: &mut Ctx<'_>, node: &str) -> Result<TaskResult, JourneyError> {
        let slots = &ctx.state.slots;
        let amount = slots.amount("amount").ok_or_else(|| JourneyError::Broken("no amount chosen".into()))?;
        let product_id =
            slots.text("product.id").ok_or_else(|| JourneyError::Broken("no product chosen".into()))?.to_owned();
        let effect = ctx.key.effect(node);
        // Claim, start and record run detached: if the hop deadline drops this task, they still finish
        // together, so a claimed effect always has its saga.
        let this = self.clone();
        let msisdn = ctx.msisdn.clone();
        let claimed = tokio::spawn(
            async move {
                match this.sessions.claim_effect(&effect).await? {
                    Ok(()) => {
                        let money = Money::new(amount, &this.settings.currency);
                        let reference = saga::disburse(&this.money, &msisdn, &product_id, money).await?;
                        this.sessions.record_effect(&effect, reference.as_str().as_bytes()).await?;
                        Ok::<_, JourneyError>(Ok(reference))
                    }
                    Err(previous) => Ok(Err(previous)),
                }
            }
            .in_current_span(),
        )
        .await
        .map_err(|e| JourneyError::Broken(format!("borrow task failed: {e}")))??;
        let reference = match claimed {
            Ok(reference) => reference,
            Err(previous) => {
                tracing::warn!(msisdn = %ctx.msisdn, "borrow already started in this session; following it");
                match std::str::from_utf8(&previous).ok().and_then(Reference::parse) {
                    Some(r) => r,
                    None => return Ok(TaskResult::outcome("pending")),
                }
            }
        };
        self.forget_loans(ctx.msisdn);
        let outcome = self.wait_for_saga(&reference, self.settings.borrow_wait).await?;
        Ok(TaskResult::outcome(outcome).with("reference", Value::Text(reference.as_str().to_owned())))
    }

    async fn wait_for_saga(&self, reference: &Reference, wait: Duration) -> Result<&'static str, JourneyError> {
        let until = tokio::time::Instant::now() + wait;
        loop {
            let phase = saga::current(&self.money, reference).await?.map(|s| s.phase);
            match phase {
                Some(Phase::Done) => return Ok("done"),
                Some(Phase::Rejected | Phase::RolledBack) => return Ok("failed"),
                _ if tokio::time::Instant::now() >= until => return Ok("pending"),
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

fn product_row(p: &LoanProduct, max: Decimal) -> Item {
    let mut row = Item::new();
    row.insert("id".into(), Value::Text(p.id.clone()));
    row.insert("name".into(), Value::Text(p.name.clone()));
    row.insert("min".into(), Value::Amount(p.min_principal));
    row.insert("max".into(), Value::Amount(max));
    row
}

fn presets(min: Decimal, max: Decimal, configured: &[u64]) -> Vec<Decimal> {
    let mut all: Vec<Decimal> = std::iter::once(min)
        .chain(configured.iter().map(|p| Decimal::from(*p)).filter(|p| *p > min && *p < max))
        .chain(std::iter::once(max))
        .collect();
    all.dedup();
    if all.len() <= 4 {
        return all;
    }
    // Keep the ends and two evenly spaced presets between them.
    let last = all.len() - 1;
    vec![all[0], all[last / 3], all[2 * last / 3], all[last]]
}

/// A quote from the product's terms (lms-api §9.2): flat interest `P × r / 100 × k`, `k = 1` for a
/// whole-term rate, else the number of repayments; due after the whole term. Declining-balance products
/// are quoted the same way, an upper bound shown before the LMS computes the real schedule.
#[derive(Debug, PartialEq, Eq)]
pub struct Quote {
    pub charges: Decimal,
    pub due: NaiveDate,
}

impl Quote {
    pub fn of(product: &LoanProduct, principal: Decimal, today: NaiveDate) -> Self {
        let n = product.number_of_repayments.unwrap_or(1).max(1);
        let rate = product.interest_rate_per_period.unwrap_or(Decimal::ZERO);
        let whole_term =
            product.interest_rate_frequency_type.as_deref().is_some_and(|f| f.eq_ignore_ascii_case("Whole term"));
        let k = if whole_term { Decimal::ONE } else { Decimal::from(n) };
        let charges = (principal * rate / Decimal::from(100) * k)
            .round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
        let every = product.repayment_every.unwrap_or(1).max(1) * n;
        let unit = product.repayment_frequency_type.as_deref().unwrap_or("Days").to_ascii_lowercase();
        let due = if unit.starts_with("month") {
            today.checked_add_months(Months::new(every)).unwrap_or(today)
        } else if unit.starts_with("week") {
            today + chrono::Days::new(u64::from(every) * 7)
        } else {
            today + chrono::Days::new(u64::from(every))
        };
        Self { charges, due }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(n: u32, every: u32, unit: &str, rate: u32, freq: &str) -> LoanProduct {
        serde_json::from_value(serde_json::json!({
            "id": "1", "name": "P", "currencyCode": "TZS", "minPrincipal": 1000, "maxPrincipal": 100000,
            "numberOfRepayments": n, "repaymentEvery": every, "repaymentFrequencyType": unit,
            "interestRatePerPeriod": rate, "interestRateFrequencyType": freq
        }))
        .unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn quotes_match_the_sandbox_checks_of_the_spec() {
        let seven_day = product(1, 7, "Days", 11, "Whole term");
        let q = Quote::of(&seven_day, Decimal::from(10_000), day(2026, 11, 25));
        assert_eq!(q, Quote { charges: Decimal::from(1_100), due: day(2026, 12, 2) });
        let three_month = product(3, 1, "Months", 6, "Per month");
        let q = Quote::of(&three_month, Decimal::from(150_000), day(2026, 11, 30));
        assert_eq!(q, Quote { charges: Decimal::from(27_000), due: day(2027, 2, 28) });
    }

    #[test]
    fn presets_keep_the_ends_and_at_most_four_amounts() {
        let d = Decimal::from;
        assert_eq!(presets(d(1000), d(5000), &[2000, 10000]), vec![d(1000), d(2000), d(5000)]);
        assert_eq!(presets(d(5000), d(5000), &[]), vec![d(5000)]);
        let many = presets(d(1000), d(100_000), &[2000, 5000, 10000, 20000, 50000]);
        assert_eq!(many.len(), 4);
        assert_eq!((many[0], many[3]), (d(1000), d(100_000)));
    }
}
