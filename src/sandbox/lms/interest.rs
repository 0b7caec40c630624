//! How a product charges interest. The contract's flat rule quotes "rate × principal", but the docs' own
//! loan example (principal 5000, rate 11, 7 days, one repayment) charges 38.5: a daily rate in basis
//! points. A product picks its rule, so tests can hold the gateway's quote against either.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;

use super::schedule::{self, Terms};

/// The interest rule of a seeded product.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterestRule {
    /// `T = round_half_even(P × r / 100 × k, 0 dp)`, `k = 1` for a whole-term rate, else `n`.
    #[default]
    Flat,
    /// `T = round_half_even(P × r / 10000 × term_days, 2 dp)`: `r` basis points per day over the whole
    /// term, whatever `interestRateFrequencyType` says.
    DailyBasisPoints,
}

/// Total interest of a loan on `terms` disbursed on `start`. `None` if the figures overflow a `Decimal`
/// or the term leaves the calendar.
pub(crate) fn total_interest(rule: InterestRule, terms: &Terms, start: NaiveDate) -> Option<Decimal> {
    match rule {
        InterestRule::Flat => schedule::total_interest(terms),
        InterestRule::DailyBasisPoints => {
            let days = Decimal::from(term_days(terms, start)?);
            let raw = terms.principal.checked_mul(terms.rate)?.checked_div(Decimal::from(10_000))?.checked_mul(days)?;
            Some(raw.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven))
        }
    }
}

/// The whole term in days: from disbursement to the last due date. For days and weeks that is
/// `n × every` (× 7); for months and years it counts the actual calendar days, clamped month ends included.
fn term_days(terms: &Terms, start: NaiveDate) -> Option<u64> {
    let last_due = schedule::add_periods(start, terms.frequency, terms.repayments.checked_mul(terms.every)?)?;
    u64::try_from((last_due - start).num_days()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::lms::schedule::{Frequency, RateBasis};

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn terms(principal: &str, rate: &str, n: u32, every: u32, frequency: Frequency) -> Terms {
        Terms {
            principal: dec(principal),
            rate: dec(rate),
            basis: RateBasis::WholeTerm,
            repayments: n,
            every,
            frequency,
        }
    }

    #[test]
    fn the_docs_example_charges_38_5() {
        let t = terms("5000", "11", 1, 7, Frequency::Days);
        assert_eq!(total_interest(InterestRule::DailyBasisPoints, &t, date("2026-05-28")), Some(dec("38.5")));
        assert_eq!(total_interest(InterestRule::Flat, &t, date("2026-05-28")), Some(dec("550")));
    }

    #[test]
    fn weeks_count_seven_days_and_months_count_calendar_days() {
        let weeks = terms("10000", "10", 2, 1, Frequency::Weeks); // 14 days × 0.1% × 10000
        assert_eq!(total_interest(InterestRule::DailyBasisPoints, &weeks, date("2026-01-01")), Some(dec("140")));
        // 31 Jan → 28 Feb → 31 Mar: 59 days.
        let months = terms("10000", "10", 2, 1, Frequency::Months);
        assert_eq!(total_interest(InterestRule::DailyBasisPoints, &months, date("2026-01-31")), Some(dec("590")));
    }

    #[test]
    fn daily_interest_rounds_half_even_to_cents() {
        // P × 0.05% for one day: 0.505 → 0.50, 0.515 → 0.52, 0.525 → 0.52 (midpoints go to the even cent).
        for (principal, expected) in [("1010", "0.50"), ("1030", "0.52"), ("1050", "0.52")] {
            let t = terms(principal, "5", 1, 1, Frequency::Days);
            assert_eq!(total_interest(InterestRule::DailyBasisPoints, &t, date("2026-01-01")), Some(dec(expected)));
        }
    }

    #[test]
    fn a_term_off_the_calendar_charges_nothing_computable() {
        let far = terms("1", "1", 1, u32::MAX, Frequency::Years);
        assert_eq!(total_interest(InterestRule::DailyBasisPoints, &far, date("2026-01-01")), None);
    }
}
