//! Undoing a loan whose payout failed, proven by reads. An answer alone is never taken as done: a
//! `404 not_found` to `POST .../rollback` means "no such loan" on an LMS with the route and "no such
//! route" on one without it (the legacy generation), and only a read of the loan tells which.
//!
//! The current generation asks the rollback route first; then, on either generation, the loan is read
//! and walked down the undo chain one confirmed step at a time (Active → undo-disbursal → Approved →
//! undo-approval → Submitted and pending approval → delete → gone). A step that leaves the status
//! unchanged, or a loan that is settled, is [`UndoOutcome::Blocked`]: the caller parks it for an
//! operator. Never "undone" while the LMS shows the loan Active.

use reqwest::Method;

use super::error::LmsError;
use super::loan::{Loan, LoanKey, LoanRoute, LoanStatus};
use super::transport::Call;
use super::{Generation, LmsClient};

/// What the LMS shows after an undo, by a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoOutcome {
    /// The loan is gone: reading it answers `not_found`.
    Gone,
    /// The loan is still listed but neither Active nor owed (`Rejected`, `Withdrawn by applicant`).
    NotActive(LoanStatus),
    /// The LMS will not undo it (settled, has repayments, a refused or missing step). An operator must.
    Blocked { status: LoanStatus, reason: String },
}

/// Steps walked at most: the chain has three, plus room for a step that the LMS applied late.
const MAX_STEPS: usize = 5;

impl LmsClient {
    /// Undoes the loan under `external_id`, confirming every step by a read. Transient failures come back
    /// as errors (try again later; every step is safe to repeat); refusals as [`UndoOutcome::Blocked`].
    pub async fn undo_loan(&self, external_id: &str, note: &str) -> Result<UndoOutcome, LmsError> {
        let key = LoanKey::External(external_id.to_owned());
        let mut loan = self.read_loan(&key).await?;
        if self.inner.generation == Generation::Current && loan.as_ref().is_some_and(Loan::is_active) {
            match self.undo_step(&key, LoanRoute::Rollback, note).await {
                Ok(()) => {}
                Err(e) if e.is_transient() => return Err(e),
                // Refused or missing route: the read below and the chain decide.
                Err(e) => tracing::info!(code = e.label(), "LMS rollback route did not undo the loan; reading it"),
            }
            loan = self.read_loan(&key).await?;
        }
        for _ in 0..MAX_STEPS {
            let Some(current) = loan else { return Ok(UndoOutcome::Gone) };
            let route = match &current.status {
                LoanStatus::Active => LoanRoute::UndoDisbursal,
                LoanStatus::Approved => LoanRoute::UndoApproval,
                LoanStatus::SubmittedPendingApproval => LoanRoute::Delete,
                LoanStatus::Rejected | LoanStatus::Withdrawn => return Ok(UndoOutcome::NotActive(current.status)),
                other => {
                    let reason = format!("loan is {}: the LMS cannot undo it", other.as_str());
                    return Ok(UndoOutcome::Blocked { status: current.status.clone(), reason });
                }
            };
            let answer = self.undo_step(&key, route, note).await;
            if let Err(e) = &answer {
                if e.is_transient() {
                    return Err(answer.unwrap_err());
                }
            }
            let after = self.read_loan(&key).await?;
            if after.as_ref().is_some_and(|a| a.status == current.status) {
                let step = key.endpoint(route);
                let reason = match answer {
                    Err(LmsError::NotFound { .. }) => format!("the LMS has no {step} route"),
                    Err(e) => format!("{step} refused: lms_{}: {e}", e.label()),
                    Ok(()) => format!("the LMS accepted {step} but the loan is still {}", current.status.as_str()),
                };
                return Ok(UndoOutcome::Blocked { status: current.status, reason });
            }
            loan = after;
        }
        match loan {
            None => Ok(UndoOutcome::Gone),
            Some(l) => {
                let reason = format!("still {} after {MAX_STEPS} undo steps", l.status.as_str());
                Ok(UndoOutcome::Blocked { status: l.status, reason })
            }
        }
    }

    /// One step of the chain (or the rollback route). Any 2xx is success; the body is not trusted.
    async fn undo_step(&self, key: &LoanKey, route: LoanRoute, note: &str) -> Result<(), LmsError> {
        let path = format!("{}{}", key.path(), route.suffix());
        let endpoint = key.endpoint(route);
        let call = match route {
            LoanRoute::Delete => Call { method: Method::DELETE, body: None, ..Call::get(endpoint, path) },
            _ => Call::post(endpoint, path, serde_json::json!({ "note": note })),
        };
        self.execute(&call).await.map(|_| ())
    }
}
