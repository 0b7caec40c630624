//! The Redis backend: one stream (`{prefix}:inbox`, consumer group `alloc`), `SET NX` dedupe keys,
//! hashes for records and versioned documents, sorted sets for timers and operator lists. Every step
//! that touches several keys is one Lua script, so a crash never leaves half of it behind.
//!
//! Commands go through [`Connections`] (a connection per thread that reconnects by itself). Blocking
//! stream reads have a connection per consumer, dropped on any error or timeout so the next read opens
//! a fresh one. A Redis that lost its data answers `NOGROUP`: the stream and group are created again
//! (`XGROUP CREATE ... MKSTREAM`) and the workers go on.

use std::time::Duration;

use ::redis::{cmd, AsyncCommands, Script, Value};
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use super::redis_stream::{claimed_entries, pending_summary, read_entries, Readers};
use super::{InboxEntry, InboxStats, Ingested, MoneyStore, OpsList, SetStats, Versioned};
use crate::store::{store_error, Connections, RedisOptions, StoreError};

const GROUP: &str = "alloc";

const INGEST: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('HSET', KEYS[2], 'state', 'received', 'record', ARGV[2])
  redis.call('XADD', KEYS[3], '*', 'event', ARGV[3])
  return 1
end
return 0";

const TAKE_DUE: &str = r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
return due";

/// Extends a lease only while it still holds the caller's token.
const RENEW_LEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0";

/// Deletes a lease only while it still holds the caller's token.
const RELEASE_LEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

const PUT_DOC: &str = r"
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', current + 1, 'body', ARGV[2])
return 1";

/// The group (or the whole stream) is gone: Redis restarted without its data, or was flushed.
fn no_group(e: &::redis::RedisError) -> bool {
    e.code() == Some("NOGROUP")
}

pub struct RedisMoneyStore {
    prefix: String,
    timeout: Duration,
    connections: Connections,
    readers: Readers,
    ingest: Script,
    take_due: Script,
    put_doc: Script,
    renew_lease: Script,
    release_lease: Script,
}

impl RedisMoneyStore {
    /// With the default reconnect backoff (tests and tools).
    pub async fn connect(url: &str, prefix: &str, timeout: Duration) -> Result<Self, StoreError> {
        Self::connect_with(url, prefix, RedisOptions::new(timeout)).await
    }

    pub async fn connect_with(url: &str, prefix: &str, options: RedisOptions) -> Result<Self, StoreError> {
        let connections = Connections::open(url, options).await?;
        let store = Self {
            prefix: prefix.to_owned(),
            timeout: options.timeout,
            readers: Readers::new(connections.client().clone(), options.timeout),
            connections,
            ingest: Script::new(INGEST),
            take_due: Script::new(TAKE_DUE),
            put_doc: Script::new(PUT_DOC),
            renew_lease: Script::new(RENEW_LEASE),
            release_lease: Script::new(RELEASE_LEASE),
        };
        store.create_group().await?;
        Ok(store)
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.prefix)
    }

    /// Creates the inbox stream and its group if either is missing; from `0`, so entries added before
    /// the group existed are read too.
    async fn create_group(&self) -> Result<(), StoreError> {
        let mut conn = self.connections.conn().await?;
        let created: Result<(), _> = cmd("XGROUP")
            .arg("CREATE")
            .arg(self.key("inbox"))
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match created {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => other.map_err(|e| store_error(&e, self.timeout)),
        }
    }

    /// After `NOGROUP`: the data is gone, so the group is made again and the caller reads nothing now.
    async fn recreate_group(&self, during: &str) -> Result<(), StoreError> {
        tracing::warn!(
            during,
            "the inbox stream or its consumer group was missing (Redis lost its data?); creating it again"
        );
        self.create_group().await
    }

    /// Every command is bounded by the connection itself ([`crate::store::Conn`]); this maps its errors.
    async fn bounded<T>(
        &self,
        fut: impl std::future::Future<Output = ::redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        fut.await.map_err(|e| store_error(&e, self.timeout))
    }
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

impl RedisMoneyStore {
    /// `ZCARD` and the lowest score of a sorted set, in one round trip.
    async fn set_stats(&self, name: &str) -> Result<SetStats, StoreError> {
        let mut conn = self.connections.conn().await?;
        let key = self.key(name);
        let (size, first): (u64, Vec<(String, i64)>) =
            self.bounded(::redis::pipe().zcard(&key).zrange_withscores(&key, 0, 0).query_async(&mut conn)).await?;
        let earliest = first.first().and_then(|(_, ms)| Utc.timestamp_millis_opt(*ms).single());
        Ok(SetStats { size, earliest })
    }
}

