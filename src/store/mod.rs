//! The key-value store behind sessions, inboxes and payout state: Redis in deployments, an in-memory
//! moka cache for the embedded local default (which says loudly that it is not durable). Every write
//! carries a TTL and every key gets the configured prefix.

mod memory;
mod redis_store;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret;

pub use memory::MemoryStore;
pub use redis_store::RedisStore;

use crate::config::RedisSettings;

#[derive(Debug, thiserror::Error)]
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
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

pub type SharedStore = Arc<dyn Store>;

/// Redis when `redis.url` is set, memory otherwise.
pub async fn connect(settings: &RedisSettings) -> Result<SharedStore, StoreError> {
    match settings.url.as_ref().map(|u| u.expose_secret().trim().to_owned()).filter(|u| !u.is_empty()) {
        Some(url) => Ok(Arc::new(RedisStore::connect(&url, &settings.key_prefix, settings.connect_timeout).await?)),
        None => {
            tracing::warn!(
                "redis.url is empty: sessions and callbacks live in memory and are lost on restart (local only)"
            );
            Ok(Arc::new(MemoryStore::new(&settings.key_prefix)))
        }
    }
}
