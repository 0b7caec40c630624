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
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.get(key).await?);
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
mod tests {
    use std::sync::Arc;

    use super::*;

    const LONG: Duration = Duration::from_secs(30);
    const SHORT: Duration = Duration::from_millis(50);

    async fn past(ttl: Duration) {
        tokio::time::sleep(ttl * 3).await;
    }

    #[tokio::test]
    async fn set_nx_writes_only_when_the_key_is_absent() {
        let store = MemoryStore::new("t");
        assert!(store.set_nx("k", b"first", LONG).await.unwrap());
        assert!(!store.set_nx("k", b"second", LONG).await.unwrap());
        assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"first"[..]));
    }

    #[tokio::test]
    async fn set_nx_writes_again_once_the_previous_value_expired() {
        let store = MemoryStore::new("t");
        assert!(store.set_nx("k", b"first", SHORT).await.unwrap());
        past(SHORT).await;
        assert_eq!(store.get("k").await.unwrap(), None);
        assert!(store.set_nx("k", b"second", LONG).await.unwrap());
        assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"second"[..]));
    }

    #[tokio::test]
    async fn incr_counts_from_one_and_reads_back_as_decimal_text() {
        let store = MemoryStore::new("t");
        assert_eq!(store.incr("n", LONG).await.unwrap(), 1);
        assert_eq!(store.incr("n", LONG).await.unwrap(), 2);
        assert_eq!(store.incr("n", LONG).await.unwrap(), 3);
        assert_eq!(store.get("n").await.unwrap().as_deref(), Some(&b"3"[..]));
    }

    #[tokio::test]
    async fn incr_keeps_the_window_it_was_created_with() {
        let store = MemoryStore::new("t");
        let window = Duration::from_millis(300);
        assert_eq!(store.incr("n", window).await.unwrap(), 1);
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Had this increment extended the TTL, the counter would live until ~500 ms.
        assert_eq!(store.incr("n", window).await.unwrap(), 2);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(store.get("n").await.unwrap(), None, "the window ends 300 ms after the first increment");
        assert_eq!(store.incr("n", window).await.unwrap(), 1, "a new window starts from one");
    }

    #[tokio::test]
    async fn incr_refuses_a_value_that_is_not_a_counter() {
        let store = MemoryStore::new("t");
        store.set("n", b"abc", LONG).await.unwrap();
        assert!(store.incr("n", LONG).await.is_err());
        store.save_versioned("doc", 0, b"{}", LONG).await.unwrap();
        assert!(store.incr("doc", LONG).await.is_err());
    }

    #[tokio::test]
    async fn save_versioned_creates_at_version_one_and_counts_up() {
        let store = MemoryStore::new("t");
        assert_eq!(store.load_versioned("doc").await.unwrap(), None);
        assert_eq!(store.save_versioned("doc", 0, b"a", LONG).await.unwrap(), Some(1));
        assert_eq!(store.load_versioned("doc").await.unwrap(), Some((1, b"a".to_vec())));
        assert_eq!(store.save_versioned("doc", 1, b"b", LONG).await.unwrap(), Some(2));
        assert_eq!(store.load_versioned("doc").await.unwrap(), Some((2, b"b".to_vec())));
    }

    #[tokio::test]
    async fn save_versioned_with_a_stale_version_is_a_conflict_that_changes_nothing() {
        let store = MemoryStore::new("t");
        store.save_versioned("doc", 0, b"a", LONG).await.unwrap();
        store.save_versioned("doc", 1, b"b", LONG).await.unwrap();
        assert_eq!(store.save_versioned("doc", 1, b"stale", LONG).await.unwrap(), None);
        assert_eq!(store.save_versioned("doc", 0, b"create", LONG).await.unwrap(), None);
        assert_eq!(store.save_versioned("doc", 7, b"future", LONG).await.unwrap(), None);
        assert_eq!(store.load_versioned("doc").await.unwrap(), Some((2, b"b".to_vec())));
    }

    #[tokio::test]
    async fn save_versioned_conflicts_once_the_document_was_deleted() {
        let store = MemoryStore::new("t");
        store.save_versioned("doc", 0, b"a", LONG).await.unwrap();
        store.delete("doc").await.unwrap();
        assert_eq!(store.load_versioned("doc").await.unwrap(), None);
        assert_eq!(store.save_versioned("doc", 1, b"b", LONG).await.unwrap(), None);
        assert_eq!(store.load_versioned("doc").await.unwrap(), None, "a conflict must not recreate the key");
    }

    #[tokio::test]
    async fn save_versioned_resets_the_ttl_and_an_expired_document_is_gone() {
        let store = MemoryStore::new("t");
        store.save_versioned("doc", 0, b"a", Duration::from_millis(150)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        store.save_versioned("doc", 1, b"b", Duration::from_millis(150)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(store.load_versioned("doc").await.unwrap(), Some((2, b"b".to_vec())), "the save renewed the TTL");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(store.load_versioned("doc").await.unwrap(), None);
        assert_eq!(store.save_versioned("doc", 2, b"c", LONG).await.unwrap(), None);
    }

    #[tokio::test]
    async fn plain_and_versioned_values_are_not_mixed_up() {
        let store = MemoryStore::new("t");
        store.set("plain", b"x", LONG).await.unwrap();
        store.save_versioned("doc", 0, b"a", LONG).await.unwrap();
        assert!(store.load_versioned("plain").await.is_err());
        assert!(store.save_versioned("plain", 0, b"a", LONG).await.is_err());
        assert!(store.get("doc").await.is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_saves_of_the_same_version_have_exactly_one_winner() {
        let store = Arc::new(MemoryStore::new("t"));
        store.save_versioned("doc", 0, b"start", LONG).await.unwrap();
        let all_loaded = Arc::new(tokio::sync::Barrier::new(20));
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let (store, all_loaded) = (store.clone(), all_loaded.clone());
                tokio::spawn(async move {
                    let (version, _) = store.load_versioned("doc").await.unwrap().unwrap();
                    all_loaded.wait().await;
                    store.save_versioned("doc", version, format!("task {i}").as_bytes(), LONG).await.unwrap()
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        let winners: Vec<_> = outcomes.iter().flatten().collect();
        assert_eq!(winners, vec![&2], "{outcomes:?}");
        assert_eq!(store.load_versioned("doc").await.unwrap().unwrap().0, 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn retrying_writers_lose_no_update() {
        let store = Arc::new(MemoryStore::new("t"));
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    loop {
                        let (version, mut body) = store.load_versioned("doc").await.unwrap().unwrap_or_default();
                        body.push(i);
                        if store.save_versioned("doc", version, &body, LONG).await.unwrap().is_some() {
                            return;
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let (version, mut body) = store.load_versioned("doc").await.unwrap().unwrap();
        body.sort_unstable();
        assert_eq!((version, body), (20, (0..20).collect::<Vec<u8>>()));
    }

    #[tokio::test]
    async fn a_held_lock_cannot_be_taken_until_it_is_released() {
        let store = MemoryStore::new("t");
        let token = store.lock("l", LONG).await.unwrap().expect("a free lock is granted");
        assert_eq!(store.lock("l", LONG).await.unwrap(), None);
        store.unlock("l", &token).await.unwrap();
        let again = store.lock("l", LONG).await.unwrap().expect("a released lock is granted");
        assert_ne!(again, token, "every acquisition gets a fresh token");
    }

    #[tokio::test]
    async fn unlock_with_the_wrong_token_leaves_the_lock_held() {
        let store = MemoryStore::new("t");
        let token = store.lock("l", LONG).await.unwrap().unwrap();
        store.unlock("l", "not-the-token").await.unwrap();
        assert_eq!(store.get("l").await.unwrap(), Some(token.into_bytes()));
        assert_eq!(store.lock("l", LONG).await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_expired_lock_is_free_and_its_old_holder_cannot_release_the_new_one() {
        let store = MemoryStore::new("t");
        let old = store.lock("l", SHORT).await.unwrap().unwrap();
        past(SHORT).await;
        let new = store.lock("l", LONG).await.unwrap().expect("an expired lock is free");
        store.unlock("l", &old).await.unwrap();
        assert_eq!(store.get("l").await.unwrap(), Some(new.into_bytes()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_lockers_get_exactly_one_lock() {
        let store = Arc::new(MemoryStore::new("t"));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.lock("l", LONG).await.unwrap() })
            })
            .collect();
        let mut granted = 0;
        for task in tasks {
            granted += usize::from(task.await.unwrap().is_some());
        }
        assert_eq!(granted, 1);
    }

    #[tokio::test]
    async fn new_keys_carry_the_prefix_so_stores_do_not_share_them() {
        let (a, b) = (MemoryStore::new("a"), MemoryStore::new("b"));
        assert_eq!(a.key("k"), "a:k");
        assert!(a.set_nx("k", b"x", LONG).await.unwrap());
        assert_eq!(a.incr("n", LONG).await.unwrap(), 1);
        assert!(a.lock("l", LONG).await.unwrap().is_some());
        a.save_versioned("doc", 0, b"x", LONG).await.unwrap();
        assert!(b.set_nx("k", b"x", LONG).await.unwrap());
        assert_eq!(b.incr("n", LONG).await.unwrap(), 1);
        assert!(b.lock("l", LONG).await.unwrap().is_some());
        assert_eq!(b.load_versioned("doc").await.unwrap(), None);
    }
}
