//! The in-memory backend for the embedded local default: the same semantics as Redis (dedupe, a
//! stream with pending entries and reclaim, leased timers, versioned documents), none of the
//! durability. One mutex guards everything; it is never held across an `.await`.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{InboxEntry, InboxStats, Ingested, MoneyStore, OpsList, SetStats, Versioned};
use crate::store::StoreError;

#[derive(Default)]
struct State {
    sequence: u64,
    next_entry: u64,
    dedupe: HashSet<String>,
    events: HashMap<String, Vec<u8>>,
    /// Entries not yet delivered to any consumer.
    stream: VecDeque<InboxEntry>,
    /// Delivered, unacknowledged: entry id → (consumer, delivered at, entry).
    pending: BTreeMap<String, (String, Instant, InboxEntry)>,
    lists: HashMap<&'static str, HashMap<String, DateTime<Utc>>>,
    timers: HashMap<String, DateTime<Utc>>,
    docs: HashMap<String, Versioned>,
    indexes: HashMap<String, HashSet<String>>,
    /// Lease key → (holder's token, expires at).
    leases: HashMap<String, (String, Instant)>,
}

impl State {
    fn append(&mut self, event_key: &str) {
        self.next_entry += 1;
        let id = format!("{:020}-0", self.next_entry);
        self.stream.push_back(InboxEntry { id, event_key: event_key.to_owned() });
    }
}

#[derive(Default)]
pub struct MemoryMoneyStore {
    state: Mutex<State>,
    arrivals: tokio::sync::Notify,
}

impl MemoryMoneyStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("memory money store lock"))
    }
}

fn stats<'a>(scores: impl Iterator<Item = &'a DateTime<Utc>>) -> SetStats {
    scores.fold(SetStats::default(), |acc, at| SetStats {
        size: acc.size + 1,
        earliest: Some(acc.earliest.map_or(*at, |e| e.min(*at))),
    })
}

