//! How one inbound payment is split into LMS repayments (docs/money.md). Pure: the
//! worker looks loans up and hands the balances in; this decides the parts and their idempotency keys.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::model::{AllocationPart, Money};
use crate::lms::LoanKey;

/// What the allocator needs to know of one Active loan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanBalance {
    pub loan: LoanKey,
    pub outstanding: Decimal,
    pub next_due: Option<NaiveDate>,
}

/// Why a payment cannot be allocated; the reason code operators see on the suspense list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuspenseReason {
    /// An account was given, and neither it nor the payer led to a loan.
    UnknownReference,
    /// No account and no usable MSISDN.
    NoReference,
    /// The MSISDN is not an LMS customer.
    UnknownCustomer,
    /// The customer has no Active loan.
    NoActiveLoan,
    /// The payment's currency is not the loan's, or not the one the gateway lends in: never posted
    /// at face value.
    CurrencyMismatch,
}

impl SuspenseReason {
    pub fn code(self) -> &'static str {
        match self {
            SuspenseReason::UnknownReference => "unknown_reference",
            SuspenseReason::NoReference => "no_reference",
            SuspenseReason::UnknownCustomer => "unknown_customer",
            SuspenseReason::NoActiveLoan => "no_active_loan",
            SuspenseReason::CurrencyMismatch => "currency_mismatch",
        }
    }
}

/// The whole amount to one loan named by the payment's reference; key = receipt.
pub fn to_one_loan(receipt: &str, amount: &Money, loan: &LoanKey) -> Vec<AllocationPart> {
    vec![AllocationPart::new(loan, amount.clone(), receipt.to_owned())]
}

/// Splits across a customer's Active loans: oldest due first (no due date last), then by loan key;
/// each loan takes what it owes and the last one takes whatever is left, which may overpay it. One part
/// is keyed by the receipt; several are keyed `receipt#1`, `receipt#2`, ... in order.
pub fn split_across(receipt: &str, amount: &Money, loans: &[LoanBalance]) -> Vec<AllocationPart> {
    let mut ordered: Vec<&LoanBalance> = loans.iter().collect();
    ordered.sort_by_cached_key(|l| (l.next_due.is_none(), l.next_due, l.loan.to_string()));
    let mut remaining = amount.amount;
    let mut takes: Vec<(&LoanKey, Decimal)> = Vec::new();
    for (i, loan) in ordered.iter().enumerate() {
        if remaining <= Decimal::ZERO {
            break;
        }
        let last = i + 1 == ordered.len();
        let take = if last { remaining } else { remaining.min(loan.outstanding.max(Decimal::ZERO)) };
        if take > Decimal::ZERO {
            takes.push((&loan.loan, take));
            remaining -= take;
        }
    }
    let several = takes.len() > 1;
    takes
        .into_iter()
        .enumerate()
        .map(|(i, (loan, take))| {
            let key = if several { format!("{receipt}#{}", i + 1) } else { receipt.to_owned() };
            AllocationPart::new(loan, Money { amount: take, currency: amount.currency.clone() }, key)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tzs(s: &str) -> Money {
        Money::new(s.parse().unwrap(), "TZS")
    }

    fn loan(id: &str, outstanding: &str, due: Option<&str>) -> LoanBalance {
        LoanBalance {
            loan: LoanKey::External(id.into()),
            outstanding: outstanding.parse().unwrap(),
            next_due: due.map(|d| d.parse().unwrap()),
        }
    }

    fn parts(v: &[AllocationPart]) -> Vec<(String, String, String)> {
        v.iter()
            .map(|p| (p.loan_external_id.clone(), p.amount.amount.normalize().to_string(), p.idempotency_key.clone()))
            .collect()
    }

    fn a1_loans() -> Vec<LoanBalance> {
        vec![loan("L0000123463", "8000", Some("2026-05-27")), loan("L0000123455", "10000", Some("2026-05-20"))]
    }

    #[test]
    fn a1_fifteen_thousand_pays_the_oldest_due_loan_first_then_the_next() {
        assert_eq!(
            parts(&split_across("HP5N8R2T4V", &tzs("15000.00"), &a1_loans())),
            [
                ("L0000123455".into(), "10000".into(), "HP5N8R2T4V#1".into()),
                ("L0000123463".into(), "5000".into(), "HP5N8R2T4V#2".into())
            ]
        );
    }

    #[test]
    fn a1_twenty_thousand_overpays_the_last_loan() {
        assert_eq!(
            parts(&split_across("HP5N8R2T4V", &tzs("20000.00"), &a1_loans())),
            [
                ("L0000123455".into(), "10000".into(), "HP5N8R2T4V#1".into()),
                ("L0000123463".into(), "10000".into(), "HP5N8R2T4V#2".into())
            ]
        );
    }

    #[test]
    fn a_payment_that_fits_the_first_loan_is_one_part_keyed_by_the_receipt() {
        assert_eq!(
            parts(&split_across("R1", &tzs("500"), &a1_loans())),
            [("L0000123455".into(), "500".into(), "R1".into())]
        );
    }

    #[test]
    fn loans_without_a_due_date_go_last_and_ties_break_by_external_id() {
        let loans = vec![loan("B", "100", None), loan("C", "100", Some("2026-01-01")), loan("A", "100", None)];
        let keys: Vec<String> =
            split_across("R", &tzs("300"), &loans).into_iter().map(|p| p.loan_external_id).collect();
        assert_eq!(keys, ["C", "A", "B"]);
    }

    #[test]
    fn a_loan_without_external_id_is_addressed_by_its_lms_id() {
        let loans = vec![
            LoanBalance { loan: LoanKey::Id("501".into()), outstanding: "100".parse().unwrap(), next_due: None },
            loan("L1", "100", Some("2026-01-01")),
        ];
        let parts = split_across("R", &tzs("150"), &loans);
        assert_eq!(parts[0].loan(), LoanKey::External("L1".into()));
        assert_eq!(parts[1].loan(), LoanKey::Id("501".into()));
        assert_eq!((parts[1].loan_external_id.as_str(), parts[1].lms_loan_id.as_deref()), ("", Some("501")));
    }

    #[test]
    fn a_named_loan_takes_the_whole_amount() {
        assert_eq!(
            parts(&to_one_loan("HP7Q4K2M9X", &tzs("11100.00"), &LoanKey::External("L0000123455".into()))),
            [("L0000123455".into(), "11100".into(), "HP7Q4K2M9X".into())]
        );
    }
}
