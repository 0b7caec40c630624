//! Pure loan arithmetic of the sandbox: total interest, the instalment schedule, allocation of a
//! repayment, and the roll-up figures derived from the schedule. No clock, no state, no IO, so every rule
//! is unit-tested here and the handlers only move data in and out.

use chrono::{Days, Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

/// The unit of `repaymentEvery`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Frequency {
    Days,
    Weeks,
    Months,
    Years,
}

/// Whether `interestRatePerPeriod` covers the whole term or each repayment period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RateBasis {
    WholeTerm,
    PerPeriod,
}

/// Everything the schedule depends on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Terms {
    pub principal: Decimal,
    pub rate: Decimal,
    pub basis: RateBasis,
    pub repayments: u32,
    pub every: u32,
    pub frequency: Frequency,
}

/// One row of the schedule with what has been paid against it so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Instalment {
    pub period: u32,
    pub from_date: NaiveDate,
    pub due_date: NaiveDate,
    pub principal_due: Decimal,
    pub interest_due: Decimal,
    pub principal_paid: Decimal,
    pub interest_paid: Decimal,
}

impl Instalment {
    pub fn total_due(&self) -> Decimal {
        self.principal_due + self.interest_due
    }

    pub fn total_paid(&self) -> Decimal {
        self.principal_paid + self.interest_paid
    }

    pub fn outstanding(&self) -> Decimal {
        self.total_due() - self.total_paid()
    }

    pub fn complete(&self) -> bool {
        self.outstanding() <= Decimal::ZERO
    }
}

/// `T = round_half_even(P × r / 100 × k, 0 dp)`, with `k = n` unless the rate covers the whole term.
/// `None` only if the product of configured figures overflows a `Decimal`.
pub(crate) fn total_interest(terms: &Terms) -> Option<Decimal> {
    let k = match terms.basis {
        RateBasis::WholeTerm => Decimal::ONE,
        RateBasis::PerPeriod => Decimal::from(terms.repayments),
    };
    let raw = terms.principal.checked_mul(terms.rate)?.checked_div(Decimal::ONE_HUNDRED)?.checked_mul(k)?;
    Some(raw.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven))
}

/// The date `units` periods after `start`. Months (and years) are calendar months clamped to the month
/// end, always counted from `start` so that a 31 January loan falls due on 28/29 February and 31 March.
pub(crate) fn add_periods(start: NaiveDate, frequency: Frequency, units: u32) -> Option<NaiveDate> {
    match frequency {
        Frequency::Days => start.checked_add_days(Days::new(u64::from(units))),
        Frequency::Weeks => start.checked_add_days(Days::new(u64::from(units) * 7)),
        Frequency::Months => start.checked_add_months(Months::new(units)),
        Frequency::Years => start.checked_add_months(Months::new(units.checked_mul(12)?)),
    }
}

/// The schedule of a loan disbursed on `start`: instalments `1..n-1` get `floor(P / n)` principal and
/// `floor(T / n)` interest, the last takes the remainders. `None` on zero repayments or a date overflow.
pub(crate) fn build(terms: &Terms, interest: Decimal, start: NaiveDate) -> Option<Vec<Instalment>> {
    if terms.repayments == 0 || terms.every == 0 {
        return None;
    }
    let n = Decimal::from(terms.repayments);
    let principal_share = (terms.principal / n).floor();
    let interest_share = (interest / n).floor();
    let mut rows = Vec::with_capacity(terms.repayments as usize);
    let mut from_date = start;
    for period in 1..=terms.repayments {
        let due_date = add_periods(start, terms.frequency, period.checked_mul(terms.every)?)?;
        let last = period == terms.repayments;
        let earlier = Decimal::from(period - 1);
        rows.push(Instalment {
            period,
            from_date,
            due_date,
            principal_due: if last { terms.principal - principal_share * earlier } else { principal_share },
            interest_due: if last { interest - interest_share * earlier } else { interest_share },
            principal_paid: Decimal::ZERO,
            interest_paid: Decimal::ZERO,
        });
        from_date = due_date;
    }
    Some(rows)
}

/// How one repayment was split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Allocation {
    pub principal: Decimal,
    pub interest: Decimal,
    pub overpayment: Decimal,
}

