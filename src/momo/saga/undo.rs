//! The rollback step of a saga whose payout definitely failed. "Rolled back" is recorded only when a
//! read shows the loan gone or no longer Active ([`LmsClient::undo_loan`](crate::lms::LmsClient::undo_loan));
//! a loan the LMS will not undo goes to the reconciliation list with the reason, and the saga ends
//! `RollbackBlocked` for an operator.

use chrono::{DateTime, Utc};

use super::{Disbursement, Phase};
use crate::lms::UndoOutcome;
use crate::momo::service::MoneyService;
use crate::momo::store::OpsList;

pub(super) async fn roll_back(service: &MoneyService, saga: &mut Disbursement) -> Option<DateTime<Utc>> {
    let note = format!("payout failed: {}", saga.reason.as_deref().unwrap_or("unknown"));
    let blocked = match service.lms.undo_loan(saga.reference.as_str(), &note).await {
        Ok(UndoOutcome::Gone) => None,
        Ok(UndoOutcome::NotActive(status)) => {
            tracing::info!(reference = %saga.reference, status = status.as_str(), "loan left in a non-active status");
            None
        }
        Ok(UndoOutcome::Blocked { status, reason }) => {
            Some(format!("rollback blocked (loan {}): {reason}", status.as_str()))
        }
        Err(e) if e.is_transient() => {
            saga.attempts += 1;
            return Some(service.after(service.settings.backoff(saga.attempts)));
        }
        Err(e) => Some(format!("rollback refused: lms_{}: {e}", e.label())),
    };
    let Some(reason) = blocked else {
        saga.phase = Phase::RolledBack;
        return None;
    };
    tracing::error!(reference = %saga.reference, reason, "LMS loan whose payout failed could not be undone; on the reconciliation list");
    saga.reason = Some(reason);
    saga.phase = Phase::RollbackBlocked;
    if let Err(error) = service.store.list_add(OpsList::Reconciliation, saga.reference.as_str(), service.now()).await {
        tracing::warn!(%error, "could not add a blocked rollback to the reconciliation list");
    }
    None
}
