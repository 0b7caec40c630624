//! Inbox workers (docs/money.md): read events from the inbox stream as members of one consumer
//! group, allocate each payment once (the plan is persisted before any posting), post every part to the
//! LMS with its idempotency key, and acknowledge only after the outcome is written. Retryable failures
//! become a timer that puts the event back on the inbox; permanent ones put the event in suspense.

use std::time::Duration;

use tokio::sync::watch;

use super::allocate::{split_across, to_one_loan, LoanBalance, SuspenseReason};
use super::model::{AllocationPart, EventKind, Outcome};
use super::records::{EventRecord, EventState, PartStatus, PlannedPart};
use super::reference::{Reference, ReferenceKind};
use super::service::MoneyService;
use super::store::{InboxEntry, OpsList};
use crate::domain::Msisdn;
use crate::health::Heartbeat;
use crate::lms::{ErrorCode, LmsError};
use crate::store::StoreError;

/// Why an event could not be finished now.
#[derive(Debug, thiserror::Error)]
pub enum Deferred {
    #[error("retry later: {0}")]
    Retry(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored event is unreadable: {0}")]
    Corrupt(String),
}

/// Timer member that puts an event back on the inbox.
pub fn retry_timer(event_key: &str) -> String {
    format!("retry:{event_key}")
}

/// Runs one consumer until `shutdown` turns true; the entry in hand is finished first.
pub async fn run(service: MoneyService, consumer: String, shutdown: watch::Receiver<bool>) {
    let beat = crate::health::Liveness::default().register(consumer.clone(), Duration::ZERO, Duration::ZERO);
    run_watched(service, consumer, shutdown, beat).await
}

/// [`run`], beating `beat` after every loop and every entry. No store error ends the loop: a failed
/// read waits a little (longer while failures go on, never past [`MAX_READ_PAUSE`]) and reads again,
/// and the store reconnects underneath. Entries a store failure left half done are tried again by
/// this worker as soon as the store answers, not after `money.reclaim_idle` by another one.
pub async fn run_watched(
    service: MoneyService,
    consumer: String,
    mut shutdown: watch::Receiver<bool>,
    beat: Heartbeat,
) {
    tracing::info!(consumer, "inbox worker started");
    let settings = service.settings.clone();
    let mut last_reclaim = tokio::time::Instant::now() - settings.reclaim_idle;
    let mut failing = Failing::default();
    let (mut unfinished, mut unfinished_rounds) = (Vec::new(), 0u32);
    while !*shutdown.borrow() {
        let mut entries: Vec<InboxEntry> = std::mem::take(&mut unfinished);
        if entries.is_empty() && last_reclaim.elapsed() >= settings.reclaim_idle / 2 {
            last_reclaim = tokio::time::Instant::now();
            match service.store.reclaim(&consumer, settings.reclaim_idle, 10).await {
                Ok(reclaimed) => entries.extend(reclaimed),
                Err(error) => tracing::warn!(%error, "could not reclaim abandoned inbox entries"),
            }
        }
        if entries.is_empty() {
            tokio::select! {
                claimed = service.store.claim(&consumer, 10, settings.claim_block) => match claimed {
                    Ok(claimed) => {
                        failing.recovered(&consumer);
                        entries = claimed;
                    }
                    Err(error) => {
                        let pause = failing.failed(&consumer, &error);
                        beat.beat();
                        tokio::select! {
                            _ = tokio::time::sleep(pause) => {}
                            _ = shutdown.changed() => break,
                        }
                    }
                },
                _ = shutdown.changed() => break,
            }
        }
        for entry in entries {
            if !process_entry(&service, &entry).await {
                unfinished.push(entry);
            }
            beat.beat();
        }
        beat.beat();
        if unfinished.is_empty() {
            unfinished_rounds = 0;
        } else {
            // Processing is idempotent, so the same entries simply run again once the store is back.
            unfinished_rounds += 1;
            let pause = (Duration::from_millis(250) * unfinished_rounds.min(8)).min(MAX_READ_PAUSE);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => break,
            }
        }
    }
    tracing::info!(consumer, "inbox worker stopped");
}

