//! Where a disbursement stands; terminal phases end the saga.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Reference minted and stored; the loan is being created.
    Minted,
    /// The loan is Active; the payout is being submitted.
    LoanActive,
    /// The wallet accepted the payout; waiting for its result.
    PayoutPending,
    /// The payout's fate is unknown: polled, never rolled back.
    PayoutUnknown,
    Done,
    /// The loan was never created (or a late one was rolled back): nothing was paid.
    Rejected,
    /// The payout definitely failed: the loan is being rolled back.
    RollingBack,
    RolledBack,
    /// The LMS refused the rollback (repayments recorded): operators must act.
    RollbackBlocked,
}

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::Minted,
        Phase::LoanActive,
        Phase::PayoutPending,
        Phase::PayoutUnknown,
        Phase::Done,
        Phase::Rejected,
        Phase::RollingBack,
        Phase::RolledBack,
        Phase::RollbackBlocked,
    ];

    /// The phase as stored (snake case), for logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Minted => "minted",
            Phase::LoanActive => "loan_active",
            Phase::PayoutPending => "payout_pending",
            Phase::PayoutUnknown => "payout_unknown",
            Phase::Done => "done",
            Phase::Rejected => "rejected",
            Phase::RollingBack => "rolling_back",
            Phase::RolledBack => "rolled_back",
            Phase::RollbackBlocked => "rollback_blocked",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Phase::Done | Phase::Rejected | Phase::RolledBack | Phase::RollbackBlocked)
    }
}
