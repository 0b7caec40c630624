//! What a loan will cost, quoted before the subscriber confirms. The LMS computes the real schedule
//! and its interest rule cannot be read off the product (the docs' own example charges 38.5 on 5000 at
//! rate 11 over 7 days, where "rate × principal" says 550), so the rule is explicit per product in
//! config (`lms.quotes.<product id>`), and the figures the LMS returns on create are compared with the
//! quote afterwards (a mismatch is logged and counted, and the subscriber is shown the LMS's figures).
//!
//! Pure: no IO, no clock; every rule is unit-tested.

use chrono::{Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;

use super::types::LoanProduct;
use crate::domain::money;

/// How charges are computed for one product.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuoteKind {
    /// The product's own terms: `P × r / 100`, once for a `Whole term` rate, else once per repayment;
    /// rounded to whole units. The default, and what the sandbox LMS charges unless told otherwise.
    #[default]
    ProductTerms,
    /// `P × rate / 100`, once for the whole term.
    Flat,
    /// `P × rate / 100` for each repayment period.
    FlatPerPeriod,
    /// `P × rate / 100` for each day of the term (calendar days from today to the last due date).
    Daily,
    /// A fixed fee by principal band: the first band whose `up_to` is at least the principal.
    FeeTable,
}

/// One band of a fee table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeBand {
    #[serde(with = "money::number")]
    pub up_to: Decimal,
    #[serde(with = "money::number")]
    pub fee: Decimal,
}

/// `lms.quotes.<product id>`: the quote rule of one product.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuoteRule {
    pub rule: QuoteKind,
    /// The rate in per cent per the rule's unit; absent = the product's `interestRatePerPeriod`.
    #[serde(with = "money::option")]
    pub rate_percent: Option<Decimal>,
    /// Decimal places of the charges (half-even); absent = 0 for `product_terms`, 2 otherwise.
    pub decimals: Option<u32>,
    /// Bands of a `fee_table`, ascending by `up_to`.
    pub fees: Vec<FeeBand>,
}

impl QuoteRule {
    /// Refuses a rule that cannot quote: a fee table without bands or with unordered bands, or a
    /// negative rate.
    pub fn check(&self) -> Result<(), String> {
        if self.rule == QuoteKind::FeeTable {
            if self.fees.is_empty() {
                return Err("rule fee_table needs at least one band in `fees`".into());
            }
            if self.fees.windows(2).any(|w| w[0].up_to >= w[1].up_to) {
                return Err("`fees` bands must be in ascending order of `up_to`".into());
            }
        } else if !self.fees.is_empty() {
            return Err("`fees` is only read by rule fee_table".into());
        }
        if self.rate_percent.is_some_and(|r| r < Decimal::ZERO) {
            return Err("rate_percent must not be negative".into());
        }
        Ok(())
    }
}

/// Charges and dates of a loan of `principal` taken today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub charges: Decimal,
    pub total: Decimal,
    /// The first instalment's due date (the LMS's `nextDueDate` right after creation).
    pub next_due: NaiveDate,
    /// The last instalment's due date: when the loan must be repaid in full.
    pub due: NaiveDate,
}

/// What the LMS charged, set against what the subscriber was quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteCheck {
    pub total_differs: bool,
    pub due_differs: bool,
}

impl QuoteCheck {
    /// Figures missing on either side are not compared (nothing to compare is not a mismatch).
    pub fn of(
        quoted_total: Decimal,
        quoted_next_due: Option<NaiveDate>,
        lms_total: Option<Decimal>,
        lms_next_due: Option<NaiveDate>,
    ) -> Self {
        Self {
            total_differs: lms_total.is_some_and(|t| t != quoted_total),
            due_differs: matches!((quoted_next_due, lms_next_due), (Some(q), Some(l)) if q != l),
        }
    }

    pub fn matches(&self) -> bool {
        !self.total_differs && !self.due_differs
    }
}

impl Quote {
    pub fn of(rule: &QuoteRule, product: &LoanProduct, principal: Decimal, today: NaiveDate) -> Self {
        let n = product.number_of_repayments.unwrap_or(1).max(1);
        let every = product.repayment_every.unwrap_or(1).max(1);
        let unit = product.repayment_frequency_type.as_deref().unwrap_or("Days").to_ascii_lowercase();
        let next_due = after(today, &unit, every);
        let due = after(today, &unit, every * n);
        let rate = rule.rate_percent.or(product.interest_rate_per_period).unwrap_or(Decimal::ZERO) / Decimal::from(100);
        let raw = match rule.rule {
            QuoteKind::ProductTerms => {
                let whole_term = product
                    .interest_rate_frequency_type
                    .as_deref()
                    .is_some_and(|f| f.trim().eq_ignore_ascii_case("Whole term"));
                principal * rate * if whole_term { Decimal::ONE } else { Decimal::from(n) }
            }
            QuoteKind::Flat => principal * rate,
            QuoteKind::FlatPerPeriod => principal * rate * Decimal::from(n),
            QuoteKind::Daily => principal * rate * Decimal::from((due - today).num_days().max(0)),
            QuoteKind::FeeTable => rule
                .fees
                .iter()
                .find(|band| principal <= band.up_to)
                .or(rule.fees.last())
                .map_or(Decimal::ZERO, |band| band.fee),
        };
        let decimals = rule.decimals.unwrap_or(if rule.rule == QuoteKind::ProductTerms { 0 } else { 2 });
        let charges = raw.round_dp_with_strategy(decimals, RoundingStrategy::MidpointNearestEven).normalize();
        Self { charges, total: principal + charges, next_due, due }
    }
}