/// Longest pause between two inbox reads while the store keeps failing.
const MAX_READ_PAUSE: Duration = Duration::from_secs(2);

/// A run of failed reads: logged when it starts, every 30th time, and when it ends, not 2 lines a second.
#[derive(Default)]
struct Failing {
    count: u32,
    since: Option<tokio::time::Instant>,
}

impl Failing {
    fn failed(&mut self, consumer: &str, error: &StoreError) -> Duration {
        self.count += 1;
        let since = *self.since.get_or_insert_with(tokio::time::Instant::now);
        if self.count == 1 || self.count.is_multiple_of(30) {
            let for_ms = since.elapsed().as_millis() as u64;
            tracing::warn!(consumer, %error, failures = self.count, for_ms, "inbox read failed; retrying shortly");
        }
        (Duration::from_millis(250) * self.count.min(8)).min(MAX_READ_PAUSE)
    }

    fn recovered(&mut self, consumer: &str) {
        if let Some(since) = self.since.take() {
            let after_ms = since.elapsed().as_millis() as u64;
            tracing::info!(consumer, failures = self.count, after_ms, "inbox reads work again");
        }
        self.count = 0;
    }
}

/// How long an event's lease lasts without renewal, and how often the holder renews it. Short, because a
/// crashed holder's events wait this long before another worker may take them.
const LEASE_TTL: Duration = Duration::from_secs(10);
const LEASE_RENEW: Duration = Duration::from_secs(3);

/// Handles one inbox entry and acknowledges it unless the store itself failed: then the entry stays
/// pending (reclaimed by another consumer if this one dies) and the answer is `false`.
///
/// One worker at a time works on an event: its lease (`lease:{event}`) is taken first and renewed while
/// it works. An entry still waiting in a worker's batch can go idle past `money.reclaim_idle` and be
/// reclaimed by another worker while the first is busy with the event; without the lease both would
/// post it, twice on an LMS that ignores idempotency keys. An entry whose event is leased is left
/// pending, unacknowledged: it is reclaimed again later, by when the holder has finished (or died and
/// its lease expired).
pub async fn process_entry(service: &MoneyService, entry: &InboxEntry) -> bool {
    let lease = format!("lease:{}", entry.event_key);
    let token = uuid::Uuid::new_v4().to_string();
    match service.store.take_lease(&lease, &token, LEASE_TTL).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(event = entry.event_key, "event is being worked on by another worker; left pending");
            return true;
        }
        Err(error) => {
            tracing::warn!(%error, event = entry.event_key, "could not lease the event; the entry stays pending");
            return false;
        }
    }
    let done = leased(service, entry, &lease, &token).await;
    if let Err(error) = service.store.release_lease(&lease, &token).await {
        tracing::debug!(%error, "could not release an event lease; it expires by itself");
    }
    done
}

/// [`process_entry`]'s work while holding the lease, which is renewed until the work ends.
async fn leased(service: &MoneyService, entry: &InboxEntry, lease: &str, token: &str) -> bool {
    let work = handle(service, entry);
    tokio::pin!(work);
    let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + LEASE_RENEW, LEASE_RENEW);
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = renew.tick() => match service.store.renew_lease(lease, token, LEASE_TTL).await {
                Ok(true) => {}
                Ok(false) => tracing::error!(event = entry.event_key, "lost an event's lease while working on it"),
                Err(error) => tracing::warn!(%error, event = entry.event_key, "could not renew an event lease"),
            },
        }
    }
}

async fn handle(service: &MoneyService, entry: &InboxEntry) -> bool {
    match process(service, &entry.event_key).await {
        Ok(()) => {}
        Err(Deferred::Retry(why)) => {
            if let Err(error) = schedule_retry(service, &entry.event_key, &why).await {
                tracing::warn!(%error, "could not schedule a retry; the entry stays pending");
                return false;
            }
        }
        Err(Deferred::Corrupt(why)) => {
            // serde quotes the value it choked on, which can be the payer's number.
            let why = crate::telemetry::redact_digits(&why);
            tracing::error!(event = entry.event_key, why, "unreadable event record; parked in suspense");
            let _ = service.store.list_add(OpsList::Suspense, &entry.event_key, service.now()).await;
        }
        Err(Deferred::Store(error)) => {
            tracing::warn!(%error, event = entry.event_key, "store failed mid-event; the entry stays pending");
            return false;
        }
    }
    match service.store.ack(entry).await {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "could not acknowledge an inbox entry; it will be reprocessed idempotently");
            false
        }
    }
}

