//! The disbursement saga (docs/money.md): mint and persist a reference, create the LMS
//! loan under it, pay out under the same reference, and either finish or roll the loan back — never
//! while the payout's fate is unknown. Each step is a compare-and-set on the saga document, so
//! callbacks, polls, timers and the recovery sweep can race without doubling anything; every step is
//! resumable after a crash because the next action follows from the stored phase alone.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use super::model::{Money, Outcome};
use super::reference::{Reference, ReferenceKind};
mod payout;
mod phase;
pub mod table;
mod terms;
mod undo;

use super::service::MoneyService;
use super::store::{load_json, put_json};
use super::wallet::{StatusAnswer, SubmitResult};
use super::worker::Deferred;
use crate::domain::Msisdn;
use crate::lms::{LmsError, NewLoan, UndoOutcome};
use crate::store::StoreError;
use payout::{follow, payout_request, poll_limit_reached};
use table::PayoutSignal;

pub use phase::Phase;
pub use terms::Terms;

const OPEN: &str = "disb:open";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disbursement {
    pub reference: Reference,
    pub msisdn: Msisdn,
    pub product_id: String,
    pub principal: Money,
    pub phase: Phase,
    pub loan_id: Option<String>,
    pub receipt: Option<String>,
    /// Why the saga failed or is stuck, in operator words.
    pub reason: Option<String>,
    pub attempts: u32,
    pub polls: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub payout_submitted_at: Option<DateTime<Utc>>,
    /// Set when the LMS already held a different loan under this reference: the disbursement carries
    /// on under the newer reference (follow it there). No money moved under this one.
    #[serde(default)]
    pub superseded_by: Option<Reference>,
    /// Payout submissions claimed so far (see `advance`); reset when the wallet says nothing was recorded.
    #[serde(default)]
    pub submits: u32,
    /// The loan's disbursal date in the LMS, to move it when the wallet credit lands on a later day.
    #[serde(default)]
    pub disbursed_on: Option<chrono::NaiveDate>,
    /// What the subscriber confirmed on the quote screen.
    #[serde(default)]
    pub quoted: Option<Terms>,
    /// What the LMS charged when it created the loan: the figures the outcome screen shows.
    #[serde(default)]
    pub charged: Option<Terms>,
}

pub fn saga_timer(reference: &Reference) -> String {
    format!("saga:{reference}")
}

fn doc_key(reference: &Reference) -> String {
    format!("disb:{reference}")
}

/// Reads a saga's current state.
pub async fn load(service: &MoneyService, reference: &Reference) -> Result<Option<(u64, Disbursement)>, StoreError> {
    load_json(service.store.as_ref(), &doc_key(reference)).await
}

