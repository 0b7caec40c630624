//! The key-value store behind sessions, inboxes and payout state: Redis in deployments, an in-memory
//! moka cache for the embedded local default (which says loudly that it is not durable). Every write
//! carries a TTL and every key gets the configured prefix. Besides plain values it offers the atomic
//! primitives the USSD session layer builds on: write-if-absent, lockout counters, versioned
//! (compare-and-set) documents and token-guarded locks.

mod memory;
mod redis_conn;
mod redis_store;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret;

pub use memory::MemoryStore;
pub use redis_conn::{store_error, Conn, Connections, RedisOptions};
pub use redis_store::{RedisStore, SAVE_VERSIONED, UNLOCK};

use crate::config::RedisSettings;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("cannot reach the session store: {0}")]
    Unavailable(String),
    #[error("the session store timed out after {0:?}")]
    Timeout(Duration),
}

#[async_trait]
pub trait Store: Send + Sync {
    /// A short name for logs and readiness output.
    fn kind(&self) -> &'static str;
    /// Whether data survives a restart of this process.
    fn durable(&self) -> bool;
    async fn ping(&self) -> Result<(), StoreError>;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Several plain values in one round trip (`MGET`), in the order of `keys`.
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StoreError>;
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError>;
    /// Removes any kind of value: plain, counter, versioned document or lock.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Writes only if the key is absent; true when this call wrote it.
    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError>;
    /// Writes only if the key is present (`SET XX`), resetting its TTL; true when this call wrote it.
    /// A session an end notice deleted meanwhile is thus not recreated.
    async fn set_xx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError>;
    /// Adds one to a counter and returns the new value. The TTL starts when the counter is created and
    /// later increments do not extend it, so the counter describes a fixed window (e.g. a PIN lockout).
    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, StoreError>;
    /// Reads a versioned document as `(version, body)`; the first saved version is 1.
    async fn load_versioned(&self, key: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError>;
    /// Compare-and-set: writes only if the stored version equals `expected` (0 means the key must be
    /// absent; an absent key with `expected > 0`, e.g. after an end-of-session delete, is a conflict).
    /// On success the version becomes `expected + 1`, the TTL is reset and the new version returned;
    /// on conflict nothing changes and the answer is `None`.
    async fn save_versioned(
        &self,
        key: &str,
        expected: u64,
        value: &[u8],
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError>;
    /// Takes a lock that expires after `ttl`; the returned token is needed to release it. `None` while
    /// someone else holds it.
    async fn lock(&self, key: &str, ttl: Duration) -> Result<Option<String>, StoreError>;
    /// Releases the lock only if it still carries `token`, so a holder whose lock expired and was
    /// taken by someone else cannot release the new holder's lock.
    async fn unlock(&self, key: &str, token: &str) -> Result<(), StoreError>;

    /// How many keys start with `prefix`, leaving out those ending with `except_suffix` (metrics: live
    /// sessions without their locks). Redis walks the keyspace with `SCAN`, so this is for scrapes, not
    /// for hops.
    async fn count_prefix(&self, prefix: &str, except_suffix: &str) -> Result<u64, StoreError>;

    /// Takes `lease_key` with `token` unless someone holds it (`SET NX GET`), then reads `keys`
    /// (`MGET`) either way: `None` when this call took the lease, else the holder's token. A duplicate
    /// that finds the lease taken replays from what it read. Redis sends both in one round trip, two
    /// commands.
    async fn lease_and_get_many(
        &self,
        lease_key: &str,
        token: &str,
        ttl: Duration,
        keys: &[&str],
    ) -> Result<(Option<Vec<u8>>, Vec<Option<Vec<u8>>>), StoreError> {
        let holder = match self.set_nx(lease_key, token.as_bytes(), ttl).await? {
            true => None,
            false => Some(self.get(lease_key).await?.unwrap_or_default()),
        };
        Ok((holder, self.get_many(keys).await?))
    }

    /// [`Store::lock`] then, when taken, [`Store::load_versioned`]; Redis sends both in one round trip.
    async fn lock_and_load(
        &self,
        lock_key: &str,
        key: &str,
        ttl: Duration,
    ) -> Result<Option<(String, Option<(u64, Vec<u8>)>)>, StoreError> {
        match self.lock(lock_key, ttl).await? {
            Some(token) => Ok(Some((token, self.load_versioned(key).await?))),
            None => Ok(None),
        }
    }

    /// [`Store::save_versioned`] then [`Store::unlock`]; Redis sends both in one round trip.
    async fn save_and_unlock(
        &self,
        key: &str,
        expected: u64,
        value: &[u8],
        ttl: Duration,
        lock_key: &str,
        token: &str,
    ) -> Result<Option<u64>, StoreError> {
        let saved = self.save_versioned(key, expected, value, ttl).await;
        self.unlock(lock_key, token).await?;
        saved
    }
}

/// A fresh lock token: random enough that two holders never share one.
fn lock_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub type SharedStore = Arc<dyn Store>;

/// Redis when `redis.url` is set, memory otherwise.
pub async fn connect(settings: &RedisSettings) -> Result<SharedStore, StoreError> {
    match settings.url.as_ref().map(|u| u.expose_secret().trim().to_owned()).filter(|u| !u.is_empty()) {
        Some(url) => {
            let options = RedisOptions::from_settings(settings);
            Ok(Arc::new(RedisStore::connect_with(&url, &settings.key_prefix, options).await?))
        }
        None => {
            tracing::warn!(
                "redis.url is empty: sessions and callbacks live in memory and are lost on restart (local only)"
            );
            Ok(Arc::new(MemoryStore::new(&settings.key_prefix)))
        }
    }
}
