//! In-memory store for the embedded default and unit tests. Not durable. Every write goes through
//! moka's per-key `and_try_compute_with`, which serialises writers of one key, so the
//! read-modify-write primitives (set_nx, incr, save_versioned, lock, unlock) are atomic like their
//! Redis scripts, and a plain `set` or `delete` can never slip in between their read and their write.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::future::Cache;
use moka::ops::compute::Op;
use moka::Expiry;

use super::{lock_token, Store, StoreError};

#[derive(Clone)]
enum Value {
    /// Plain values, lock tokens and counters (decimal text, as Redis keeps them).
    Bytes(Vec<u8>),
    Versioned {
        version: u64,
        body: Vec<u8>,
    },
}

#[derive(Clone)]
struct Entry {
    value: Value,
    /// Absolute rather than a duration, so an update can keep the original deadline: a counter's
    /// window must not grow with every increment.
    expires_at: Instant,
}

impl Entry {
    fn new(value: Value, ttl: Duration) -> Self {
        Self { value, expires_at: deadline(ttl) }
    }
}

fn deadline(ttl: Duration) -> Instant {
    let now = Instant::now();
    // An absurd TTL means "practically never"; it must not panic on overflow.
    now.checked_add(ttl).unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

struct PerEntryDeadline;

impl Expiry<String, Entry> for PerEntryDeadline {
    fn expire_after_create(&self, _key: &String, entry: &Entry, now: Instant) -> Option<Duration> {
        Some(entry.expires_at.saturating_duration_since(now))
    }
    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Entry,
        now: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.expires_at.saturating_duration_since(now))
    }
}

/// What Redis answers when a command meets the other kind of key (GET on a hash, HGET on a string).
fn wrong_type(key: &str) -> StoreError {
    StoreError::Unavailable(format!("WRONGTYPE: {key} holds another kind of value"))
}

pub struct MemoryStore {
    prefix: String,
    cache: Cache<String, Entry>,
}

impl MemoryStore {
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: format!("{prefix}:"),
            cache: Cache::builder().max_capacity(1_000_000).expire_after(PerEntryDeadline).build(),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn read(&self, key: &str) -> Option<Value> {
        self.cache.get(&self.key(key)).await.map(|e| e.value)
    }

