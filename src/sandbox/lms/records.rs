//! The sandbox's stored records: customers, loans and their repayment transactions. Wire shapes live in
//! the handler modules; these types hold only what the simulator needs to derive them.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::products::Product;
use super::schedule::{Balances, Instalment};

/// A customer created through `POST /v1/customers`.
#[derive(Clone, Debug)]
pub(crate) struct Customer {
    pub id: u64,
    pub external_id: String,
    pub activation_date: NaiveDate,
    /// Set by `POST /v1/customers/external/{id}/close`; closed customers may not borrow.
    pub closed_on: Option<NaiveDate>,
}

impl Customer {
    pub fn active(&self) -> bool {
        self.closed_on.is_none()
    }

    pub fn display_name(&self) -> String {
        format!("{} Customer", self.external_id)
    }
}

/// The loan statuses the sandbox can produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoanStatus {
    SubmittedAndPendingApproval,
    Approved,
    Active,
    ClosedObligationsMet,
    Overpaid,
}

/// Every docs/lms.md status string, including those only Fineract or operators produce; a list filter on any of
/// them is valid even when the sandbox never holds such a loan.
pub(crate) const KNOWN_STATUSES: &[&str] = &[
    "Submitted and pending approval",
    "Approved",
    "Active",
    "Closed (obligations met)",
    "Overpaid",
    "Closed (written off)",
    "Closed (rescheduled)",
    "Rejected",
    "Withdrawn by applicant",
    "Transfer in progress",
    "Transfer on hold",
];

impl LoanStatus {
    pub fn label(self) -> &'static str {
        match self {
            LoanStatus::SubmittedAndPendingApproval => "Submitted and pending approval",
            LoanStatus::Approved => "Approved",
            LoanStatus::Active => "Active",
            LoanStatus::ClosedObligationsMet => "Closed (obligations met)",
            LoanStatus::Overpaid => "Overpaid",
        }
    }

    /// Whether money went out: only then do balances mean anything (a next due needs an Active loan).
    pub fn disbursed(self) -> bool {
        matches!(self, LoanStatus::Active | LoanStatus::ClosedObligationsMet | LoanStatus::Overpaid)
    }

    pub fn settled(self) -> bool {
        matches!(self, LoanStatus::ClosedObligationsMet | LoanStatus::Overpaid)
    }
}

/// One posted repayment, as first recorded; replays return it unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Repayment {
    pub id: u64,
    pub date: NaiveDate,
    pub amount: Decimal,
    pub principal: Decimal,
    pub interest: Decimal,
    pub overpayment: Decimal,
}

/// A loan. Submission, approval and disbursal all happen on `disbursed_on` (one call does all three).
#[derive(Clone, Debug)]
pub(crate) struct Loan {
    pub id: u64,
    pub external_id: Option<String>,
    pub customer_id: u64,
    pub customer_name: String,
    pub product: Product,
    pub principal: Decimal,
    pub status: LoanStatus,
    pub disbursed_on: NaiveDate,
    pub schedule: Vec<Instalment>,
    /// Oldest first; views reverse it.
    pub repayments: Vec<Repayment>,
    /// idempotencyKey → index into `repayments`.
    pub idempotency_keys: HashMap<String, usize>,
    pub total_overpaid: Decimal,
    /// Notes given to undo steps, kept for debugging.
    pub notes: Vec<String>,
}

impl Loan {
    /// The roll-up; all zero while the loan is not disbursed (mid-rollback).
    pub fn balances(&self) -> Balances {
        if self.status.disbursed() {
            Balances::of(&self.schedule)
        } else {
            Balances::default()
        }
    }

    pub fn repayment(&self, id: u64) -> Option<&Repayment> {
        self.repayments.iter().find(|r| r.id == id)
    }
}
