//! What the gateway keeps about each inbound event (docs/money.md): the normalised event, the
//! raw callback, and the allocation plan with each part's fate. The plan is persisted before anything
//! is posted and never recomputed, so a crash replays the same keys.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::model::{AllocationPart, InboundEvent, RawCallback};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventState {
    Received,
    Planned,
    Posted,
    Suspense,
    /// A payout or collection result, applied to its saga or collection record.
    Applied,
    /// An event type we store and acknowledge but do not act on.
    Ignored,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartStatus {
    Pending,
    /// A post was sent (or is about to be) and its outcome is not known: before any resend, the loan's
    /// transactions are searched for it. The first attempt's time bounds that search.
    Sending {
        first_attempt_at: DateTime<Utc>,
    },
    Posted {
        transaction_id: String,
        #[serde(default, with = "crate::domain::money::option")]
        overpayment: Option<Decimal>,
        /// Set when the posting was found on the loan after an ambiguous answer rather than confirmed
        /// by one: `key` or `amount_date`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        found_by: Option<String>,
    },
    Suspense {
        code: String,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedPart {
    pub part: AllocationPart,
    pub status: PartStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// `event:{namespace}:{key}`: where this record lives.
    pub id: String,
    pub event: InboundEvent,
    pub raw: RawCallback,
    pub state: EventState,
    #[serde(default)]
    pub plan: Vec<PlannedPart>,
    /// Why the event (or one of its parts) is in suspense.
    pub suspense: Option<String>,
    /// Processing attempts that met a retryable failure, for backoff and alerting.
    #[serde(default)]
    pub attempts: u32,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EventRecord {
    pub fn new(event: InboundEvent, raw: RawCallback) -> Self {
        let now = raw.received_at;
        Self {
            id: event_key(event.provider.namespace(), &event.key),
            event,
            raw,
            state: EventState::Received,
            plan: Vec::new(),
            suspense: None,
            attempts: 0,
            received_at: now,
            updated_at: now,
        }
    }

    pub fn dedupe_key(&self) -> String {
        format!("dedupe:{}:{}", self.event.provider.namespace(), self.event.key)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an event record serialises")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

pub fn event_key(namespace: &str, key: &str) -> String {
    format!("event:{namespace}:{key}")
}
