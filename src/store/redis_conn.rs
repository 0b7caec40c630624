//! Redis connections that heal by themselves, shared by the session store and the money store.
//!
//! Each thread gets a `ConnectionManager` of its own. actix-web runs every HTTP worker on its own Tokio
//! runtime and the background tasks on the main one; a manager shared between them starts its reconnect
//! (with its backoff sleeps) on whichever runtime saw the error first, and every other runtime then polls
//! that sleep too. Once the worker runtimes stop at shutdown, the main runtime's timer sweeper polling
//! such a sleep panics (`A Tokio 1.x context was found, but it is being shutdown`). One manager per
//! thread means a reconnect is only ever polled by the runtime it started on.
//!
//! The manager reconnects after I/O errors with the bounded backoff configured here. What it cannot see
//! is a connection that silently stopped answering (a peer gone without a reset): every command times
//! out and the manager keeps it. [`Conn`] times every command out itself, and a manager that has produced
//! nothing but timeouts for [`RedisOptions::wedged_after`] is dropped and a new one opened.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt, Shared};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, Pipeline, RedisError, RedisFuture, Value};

use super::StoreError;
use crate::config::RedisSettings;

/// How the connections behave, from `[redis]`.
#[derive(Debug, Clone, Copy)]
pub struct RedisOptions {
    /// Bound of a connection attempt and of every command.
    pub timeout: Duration,
    /// Longest wait between two reconnect attempts.
    pub reconnect_max_delay: Duration,
}

impl RedisOptions {
    pub fn new(timeout: Duration) -> Self {
        Self { timeout, reconnect_max_delay: Duration::from_secs(1) }
    }

    pub fn from_settings(settings: &RedisSettings) -> Self {
        Self { timeout: settings.connect_timeout, reconnect_max_delay: settings.reconnect_max_delay }
    }

    /// Only timeouts for this long, and not a single answer: the connection is dead, not slow.
    pub fn wedged_after(&self) -> Duration {
        (self.timeout * 3).max(Duration::from_secs(1))
    }

    /// The manager's reconnect: attempts `reconnect_max_delay` apart at most. The redis crate (0.27)
    /// hands `factor` to its backoff as the growth per attempt (it ignores `exponent_base`), starts at
    /// 1 s and adds up to 100 % jitter; its defaults grew the wait to 60 s, so a Redis that was away for
    /// 3 s was not used again for up to two minutes. Few retries per round: when a round gives up, the
    /// next command starts a new one with an immediate attempt, so nothing waits on a stale round.
    fn manager_config(&self) -> ConnectionManagerConfig {
        let max_delay = u64::try_from(self.reconnect_max_delay.as_millis()).unwrap_or(u64::MAX).max(1);
        ConnectionManagerConfig::new()
            .set_exponent_base(2)
            .set_factor(2)
            .set_max_delay(max_delay)
            .set_number_of_retries(2)
            .set_connection_timeout(self.timeout)
            .set_response_timeout(self.timeout)
    }
}

/// A thread's connection and its record of answers: when it last answered, and whether it was given up.
struct Slot {
    conn: ConnectionManager,
    last_answer_ms: AtomicU64,
    wedged: AtomicBool,
}

/// An attempt to open a thread's connection, awaited by every task of that thread that needs it. It is
/// only ever polled on the thread (so the runtime) that started it.
type Opening = Shared<BoxFuture<'static, Result<Arc<Slot>, StoreError>>>;

enum Entry {
    Ready(Arc<Slot>),
    Opening(Opening),
    /// The last attempt failed; the next one waits until then, and commands fail fast meanwhile.
    Failed {
        retry_at: Instant,
    },
}

enum Found {
    Ready(Arc<Slot>),
    Down(StoreError),
    Opening(Opening),
}

type Entries = Arc<RwLock<HashMap<ThreadId, Entry>>>;

/// Every thread's connection to one Redis.
pub struct Connections {
    client: redis::Client,
    options: RedisOptions,
    epoch: Instant,
    entries: Entries,
}

fn unavailable(why: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(why.to_string())
}

/// The error text can echo the URL's host but never its password; keep only the kind and detail.
pub fn store_error(e: &RedisError, timeout: Duration) -> StoreError {
    if e.is_timeout() {
        return StoreError::Timeout(timeout);
    }
    StoreError::Unavailable(format!("{:?}: {}", e.kind(), e.detail().unwrap_or("no detail")))
}

/// What a thread's entry offers now; `None` when a new attempt is due.
fn offer(entry: Option<&Entry>) -> Option<Found> {
    match entry {
        Some(Entry::Ready(slot)) if !slot.wedged.load(Ordering::Relaxed) => Some(Found::Ready(slot.clone())),
        Some(Entry::Opening(opening)) => Some(Found::Opening(opening.clone())),
        Some(Entry::Failed { retry_at }) if Instant::now() < *retry_at => {
            Some(Found::Down(unavailable("Redis did not answer the last connection attempt")))
        }
        _ => None,
    }
}

fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Connections {
    /// Opens this thread's connection now, so a Redis that is not there fails the boot.
    pub async fn open(url: &str, options: RedisOptions) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| store_error(&e, options.timeout))?;
        let connections = Self { client, options, epoch: Instant::now(), entries: Entries::default() };
        connections.conn().await?;
        Ok(connections)
    }

    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    pub fn options(&self) -> RedisOptions {
        self.options
    }

    /// This thread's connection, opened (again) when it has none or gave its last one up.
    pub async fn conn(&self) -> Result<Conn, StoreError> {
        let me = std::thread::current().id();
        let found = offer(self.entries.read().unwrap_or_else(|e| e.into_inner()).get(&me));
        let opening = match found {
            Some(Found::Ready(slot)) => return Ok(self.lease(slot)),
            Some(Found::Down(error)) => return Err(error),
            Some(Found::Opening(opening)) => opening,
            None => {
                let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
                match offer(entries.get(&me)) {
                    Some(Found::Ready(slot)) => return Ok(self.lease(slot)),
                    Some(Found::Down(error)) => return Err(error),
                    Some(Found::Opening(opening)) => opening,
                    None => {
                        let opening = self.start_opening(me);
                        entries.insert(me, Entry::Opening(opening.clone()));
                        opening
                    }
                }
            }
        };
        // Bounded inside, so a waiter never waits longer than one attempt.
        opening.await.map(|slot| self.lease(slot))
    }

    /// One bounded attempt that writes its own outcome into the table, whoever is awaiting it.
    fn start_opening(&self, thread: ThreadId) -> Opening {
        // Weak: the table holds this future while it runs, and must not keep itself alive through it.
        let (client, options, epoch) = (self.client.clone(), self.options, self.epoch);
        let entries = Arc::downgrade(&self.entries);
        async move {
            let opened = tokio::time::timeout(
                options.timeout,
                ConnectionManager::new_with_config(client, options.manager_config()),
            )
            .await;
            let outcome = match opened {
                Ok(Ok(conn)) => Ok(Arc::new(Slot {
                    conn,
                    last_answer_ms: AtomicU64::new(millis_since(epoch)),
                    wedged: AtomicBool::new(false),
                })),
                Ok(Err(e)) => Err(store_error(&e, options.timeout)),
                Err(_) => Err(StoreError::Timeout(options.timeout)),
            };
            let entry = match &outcome {
                Ok(slot) => Entry::Ready(slot.clone()),
                Err(_) => Entry::Failed { retry_at: Instant::now() + options.reconnect_max_delay },
            };
            if let Some(entries) = entries.upgrade() {
                entries.write().unwrap_or_else(|e| e.into_inner()).insert(thread, entry);
            }
            outcome
        }
        .boxed()
        .shared()
    }

    fn lease(&self, slot: Arc<Slot>) -> Conn {
        Conn {
            conn: slot.conn.clone(),
            slot,
            timeout: self.options.timeout,
            wedged_after_ms: u64::try_from(self.options.wedged_after().as_millis()).unwrap_or(u64::MAX),
            epoch: self.epoch,
        }
    }
}

/// One task's use of its thread's connection: every command bounded by the timeout, every answer
/// (an error reply too: the server answered) noted, and a run of timeouts giving the connection up.
pub struct Conn {
    conn: ConnectionManager,
    slot: Arc<Slot>,
    timeout: Duration,
    wedged_after_ms: u64,
    epoch: Instant,
}

impl Conn {
    fn noted<T>(&self, result: Result<Result<T, RedisError>, tokio::time::error::Elapsed>) -> Result<T, RedisError> {
        let now = millis_since(self.epoch);
        let timed_out = match &result {
            Ok(Ok(_)) => false,
            Ok(Err(e)) => e.is_timeout(),
            Err(_) => true,
        };
        if timed_out {
            if now.saturating_sub(self.slot.last_answer_ms.load(Ordering::Relaxed)) > self.wedged_after_ms {
                self.slot.wedged.store(true, Ordering::Relaxed);
            }
        } else if matches!(&result, Ok(Ok(_))) || matches!(&result, Ok(Err(e)) if e.kind() != redis::ErrorKind::IoError)
        {
            self.slot.last_answer_ms.store(now, Ordering::Relaxed);
        }
        match result {
            Ok(answer) => answer,
            Err(_) => Err(RedisError::from(std::io::Error::new(std::io::ErrorKind::TimedOut, "Redis did not answer"))),
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let result = tokio::time::timeout(self.timeout, self.conn.req_packed_command(cmd)).await;
            self.noted(result)
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let result = tokio::time::timeout(self.timeout, self.conn.req_packed_commands(cmd, offset, count)).await;
            self.noted(result)
        })
    }

    fn get_db(&self) -> i64 {
        self.conn.get_db()
    }
}
