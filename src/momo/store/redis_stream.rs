//! The inbox stream's side of the Redis backend: the blocking readers' connections and the shapes of
//! the stream replies (`XREADGROUP`, `XAUTOCLAIM`, `XPENDING`).

use std::collections::HashMap;
use std::time::Duration;

use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, Value};

use super::InboxEntry;
use crate::store::{store_error, StoreError};

/// Blocking stream reads get a connection of their own per consumer, so they never hold up the
/// connection every other command shares. A read that fails in any way drops its connection (it may
/// be dead: Redis restarted under it), and the next read opens a fresh one.
pub(super) struct Readers {
    client: Client,
    timeout: Duration,
    open: tokio::sync::Mutex<HashMap<String, MultiplexedConnection>>,
}

impl Readers {
    pub fn new(client: Client, timeout: Duration) -> Self {
        Self { client, timeout, open: tokio::sync::Mutex::default() }
    }

    pub async fn get(&self, consumer: &str) -> Result<MultiplexedConnection, StoreError> {
        let mut open = self.open.lock().await;
        if let Some(conn) = open.get(consumer) {
            return Ok(conn.clone());
        }
        // No response timeout: a blocking read is bounded by its caller.
        let config = AsyncConnectionConfig::new().set_connection_timeout(self.timeout);
        let connect = self.client.get_multiplexed_async_connection_with_config(&config);
        let conn = tokio::time::timeout(self.timeout, connect)
            .await
            .map_err(|_| StoreError::Timeout(self.timeout))?
            .map_err(|e| store_error(&e, self.timeout))?;
        open.insert(consumer.to_owned(), conn.clone());
        Ok(conn)
    }

    pub async fn drop(&self, consumer: &str) {
        self.open.lock().await.remove(consumer);
    }
}

/// `XREADGROUP`: `[[stream, [[id, fields], ...]]]`, or nil when nothing came within the block.
pub(super) fn read_entries(reply: &Value) -> Vec<InboxEntry> {
    let Value::Array(streams) = reply else { return Vec::new() };
    streams
        .iter()
        .filter_map(|s| match s {
            Value::Array(pair) => pair.get(1).map(entries),
            _ => None,
        })
        .flatten()
        .collect()
}

/// `XAUTOCLAIM`: `[next-id, [[id, fields], ...], [deleted ids]]`.
pub(super) fn claimed_entries(reply: &Value) -> Vec<InboxEntry> {
    match reply {
        Value::Array(parts) => parts.get(1).map(entries).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// `XPENDING` summary: how many entries are pending and the id of the oldest.
pub(super) fn pending_summary(reply: &Value) -> (u64, Option<String>) {
    match reply {
        Value::Array(parts) => (
            match parts.first() {
                Some(Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
                _ => 0,
            },
            parts.get(1).and_then(text),
        ),
        _ => (0, None),
    }
}

/// Reads `[[id, [field, value, ...]], ...]` into inbox entries.
fn entries(value: &Value) -> Vec<InboxEntry> {
    let Value::Array(items) = value else { return Vec::new() };
    items
        .iter()
        .filter_map(|item| {
            let Value::Array(pair) = item else { return None };
            let id = text(pair.first()?)?;
            let Value::Array(fields) = pair.get(1)? else { return None };
            let event_key = fields
                .chunks(2)
                .find(|kv| kv.first().and_then(text).as_deref() == Some("event"))?
                .get(1)
                .and_then(text)?;
            Some(InboxEntry { id, event_key })
        })
        .collect()
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}
