//! In-memory store for the embedded default and unit tests. Not durable.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::future::Cache;
use moka::Expiry;

use super::{Store, StoreError};

#[derive(Clone)]
struct Entry {
    value: Vec<u8>,
    ttl: Duration,
}

struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _now: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Entry,
        _now: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

pub struct MemoryStore {
    prefix: String,
    cache: Cache<String, Entry>,
}

impl MemoryStore {
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: format!("{prefix}:"),
            cache: Cache::builder().max_capacity(1_000_000).expire_after(PerEntryTtl).build(),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
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
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.cache.get(&self.key(key)).await.map(|e| e.value))
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        self.cache.insert(self.key(key), Entry { value: value.to_vec(), ttl }).await;
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.cache.invalidate(&self.key(key)).await;
        Ok(())
    }
}
