//! Redis store over [`Connections`] (a connection per thread that reconnects by itself, see
//! `redis_conn`). Plain values are strings; versioned documents are hashes `{v, d}`. Every read-modify-write is one
//! Lua script, so it is atomic against every other client of the same Redis.

use std::time::Duration;

use async_trait::async_trait;
use redis::{AsyncCommands, Script, Value};

use super::redis_conn::{store_error, Connections, RedisOptions};
use super::{lock_token, Store, StoreError};

/// INCR, then start the window only when the counter is new. A counter without a TTL (written by
/// something else) gets one too, because a counter that never expires is a lockout that never ends.
const INCR: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n";

/// Answers the new version, or 0 on conflict. A missing key reads as version 0.
pub const SAVE_VERSIONED: &str = r"
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', current + 1, 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return current + 1";

/// Deletes a lock only while it still holds the caller's token.
pub const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

pub struct RedisStore {
    prefix: String,
    timeout: Duration,
    connections: Connections,
    incr: Script,
    save_versioned: Script,
    unlock: Script,
}

/// Escapes the glob characters of a `SCAN MATCH` pattern, so a key prefix is matched literally.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `EVALSHA <sha>`, or `EVAL <text>` once Redis said NOSCRIPT: a script call inside a pipeline, which
/// cannot reload a script by itself the way [`Script::invoke_async`] does.
fn script_call<'p>(
    pipe: &'p mut redis::Pipeline,
    script: &Script,
    text: &str,
    by_sha: bool,
) -> &'p mut redis::Pipeline {
    if by_sha {
        pipe.cmd("EVALSHA").arg(script.get_hash())
    } else {
        pipe.cmd("EVAL").arg(text)
    }
}

