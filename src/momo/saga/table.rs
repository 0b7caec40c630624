//! The payout state machine of the disbursement saga (docs/money.md) as one pure function:
//! a phase and a signal from the wallet in, the next phase and what to do out. The saga driver
//! performs the IO; this table is what the unit tests pin down row by row.

use super::Phase;
use crate::momo::model::Outcome;
use crate::momo::wallet::{StatusAnswer, SubmitResult};

/// What the wallet (or the clock) said about a payout.
#[derive(Debug, Clone, Copy)]
pub enum PayoutSignal<'a> {
    /// The answer to submitting the payout.
    Submit(&'a SubmitResult),
    /// The answer to a status query.
    Status(&'a StatusAnswer),
    /// A result callback (through the inbox) or an operator's decision.
    Report(&'a Outcome),
    /// The payout is older than `money.payout_poll_limit` and still unresolved.
    PollLimit,
}

/// What the driver does after the transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Nothing changes and nothing is scheduled.
    Stay,
    /// Ask the wallet again at the next poll time.
    Poll,
    /// Submit the same reference again after a backoff (nothing was recorded).
    RetrySubmit,
    /// Submit the same reference again now (the wallet never recorded it).
    Resubmit,
    /// The payout succeeded: the saga is done.
    Finish,
    /// The payout definitely failed: roll the loan back.
    RollBack,
    /// Unresolved at the limit: reconciliation list and alert; only operators move it now.
    Reconcile,
    /// A failure reported for a payout that completed: alert, change nothing.
    Contradiction,
    /// Money went out for a loan that was rolled back: critical alert, operators re-create the loan.
    Critical,
}

fn from_outcome(outcome: &Outcome, waiting: Phase) -> (Phase, Next) {
    match outcome {
        Outcome::Succeeded { .. } => (Phase::Done, Next::Finish),
        Outcome::Failed { .. } => (Phase::RollingBack, Next::RollBack),
        Outcome::Pending => (waiting, Next::Poll),
        Outcome::Unknown { .. } => (Phase::PayoutUnknown, Next::Poll),
    }
}

pub fn payout_transition(phase: Phase, signal: PayoutSignal<'_>) -> (Phase, Next) {
    use PayoutSignal::*;
    let waiting = matches!(phase, Phase::PayoutPending | Phase::PayoutUnknown);
    match (phase, signal) {
        (Phase::LoanActive, Submit(SubmitResult::Accepted(outcome))) => from_outcome(outcome, Phase::PayoutPending),
        (Phase::LoanActive, Submit(SubmitResult::Rejected { .. })) => (Phase::RollingBack, Next::RollBack),
        (Phase::LoanActive, Submit(SubmitResult::RetryLater { .. })) => (Phase::LoanActive, Next::RetrySubmit),
        (Phase::LoanActive, Submit(SubmitResult::Unknown { .. })) => (Phase::PayoutUnknown, Next::Poll),
        (_, Status(StatusAnswer::Found(outcome))) if waiting => from_outcome(outcome, phase),
        (_, Status(StatusAnswer::NotFound)) if waiting => (Phase::LoanActive, Next::Resubmit),
        (_, Status(StatusAnswer::Unclear(_))) if waiting => (phase, Next::Poll),
        (_, PollLimit) if waiting => (Phase::PayoutUnknown, Next::Reconcile),
        (Phase::LoanActive, Report(outcome @ (Outcome::Succeeded { .. } | Outcome::Failed { .. }))) => {
            from_outcome(outcome, phase)
        }
        (_, Report(outcome @ (Outcome::Succeeded { .. } | Outcome::Failed { .. }))) if waiting => {
            from_outcome(outcome, phase)
        }
        (Phase::Done, Report(Outcome::Failed { .. })) => (Phase::Done, Next::Contradiction),
        (Phase::RollingBack | Phase::RolledBack | Phase::RollbackBlocked, Report(Outcome::Succeeded { .. })) => {
            (phase, Next::Critical)
        }
        _ => (phase, Next::Stay),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Phase::*;

    fn ok() -> Outcome {
        Outcome::Succeeded { receipt: Some("R".into()), amount: None, occurred_at: None }
    }
    fn failed() -> Outcome {
        Outcome::Failed { code: "recipient_invalid".into(), message: None }
    }
    fn unknown() -> Outcome {
        Outcome::Unknown { why: "timeout".into() }
    }

    #[test]
    fn submitting_a_payout_follows_the_wallets_answer() {
        let cases = [
            (SubmitResult::Accepted(Outcome::Pending), (PayoutPending, Next::Poll)),
            (SubmitResult::Accepted(ok()), (Done, Next::Finish)),
            (SubmitResult::Accepted(failed()), (RollingBack, Next::RollBack)),
            (SubmitResult::Accepted(unknown()), (PayoutUnknown, Next::Poll)),
            (
                SubmitResult::Rejected { code: "invalid_request".into(), message: String::new() },
                (RollingBack, Next::RollBack),
            ),
            (SubmitResult::RetryLater { why: "503".into() }, (LoanActive, Next::RetrySubmit)),
            (SubmitResult::Unknown { why: "reset".into() }, (PayoutUnknown, Next::Poll)),
        ];
        for (answer, expected) in cases {
            assert_eq!(payout_transition(LoanActive, PayoutSignal::Submit(&answer)), expected, "{answer:?}");
        }
    }

    #[test]
    fn a_waiting_payout_is_settled_by_status_or_report_and_never_rolled_back_while_unknown() {
        for waiting in [PayoutPending, PayoutUnknown] {
            assert_eq!(
                payout_transition(waiting, PayoutSignal::Status(&StatusAnswer::Found(ok()))),
                (Done, Next::Finish)
            );
            assert_eq!(payout_transition(waiting, PayoutSignal::Report(&ok())), (Done, Next::Finish));
            assert_eq!(
                payout_transition(waiting, PayoutSignal::Status(&StatusAnswer::Found(failed()))),
                (RollingBack, Next::RollBack)
            );
            assert_eq!(payout_transition(waiting, PayoutSignal::Report(&failed())), (RollingBack, Next::RollBack));
            assert_eq!(
                payout_transition(waiting, PayoutSignal::Status(&StatusAnswer::Found(Outcome::Pending))),
                (waiting, Next::Poll)
            );
            assert_eq!(
                payout_transition(waiting, PayoutSignal::Status(&StatusAnswer::Found(unknown()))),
                (PayoutUnknown, Next::Poll)
            );
            assert_eq!(
                payout_transition(waiting, PayoutSignal::Status(&StatusAnswer::Unclear("502".into()))),
                (waiting, Next::Poll)
            );
            assert_eq!(
                payout_transition(waiting, PayoutSignal::Status(&StatusAnswer::NotFound)),
                (LoanActive, Next::Resubmit)
            );
            assert_eq!(payout_transition(waiting, PayoutSignal::PollLimit), (PayoutUnknown, Next::Reconcile));
            assert_eq!(payout_transition(waiting, PayoutSignal::Report(&Outcome::Pending)), (waiting, Next::Stay));
        }
    }

    #[test]
    fn contradictions_after_the_end_change_nothing_but_alert() {
        assert_eq!(payout_transition(Done, PayoutSignal::Report(&failed())), (Done, Next::Contradiction));
        for rolled in [RollingBack, RolledBack, RollbackBlocked] {
            assert_eq!(payout_transition(rolled, PayoutSignal::Report(&ok())), (rolled, Next::Critical));
        }
        assert_eq!(payout_transition(Done, PayoutSignal::Report(&ok())), (Done, Next::Stay));
        assert_eq!(payout_transition(RolledBack, PayoutSignal::Report(&failed())), (RolledBack, Next::Stay));
    }

    #[test]
    fn signals_that_do_not_apply_to_a_phase_are_ignored() {
        assert_eq!(payout_transition(Minted, PayoutSignal::Report(&ok())), (Minted, Next::Stay));
        assert_eq!(payout_transition(Done, PayoutSignal::Status(&StatusAnswer::NotFound)), (Done, Next::Stay));
        assert_eq!(payout_transition(LoanActive, PayoutSignal::PollLimit), (LoanActive, Next::Stay));
    }
}
