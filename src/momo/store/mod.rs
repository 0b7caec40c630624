//! The durable store behind mobile money (docs/money.md): the inbox stream with its dedupe keys,
//! event records, versioned documents for sagas and collections, timers and the operators' lists.
//!
//! Redis is the real backend (streams, consumer groups, Lua for every multi-key step). The in-memory
//! backend exists only so `cargo run` works without Redis; it keeps nothing across a restart and the
//! gateway says so at startup.

mod memory;
mod redis;
mod redis_stream;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use self::memory::MemoryMoneyStore;
pub use self::redis::RedisMoneyStore;
use crate::store::StoreError;

/// Whether the inbox script stored a new event or found its dedupe key already taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    New,
    Duplicate,
}

/// One entry read from the inbox stream: its stream id and the event record key it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEntry {
    pub id: String,
    pub event_key: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InboxStats {
    /// Entries in the stream (including processed ones not yet trimmed).
    pub length: u64,
    /// Entries delivered to a consumer and not yet acknowledged.
    pub pending: u64,
    /// Age of the oldest unacknowledged entry.
    pub oldest_pending_ms: u64,
}

/// A sorted set's size and its earliest entry (the oldest list member, the soonest timer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetStats {
    pub size: u64,
    pub earliest: Option<DateTime<Utc>>,
}

/// The lists operators work from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpsList {
    /// Money that could not be posted: unknown reference, no loan, a permanent LMS refusal.
    Suspense,
    /// Payouts whose outcome is unknown past the poll limit, and blocked rollbacks.
    Reconciliation,
    /// Repayments the LMS took with an overpayment portion.
    Overpaid,
}

impl OpsList {
    pub fn name(self) -> &'static str {
        match self {
            OpsList::Suspense => "suspense",
            OpsList::Reconciliation => "recon",
            OpsList::Overpaid => "overpaid",
        }
    }
}

/// A stored document and the version a compare-and-set must quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    pub version: u64,
    pub body: Vec<u8>,
}

#[async_trait]
pub trait MoneyStore: Send + Sync {
    fn kind(&self) -> &'static str;
    fn durable(&self) -> bool;

    /// The next value of the reference counter (`INCR mkopo:seq:ref`).
    async fn next_sequence(&self) -> Result<u64, StoreError>;

    /// The inbox script: claim `dedupe_key`, store the event body under `event_key`, append to the inbox.
    /// All or nothing; a taken dedupe key changes nothing.
    async fn ingest(&self, dedupe_key: &str, event_key: &str, record: &[u8]) -> Result<Ingested, StoreError>;
    async fn load_event(&self, event_key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    async fn save_event(&self, event_key: &str, record: &[u8]) -> Result<(), StoreError>;
    /// Puts an existing event back on the inbox (a retry timer fired, an operator re-drove it).
    async fn enqueue(&self, event_key: &str) -> Result<(), StoreError>;

    /// New entries for `consumer`, waiting up to `block` for some to arrive.
    async fn claim(&self, consumer: &str, count: usize, block: Duration) -> Result<Vec<InboxEntry>, StoreError>;
    /// Entries another consumer took more than `min_idle` ago and never acknowledged (it crashed).
    async fn reclaim(&self, consumer: &str, min_idle: Duration, count: usize) -> Result<Vec<InboxEntry>, StoreError>;
    async fn ack(&self, entry: &InboxEntry) -> Result<(), StoreError>;
    async fn inbox_stats(&self) -> Result<InboxStats, StoreError>;

    async fn list_add(&self, list: OpsList, member: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
    async fn list_remove(&self, list: OpsList, member: &str) -> Result<bool, StoreError>;
    async fn list_members(&self, list: OpsList) -> Result<Vec<(String, DateTime<Utc>)>, StoreError>;
    /// Size and oldest member of an operators' list, without reading it (metrics).
    async fn list_stats(&self, list: OpsList) -> Result<SetStats, StoreError>;

    async fn schedule(&self, timer: &str, due: DateTime<Utc>) -> Result<(), StoreError>;
    async fn cancel(&self, timer: &str) -> Result<(), StoreError>;
    /// Timers due at `now`. Each is leased: pushed to `now + lease`, so a crash before it is handled
    /// (cancelled or rescheduled) makes it fire again instead of vanishing.
    async fn take_due(&self, now: DateTime<Utc>, lease: Duration, limit: usize) -> Result<Vec<String>, StoreError>;
    /// How many timers are scheduled and when the soonest is due (metrics: the outbox).
    async fn timer_stats(&self) -> Result<SetStats, StoreError>;

    async fn load_doc(&self, key: &str) -> Result<Option<Versioned>, StoreError>;
    /// Writes `body` if the stored version is `expected` (`0` = must not exist yet). Returns whether it
    /// wrote; the new version is `expected + 1`.
    async fn put_doc(&self, key: &str, expected: u64, body: &[u8]) -> Result<bool, StoreError>;
    async fn index_add(&self, index: &str, member: &str) -> Result<(), StoreError>;
    async fn index_remove(&self, index: &str, member: &str) -> Result<(), StoreError>;
    async fn index_members(&self, index: &str) -> Result<Vec<String>, StoreError>;

    /// Takes the lease `key` for `token` for `ttl` unless someone holds it (`SET NX PX`).
    async fn take_lease(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, StoreError>;
    /// Extends a lease the caller still holds; `false` when it was lost.
    async fn renew_lease(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, StoreError>;
    /// Gives a lease back, if the caller still holds it.
    async fn release_lease(&self, key: &str, token: &str) -> Result<(), StoreError>;
}

pub type SharedMoneyStore = std::sync::Arc<dyn MoneyStore>;

/// Reads a JSON document and its version; an unreadable body is reported as a store fault.
pub async fn load_json<T: serde::de::DeserializeOwned>(
    store: &dyn MoneyStore,
    key: &str,
) -> Result<Option<(u64, T)>, StoreError> {
    let Some(doc) = store.load_doc(key).await? else { return Ok(None) };
    let value = serde_json::from_slice(&doc.body)
        .map_err(|e| StoreError::Unavailable(format!("corrupt document {key}: {e}")))?;
    Ok(Some((doc.version, value)))
}

/// Compare-and-set of a JSON document (see [`MoneyStore::put_doc`]).
pub async fn put_json<T: serde::Serialize>(
    store: &dyn MoneyStore,
    key: &str,
    expected: u64,
    value: &T,
) -> Result<bool, StoreError> {
    let body = serde_json::to_vec(value)
        .map_err(|e| StoreError::Unavailable(format!("unserialisable document {key}: {e}")))?;
    store.put_doc(key, expected, &body).await
}
