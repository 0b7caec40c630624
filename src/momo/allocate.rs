//! How one inbound payment is split into LMS repayments (spec mobile-money §5.2 step 2). Pure: the
//! worker looks loans up and hands the balances in; this decides the parts and their idempotency keys.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::model::{AllocationPart, Money};

/// What the allocator needs to know of one Active loan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanBalance {
    pub external_id: String,
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
}

impl SuspenseReason {
    pub fn code(self) -> &'static str {
        match self {
            SuspenseReason::UnknownReference => "unknown_reference",
            SuspenseReason::NoReference => "no_reference",
            SuspenseReason::UnknownCustomer => "unknown_customer",
            SuspenseReason::NoActiveLoan => "no_active_loan",
        }
    }
}

/// The whole amount to one loan named by the payment's reference; key = receipt.
pub fn to_one_loan(receipt: &str, amount: &Money, loan_external_id: &str) -> Vec<AllocationPart> {
    vec![AllocationPart {
        loan_external_id: loan_external_id.to_owned(),
        amount: amount.clone(),
        idempotency_key: receipt.to_owned(),
    }]
}

/// Splits across a customer's Active loans: oldest due first (no due date last), then by externalId;
/// each loan takes what it owes and the last one takes whatever is left, which may overpay it. One part
/// is keyed by the receipt; several are keyed `receipt#1`, `receipt#2`, ... in order.
pub fn split_across(receipt: &str, amount: &Money, loans: &[LoanBalance]) -> Vec<AllocationPart> {
    let mut ordered: Vec<&LoanBalance> = loans.iter().collect();
    ordered.sort_by(|a, b| {
        (a.next_due.is_none(), a.next_due, &a.external_id).cmp(&(b.next_due.is_none(), b.next_due, &b.external_id))
    });
    let mut remaining = amount.amount;
    let mut takes: Vec<(&str, Decimal)> = Vec::new();
    for (i, loan) in ordered.iter().enumerate() {
        if remaining <= Decimal::ZERO {
            break;
        }
        let last = i + 1 == ordered.len();
        let take = if last { remaining } else { remaining.min(loan.outstanding.max(Decimal::ZERO)) };
        if take > Decimal::ZERO {
            takes.push((&loan.external_id, take));
            remaining -= take;
        }
    }
    let several = takes.len() > 1;
    takes
        .into_iter()
        .enumerate()
        .map(|(i, (loan, take))| AllocationPart {
            loan_external_id: loan.to_owned(),
            amount: Money { amount: take, currency: amount.currency.clone() },
            idempotency_key: if several { format!("{receipt}#{}", i + 1) } else { receipt.to_owned() },
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
            external_id: id.into(),
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
    fn a_named_loan_takes_the_whole_amount() {
        assert_eq!(
            parts(&to_one_loan("HP7Q4K2M9X", &tzs("11100.00"), "L0000123455")),
            [("L0000123455".into(), "11100".into(), "HP7Q4K2M9X".into())]
        );
    }
}
