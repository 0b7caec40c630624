//! What the subscriber was quoted and what the LMS charged, kept on the saga: the borrow outcome screen
//! shows the LMS's figures, and a difference is logged (never with the MSISDN) and counted
//! (`mkopo_loan_quote_mismatch_total`), so a lender learns that its quote rule is wrong from the first
//! loan, not from a complaint.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Disbursement;
use crate::lms::{Loan, Quote, QuoteCheck};
use crate::metrics::Metrics;

/// The amount to repay in all and the first due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    #[serde(with = "crate::domain::money::number")]
    pub total: Decimal,
    pub next_due: Option<NaiveDate>,
    /// The last due date, when known (the quote knows it; the LMS's is its schedule's).
    #[serde(default)]
    pub due: Option<NaiveDate>,
}

impl Terms {
    pub fn quoted(quote: &Quote) -> Self {
        Self { total: quote.total, next_due: Some(quote.next_due), due: Some(quote.due) }
    }

    /// The LMS's figures on a freshly created loan; `None` when it sent no total.
    pub fn charged(loan: &Loan) -> Option<Self> {
        let due = loan.schedule().filter_map(|r| r.due_date).max();
        Some(Self { total: loan.total_outstanding()?, next_due: loan.next_due_date, due })
    }
}

/// Records the LMS's figures on the saga and compares them with the quote.
pub(super) fn record(saga: &mut Disbursement, loan: &Loan, metrics: &Metrics) {
    let Some(charged) = Terms::charged(loan) else { return };
    if let Some(quoted) = &saga.quoted {
        let check = QuoteCheck::of(quoted.total, quoted.next_due, Some(charged.total), charged.next_due);
        if !check.matches() {
            tracing::warn!(
                reference = %saga.reference,
                product = saga.product_id,
                quoted_total = %quoted.total,
                charged_total = %charged.total,
                quoted_next_due = ?quoted.next_due,
                charged_next_due = ?charged.next_due,
                "the LMS charged other figures than the subscriber was quoted; check lms.quotes for this product"
            );
            if check.total_differs {
                metrics.quote_mismatch(&saga.product_id, "total");
            }
            if check.due_differs {
                metrics.quote_mismatch(&saga.product_id, "due");
            }
        }
    }
    saga.charged = Some(charged);
}
