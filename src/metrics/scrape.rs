//! The gauges read from the stores when Prometheus scrapes: inbox and outbox depth and age, open sagas
//! by phase, the operators' lists and the session records held. They describe shared state (every
//! replica reports the same numbers), so dashboards take `max` over instances, not `sum`.
//!
//! The background tasks' liveness (`mkopo_worker_last_loop_age_seconds`, `mkopo_worker_stalled`) is
//! read from the heartbeats, per replica: alert on it by instance.
//!
//! A store that does not answer sets `mkopo_metrics_store_up{store}` to 0 and leaves its gauges at the
//! last value read; the scrape itself always succeeds.

use std::sync::atomic::AtomicU64;

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::{ListLabels, Metrics, PhaseLabels};
use crate::health::Liveness;
use crate::momo::saga::{self, Phase};
use crate::momo::service::MoneyService;
use crate::momo::store::OpsList;
use crate::session::Sessions;
use crate::store::StoreError;

type Seconds = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    store: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WorkerLabels {
    /// A stable task name (`inbox-0`, `timers`, `recovery`), never a per-process consumer id.
    worker: String,
}

pub(super) struct Gauges {
    inbox_depth: Gauge,
    inbox_pending: Gauge,
    inbox_oldest_pending: Seconds,
    outbox_depth: Gauge,
    outbox_overdue: Seconds,
    sagas_open: Family<PhaseLabels, Gauge>,
    list_size: Family<ListLabels, Gauge>,
    list_oldest: Family<ListLabels, Seconds>,
    sessions: Gauge,
    store_up: Family<StoreLabels, Gauge>,
    worker_age: Family<WorkerLabels, Seconds>,
    worker_stalled: Family<WorkerLabels, Gauge>,
}

impl Gauges {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let gauges = Self {
            inbox_depth: Gauge::default(),
            inbox_pending: Gauge::default(),
            inbox_oldest_pending: Seconds::default(),
            outbox_depth: Gauge::default(),
            outbox_overdue: Seconds::default(),
            sagas_open: Family::default(),
            list_size: Family::default(),
            list_oldest: Family::default(),
            sessions: Gauge::default(),
            store_up: Family::default(),
            worker_age: Family::default(),
            worker_stalled: Family::default(),
        };
        registry.register(
            "inbox_depth",
            "Wallet callbacks stored and not yet processed (queued plus in a worker's hands)",
            gauges.inbox_depth.clone(),
        );
        registry.register(
            "inbox_pending",
            "Inbox entries a worker has taken and not yet acknowledged",
            gauges.inbox_pending.clone(),
        );
        registry.register(
            "inbox_oldest_pending_seconds",
            "Age of the oldest unacknowledged inbox entry",
            gauges.inbox_oldest_pending.clone(),
        );
        registry.register(
            "outbox_depth",
            "Scheduled follow-ups (LMS posting retries, payout polls, collection requests, saga steps)",
            gauges.outbox_depth.clone(),
        );
        registry.register(
            "outbox_overdue_seconds",
            "How long the soonest follow-up is past its due time (0 when none is due): workers falling behind",
            gauges.outbox_overdue.clone(),
        );
        registry.register("sagas_open", "Disbursement sagas not yet finished, by phase", gauges.sagas_open.clone());
        registry.register(
            "ops_list_size",
            "Entries in the operators' lists (suspense, recon, overpaid)",
            gauges.list_size.clone(),
        );
        registry.register(
            "ops_list_oldest_seconds",
            "Age of the oldest entry of each operators' list",
            gauges.list_oldest.clone(),
        );
        registry.register(
            "ussd_sessions_live",
            "USSD session records held: live sessions, and ended ones kept for duplicate replay until ussd.session_ttl",
            gauges.sessions.clone(),
        );
        registry.register(
            "metrics_store_up",
            "Whether the last scrape could read the store (1) or not (0: the store's gauges are stale)",
            gauges.store_up.clone(),
        );
        registry.register(
            "worker_last_loop_age_seconds",
            "Seconds since each background task (inbox-N, timers, recovery) last finished a loop",
            gauges.worker_age.clone(),
        );
        registry.register(
            "worker_stalled",
            "1 when a background task has not finished a loop for 3 of its intervals plus readiness.worker_stall_margin",
            gauges.worker_stalled.clone(),
        );
        gauges
    }
}

/// What the scrape-time gauges are read from.
pub struct ScrapeSources<'a> {
    pub money: &'a MoneyService,
    pub sessions: &'a Sessions,
    pub liveness: &'a Liveness,
}

fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    (now - since).num_milliseconds().max(0) as f64 / 1000.0
}

/// Reads the stores into the gauges and encodes the whole registry.
pub async fn scrape(metrics: &Metrics, sources: &ScrapeSources<'_>) -> String {
    let gauges = metrics.gauges();
    let money = read_money(gauges, sources.money).await;
    gauges.store_up.get_or_create(&StoreLabels { store: "money" }).set(i64::from(money.is_ok()));
    if let Err(error) = money {
        tracing::warn!(%error, "metrics: the money store did not answer");
    }
    let sessions = sources.sessions.held().await.map(|n| gauges.sessions.set(n as i64));
    gauges.store_up.get_or_create(&StoreLabels { store: "sessions" }).set(i64::from(sessions.is_ok()));
    if let Err(error) = sessions {
        tracing::warn!(%error, "metrics: the session store did not answer");
    }
    for task in sources.liveness.tasks() {
        let labels = WorkerLabels { worker: task.name.clone() };
        gauges.worker_age.get_or_create(&labels).set(task.since_last_loop.as_secs_f64());
        gauges.worker_stalled.get_or_create(&labels).set(i64::from(task.stalled()));
    }
    metrics.encode()
}

async fn read_money(gauges: &Gauges, money: &MoneyService) -> Result<(), StoreError> {
    let now = money.now();
    let inbox = money.store.inbox_stats().await?;
    gauges.inbox_depth.set(inbox.length as i64);
    gauges.inbox_pending.set(inbox.pending as i64);
    gauges.inbox_oldest_pending.set(inbox.oldest_pending_ms as f64 / 1000.0);

    let timers = money.store.timer_stats().await?;
    gauges.outbox_depth.set(timers.size as i64);
    gauges.outbox_overdue.set(timers.earliest.map_or(0.0, |due| age(due, now)));

    for list in [OpsList::Suspense, OpsList::Reconciliation, OpsList::Overpaid] {
        let stats = money.store.list_stats(list).await?;
        let labels = ListLabels { list: list.name() };
        gauges.list_size.get_or_create(&labels).set(stats.size as i64);
        gauges.list_oldest.get_or_create(&labels).set(stats.earliest.map_or(0.0, |at| age(at, now)));
    }

    // Every phase is written, zeros included, so a phase that emptied does not keep its last count.
    let open = saga::open_sagas(money).await?;
    for phase in Phase::ALL.into_iter().filter(|p| !p.is_terminal()) {
        let count = open.iter().filter(|s| s.phase == phase).count();
        gauges.sagas_open.get_or_create(&PhaseLabels { phase: phase.name() }).set(count as i64);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_names_are_the_stored_names() {
        for phase in Phase::ALL {
            assert_eq!(serde_json::to_string(&phase).unwrap(), format!("\"{}\"", phase.name()));
        }
    }

    #[test]
    fn ages_never_go_negative() {
        let now = Utc::now();
        assert_eq!(age(now + chrono::TimeDelta::seconds(5), now), 0.0);
        assert_eq!(age(now - chrono::TimeDelta::milliseconds(1500), now), 1.5);
    }
}
