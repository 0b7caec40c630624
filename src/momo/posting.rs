//! Posting a planned payment's parts to the LMS exactly once (docs/money.md), on an LMS
//! that honours `idempotencyKey` and on one that ignores it.
//!
//! Each part is marked `Sending` (with the first attempt's time) and saved *before* the post goes out,
//! so a crash or an ambiguous answer (timeout, reset, 5xx, an undecodable 2xx) always leaves a part that
//! is searched for on the loan before it is ever sent again. A transaction found there is claimed in
//! the store (`lmstx:{loan}:{transaction}`), so two payments of the same amount on the same day can
//! never both take the same LMS transaction as theirs; every confirmed posting claims its transaction
//! too. Only a part that is surely not on the loan is resent.

use chrono::{DateTime, Utc};

use super::model::AllocationPart;
use super::records::{EventRecord, PartStatus};
use super::service::MoneyService;
use super::store::OpsList;
use super::worker::{finish, park, transient, Deferred};
use crate::lms::{find_posting, LmsError, NewRepayment, Posting, PostingMatch, Repayment};
use crate::momo::records::EventState;

/// Posts every part not yet settled. Each result is saved as soon as it is known.
pub(super) async fn post_parts(service: &MoneyService, record: &mut EventRecord) -> Result<(), Deferred> {
    let value_at = record.event.occurred_at.unwrap_or(record.received_at);
    let transaction_date = service.lms.business_date(value_at);
    for index in 0..record.plan.len() {
        let part = record.plan[index].part.clone();
        let first_attempt_at = match record.plan[index].status {
            PartStatus::Pending => {
                let now = service.now();
                record.plan[index].status = PartStatus::Sending { first_attempt_at: now };
                service.store.save_event(&record.id, &record.to_bytes()).await?;
                now
            }
            PartStatus::Sending { first_attempt_at } => {
                // An earlier attempt may have landed: look on the loan before sending it again.
                let owner = owner(record, &part);
                match earlier_posting(service, &part, &owner, transaction_date, first_attempt_at).await? {
                    Some((found, how)) => {
                        tracing::info!(event = record.id, loan = %part.loan(), transaction = found.id, how, "repayment found already posted; not sent again");
                        service.metrics.repayment_recovered(how);
                        settle(service, record, index, posted(found, Some(how))).await?;
                        continue;
                    }
                    None => first_attempt_at,
                }
            }
            _ => continue,
        };
        let repayment = NewRepayment {
            transaction_amount: part.amount.amount,
            transaction_date,
            idempotency_key: part.idempotency_key.clone(),
        };
        let status = match service.lms.post_repayment(&part.loan(), &repayment).await {
            Ok(done) => {
                // Claimed so that no other payment's search can take this transaction as its own.
                if !claim(service, &part, &done.id, &owner(record, &part)).await? {
                    tracing::error!(event = record.id, loan = %part.loan(), transaction = done.id, "another payment's search claimed this posting; reconcile the loan");
                    service.store.list_add(OpsList::Suspense, &record.id, service.now()).await?;
                }
                if let Some(surplus) = done.overpayment_portion.filter(|s| !s.is_zero()) {
                    tracing::warn!(event = record.id, loan = %part.loan(), %surplus, "repayment overpaid a loan");
                    service
                        .store
                        .list_add(OpsList::Overpaid, &format!("{}|{}", record.id, part.idempotency_key), service.now())
                        .await?;
                }
                posted(done, None)
            }
            Err(e) if transient(&e) => {
                if !e.may_have_landed() && !matches!(e, LmsError::Decode { .. }) {
                    // Surely never reached the LMS: no search needed before the next try.
                    record.plan[index].status = PartStatus::Pending;
                } else {
                    record.plan[index].status = PartStatus::Sending { first_attempt_at };
                }
                service.store.save_event(&record.id, &record.to_bytes()).await?;
                return Err(Deferred::Retry(e.to_string()));
            }
            Err(e) => {
                tracing::warn!(event = record.id, loan = %part.loan(), code = e.label(), "LMS refused a repayment part");
                PartStatus::Suspense { code: e.label().to_owned(), message: e.to_string() }
            }
        };
        settle(service, record, index, status).await?;
    }
    let refused = record.plan.iter().find_map(|p| match &p.status {
        PartStatus::Suspense { code, .. } => Some(code.clone()),
        _ => None,
    });
    match refused {
        Some(code) => park(service, record, &format!("lms_{code}")).await,
        None => finish(service, record, EventState::Posted).await,
    }
}

async fn settle(
    service: &MoneyService,
    record: &mut EventRecord,
    index: usize,
    status: PartStatus,
) -> Result<(), Deferred> {
    record.plan[index].status = status;
    record.updated_at = service.now();
    service.store.save_event(&record.id, &record.to_bytes()).await?;
    Ok(())
}

fn posted(transaction: Repayment, found_by: Option<&str>) -> PartStatus {
    PartStatus::Posted {
        transaction_id: transaction.id,
        overpayment: transaction.overpayment_portion,
        found_by: found_by.map(str::to_owned),
    }
}

/// Who claims a transaction: the event and the part's key, unique across every payment.
fn owner(record: &EventRecord, part: &AllocationPart) -> String {
    format!("{}|{}", record.id, part.idempotency_key)
}

/// Looks for `part` among the loan's transactions and claims the match; `None` = not there, resend.
/// A transient LMS failure defers the event (never a resend on a guess); a loan that cannot be read for
/// good (gone, refused) leaves the decision to the resend's own answer.
async fn earlier_posting(
    service: &MoneyService,
    part: &AllocationPart,
    owner: &str,
    value_date: chrono::NaiveDate,
    first_attempt_at: DateTime<Utc>,
) -> Result<Option<(Repayment, &'static str)>, Deferred> {
    let transactions = match service.lms.repayments_of(&part.loan()).await {
        Ok(Some(transactions)) => transactions,
        Ok(None) => return Ok(None),
        Err(e) if transient(&e) => return Err(Deferred::Retry(e.to_string())),
        Err(e) => {
            tracing::warn!(loan = %part.loan(), code = e.label(), "could not look for an earlier posting");
            return Ok(None);
        }
    };
    let posting = Posting {
        idempotency_key: &part.idempotency_key,
        amount: part.amount.amount,
        value_date,
        first_attempt: service.lms.business_date(first_attempt_at),
    };
    let candidates = match find_posting(&posting, &transactions) {
        PostingMatch::ByKey(found) => {
            claim(service, part, &found.id, owner).await?;
            return Ok(Some((found, "key")));
        }
        PostingMatch::ByAmountDate(candidates) => candidates,
        PostingMatch::NotThere => return Ok(None),
    };
    for candidate in candidates {
        if claim(service, part, &candidate.id, owner).await? {
            return Ok(Some((candidate, "amount_date")));
        }
    }
    Ok(None)
}

/// Claims LMS transaction `transaction` of the part's loan for `owner`: true when it is now (or was
/// already) ours, false when another payment holds it.
async fn claim(
    service: &MoneyService,
    part: &AllocationPart,
    transaction: &str,
    owner: &str,
) -> Result<bool, Deferred> {
    let key = format!("lmstx:{}:{transaction}", part.loan());
    if service.store.put_doc(&key, 0, owner.as_bytes()).await? {
        return Ok(true);
    }
    let held = service.store.load_doc(&key).await?;
    Ok(held.is_some_and(|doc| doc.body == owner.as_bytes()))
}