async fn schedule_retry(service: &MoneyService, event_key: &str, why: &str) -> Result<(), StoreError> {
    let Some(bytes) = service.store.load_event(event_key).await? else { return Ok(()) };
    let Ok(mut record) = EventRecord::from_bytes(&bytes) else { return Ok(()) };
    record.attempts += 1;
    record.updated_at = service.now();
    let delay = service.settings.backoff(record.attempts);
    if record.updated_at - record.received_at > chrono::TimeDelta::hours(1) {
        tracing::error!(event = event_key, attempts = record.attempts, why, "repayment still not posted after an hour");
    } else {
        tracing::info!(event = event_key, attempts = record.attempts, why, ?delay, "repayment deferred");
    }
    service.store.save_event(event_key, &record.to_bytes()).await?;
    service.store.schedule(&retry_timer(event_key), service.after(delay)).await
}

/// Brings one event as far as it can go. Safe to run any number of times on the same event.
pub async fn process(service: &MoneyService, event_key: &str) -> Result<(), Deferred> {
    let Some(bytes) = service.store.load_event(event_key).await? else {
        tracing::warn!(event = event_key, "inbox entry without an event record");
        return Ok(());
    };
    let mut record = EventRecord::from_bytes(&bytes).map_err(|e| Deferred::Corrupt(e.to_string()))?;
    if matches!(record.state, EventState::Posted | EventState::Suspense | EventState::Applied | EventState::Ignored) {
        return Ok(());
    }
    match (&record.event.kind, &record.event.outcome) {
        (EventKind::PayoutResult, outcome) => {
            let reference = record.event.reference.clone();
            if let Some(reference) = reference {
                super::saga::on_payout_outcome(service, &reference, outcome.clone()).await?;
            }
            finish(service, &mut record, EventState::Applied).await
        }
        (
            EventKind::CollectionResult,
            outcome @ (Outcome::Failed { .. } | Outcome::Pending | Outcome::Unknown { .. }),
        ) => {
            if let Some(reference) = record.event.reference.clone() {
                super::collect::on_outcome(service, &reference, outcome.clone()).await?;
            }
            finish(service, &mut record, EventState::Applied).await
        }
        (EventKind::Payment | EventKind::CollectionResult, Outcome::Succeeded { .. }) => {
            if let (EventKind::CollectionResult, Some(reference)) = (&record.event.kind, record.event.reference.clone())
            {
                super::collect::on_outcome(service, &reference, record.event.outcome.clone()).await?;
            }
            if record.state == EventState::Received {
                plan(service, &mut record).await?;
            }
            if record.state != EventState::Planned {
                return Ok(()); // parked in suspense while planning
            }
            super::posting::post_parts(service, &mut record).await
        }
        _ => finish(service, &mut record, EventState::Ignored).await,
    }
}

pub(super) async fn finish(
    service: &MoneyService,
    record: &mut EventRecord,
    state: EventState,
) -> Result<(), Deferred> {
    record.state = state;
    record.updated_at = service.now();
    service.store.save_event(&record.id, &record.to_bytes()).await?;
    Ok(())
}

/// Worth retrying later. A 2xx body that did not decode counts too: the LMS answered, the next try
/// may read it (and a write it answered is looked for before any resend).
pub(super) fn transient(error: &LmsError) -> bool {
    error.is_transient() || error.code() == ErrorCode::Decode
}

