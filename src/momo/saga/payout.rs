//! The payout half of the saga: following the table in docs/money.md ([`super::table`]) with the wallet's
//! answers, polling, the reconciliation list, and moving the disbursement date after a late credit.

use chrono::{DateTime, Utc};

use super::table::{payout_transition, Next, PayoutSignal};
use super::Disbursement;
use crate::momo::model::{Direction, OutboundRequest, Outcome};
use crate::momo::service::MoneyService;
use crate::momo::store::OpsList;
use crate::momo::wallet::{StatusAnswer, SubmitResult};

/// Moves the saga by the table in docs/money.md and carries out what the table says; returns when to look again
/// (`None`: go on now, or the saga waits on nothing).
pub(super) async fn follow(
    service: &MoneyService,
    saga: &mut Disbursement,
    signal: PayoutSignal<'_>,
) -> Option<DateTime<Utc>> {
    let (phase, next) = payout_transition(saga.phase, signal);
    let outcome = match signal {
        PayoutSignal::Submit(SubmitResult::Accepted(o))
        | PayoutSignal::Status(StatusAnswer::Found(o))
        | PayoutSignal::Report(o) => Some(o),
        _ => None,
    };
    match (signal, outcome) {
        (PayoutSignal::Submit(SubmitResult::Rejected { code, message }), _) => {
            saga.reason = Some(format!("payout rejected: {code}: {message}"));
        }
        (PayoutSignal::Submit(SubmitResult::Unknown { why }), _) | (_, Some(Outcome::Unknown { why })) => {
            saga.reason = Some(format!("payout outcome unknown: {why}"));
        }
        (PayoutSignal::Submit(SubmitResult::RetryLater { why }), _) => {
            tracing::warn!(reference = %saga.reference, why, "payout not accepted yet; retrying the same reference");
        }
        (PayoutSignal::Status(StatusAnswer::Unclear(why)), _) => {
            tracing::info!(reference = %saga.reference, why, "payout status unclear; polling again later");
        }
        (_, Some(Outcome::Succeeded { receipt, occurred_at, .. })) if next == Next::Finish => {
            saga.receipt = receipt.clone();
            if let Some(at) = occurred_at {
                move_disbursement_date(service, saga, service.lms.business_date(*at)).await;
            }
        }
        (_, Some(Outcome::Failed { code, message })) if next == Next::RollBack => {
            saga.reason = Some(format!(
                "payout failed: {code}{}",
                message.as_ref().map(|m| format!(": {m}")).unwrap_or_default()
            ));
        }
        _ => {}
    }
    saga.phase = phase;
    let settings = &service.settings;
    match next {
        Next::Poll => Some(next_poll(service, saga)),
        Next::RetrySubmit => {
            saga.attempts += 1;
            Some(service.after(settings.backoff(saga.attempts)))
        }
        Next::Reconcile => {
            saga.reason = Some("payout outcome still unknown at the poll limit".into());
            tracing::error!(reference = %saga.reference, "payout unresolved at the poll limit: reconcile from the wallet statement");
            if let Err(error) =
                service.store.list_add(OpsList::Reconciliation, saga.reference.as_str(), service.now()).await
            {
                tracing::warn!(%error, "could not add a payout to the reconciliation list");
            }
            Some(service.after(settings.payout_poll_limit))
        }
        Next::Contradiction => {
            tracing::error!(reference = %saga.reference, "wallet reported a failure for a payout it completed; no rollback");
            None
        }
        Next::Critical => {
            tracing::error!(reference = %saga.reference, "CRITICAL: money went out for a loan that was rolled back; re-create the loan");
            if let Err(error) =
                service.store.list_add(OpsList::Reconciliation, saga.reference.as_str(), service.now()).await
            {
                tracing::warn!(%error, "could not add a critical payout to the reconciliation list");
            }
            None
        }
        Next::Stay | Next::Resubmit | Next::Finish | Next::RollBack => None,
    }
}

/// docs/money.md: a wallet credit on a later day than the loan's disbursal moves the disbursal date,
/// so the schedule and any overdue status start from the day the money arrived. A refusal goes on the
/// reconciliation list; the payout itself is done either way.
async fn move_disbursement_date(service: &MoneyService, saga: &mut Disbursement, value_date: chrono::NaiveDate) {
    if saga.disbursed_on.is_none_or(|on| value_date <= on) {
        return;
    }
    match service.lms.adjust_disbursement_date(saga.reference.as_str(), value_date, "wallet credit date").await {
        Ok(_) => saga.disbursed_on = Some(value_date),
        Err(error) => {
            tracing::warn!(reference = %saga.reference, code = error.label(), "LMS refused to move the disbursement date");
            saga.reason = Some(format!("disbursement date not moved to {value_date}: lms_{}", error.label()));
            if let Err(error) =
                service.store.list_add(OpsList::Reconciliation, saga.reference.as_str(), service.now()).await
            {
                tracing::warn!(%error, "could not add a date adjustment to the reconciliation list");
            }
        }
    }
}

pub(super) fn next_poll(service: &MoneyService, saga: &Disbursement) -> DateTime<Utc> {
    let schedule = &service.settings.payout_poll_schedule;
    let delay = schedule.get(saga.polls as usize).copied().unwrap_or(service.settings.payout_poll_every);
    service.after(delay)
}

pub(super) fn poll_limit_reached(service: &MoneyService, saga: &Disbursement) -> bool {
    let since = saga.payout_submitted_at.unwrap_or(saga.created_at);
    service.now() - since
        >= chrono::TimeDelta::from_std(service.settings.payout_poll_limit).unwrap_or(chrono::TimeDelta::MAX)
}

pub(super) fn payout_request(saga: &Disbursement) -> OutboundRequest {
    OutboundRequest {
        reference: saga.reference.clone(),
        direction: Direction::Payout,
        msisdn: saga.msisdn.clone(),
        amount: saga.principal.clone(),
        account: None,
        description: Some(format!("Mkopo loan {}", saga.reference)),
    }
}
