//! Collections (docs/money.md): the repay flow asks the wallet to prompt the subscriber
//! for their PIN under a fresh `C…` reference. The collection record only tracks the prompt; the money
//! itself arrives as a callback and is posted by the inbox worker like any other payment.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::{Direction, Money, OutboundRequest, Outcome};
use super::reference::{Reference, ReferenceKind};
use super::service::MoneyService;
use super::store::{load_json, put_json};
use super::wallet::{StatusAnswer, SubmitResult};
use super::worker::Deferred;
use crate::domain::Msisdn;
use crate::store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectionState {
    /// Stored, not yet accepted by the wallet.
    Created,
    Pending,
    Succeeded,
    Failed,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    pub reference: Reference,
    pub msisdn: Msisdn,
    pub loan_external_id: String,
    pub amount: Money,
    pub state: CollectionState,
    pub receipt: Option<String>,
    pub reason: Option<String>,
    pub attempts: u32,
    pub polls: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn collection_timer(reference: &Reference) -> String {
    format!("coll:{reference}")
}

fn doc_key(reference: &Reference) -> String {
    format!("coll:{reference}")
}

pub async fn load(service: &MoneyService, reference: &Reference) -> Result<Option<(u64, Collection)>, StoreError> {
    load_json(service.store.as_ref(), &doc_key(reference)).await
}

async fn save(service: &MoneyService, version: u64, c: &mut Collection) -> Result<bool, StoreError> {
    c.updated_at = service.now();
    put_json(service.store.as_ref(), &doc_key(&c.reference), version, c).await
}

/// Stores a collection for `loan_external_id` and schedules its submission after `delay` — the USSD
/// session must have ended first, or the wallet's PIN prompt collides with it.
pub async fn request(
    service: &MoneyService,
    msisdn: &Msisdn,
    loan_external_id: &str,
    amount: Money,
    delay: std::time::Duration,
) -> Result<Reference, StoreError> {
    let n = service.store.next_sequence().await?;
    let reference =
        Reference::mint(ReferenceKind::Collection, n).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let now = service.now();
    let mut c = Collection {
        reference: reference.clone(),
        msisdn: msisdn.clone(),
        loan_external_id: loan_external_id.to_owned(),
        amount,
        state: CollectionState::Created,
        receipt: None,
        reason: None,
        attempts: 0,
        polls: 0,
        created_at: now,
        updated_at: now,
    };
    if !save(service, 0, &mut c).await? {
        return Err(StoreError::Unavailable(format!("reference {reference} already in use")));
    }
    service.store.schedule(&collection_timer(&reference), service.after(delay)).await?;
    tracing::info!(%reference, msisdn = %msisdn, "collection requested");
    Ok(reference)
}

/// The timer's work: submit a created collection, or poll one whose result has not arrived.
pub async fn advance(service: &MoneyService, reference: &Reference) -> Result<(), Deferred> {
    let Some((version, mut c)) = load(service, reference).await? else {
        service.store.cancel(&collection_timer(reference)).await?;
        return Ok(());
    };
    let request = OutboundRequest {
        reference: c.reference.clone(),
        direction: Direction::Collection,
        msisdn: c.msisdn.clone(),
        amount: c.amount.clone(),
        account: Some(c.loan_external_id.clone()),
        description: Some("Mkopo repayment".into()),
    };
    let settings = &service.settings;
    let next = match c.state {
        CollectionState::Succeeded | CollectionState::Failed => None,
        CollectionState::Created => match service.wallet.submit(&request).await {
            SubmitResult::Accepted(outcome) => apply(&mut c, outcome),
            SubmitResult::Rejected { code, message } => {
                c.state = CollectionState::Failed;
                c.reason = Some(format!("{code}: {message}"));
                None
            }
            SubmitResult::RetryLater { .. } => {
                c.attempts += 1;
                Some(settings.backoff(c.attempts))
            }
            SubmitResult::Unknown { why } => {
                c.state = CollectionState::Unknown;
                c.reason = Some(why);
                Some(poll_delay(service, &c))
            }
        },
        CollectionState::Pending | CollectionState::Unknown => {
            c.polls += 1;
            if c.polls as usize > settings.payout_poll_schedule.len() + 1 {
                // Poll schedule exhausted: the result may still arrive by callback.
                None
            } else {
                match service.wallet.status(&request).await {
                    StatusAnswer::Found(outcome) => apply(&mut c, outcome),
                    StatusAnswer::NotFound => {
                        c.state = CollectionState::Created;
                        Some(std::time::Duration::ZERO)
                    }
                    StatusAnswer::Unclear(_) => Some(poll_delay(service, &c)),
                }
            }
        }
    };
    if !save(service, version, &mut c).await? {
        return Ok(()); // a callback got there first; the lease brings the timer back if needed
    }
    match next {
        Some(delay) => service.store.schedule(&collection_timer(reference), service.after(delay)).await?,
        None => service.store.cancel(&collection_timer(reference)).await?,
    }
    Ok(())
}

fn poll_delay(service: &MoneyService, c: &Collection) -> std::time::Duration {
    let schedule = &service.settings.payout_poll_schedule;
    schedule.get(c.polls as usize).copied().unwrap_or(service.settings.payout_poll_every)
}

/// Returns the delay to the next poll, or `None` once final.
fn apply(c: &mut Collection, outcome: Outcome) -> Option<std::time::Duration> {
    match outcome {
        Outcome::Succeeded { receipt, .. } => {
            c.state = CollectionState::Succeeded;
            c.receipt = receipt.or(c.receipt.take());
            None
        }
        Outcome::Failed { code, message } => {
            c.state = CollectionState::Failed;
            c.reason = Some(format!("{code}{}", message.map(|m| format!(": {m}")).unwrap_or_default()));
            None
        }
        Outcome::Pending => {
            c.state = CollectionState::Pending;
            Some(std::time::Duration::from_secs(30))
        }
        Outcome::Unknown { why } => {
            c.state = CollectionState::Unknown;
            c.reason = Some(why);
            Some(std::time::Duration::from_secs(30))
        }
    }
}

/// A collection result from a callback. Received money always wins over an earlier failure.
pub async fn on_outcome(service: &MoneyService, reference: &Reference, outcome: Outcome) -> Result<(), Deferred> {
    for _ in 0..8 {
        let Some((version, mut c)) = load(service, reference).await? else { return Ok(()) };
        if c.state == CollectionState::Succeeded {
            return Ok(());
        }
        if c.state == CollectionState::Failed && matches!(outcome, Outcome::Succeeded { .. }) {
            tracing::error!(%reference, "money arrived for a collection reported failed; posting it anyway");
        }
        let final_now = apply(&mut c, outcome.clone()).is_none();
        if save(service, version, &mut c).await? {
            if final_now {
                service.store.cancel(&collection_timer(reference)).await?;
            }
            return Ok(());
        }
    }
    Ok(())
}