/// Decides the parts (docs/money.md) and persists the plan before anything is posted. Money in a currency
/// other than the one the gateway lends in, or the loan's, is never posted: it goes to suspense.
async fn plan(service: &MoneyService, record: &mut EventRecord) -> Result<(), Deferred> {
    let event = &record.event;
    let receipt = event.receipt.clone().unwrap_or_else(|| event.key.clone());
    let Some(amount) = event.amount.clone() else {
        return park(service, record, "no_amount").await;
    };
    let lms = &service.lms;
    if !amount.currency.eq_ignore_ascii_case(lms.currency()) {
        return park(service, record, SuspenseReason::CurrencyMismatch.code()).await;
    }
    let account = event.account.as_deref().map(str::trim).filter(|a| !a.is_empty());

    if let Some(reference) = account.and_then(Reference::parse).filter(|r| r.kind() == ReferenceKind::Loan) {
        match lms.get_loan(reference.as_str()).await {
            Ok(Some(loan)) if !loan.currency_code.eq_ignore_ascii_case(&amount.currency) => {
                return park(service, record, SuspenseReason::CurrencyMismatch.code()).await;
            }
            Ok(Some(loan)) => return save_plan(service, record, to_one_loan(&receipt, &amount, &loan.key())).await,
            Ok(None) => {}
            Err(e) if transient(&e) => return Err(Deferred::Retry(e.to_string())),
            Err(e) => return park(service, record, &format!("lms_{}: {e}", e.label())).await,
        }
    }
    let msisdn = event.msisdn.clone().or_else(|| {
        account
            .filter(|a| Reference::parse(a).is_none())
            .and_then(|a| Msisdn::parse(a, &service.settings.country_code).ok())
    });
    let Some(msisdn) = msisdn else {
        let reason = if account.is_some() { SuspenseReason::UnknownReference } else { SuspenseReason::NoReference };
        return park(service, record, reason.code()).await;
    };
    let loans = match lms.get_customer(msisdn.as_str()).await {
        Ok(None) => {
            let reason =
                if account.is_some() { SuspenseReason::UnknownReference } else { SuspenseReason::UnknownCustomer };
            return park(service, record, reason.code()).await;
        }
        Ok(Some(_)) => lms.active_loans(msisdn.as_str()).await,
        Err(e) => Err(e),
    };
    let loans = match loans {
        Ok(loans) => loans,
        Err(e) if transient(&e) => return Err(Deferred::Retry(e.to_string())),
        Err(e) => return park(service, record, &format!("lms_{}: {e}", e.label())).await,
    };
    if loans.is_empty() {
        let reason = if account.is_some() { SuspenseReason::UnknownReference } else { SuspenseReason::NoActiveLoan };
        return park(service, record, reason.code()).await;
    }
    if loans.iter().any(|l| !l.currency_code.eq_ignore_ascii_case(&amount.currency)) {
        return park(service, record, SuspenseReason::CurrencyMismatch.code()).await;
    }
    let mut balances = Vec::with_capacity(loans.len());
    for loan in loans {
        let outstanding = match loan.total_outstanding() {
            Some(total) => total,
            // Older list rows omit the roll-up: read the single loan.
            None => match lms.read_loan(&loan.key()).await {
                Ok(Some(full)) => full.total_outstanding().unwrap_or_default(),
                Ok(None) => continue,
                Err(e) if transient(&e) => return Err(Deferred::Retry(e.to_string())),
                Err(e) => return park(service, record, &format!("lms_{}: {e}", e.label())).await,
            },
        };
        balances.push(LoanBalance { loan: loan.key(), outstanding, next_due: loan.next_due_date });
    }
    save_plan(service, record, split_across(&receipt, &amount, &balances)).await
}

async fn save_plan(
    service: &MoneyService,
    record: &mut EventRecord,
    parts: Vec<AllocationPart>,
) -> Result<(), Deferred> {
    record.plan = parts.into_iter().map(|part| PlannedPart { part, status: PartStatus::Pending }).collect();
    finish(service, record, EventState::Planned).await
}

pub(super) async fn park(service: &MoneyService, record: &mut EventRecord, reason: &str) -> Result<(), Deferred> {
    tracing::warn!(event = record.id, reason, "payment put in suspense");
    record.suspense = Some(reason.to_owned());
    finish(service, record, EventState::Suspense).await?;
    service.store.list_add(OpsList::Suspense, &record.id, service.now()).await?;
    Ok(())
}