/// The disbursement a reference leads to, following restarts under a new reference (at most a few).
pub async fn current(service: &MoneyService, reference: &Reference) -> Result<Option<Disbursement>, StoreError> {
    let mut next = reference.clone();
    for _ in 0..8 {
        match load(service, &next).await? {
            Some((_, saga)) => match &saga.superseded_by {
                Some(newer) => next = newer.clone(),
                None => return Ok(Some(saga)),
            },
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// Starts a disbursement: the reference is minted and the saga persisted before anything external
/// happens; the steps then run in the background. Returns the reference to follow it by. `quoted` is
/// what the subscriber confirmed, compared with what the LMS charges once the loan exists.
pub async fn disburse(
    service: &MoneyService,
    msisdn: &Msisdn,
    product_id: &str,
    principal: Money,
    quoted: Option<Terms>,
) -> Result<Reference, StoreError> {
    let reference = create(service, msisdn, product_id, principal, quoted).await?;
    let background = service.clone();
    let started = reference.clone();
    tokio::spawn(
        async move {
            if let Err(error) = advance(&background, &started).await {
                tracing::warn!(%error, reference = %started, "disbursement step deferred");
            }
        }
        .in_current_span(),
    );
    Ok(reference)
}

/// Mints the reference and persists the saga, with a timer that starts it even if this process dies
/// right now. Nothing external has happened when this returns.
pub async fn create(
    service: &MoneyService,
    msisdn: &Msisdn,
    product_id: &str,
    principal: Money,
    quoted: Option<Terms>,
) -> Result<Reference, StoreError> {
    let n = service.store.next_sequence().await?;
    let reference = Reference::mint(ReferenceKind::Loan, n).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let now = service.now();
    let saga = Disbursement {
        reference: reference.clone(),
        msisdn: msisdn.clone(),
        product_id: product_id.to_owned(),
        principal,
        phase: Phase::Minted,
        loan_id: None,
        receipt: None,
        reason: None,
        attempts: 0,
        polls: 0,
        created_at: now,
        updated_at: now,
        payout_submitted_at: None,
        superseded_by: None,
        submits: 0,
        disbursed_on: None,
        quoted,
        charged: None,
    };
    service.store.index_add(OPEN, reference.as_str()).await?;
    if !put_json(service.store.as_ref(), &doc_key(&reference), 0, &saga).await? {
        return Err(StoreError::Unavailable(format!("reference {reference} already in use; the counter was lowered")));
    }
    // A timer too, so a crash before the background task runs still gets the saga going.
    service.store.schedule(&saga_timer(&reference), service.after(service.settings.claim_block)).await?;
    tracing::info!(%reference, msisdn = %msisdn, "disbursement started");
    Ok(reference)
}

/// Writes `saga` if nobody changed it since `version`.
async fn save(service: &MoneyService, version: u64, saga: &mut Disbursement) -> Result<bool, StoreError> {
    saga.updated_at = service.now();
    let written = put_json(service.store.as_ref(), &doc_key(&saga.reference), version, saga).await?;
    if written && saga.phase.is_terminal() {
        service.metrics.saga_finished(saga.phase.name());
        service.store.index_remove(OPEN, saga.reference.as_str()).await?;
        service.store.cancel(&saga_timer(&saga.reference)).await?;
    }
    Ok(written)
}

/// Runs the saga's next actions until it waits (on a timer or a callback) or ends.
pub async fn advance(service: &MoneyService, reference: &Reference) -> Result<(), Deferred> {
    for _ in 0..16 {
        let Some((mut version, mut saga)) = load(service, reference).await? else {
            service.store.cancel(&saga_timer(reference)).await?;
            return Ok(());
        };
        if saga.phase.is_terminal() {
            service.store.index_remove(OPEN, reference.as_str()).await?;
            service.store.cancel(&saga_timer(reference)).await?;
            return Ok(());
        }
        if saga.phase == Phase::LoanActive {
            // Claim the submission before the wallet hears of it: a concurrent step (timer, sweep)
            // then sees the claim, and a wallet that does not dedupe by reference is never sent the
            // same payout twice.
            saga.submits += 1;
            if !save(service, version, &mut saga).await? {
                continue;
            }
            version += 1;
        }
        let wait = step(service, &mut saga).await;
        if !save(service, version, &mut saga).await? {
            continue; // someone else moved it: look again
        }
        match wait {
            Some(at) => {
                service.store.schedule(&saga_timer(reference), at).await?;
                return Ok(());
            }
            None if saga.phase.is_terminal() => {
                tracing::info!(%reference, phase = ?saga.phase, reason = saga.reason.as_deref().unwrap_or(""), "disbursement finished");
                return Ok(());
            }
            None => continue,
        }
    }
    Ok(())
}

/// One action for the current phase. Mutates the saga; returns when to look again, or `None` to go on.
async fn step(service: &MoneyService, saga: &mut Disbursement) -> Option<DateTime<Utc>> {
    let settings = &service.settings;
    match saga.phase {
        Phase::Minted => {
            let request = NewLoan {
                customer_external_id: saga.msisdn.as_str().to_owned(),
                product_id: saga.product_id.clone(),
                principal: saga.principal.amount,
                external_id: saga.reference.as_str().to_owned(),
            };
            match service.lms.create_loan(&request).await {
                Ok(loan) => {
                    terms::record(saga, &loan, &service.metrics);
                    saga.disbursed_on = loan.disbursement_date();
                    saga.loan_id = Some(loan.id);
                    saga.phase = Phase::LoanActive;
                    None
                }
                Err(e) if e.is_transient() => {
                    saga.attempts += 1;
                    if service.now() - saga.created_at
                        < chrono::TimeDelta::from_std(settings.loan_create_deadline).unwrap_or_default()
                    {
                        return Some(service.after(settings.backoff(saga.attempts)));
                    }
                    // The create never confirmed: did it land after all?
                    match service.lms.get_loan(saga.reference.as_str()).await {
                        Ok(Some(loan)) => {
                            terms::record(saga, &loan, &service.metrics);
                            saga.loan_id = Some(loan.id);
                            saga.phase = Phase::LoanActive;
                            None
                        }
                        Ok(None) => {
                            saga.reason = Some(format!("loan create never confirmed: {e}"));
                            saga.phase = Phase::Rejected;
                            // A late-landing create must not leave a loan without money.
                            if let Ok(outcome @ UndoOutcome::Blocked { .. }) =
                                service.lms.undo_loan(saga.reference.as_str(), "loan create never confirmed").await
                            {
                                tracing::error!(reference = %saga.reference, ?outcome, "a late loan create could not be undone");
                            }
                            None
                        }
                        Err(_) => Some(service.after(settings.backoff(saga.attempts))),
                    }
                }
                Err(LmsError::Conflict { detail, .. }) => {
                    // Another loan already owns this reference (a lowered counter, a shared LMS):
                    // nothing moved yet, so the disbursement restarts under a fresh reference.
                    tracing::error!(reference = %saga.reference, detail, "reference collision on loan create; minting a new reference");
                    match create(service, &saga.msisdn, &saga.product_id, saga.principal.clone(), saga.quoted.clone())
                        .await
                    {
                        Ok(next) => {
                            saga.reason = Some(format!("reference collision ({detail}); continued as {next}"));
                            saga.superseded_by = Some(next);
                            saga.phase = Phase::Rejected;
                            None
                        }
                        Err(error) => {
                            tracing::warn!(%error, "could not mint a replacement reference; retrying");
                            Some(service.after(settings.backoff(saga.attempts + 1)))
                        }
                    }
                }
                Err(e) => {
                    saga.reason = Some(format!("lms_{}: {e}", e.label()));
                    saga.phase = Phase::Rejected;
                    None
                }
            }
        }
        Phase::LoanActive => {
            saga.payout_submitted_at.get_or_insert(service.now());
            if saga.submits > 1 && !service.wallet.dedupes_by_reference() {
                // An earlier submission may have reached a wallet that would pay twice: find out instead.
                let answer = SubmitResult::Unknown { why: "an earlier submission may have reached the wallet".into() };
                return follow(service, saga, PayoutSignal::Submit(&answer)).await;
            }
            let answer = service.wallet.submit(&payout_request(saga)).await;
            if matches!(answer, SubmitResult::RetryLater { .. }) {
                saga.submits = 0; // definitely not recorded: the same reference may be sent again
            }
            follow(service, saga, PayoutSignal::Submit(&answer)).await
        }
        Phase::PayoutPending | Phase::PayoutUnknown => {
            if poll_limit_reached(service, saga) {
                return follow(service, saga, PayoutSignal::PollLimit).await;
            }
            saga.polls += 1;
            let mut answer = service.wallet.status(&payout_request(saga)).await;
            let pending_too_long = matches!(answer, StatusAnswer::Found(Outcome::Pending))
                && saga.payout_submitted_at.is_some_and(|at| {
                    service.now() - at
                        > chrono::TimeDelta::from_std(settings.payout_pending_timeout).unwrap_or_default()
                });
            if pending_too_long {
                answer = StatusAnswer::Found(Outcome::Unknown {
                    why: "still pending past money.payout_pending_timeout".into(),
                });
            }
            follow(service, saga, PayoutSignal::Status(&answer)).await
        }
        Phase::RollingBack => undo::roll_back(service, saga).await,
        Phase::Done | Phase::Rejected | Phase::RolledBack | Phase::RollbackBlocked => None,
    }
}

/// A payout result from a callback (through the inbox) or a reconciliation decision.
pub async fn on_payout_outcome(
    service: &MoneyService,
    reference: &Reference,
    outcome: Outcome,
) -> Result<(), Deferred> {
    for _ in 0..8 {
        let Some((version, mut saga)) = load(service, reference).await? else {
            tracing::warn!(%reference, "payout result for a reference we never minted");
            return Ok(());
        };
        let before = saga.phase;
        follow(service, &mut saga, PayoutSignal::Report(&outcome)).await;
        if saga.phase == before {
            return Ok(()); // ignored, or an alert that changes nothing
        }
        if save(service, version, &mut saga).await? {
            return advance(service, reference).await;
        }
    }
    Ok(())
}

/// Sagas read at a time by [`open_sagas`]: the reads share one multiplexed connection, so a backlog of
/// thousands costs a few dozen round trips' time rather than one per saga.
const OPEN_READS_IN_FLIGHT: usize = 32;

/// Every saga that has not ended, for the recovery sweep, the metrics scrape and operators.
pub async fn open_sagas(service: &MoneyService) -> Result<Vec<Disbursement>, StoreError> {
    use futures::{StreamExt, TryStreamExt};
    let references = service.store.index_members(OPEN).await?.into_iter().filter_map(|m| Reference::parse(&m));
    let loaded: Vec<Option<(u64, Disbursement)>> = futures::stream::iter(references)
        .map(|reference| async move { load(service, &reference).await })
        .buffered(OPEN_READS_IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(loaded.into_iter().flatten().map(|(_, saga)| saga).collect())
}

/// The recovery sweep: every open saga whose next step is an action (not a wait) is advanced.
pub async fn recover(service: &MoneyService) -> Result<usize, StoreError> {
    let mut resumed = 0;
    for saga in open_sagas(service).await? {
        if matches!(saga.phase, Phase::Minted | Phase::LoanActive | Phase::RollingBack) || saga.phase.is_terminal() {
            resumed += 1;
            if let Err(error) = advance(service, &saga.reference).await {
                tracing::warn!(%error, reference = %saga.reference, "recovery step deferred");
            }
        }
    }
    Ok(resumed)
}
