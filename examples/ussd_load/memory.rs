//! The memory phase: sessions left at the amount list, `MEMORY USAGE` of their keys and `used_memory` delta.

use std::time::Duration;

use redis::aio::MultiplexedConnection;

use crate::lms::seed;
use crate::measure::Run;
use crate::phases::{msisdn, sessions_of, Ctx};
use crate::phone::{closed, Journey, Sess};

pub async fn memory_phase(c: &Ctx, bearer: &str) -> anyhow::Result<(Memory, Run)> {
    let numbers: Vec<String> = (0..c.memory_sessions).map(|i| msisdn(8, i)).collect();
    seed(&c.client, &c.lms, bearer, &numbers, false).await?;
    let sessions = sessions_of("mem", Journey::Partial, numbers.into_iter().map(|m| (m, false)));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let used_before = c.meter.used_memory().await;
    let conc = c.concurrency.iter().copied().max().unwrap_or(32);
    let run = closed(&c.meter, &c.gateway, "memory sessions".into(), &sessions, conc).await;
    let used_after = c.meter.used_memory().await;
    run.print_errors();
    Ok((measure_memory(c, &sessions, used_after - used_before).await, run))
}

#[derive(Default)]
pub struct Memory {
    pub sessions: usize,
    pub sampled: usize,
    pub session_usage: f64,
    pub snapshot_usage: f64,
    pub record_bytes: f64,
    pub snapshot_bytes: f64,
    pub missing: usize,
    pub locks_left: usize,
    pub used_delta: i64,
    pub session_ttl_ms: i64,
    pub snapshot_ttl_ms: i64,
}

/// An integer reply, 0 when the command fails.
async fn int(conn: &mut MultiplexedConnection, cmd: &redis::Cmd) -> i64 {
    cmd.query_async(conn).await.unwrap_or(0)
}

async fn measure_memory(c: &Ctx, sessions: &[Sess], used_delta: i64) -> Memory {
    let mut conn = c.meter.redis.clone();
    let step = (sessions.len() / 200).max(1);
    let mut m = Memory { sessions: sessions.len(), used_delta, ..Memory::default() };
    for s in sessions.iter().step_by(step) {
        let key = format!("{}:ussd:africastalking:{}:{}", c.prefix, s.msisdn, s.id);
        let snapshot = format!("{}:sub:{}:resume", c.prefix, s.msisdn);
        let usage = |k: &str| redis::cmd("MEMORY").arg("USAGE").arg(k).arg("SAMPLES").arg(0).clone();
        let session: Option<i64> = usage(&key).query_async(&mut conn).await.unwrap_or(None);
        let snap: Option<i64> = usage(&snapshot).query_async(&mut conn).await.unwrap_or(None);
        let (Some(session), Some(snap)) = (session, snap) else {
            m.missing += 1;
            continue;
        };
        let record = int(&mut conn, redis::cmd("STRLEN").arg(&key)).await;
        let snap_len = int(&mut conn, redis::cmd("STRLEN").arg(&snapshot)).await;
        let lock = int(&mut conn, redis::cmd("EXISTS").arg(format!("{key}:lock"))).await;
        if m.sampled == 0 {
            m.session_ttl_ms = int(&mut conn, redis::cmd("PTTL").arg(&key)).await;
            m.snapshot_ttl_ms = int(&mut conn, redis::cmd("PTTL").arg(&snapshot)).await;
        }
        m.sampled += 1;
        m.session_usage += session as f64;
        m.snapshot_usage += snap as f64;
        m.record_bytes += record as f64;
        m.snapshot_bytes += snap_len as f64;
        m.locks_left += lock as usize;
    }
    let n = m.sampled.max(1) as f64;
    m.session_usage /= n;
    m.snapshot_usage /= n;
    m.record_bytes /= n;
    m.snapshot_bytes /= n;
    m
}