fn after(from: NaiveDate, unit: &str, count: u32) -> NaiveDate {
    if unit.starts_with("month") {
        from.checked_add_months(Months::new(count)).unwrap_or(from)
    } else if unit.starts_with("year") {
        from.checked_add_months(Months::new(count.saturating_mul(12))).unwrap_or(from)
    } else if unit.starts_with("week") {
        from + chrono::Days::new(u64::from(count) * 7)
    } else {
        from + chrono::Days::new(u64::from(count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(n: u32, every: u32, unit: &str, rate: &str, freq: &str) -> LoanProduct {
        serde_json::from_str(&format!(
            r#"{{"id": "1", "name": "P", "currencyCode": "TZS", "minPrincipal": 1000, "maxPrincipal": 100000,
                "numberOfRepayments": {n}, "repaymentEvery": {every}, "repaymentFrequencyType": "{unit}",
                "interestRatePerPeriod": {rate}, "interestRateFrequencyType": "{freq}"}}"#
        ))
        .unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn rule(kind: &str, extra: &str) -> QuoteRule {
        toml::from_str(&format!("rule = \"{kind}\"\n{extra}")).unwrap()
    }

    #[test]
    fn product_terms_match_the_sandbox_checks() {
        let seven_day = product(1, 7, "Days", "11", "Whole term");
        let q = Quote::of(&QuoteRule::default(), &seven_day, d("10000"), day(2026, 11, 25));
        assert_eq!(
            q,
            Quote { charges: d("1100"), total: d("11100"), next_due: day(2026, 12, 2), due: day(2026, 12, 2) }
        );
        let three_month = product(3, 1, "Months", "6", "Per month");
        let q = Quote::of(&QuoteRule::default(), &three_month, d("150000"), day(2026, 11, 30));
        assert_eq!(q.charges, d("27000"));
        assert_eq!((q.next_due, q.due), (day(2026, 12, 30), day(2027, 2, 28)));
    }

    #[test]
    fn a_daily_rule_reproduces_the_documented_loan_example() {
        // loans-list example: principal 5000, rate 11, 7 days, 1 repayment, interestCharged 38.5.
        let p = product(1, 7, "Days", "11", "Whole term");
        let q = Quote::of(&rule("daily", "rate_percent = \"0.11\""), &p, d("5000"), day(2026, 5, 28));
        assert_eq!((q.charges, q.total, q.due), (d("38.5"), d("5038.5"), day(2026, 6, 4)));
        // The flat product-terms quote would have said 550: the reason the rule is configurable.
        assert_eq!(Quote::of(&QuoteRule::default(), &p, d("5000"), day(2026, 5, 28)).charges, d("550"));
    }

    #[test]
    fn flat_rules_and_fee_tables() {
        let p = product(4, 1, "Weeks", "2", "Per week");
        let today = day(2026, 1, 1);
        assert_eq!(Quote::of(&rule("flat", ""), &p, d("10000"), today).charges, d("200"));
        assert_eq!(Quote::of(&rule("flat_per_period", ""), &p, d("10000"), today).charges, d("800"));
        assert_eq!(Quote::of(&rule("flat", ""), &p, d("10000"), today).due, day(2026, 1, 29));
        let table = rule("fee_table", "fees = [{ up_to = 5000, fee = 250 }, { up_to = 20000, fee = 900 }]");
        table.check().unwrap();
        assert_eq!(Quote::of(&table, &p, d("5000"), today).charges, d("250"));
        assert_eq!(Quote::of(&table, &p, d("5001"), today).charges, d("900"));
        assert_eq!(Quote::of(&table, &p, d("90000"), today).charges, d("900"), "past the last band: its fee");
    }

    #[test]
    fn impossible_rules_are_refused() {
        assert!(rule("fee_table", "").check().is_err());
        assert!(rule("fee_table", "fees = [{ up_to = 5000, fee = 1 }, { up_to = 100, fee = 2 }]").check().is_err());
        assert!(rule("flat", "fees = [{ up_to = 5000, fee = 1 }]").check().is_err());
        assert!(rule("flat", "rate_percent = \"-1\"").check().is_err());
        assert!(toml::from_str::<QuoteRule>("rule = \"compound\"").is_err());
        assert!(toml::from_str::<QuoteRule>("rule = \"flat\"\nrate = 2").is_err(), "unknown keys are refused");
    }

    #[test]
    fn the_check_compares_total_and_first_due_date() {
        let p = product(1, 7, "Days", "11", "Whole term");
        let q = Quote::of(&QuoteRule::default(), &p, d("5000"), day(2026, 5, 28));
        let check = |total: Option<&str>, due| QuoteCheck::of(q.total, Some(q.next_due), total.map(d), due);
        assert!(check(Some("5550"), Some(day(2026, 6, 4))).matches());
        assert!(check(None, None).matches(), "nothing to compare is not a mismatch");
        assert!(check(Some("5550"), Some(day(2026, 6, 5))).due_differs);
        let off = check(Some("5038.5"), Some(day(2026, 6, 4)));
        assert!(off.total_differs && !off.due_differs);
    }
}
