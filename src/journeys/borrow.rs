//! Borrowing (docs/lms.md): eligibility from the scorecard and the active loans, the products' ranges
//! capped by the available limit, preset amounts, a quote, and the disbursement saga.

use std::time::Duration;
use tracing::Instrument;

use rust_decimal::Decimal;

use super::{Ctx, JourneyError, Journeys};
use crate::lms::OfferedProduct;
use crate::menu::{Item, TaskResult, Value};
use crate::momo::model::Money;
use crate::momo::reference::Reference;
use crate::momo::saga::{self, Phase, Terms};

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
            Some(_) => return Ok(TaskResult::outcome("inactive")),
            None => {
                // The LMS no longer knows this subscriber: the cached registration goes with it.
                self.sessions.forget_registered(ctx.msisdn).await?;
                return Ok(TaskResult::outcome("inactive"));
            }
        }
        if !loans?.is_empty() {
            return Ok(TaskResult::outcome("has-loan"));
        }
        let scorecard = match scorecard {
            Ok(s) => s,
            // The scoring service failing is "not eligible right now", not an outage screen (docs/lms.md).
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

    /// The amounts to pick from: the product's own presets (`ussd.amount_presets_by_product`) inside
    /// the range, else up to four by the rule ([`presets`]). A range of one amount is no choice at all:
    /// `fixed`, with that amount chosen.
    pub(super) fn amounts(&self, ctx: &mut Ctx<'_>) -> TaskResult {
        let slots = &ctx.state.slots;
        let (Some(min), Some(max)) = (slots.amount("product.min"), slots.amount("product.max")) else {
            return TaskResult::outcome("ok").with("amounts", Value::List(Vec::new()));
        };
        if min == max {
            return TaskResult::outcome("fixed").with("choice.amount", Value::Amount(min));
        }
        let own = slots.text("product.id").and_then(|id| self.settings.amount_presets_by_product.get(id));
        let chosen = own.map(|own| listed(min, max, own)).filter(|listed| !listed.is_empty());
        let rows = chosen
            .unwrap_or_else(|| presets(min, max, &self.settings.amount_presets))
            .into_iter()
            .map(|a| [("amount".to_owned(), Value::Amount(a))].into_iter().collect())
            .collect();
        TaskResult::outcome("ok").with("amounts", Value::List(rows))
    }

    /// Charges, total and due date of the chosen product and amount, by the product's quote rule
    /// (`lms.quotes`); the borrow compares them with what the LMS then charges.
    pub(super) async fn quote(&self, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        let slots = &ctx.state.slots;
        let amount = slots.amount("choice.amount").ok_or_else(|| JourneyError::Broken("no amount chosen".into()))?;
        let product_id = slots.text("product.id").ok_or_else(|| JourneyError::Broken("no product chosen".into()))?;
        let products = self.lms.offered_products().await?;
        let product = products
            .iter()
            .find(|p| p.product.id == product_id)
            .ok_or_else(|| JourneyError::Broken(format!("product {product_id} is no longer offered")))?;
        let quote = self.lms.quote(&product.product, amount);
        Ok(TaskResult::outcome("ok")
            .with("amount", Value::Amount(amount))
            .with("charges", Value::Amount(quote.charges))
            .with("total", Value::Amount(quote.total))
            .with("due", Value::Date(quote.due))
            .with("quote.next_due", Value::Date(quote.next_due)))
    }

    /// Starts the disbursement saga (at most once per session: the effect key) and waits a little for its
    /// outcome; past that, the subscriber is told the money is on its way and the saga finishes alone.
    pub(super) async fn borrow(&self, ctx: &mut Ctx<'_>, node: &str) -> Result<TaskResult, JourneyError> {
        let slots = &ctx.state.slots;
        let amount = slots.amount("amount").ok_or_else(|| JourneyError::Broken("no amount chosen".into()))?;
        let product_id =
            slots.text("product.id").ok_or_else(|| JourneyError::Broken("no product chosen".into()))?.to_owned();
        let quoted = slots.amount("total").map(|total| Terms {
            total,
            next_due: slots.date("quote.next_due"),
            due: slots.date("due"),
        });
        let effect = ctx.effect(node);
        let claim = effect.clone();
        // Claim, start and record run detached: if the hop deadline drops this task, they still finish
        // together, so a claimed effect always has its saga.
        let this = self.clone();
        let msisdn = ctx.msisdn.clone();
        let claimed = tokio::spawn(
            async move {
                match this.sessions.claim_effect(&claim).await? {
                    Ok(()) => {
                        let money = Money::new(amount, &this.settings.currency);
                        let reference = saga::disburse(&this.money, &msisdn, &product_id, money, quoted).await?;
                        this.sessions.record_effect(&claim, reference.as_str().as_bytes()).await?;
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
                tracing::warn!(msisdn = %ctx.msisdn, "borrow already started for this journey; following it");
                match self.started_borrow(&effect, previous).await? {
                    Some(r) => r,
                    None => return Ok(TaskResult::outcome("pending").with("reference", Value::Text("-".into()))),
                }
            }
        };
        self.forget_loans(ctx.msisdn);
        let (outcome, charged) = self.wait_for_saga(&reference, self.settings.borrow_wait).await?;
        let mut result = TaskResult::outcome(outcome).with("reference", Value::Text(reference.as_str().to_owned()));
        // What the LMS charged, not what was quoted: the subscriber must be told the real debt.
        if let Some(charged) = charged {
            result = result.with("total", Value::Amount(charged.total));
            if let Some(due) = charged.due.or(charged.next_due) {
                result = result.with("due", Value::Date(due));
            }
        }
        Ok(result)
    }

    /// The reference of a borrow another hop claimed: recorded by now, or within `ussd.borrow_wait` (the
    /// claim and the record are a store round trip apart). A resumed confirmation lands here when the
    /// first session's borrow is still running.
    async fn started_borrow(&self, effect: &str, mut recorded: Vec<u8>) -> Result<Option<Reference>, JourneyError> {
        let until = tokio::time::Instant::now() + self.settings.borrow_wait;
        loop {
            if let Some(reference) = std::str::from_utf8(&recorded).ok().and_then(Reference::parse) {
                return Ok(Some(reference));
            }
            if tokio::time::Instant::now() >= until {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            recorded = self.sessions.effect_result(effect).await?.unwrap_or_default();
        }
    }

    async fn wait_for_saga(
        &self,
        reference: &Reference,
        wait: Duration,
    ) -> Result<(&'static str, Option<Terms>), JourneyError> {
        let until = tokio::time::Instant::now() + wait;
        loop {
            let saga = saga::current(&self.money, reference).await?;
            match saga.as_ref().map(|s| s.phase) {
                Some(Phase::Done) => return Ok(("done", saga.and_then(|s| s.charged))),
                Some(Phase::Rejected | Phase::RolledBack) => return Ok(("failed", None)),
                _ if tokio::time::Instant::now() >= until => return Ok(("pending", saga.and_then(|s| s.charged))),
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

fn product_row(p: &OfferedProduct, max: Decimal) -> Item {
    let mut row = Item::new();
    row.insert("id".into(), Value::Text(p.product.id.clone()));
    row.insert("name".into(), Value::Product(p.product.id.clone(), p.product.name.clone()));
    row.insert("min".into(), Value::Amount(p.min_principal));
    row.insert("max".into(), Value::Amount(max));
    row
}

/// A product's own presets as listed, those inside `[min, max]` (the range capped by the limit).
fn listed(min: Decimal, max: Decimal, own: &[u64]) -> Vec<Decimal> {
    own.iter().map(|a| Decimal::from(*a)).filter(|a| (min..=max).contains(a)).collect()
}

/// The default rule: at most four amounts, the range's ends and up to two configured presets between
/// them, evenly spaced when more fall inside.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_keep_the_ends_and_at_most_four_amounts() {
        let d = Decimal::from;
        assert_eq!(presets(d(1000), d(5000), &[2000, 10000]), vec![d(1000), d(2000), d(5000)]);
        assert_eq!(presets(d(5000), d(5000), &[]), vec![d(5000)]);
        let many = presets(d(1000), d(100_000), &[2000, 5000, 10000, 20000, 50000]);
        assert_eq!(many.len(), 4);
        assert_eq!((many[0], many[3]), (d(1000), d(100_000)));
    }

    #[test]
    fn a_products_own_presets_are_offered_as_listed_within_the_range() {
        let d = Decimal::from;
        assert_eq!(listed(d(1000), d(50_000), &[2000, 5000, 10000]), vec![d(2000), d(5000), d(10000)]);
        assert_eq!(listed(d(1000), d(3000), &[2000, 5000]), vec![d(2000)], "capped by the limit");
        assert!(listed(d(1000), d(1500), &[2000]).is_empty(), "none fits: the rule applies");
    }
}