    /// Runs `step` on the live (unexpired) entry with every other writer of `key` held off, applies
    /// the operation it chooses and hands back its answer.
    async fn update<T: Send>(
        &self,
        key: &str,
        step: impl FnOnce(Option<Entry>) -> Result<(Op<Entry>, T), StoreError> + Send,
    ) -> Result<T, StoreError> {
        let mut answer = None;
        self.cache
            .entry(self.key(key))
            .and_try_compute_with(|current| {
                let op = step(current.map(|e| e.into_value())).map(|(op, a)| {
                    answer = Some(a);
                    op
                });
                std::future::ready(op)
            })
            .await?;
        Ok(answer.expect("and_try_compute_with runs the step before answering Ok"))
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn kind(&self) -> &'static str {
        "memory"
    }
    fn durable(&self) -> bool {
        false
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn count_prefix(&self, prefix: &str, except_suffix: &str) -> Result<u64, StoreError> {
        let full = self.key(prefix);
        let now = Instant::now();
        let live = self.cache.iter().filter(|(k, e)| {
            k.starts_with(&full) && (except_suffix.is_empty() || !k.ends_with(except_suffix)) && e.expires_at > now
        });
        Ok(live.count() as u64)
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.read(key).await {
            None => Ok(None),
            Some(Value::Bytes(value)) => Ok(Some(value)),
            Some(Value::Versioned { .. }) => Err(wrong_type(key)),
        }
    }
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        // Like Redis `MGET`, a key of another kind reads as absent rather than failing the whole read.
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(match self.read(key).await {
                Some(Value::Bytes(bytes)) => Some(bytes),
                _ => None,
            });
        }
        Ok(out)
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let entry = Entry::new(Value::Bytes(value.to_vec()), ttl);
        self.update(key, |_| Ok((Op::Put(entry), ()))).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.update(key, |_| Ok((Op::Remove, ()))).await
    }
    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        self.update(key, |current| {
            Ok(match current {
                Some(_) => (Op::Nop, false),
                None => (Op::Put(Entry::new(Value::Bytes(value.to_vec()), ttl)), true),
            })
        })
        .await
    }
    async fn set_xx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        self.update(key, |current| {
            Ok(match current {
                Some(_) => (Op::Put(Entry::new(Value::Bytes(value.to_vec()), ttl)), true),
                None => (Op::Nop, false),
            })
        })
        .await
    }
    async fn lease_and_get_many(
        &self,
        lease_key: &str,
        token: &str,
        ttl: Duration,
        keys: &[&str],
    ) -> Result<(Option<Vec<u8>>, Vec<Option<Vec<u8>>>), StoreError> {
        // Atomic like Redis's `SET NX GET`: the holder's token, or nothing when this call took it.
        let holder = self
            .update(lease_key, |current| match current {
                None => Ok((Op::Put(Entry::new(Value::Bytes(token.as_bytes().to_vec()), ttl)), None)),
                Some(Entry { value: Value::Bytes(held), .. }) => Ok((Op::Nop, Some(held))),
                Some(_) => Err(wrong_type(lease_key)),
            })
            .await?;
        Ok((holder, self.get_many(keys).await?))
    }
    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, StoreError> {
        self.update(key, |current| {
            let (n, expires_at) = match current {
                None => (1, deadline(ttl)),
                Some(Entry { value: Value::Bytes(text), expires_at }) => {
                    // Parsed as Redis does (a signed 64-bit integer), so both backends refuse the same values.
                    let n = std::str::from_utf8(&text)
                        .ok()
                        .and_then(|t| t.parse::<i64>().ok())
                        .and_then(|n| n.checked_add(1))
                        .ok_or_else(|| StoreError::Unavailable(format!("counter {key} is not an integer")))?;
                    (n, expires_at)
                }
                Some(Entry { value: Value::Versioned { .. }, .. }) => return Err(wrong_type(key)),
            };
            let answer =
                u64::try_from(n).map_err(|_| StoreError::Unavailable(format!("counter {key} is negative ({n})")))?;
            Ok((Op::Put(Entry { value: Value::Bytes(n.to_string().into_bytes()), expires_at }), answer))
        })
        .await
    }
    async fn load_versioned(&self, key: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        match self.read(key).await {
            None => Ok(None),
            Some(Value::Versioned { version, body }) => Ok(Some((version, body))),
            Some(Value::Bytes(_)) => Err(wrong_type(key)),
        }
    }
    async fn save_versioned(
        &self,
        key: &str,
        expected: u64,
        value: &[u8],
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        self.update(key, |current| {
            let stored = match current.map(|e| e.value) {
                None => 0,
                Some(Value::Versioned { version, .. }) => version,
                Some(Value::Bytes(_)) => return Err(wrong_type(key)),
            };
            if stored != expected {
                return Ok((Op::Nop, None));
            }
            let version = expected + 1;
            Ok((Op::Put(Entry::new(Value::Versioned { version, body: value.to_vec() }, ttl)), Some(version)))
        })
        .await
    }
    async fn lock(&self, key: &str, ttl: Duration) -> Result<Option<String>, StoreError> {
        let token = lock_token();
        Ok(self.set_nx(key, token.as_bytes(), ttl).await?.then_some(token))
    }
    async fn unlock(&self, key: &str, token: &str) -> Result<(), StoreError> {
        self.update(key, |current| match current.map(|e| e.value) {
            Some(Value::Bytes(held)) if held == token.as_bytes() => Ok((Op::Remove, ())),
            Some(Value::Versioned { .. }) => Err(wrong_type(key)),
            _ => Ok((Op::Nop, ())),
        })
        .await
    }
}

#[cfg(test)]
#[path = "memory_tests.rs"]
mod tests;