/// Applies `amount` to the oldest incomplete instalment first, interest before principal; what is left
/// once everything is paid is the overpayment.
pub(crate) fn allocate(schedule: &mut [Instalment], amount: Decimal) -> Allocation {
    let mut left = amount;
    let mut allocation = Allocation::default();
    for row in schedule.iter_mut() {
        let interest = left.min(row.interest_due - row.interest_paid).max(Decimal::ZERO);
        row.interest_paid += interest;
        allocation.interest += interest;
        left -= interest;
        let principal = left.min(row.principal_due - row.principal_paid).max(Decimal::ZERO);
        row.principal_paid += principal;
        allocation.principal += principal;
        left -= principal;
    }
    allocation.overpayment = left.max(Decimal::ZERO);
    allocation
}

/// The loan-level roll-up derived from a disbursed loan's schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Balances {
    pub principal_disbursed: Decimal,
    pub principal_paid: Decimal,
    pub interest_charged: Decimal,
    pub interest_paid: Decimal,
}

impl Balances {
    pub fn of(schedule: &[Instalment]) -> Self {
        schedule.iter().fold(Balances::default(), |acc, row| Balances {
            principal_disbursed: acc.principal_disbursed + row.principal_due,
            principal_paid: acc.principal_paid + row.principal_paid,
            interest_charged: acc.interest_charged + row.interest_due,
            interest_paid: acc.interest_paid + row.interest_paid,
        })
    }

    pub fn principal_outstanding(&self) -> Decimal {
        self.principal_disbursed - self.principal_paid
    }

    pub fn interest_outstanding(&self) -> Decimal {
        self.interest_charged - self.interest_paid
    }

    /// Everything paid across components; an overpayment is not part of it.
    pub fn total_repayment(&self) -> Decimal {
        self.principal_paid + self.interest_paid
    }

    pub fn total_outstanding(&self) -> Decimal {
        self.principal_outstanding() + self.interest_outstanding()
    }
}

/// Due date and amount of the oldest incomplete instalment; `None` once nothing is owed.
pub(crate) fn next_due(schedule: &[Instalment]) -> Option<(NaiveDate, Decimal)> {
    schedule.iter().find(|row| !row.complete()).map(|row| (row.due_date, row.outstanding()))
}