#[async_trait]
impl MoneyStore for RedisMoneyStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn durable(&self) -> bool {
        true
    }

    async fn next_sequence(&self) -> Result<u64, StoreError> {
        let mut conn = self.connections.conn().await?;
        self.bounded(conn.incr(self.key("seq:ref"), 1u64)).await
    }

    async fn ingest(&self, dedupe_key: &str, event_key: &str, record: &[u8]) -> Result<Ingested, StoreError> {
        let mut conn = self.connections.conn().await?;
        let mut invocation = self.ingest.prepare_invoke();
        invocation
            .key(self.key(dedupe_key))
            .key(self.key(event_key))
            .key(self.key("inbox"))
            .arg(Utc::now().to_rfc3339())
            .arg(record)
            .arg(event_key);
        let created: i64 = self.bounded(invocation.invoke_async(&mut conn)).await?;
        Ok(if created == 1 { Ingested::New } else { Ingested::Duplicate })
    }

    async fn load_event(&self, event_key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.connections.conn().await?;
        self.bounded(conn.hget(self.key(event_key), "record")).await
    }

    async fn save_event(&self, event_key: &str, record: &[u8]) -> Result<(), StoreError> {
        let mut conn = self.connections.conn().await?;
        self.bounded(conn.hset::<_, _, _, ()>(self.key(event_key), "record", record)).await
    }

    async fn enqueue(&self, event_key: &str) -> Result<(), StoreError> {
        let mut conn = self.connections.conn().await?;
        self.bounded(
            cmd("XADD").arg(self.key("inbox")).arg("*").arg("event").arg(event_key).query_async::<String>(&mut conn),
        )
        .await
        .map(drop)
    }

    async fn claim(&self, consumer: &str, count: usize, block: Duration) -> Result<Vec<InboxEntry>, StoreError> {
        let mut conn = self.readers.get(consumer).await?;
        let mut read = cmd("XREADGROUP");
        read.arg("GROUP")
            .arg(GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(block.as_millis().max(1) as u64)
            .arg("STREAMS")
            .arg(self.key("inbox"))
            .arg(">");
        let reply = match tokio::time::timeout(block + self.timeout, read.query_async::<Value>(&mut conn)).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(e)) if no_group(&e) => {
                self.recreate_group("XREADGROUP").await?;
                return Ok(Vec::new());
            }
            Ok(Err(e)) => {
                self.readers.drop(consumer).await;
                return Err(store_error(&e, self.timeout));
            }
            Err(_) => {
                self.readers.drop(consumer).await;
                return Err(StoreError::Timeout(block + self.timeout));
            }
        };
        Ok(read_entries(&reply))
    }

    async fn reclaim(&self, consumer: &str, min_idle: Duration, count: usize) -> Result<Vec<InboxEntry>, StoreError> {
        let mut conn = self.connections.conn().await?;
        let claimed = cmd("XAUTOCLAIM")
            .arg(self.key("inbox"))
            .arg(GROUP)
            .arg(consumer)
            .arg(min_idle.as_millis() as u64)
            .arg("0-0")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut conn)
            .await;
        let reply: Value = match claimed {
            Err(e) if no_group(&e) => {
                self.recreate_group("XAUTOCLAIM").await?;
                return Ok(Vec::new());
            }
            other => other.map_err(|e| store_error(&e, self.timeout))?,
        };
        Ok(claimed_entries(&reply))
    }

    async fn ack(&self, entry: &InboxEntry) -> Result<(), StoreError> {
        let mut conn = self.connections.conn().await?;
        let inbox = self.key("inbox");
        // Acknowledged entries are deleted so the stream stays small; the event record remains.
        let acked = ::redis::pipe()
            .atomic()
            .cmd("XACK")
            .arg(&inbox)
            .arg(GROUP)
            .arg(&entry.id)
            .cmd("XDEL")
            .arg(&inbox)
            .arg(&entry.id)
            .query_async::<()>(&mut conn)
            .await;
        match acked {
            // The group went with the data; nothing is pending any more, so there is nothing to ack.
            Err(e) if no_group(&e) => self.recreate_group("XACK").await,
            other => other.map_err(|e| store_error(&e, self.timeout)),
        }
    }

    async fn inbox_stats(&self) -> Result<InboxStats, StoreError> {
        let mut conn = self.connections.conn().await?;
        let inbox = self.key("inbox");
        let length: u64 = self.bounded(conn.xlen(&inbox)).await?;
        let pending: Value = match cmd("XPENDING").arg(&inbox).arg(GROUP).query_async(&mut conn).await {
            // No group: nothing is pending; the workers create it again on their next read.
            Err(e) if no_group(&e) => Value::Nil,
            other => other.map_err(|e| store_error(&e, self.timeout))?,
        };
        let (count, oldest) = pending_summary(&pending);
        let oldest_ms = oldest
            .and_then(|id| id.split('-').next().and_then(|ms| ms.parse::<i64>().ok()))
            .map_or(0, |ms| (Utc::now().timestamp_millis() - ms).max(0) as u64);
        Ok(InboxStats { length, pending: count, oldest_pending_ms: oldest_ms })
    }

    async fn list_add(&self, list: OpsList, member: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut conn = self.connections.conn().await?;
        self.bounded(conn.zadd::<_, _, _, ()>(self.key(list.name()), member, millis(at))).await
    }

    async fn list_remove(&self, list: OpsList, member: &str) -> Result<bool, StoreError> {
        let mut conn = self.connections.conn().await?;
        self.bounded(conn.zrem::<_, _, i64>(self.key(list.name()), member)).await.map(|n| n > 0)
    }

    async fn list_members(&self, list: OpsList) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let mut conn = self.connections.conn().await?;
        let members: Vec<(String, i64)> = self.bounded(conn.zrange_withscores(self.key(list.name()), 0, -1)).await?;
        Ok(members.into_iter().map(|(m, ms)| (m, Utc.timestamp_millis_opt(ms).single().unwrap_or_default())).collect())
    }

    async fn list_stats(&self, list: OpsList) -> Result<SetStats, StoreError> {
        self.set_stats(list.name()).await
    }

    async fn schedule(&self, timer: &str, due: DateTime<Utc>) -> Result<(), StoreError> {
        let mut conn = self.connections.conn().await?;
        self.bounded(conn.zadd::<_, _, _, ()>(self.key("timers"), timer, millis(due))).await
    }

    async fn cancel(&self, timer: &str) -> Result<(), StoreError> {
        let mut conn = self.connections.conn().await?;
        self.bounded(conn.zrem::<_, _, ()>(self.key("timers"), timer)).await
    }

    async fn take_due(&self, now: DateTime<Utc>, lease: Duration, limit: usize) -> Result<Vec<String>, StoreError> {
        let mut conn = self.connections.conn().await?;
        let leased_until = millis(now) + lease.as_millis() as i64;
        let mut invocation = self.take_due.prepare_invoke();
        invocation.key(self.key("timers")).arg(millis(now)).arg(leased_until).arg(limit);
        self.bounded(invocation.invoke_async(&mut conn)).await
    }

    async fn timer_stats(&self) -> Result<SetStats, StoreError> {
        self.set_stats("timers").await
    }

    async fn load_doc(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        let mut conn = self.connections.conn().await?;
        let (version, body): (Option<u64>, Option<Vec<u8>>) = self
            .bounded(::redis::pipe().hget(self.key(key), "v").hget(self.key(key), "body").query_async(&mut conn))
            .await?;
        Ok(match (version, body) {
            (Some(version), Some(body)) => Some(Versioned { version, body }),
            _ => None,
        })
    }

    async fn put_doc(&self, key: &str, expected: u64, body: &[u8]) -> Result<bool, StoreError> {
        let mut conn = self.connections.conn().await?;
        let mut invocation = self.put_doc.prepare_invoke();
        invocation.key(self.key(key)).arg(expected).arg(body);
        let written: i64 = self.bounded(invocation.invoke_async(&mut conn)).await?;
        Ok(written == 1)
    }

    async fn index_add(&self, index: &str, member: &str) -> Result<(), StoreError> {
        let mut conn = self.connections.conn().await?;
        self.bounded(conn.sadd::<_, _, ()>(self.key(&format!("index:{index}")), member)).await
    }

    async fn index_remove(&self, index: &str, member: &str) -> Result<(), StoreError> {
        let mut conn = self.connections.conn().await?;
        self.bounded(conn.srem::<_, _, ()>(self.key(&format!("index:{index}")), member)).await
    }

    async fn index_members(&self, index: &str) -> Result<Vec<String>, StoreError> {
        let mut conn = self.connections.conn().await?;
        self.bounded(conn.smembers(self.key(&format!("index:{index}")))).await
    }

    async fn take_lease(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut conn = self.connections.conn().await?;
        let mut set = cmd("SET");
        set.arg(self.key(key)).arg(token).arg("NX").arg("PX").arg(ttl.as_millis() as u64);
        let answer: Option<String> = self.bounded(set.query_async(&mut conn)).await?;
        Ok(answer.is_some())
    }

    async fn renew_lease(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut conn = self.connections.conn().await?;
        let mut invocation = self.renew_lease.prepare_invoke();
        invocation.key(self.key(key)).arg(token).arg(ttl.as_millis() as u64);
        let renewed: i64 = self.bounded(invocation.invoke_async(&mut conn)).await?;
        Ok(renewed == 1)
    }

    async fn release_lease(&self, key: &str, token: &str) -> Result<(), StoreError> {
        let mut conn = self.connections.conn().await?;
        let mut invocation = self.release_lease.prepare_invoke();
        invocation.key(self.key(key)).arg(token);
        self.bounded(invocation.invoke_async::<i64>(&mut conn)).await.map(drop)
    }
}