/// Redis rejects a PX of 0, and a sub-millisecond TTL would round to it.
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisStore {
    /// With the default reconnect backoff (tests and tools).
    pub async fn connect(url: &str, prefix: &str, timeout: Duration) -> Result<Self, StoreError> {
        Self::connect_with(url, prefix, RedisOptions::new(timeout)).await
    }

    pub async fn connect_with(url: &str, prefix: &str, options: RedisOptions) -> Result<Self, StoreError> {
        Ok(Self {
            prefix: format!("{prefix}:"),
            timeout: options.timeout,
            connections: Connections::open(url, options).await?,
            incr: Script::new(INCR),
            save_versioned: Script::new(SAVE_VERSIONED),
            unlock: Script::new(UNLOCK),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Every command is bounded by the connection itself ([`super::Conn`]); this maps its errors.
    async fn bounded<T>(&self, fut: impl std::future::Future<Output = redis::RedisResult<T>>) -> Result<T, StoreError> {
        fut.await.map_err(|e| store_error(&e, self.timeout))
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
        let mut conn = self.connections.conn().await?;
        let pong: String = self.bounded(redis::cmd("PING").query_async(&mut conn)).await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!("unexpected PING answer {pong:?}")))
        }
    }
    async fn count_prefix(&self, prefix: &str, except_suffix: &str) -> Result<u64, StoreError> {
        let mut conn = self.connections.conn().await?;
        let pattern = format!("{}*", glob_escape(&self.key(prefix)));
        let (mut cursor, mut count) = (0u64, 0u64);
        loop {
            let (next, keys): (u64, Vec<String>) = self
                .bounded(
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(1000)
                        .query_async(&mut conn),
                )
                .await?;
            count += keys.iter().filter(|k| except_suffix.is_empty() || !k.ends_with(except_suffix)).count() as u64;
            if next == 0 {
                return Ok(count);
            }
            cursor = next;
        }
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.connections.conn().await?;
        self.bounded(conn.get(self.key(key))).await
    }
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let mut conn = self.connections.conn().await?;
        let mut mget = redis::cmd("MGET");
        for key in keys {
            mget.arg(self.key(key));
        }
        self.bounded(mget.query_async(&mut conn)).await
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let mut conn = self.connections.conn().await?;
        let millis = ttl.as_millis().max(1) as u64;
        self.bounded(redis::cmd("SET").arg(self.key(key)).arg(value).arg("PX").arg(millis).query_async::<()>(&mut conn))
            .await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut conn = self.connections.conn().await?;
        self.bounded(conn.del::<_, ()>(self.key(key))).await
    }
    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let mut conn = self.connections.conn().await?;
        let mut set = redis::cmd("SET");
        set.arg(self.key(key)).arg(value).arg("NX").arg("PX").arg(millis(ttl));
        // OK when written, nil when the key was already there.
        let answer: Value = self.bounded(set.query_async(&mut conn)).await?;
        Ok(!matches!(answer, Value::Nil))
    }
    async fn set_xx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let mut conn = self.connections.conn().await?;
        let mut set = redis::cmd("SET");
        set.arg(self.key(key)).arg(value).arg("XX").arg("PX").arg(millis(ttl));
        // OK when written, nil when the key was gone.
        let answer: Value = self.bounded(set.query_async(&mut conn)).await?;
        Ok(!matches!(answer, Value::Nil))
    }
    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, StoreError> {
        let mut conn = self.connections.conn().await?;
        let mut invocation = self.incr.prepare_invoke();
        invocation.key(self.key(key)).arg(millis(ttl));
        let n: i64 = self.bounded(invocation.invoke_async(&mut conn)).await?;
        u64::try_from(n).map_err(|_| StoreError::Unavailable(format!("counter {key} is negative ({n})")))
    }
    async fn load_versioned(&self, key: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let mut conn = self.connections.conn().await?;
        let (version, body): (Option<u64>, Option<Vec<u8>>) =
            self.bounded(redis::cmd("HMGET").arg(self.key(key)).arg("v").arg("d").query_async(&mut conn)).await?;
        Ok(version.map(|v| (v, body.unwrap_or_default())))
    }
    async fn save_versioned(
        &self,
        key: &str,
        expected: u64,
        value: &[u8],
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        let mut conn = self.connections.conn().await?;
        let mut invocation = self.save_versioned.prepare_invoke();
        invocation.key(self.key(key)).arg(expected).arg(value).arg(millis(ttl));
        let version: u64 = self.bounded(invocation.invoke_async(&mut conn)).await?;
        Ok(Some(version).filter(|v| *v > 0))
    }
    async fn lock(&self, key: &str, ttl: Duration) -> Result<Option<String>, StoreError> {
        let token = lock_token();
        Ok(self.set_nx(key, token.as_bytes(), ttl).await?.then_some(token))
    }
    async fn unlock(&self, key: &str, token: &str) -> Result<(), StoreError> {
        let mut conn = self.connections.conn().await?;
        let mut invocation = self.unlock.prepare_invoke();
        invocation.key(self.key(key)).arg(token);
        self.bounded(invocation.invoke_async::<i64>(&mut conn)).await.map(drop)
    }
    /// One pipeline: `SET NX GET PX` (Redis 7) and one `MGET` (two commands, one round trip).
    async fn lease_and_get_many(
        &self,
        lease_key: &str,
        token: &str,
        ttl: Duration,
        keys: &[&str],
    ) -> Result<(Option<Vec<u8>>, Vec<Option<Vec<u8>>>), StoreError> {
        let mut conn = self.connections.conn().await?;
        let mut pipe = redis::pipe();
        pipe.cmd("SET").arg(self.key(lease_key)).arg(token).arg("NX").arg("GET").arg("PX").arg(millis(ttl));
        let mget = pipe.cmd("MGET");
        for key in keys {
            mget.arg(self.key(key));
        }
        // With GET, SET answers the old value: nil when the key was free and this call took it.
        let (holder, values): (Option<Vec<u8>>, Vec<Option<Vec<u8>>>) =
            self.bounded(pipe.query_async(&mut conn)).await?;
        Ok((holder, values))
    }
    /// One pipeline: `SET NX PX` and `HMGET`. The read is wasted when the lock is held, which is rare.
    async fn lock_and_load(
        &self,
        lock_key: &str,
        key: &str,
        ttl: Duration,
    ) -> Result<Option<(String, Option<(u64, Vec<u8>)>)>, StoreError> {
        let mut conn = self.connections.conn().await?;
        let token = lock_token();
        let mut pipe = redis::pipe();
        pipe.cmd("SET").arg(self.key(lock_key)).arg(&token).arg("NX").arg("PX").arg(millis(ttl));
        pipe.cmd("HMGET").arg(self.key(key)).arg("v").arg("d");
        let (locked, (version, body)): (Value, (Option<u64>, Option<Vec<u8>>)) =
            self.bounded(pipe.query_async(&mut conn)).await?;
        if matches!(locked, Value::Nil) {
            return Ok(None);
        }
        Ok(Some((token, version.map(|v| (v, body.unwrap_or_default())))))
    }
    /// One pipeline of the two scripts, by SHA: Redis neither receives nor hashes their text on every
    /// hop. A Redis that lost its script cache (restart, `SCRIPT FLUSH`) answers NOSCRIPT before running
    /// anything, and the same pipeline is then sent once with the scripts' text.
    async fn save_and_unlock(
        &self,
        key: &str,
        expected: u64,
        value: &[u8],
        ttl: Duration,
        lock_key: &str,
        token: &str,
    ) -> Result<Option<u64>, StoreError> {
        let (key, lock_key) = (self.key(key), self.key(lock_key));
        let pipeline = |by_sha: bool| {
            let mut pipe = redis::pipe();
            script_call(&mut pipe, &self.save_versioned, SAVE_VERSIONED, by_sha)
                .arg(1)
                .arg(&key)
                .arg(expected)
                .arg(value)
                .arg(millis(ttl));
            script_call(&mut pipe, &self.unlock, UNLOCK, by_sha).arg(1).arg(&lock_key).arg(token).ignore();
            pipe
        };
        let mut conn = self.connections.conn().await?;
        let sent = pipeline(true).query_async::<(u64,)>(&mut conn).await;
        let (version,) = match sent {
            Err(e) if e.kind() == redis::ErrorKind::NoScriptError => {
                self.bounded(pipeline(false).query_async(&mut conn)).await?
            }
            other => other.map_err(|e| store_error(&e, self.timeout))?,
        };
        Ok(Some(version).filter(|v| *v > 0))
    }
}