/// True when an incomplete instalment fell due before `today`.
pub(crate) fn overdue(schedule: &[Instalment], today: NaiveDate) -> bool {
    schedule.iter().any(|row| !row.complete() && row.due_date < today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn terms(principal: &str, rate: &str, basis: RateBasis, n: u32, every: u32, f: Frequency) -> Terms {
        Terms { principal: dec(principal), rate: dec(rate), basis, repayments: n, every, frequency: f }
    }

    fn seven_day(principal: &str) -> Terms {
        terms(principal, "11", RateBasis::WholeTerm, 1, 7, Frequency::Days)
    }

    fn three_month(principal: &str) -> Terms {
        terms(principal, "6", RateBasis::PerPeriod, 3, 1, Frequency::Months)
    }

    #[test]
    fn the_seven_day_product_at_10000_charges_1100_due_on_day_seven() {
        let t = seven_day("10000");
        let interest = total_interest(&t).unwrap();
        assert_eq!(interest, dec("1100"));
        let rows = build(&t, interest, date("2026-05-25")).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].due_date, date("2026-06-01"));
        assert_eq!(rows[0].from_date, date("2026-05-25"));
        assert_eq!(rows[0].total_due(), dec("11100"));
    }

    #[test]
    fn the_three_month_product_at_150000_charges_27000_in_three_rows_of_59000() {
        let t = three_month("150000");
        let interest = total_interest(&t).unwrap();
        assert_eq!(interest, dec("27000"));
        let rows = build(&t, interest, date("2026-05-25")).unwrap();
        let dues: Vec<_> = rows.iter().map(Instalment::total_due).collect();
        assert_eq!(dues, vec![dec("59000"); 3]);
        let dates: Vec<_> = rows.iter().map(|r| r.due_date).collect();
        assert_eq!(dates, vec![date("2026-06-25"), date("2026-07-25"), date("2026-08-25")]);
    }

    #[test]
    fn interest_rounds_half_to_even() {
        // 50 × 11% = 5.5 → 6; 150 × 11% = 16.5 → 16.
        assert_eq!(total_interest(&seven_day("50")).unwrap(), dec("6"));
        assert_eq!(total_interest(&seven_day("150")).unwrap(), dec("16"));
        // 25 × 10% = 2.5 → 2.
        assert_eq!(total_interest(&terms("25", "10", RateBasis::WholeTerm, 1, 7, Frequency::Days)).unwrap(), dec("2"));
    }

    #[test]
    fn the_last_instalment_takes_the_remainders() {
        let t = terms("1000", "5", RateBasis::PerPeriod, 3, 1, Frequency::Weeks);
        let interest = total_interest(&t).unwrap(); // 1000 × 5% × 3 = 150
        let rows = build(&t, interest, date("2026-01-01")).unwrap();
        let principal: Vec<_> = rows.iter().map(|r| r.principal_due).collect();
        let interest: Vec<_> = rows.iter().map(|r| r.interest_due).collect();
        assert_eq!(principal, vec![dec("333"), dec("333"), dec("334")]);
        assert_eq!(interest, vec![dec("50"), dec("50"), dec("50")]);
        assert_eq!(rows[2].due_date, date("2026-01-22"));
    }

    #[test]
    fn monthly_due_dates_clamp_to_the_month_end_without_drifting() {
        let t = three_month("150000");
        let rows = build(&t, Decimal::ZERO, date("2026-01-31")).unwrap();
        let dates: Vec<_> = rows.iter().map(|r| r.due_date).collect();
        assert_eq!(dates, vec![date("2026-02-28"), date("2026-03-31"), date("2026-04-30")]);
        assert_eq!(rows[1].from_date, date("2026-02-28"));
    }

    #[test]
    fn allocation_pays_the_oldest_instalment_interest_first() {
        let t = three_month("150000");
        let mut rows = build(&t, dec("27000"), date("2026-05-25")).unwrap();
        let first = allocate(&mut rows, dec("10000"));
        assert_eq!(first, Allocation { principal: dec("1000"), interest: dec("9000"), overpayment: Decimal::ZERO });
        let second = allocate(&mut rows, dec("60000"));
        assert_eq!(second.interest, dec("9000"));
        assert_eq!(second.principal, dec("51000"));
        assert!(rows[0].complete());
        assert_eq!(rows[1].outstanding(), dec("48000"));
        assert_eq!(next_due(&rows), Some((date("2026-07-25"), dec("48000"))));
    }

    #[test]
    fn whatever_is_left_after_everything_is_paid_is_the_overpayment() {
        let t = seven_day("10000");
        let mut rows = build(&t, dec("1100"), date("2026-05-25")).unwrap();
        let allocation = allocate(&mut rows, dec("11150.5"));
        assert_eq!(allocation.overpayment, dec("50.5"));
        let balances = Balances::of(&rows);
        assert_eq!(balances.total_repayment(), dec("11100"));
        assert_eq!(balances.total_outstanding(), Decimal::ZERO);
        assert_eq!(next_due(&rows), None);
    }

    #[test]
    fn a_loan_is_overdue_only_once_an_unpaid_due_date_has_passed() {
        let mut rows = build(&seven_day("10000"), dec("1100"), date("2026-05-25")).unwrap();
        assert!(!overdue(&rows, date("2026-06-01")));
        assert!(overdue(&rows, date("2026-06-02")));
        allocate(&mut rows, dec("11100"));
        assert!(!overdue(&rows, date("2026-06-02")));
    }

    #[test]
    fn balances_roll_up_the_schedule() {
        let mut rows = build(&three_month("150000"), dec("27000"), date("2026-05-25")).unwrap();
        allocate(&mut rows, dec("10000"));
        let b = Balances::of(&rows);
        assert_eq!(b.principal_disbursed, dec("150000"));
        assert_eq!(b.principal_outstanding(), dec("149000"));
        assert_eq!(b.interest_outstanding(), dec("18000"));
        assert_eq!(b.total_outstanding(), dec("167000"));
    }

    #[test]
    fn impossible_terms_build_no_schedule() {
        let mut t = seven_day("10000");
        t.repayments = 0;
        assert!(build(&t, Decimal::ZERO, date("2026-05-25")).is_none());
        let far = terms("1", "0", RateBasis::WholeTerm, 1, u32::MAX, Frequency::Years);
        assert!(build(&far, Decimal::ZERO, date("2026-05-25")).is_none());
    }
}
