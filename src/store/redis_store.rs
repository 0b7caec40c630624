//! Redis store over a `ConnectionManager`, which reconnects by itself after a dropped connection.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;

use super::{Store, StoreError};

pub struct RedisStore {
    prefix: String,
    timeout: Duration,
    conn: ConnectionManager,
}

fn unavailable(e: redis::RedisError) -> StoreError {
    // The error text can echo the URL's host but never its password; keep only the kind and detail.
    StoreError::Unavailable(format!("{:?}: {}", e.kind(), e.detail().unwrap_or("no detail")))
}

impl RedisStore {
    pub async fn connect(url: &str, prefix: &str, timeout: Duration) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let conn = tokio::time::timeout(timeout, ConnectionManager::new(client))
            .await
            .map_err(|_| StoreError::Timeout(timeout))?
            .map_err(unavailable)?;
        Ok(Self { prefix: format!("{prefix}:"), timeout, conn })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn bounded<T>(&self, fut: impl std::future::Future<Output = redis::RedisResult<T>>) -> Result<T, StoreError> {
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| StoreError::Timeout(self.timeout))?
            .map_err(unavailable)
    }
}

#[async_trait]
impl Store for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }
    fn durable(&self) -> bool {
        true
    }
    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let pong: String = self.bounded(redis::cmd("PING").query_async(&mut conn)).await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!("unexpected PING answer {pong:?}")))
        }
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.conn.clone();
        self.bounded(conn.get(self.key(key))).await
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let millis = ttl.as_millis().max(1) as u64;
        self.bounded(redis::cmd("SET").arg(self.key(key)).arg(value).arg("PX").arg(millis).query_async::<()>(&mut conn))
            .await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        self.bounded(conn.del::<_, ()>(self.key(key))).await
    }
}
