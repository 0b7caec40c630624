//! Everything the money machinery shares: the durable store, the LMS client (worker profile), the
//! wallet, the clock and the knobs. Built once at startup and handed to the callback routes, the
//! inbox workers, the timer sweeper, the disbursement saga and collections.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;

use super::model::{InboundEvent, RawCallback};
use super::records::EventRecord;
use super::store::{Ingested, SharedMoneyStore};
use super::wallet::WalletApi;
use crate::domain::clock::Clock;
use crate::lms::LmsClient;
use crate::store::StoreError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneySettings {
    /// Country code used to normalise subscriber numbers typed as an account (`07…` → `2557…`).
    pub country_code: String,
    /// Inbox worker tasks in this process (each is a consumer in the `alloc` group).
    pub workers: usize,
    /// How long a worker waits on an empty inbox before looking for abandoned entries.
    #[serde(with = "humantime_serde")]
    pub claim_block: Duration,
    /// An entry unacknowledged this long belongs to a crashed consumer and is taken over.
    #[serde(with = "humantime_serde")]
    pub reclaim_idle: Duration,
    /// Backoff of retryable failures (LMS unavailable, ...): doubling from base to cap, without limit.
    #[serde(with = "humantime_serde")]
    pub retry_base: Duration,
    #[serde(with = "humantime_serde")]
    pub retry_cap: Duration,
    /// How often timers (retries, payout polls, rollbacks) are checked.
    #[serde(with = "humantime_serde")]
    pub timer_tick: Duration,
    /// Payout status polls after an unknown outcome, then every `payout_poll_every` until the limit.
    #[serde(with = "crate::config::duration_list")]
    pub payout_poll_schedule: Vec<Duration>,
    #[serde(with = "humantime_serde")]
    pub payout_poll_every: Duration,
    /// Past this age an unknown payout goes to the reconciliation list.
    #[serde(with = "humantime_serde")]
    pub payout_poll_limit: Duration,
    /// How long a loan create may be retried before the saga checks whether it landed.
    #[serde(with = "humantime_serde")]
    pub loan_create_deadline: Duration,
    /// A payout still pending this long is treated as unknown and polled.
    #[serde(with = "humantime_serde")]
    pub payout_pending_timeout: Duration,
}

impl Default for MoneySettings {
    fn default() -> Self {
        Self {
            country_code: "255".into(),
            workers: 2,
            claim_block: Duration::from_secs(2),
            reclaim_idle: Duration::from_secs(60),
            retry_base: Duration::from_secs(1),
            retry_cap: Duration::from_secs(300),
            timer_tick: Duration::from_millis(500),
            payout_poll_schedule: vec![Duration::from_secs(30), Duration::from_secs(120), Duration::from_secs(600)],
            payout_poll_every: Duration::from_secs(3600),
            payout_poll_limit: Duration::from_secs(72 * 3600),
            loan_create_deadline: Duration::from_secs(600),
            payout_pending_timeout: Duration::from_secs(600),
        }
    }
}

impl MoneySettings {
    /// Capped exponential backoff with ±20 % jitter after `attempts` failures.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let step = self.retry_base.saturating_mul(1u32 << attempts.saturating_sub(1).min(20)).min(self.retry_cap);
        step.mul_f64(0.8 + rand::random::<f64>() * 0.4)
    }
}

#[derive(Clone)]
pub struct MoneyService {
    pub store: SharedMoneyStore,
    pub lms: LmsClient,
    pub wallet: Arc<dyn WalletApi>,
    pub settings: Arc<MoneySettings>,
    pub clock: Clock,
    pub metrics: crate::metrics::Metrics,
}

impl MoneyService {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn after(&self, delay: Duration) -> DateTime<Utc> {
        self.now() + TimeDelta::from_std(delay).unwrap_or(TimeDelta::MAX)
    }

    /// The inbox step every provider's callback goes through: the event and its raw callback are
    /// stored under its dedupe key and queued for the workers, or nothing happens (a duplicate).
    /// Only after this returns `Ok` may the provider be acknowledged.
    pub async fn ingest(&self, event: InboundEvent, raw: RawCallback) -> Result<(String, Ingested), StoreError> {
        let record = EventRecord::new(event, raw);
        let outcome = self.store.ingest(&record.dedupe_key(), &record.id, &record.to_bytes()).await?;
        tracing::info!(event = record.id, duplicate = (outcome == Ingested::Duplicate), "callback stored");
        Ok((record.id, outcome))
    }
}