#[async_trait]
impl MoneyStore for MemoryMoneyStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn durable(&self) -> bool {
        false
    }

    async fn next_sequence(&self) -> Result<u64, StoreError> {
        Ok(self.with(|s| {
            s.sequence += 1;
            s.sequence
        }))
    }

    async fn ingest(&self, dedupe_key: &str, event_key: &str, record: &[u8]) -> Result<Ingested, StoreError> {
        let outcome = self.with(|s| {
            if !s.dedupe.insert(dedupe_key.to_owned()) {
                return Ingested::Duplicate;
            }
            s.events.insert(event_key.to_owned(), record.to_vec());
            s.append(event_key);
            Ingested::New
        });
        if outcome == Ingested::New {
            self.arrivals.notify_waiters();
        }
        Ok(outcome)
    }

    async fn load_event(&self, event_key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.with(|s| s.events.get(event_key).cloned()))
    }

    async fn save_event(&self, event_key: &str, record: &[u8]) -> Result<(), StoreError> {
        self.with(|s| s.events.insert(event_key.to_owned(), record.to_vec()));
        Ok(())
    }

    async fn enqueue(&self, event_key: &str) -> Result<(), StoreError> {
        self.with(|s| s.append(event_key));
        self.arrivals.notify_waiters();
        Ok(())
    }

    async fn claim(&self, consumer: &str, count: usize, block: Duration) -> Result<Vec<InboxEntry>, StoreError> {
        let take = |s: &mut State| {
            let n = count.min(s.stream.len());
            let taken: Vec<InboxEntry> = s.stream.drain(..n).collect();
            for entry in &taken {
                s.pending.insert(entry.id.clone(), (consumer.to_owned(), Instant::now(), entry.clone()));
            }
            taken
        };
        let arrived = self.arrivals.notified();
        let taken = self.with(take);
        if !taken.is_empty() {
            return Ok(taken);
        }
        let _ = tokio::time::timeout(block, arrived).await;
        Ok(self.with(take))
    }

    async fn reclaim(&self, consumer: &str, min_idle: Duration, count: usize) -> Result<Vec<InboxEntry>, StoreError> {
        Ok(self.with(|s| {
            let mut taken = Vec::new();
            for (owner, since, entry) in s.pending.values_mut() {
                if taken.len() < count && since.elapsed() >= min_idle {
                    *owner = consumer.to_owned();
                    *since = Instant::now();
                    taken.push(entry.clone());
                }
            }
            taken
        }))
    }

    async fn ack(&self, entry: &InboxEntry) -> Result<(), StoreError> {
        self.with(|s| s.pending.remove(&entry.id));
        Ok(())
    }

    async fn inbox_stats(&self) -> Result<InboxStats, StoreError> {
        Ok(self.with(|s| InboxStats {
            length: (s.stream.len() + s.pending.len()) as u64,
            pending: s.pending.len() as u64,
            oldest_pending_ms: s
                .pending
                .values()
                .map(|(_, since, _)| since.elapsed().as_millis() as u64)
                .max()
                .unwrap_or(0),
        }))
    }

    async fn list_add(&self, list: OpsList, member: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.with(|s| s.lists.entry(list.name()).or_default().insert(member.to_owned(), at));
        Ok(())
    }

    async fn list_remove(&self, list: OpsList, member: &str) -> Result<bool, StoreError> {
        Ok(self.with(|s| s.lists.entry(list.name()).or_default().remove(member).is_some()))
    }

    async fn list_members(&self, list: OpsList) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let mut members: Vec<(String, DateTime<Utc>)> = self.with(|s| {
            s.lists.get(list.name()).map(|l| l.iter().map(|(m, at)| (m.clone(), *at)).collect()).unwrap_or_default()
        });
        members.sort_by_key(|(_, at)| *at);
        Ok(members)
    }

    async fn list_stats(&self, list: OpsList) -> Result<SetStats, StoreError> {
        Ok(self.with(|s| s.lists.get(list.name()).map(|l| stats(l.values())).unwrap_or_default()))
    }

    async fn schedule(&self, timer: &str, due: DateTime<Utc>) -> Result<(), StoreError> {
        self.with(|s| s.timers.insert(timer.to_owned(), due));
        Ok(())
    }

    async fn cancel(&self, timer: &str) -> Result<(), StoreError> {
        self.with(|s| s.timers.remove(timer));
        Ok(())
    }

    async fn timer_stats(&self) -> Result<SetStats, StoreError> {
        Ok(self.with(|s| stats(s.timers.values())))
    }

    async fn take_due(&self, now: DateTime<Utc>, lease: Duration, limit: usize) -> Result<Vec<String>, StoreError> {
        let leased_until = now + chrono::TimeDelta::from_std(lease).unwrap_or_default();
        Ok(self.with(|s| {
            let mut due: Vec<(DateTime<Utc>, String)> =
                s.timers.iter().filter(|(_, at)| **at <= now).map(|(m, at)| (*at, m.clone())).collect();
            due.sort();
            due.truncate(limit);
            for (_, member) in &due {
                s.timers.insert(member.clone(), leased_until);
            }
            due.into_iter().map(|(_, m)| m).collect()
        }))
    }

    async fn load_doc(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        Ok(self.with(|s| s.docs.get(key).cloned()))
    }

    async fn put_doc(&self, key: &str, expected: u64, body: &[u8]) -> Result<bool, StoreError> {
        Ok(self.with(|s| {
            let current = s.docs.get(key).map_or(0, |d| d.version);
            if current != expected {
                return false;
            }
            s.docs.insert(key.to_owned(), Versioned { version: current + 1, body: body.to_vec() });
            true
        }))
    }

    async fn index_add(&self, index: &str, member: &str) -> Result<(), StoreError> {
        self.with(|s| s.indexes.entry(index.to_owned()).or_default().insert(member.to_owned()));
        Ok(())
    }

    async fn index_remove(&self, index: &str, member: &str) -> Result<(), StoreError> {
        self.with(|s| s.indexes.entry(index.to_owned()).or_default().remove(member));
        Ok(())
    }

    async fn index_members(&self, index: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.with(|s| s.indexes.get(index).map(|i| i.iter().cloned().collect()).unwrap_or_default()))
    }

    async fn take_lease(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = Instant::now();
        Ok(self.with(|s| match s.leases.get(key) {
            Some((_, until)) if *until > now => false,
            _ => {
                s.leases.insert(key.to_owned(), (token.to_owned(), now + ttl));
                true
            }
        }))
    }

    async fn renew_lease(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = Instant::now();
        Ok(self.with(|s| match s.leases.get_mut(key) {
            Some((held, until)) if held == token && *until > now => {
                *until = now + ttl;
                true
            }
            _ => false,
        }))
    }

    async fn release_lease(&self, key: &str, token: &str) -> Result<(), StoreError> {
        self.with(|s| {
            if s.leases.get(key).is_some_and(|(held, _)| held == token) {
                s.leases.remove(key);
            }
        });
        Ok(())
    }
}
