//! USSD sessions over the [`crate::store::Store`] (Redis in deployments, moka for the embedded default):
//! one record per session as a JSON string (engine state + the dialect's hop memo, R1), a per-hop
//! lease so a request runs once while its duplicates replay it, and a few per-subscriber records — language, resume mark ([`resume`]),
//! PIN hash and failures, effect keys. Every write carries a TTL.

pub mod resume;

pub use resume::{MarkChange, Moment, ResumeMark};

use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::Msisdn;
use crate::menu::State;
use crate::store::{SharedStore, StoreError};
use crate::ussd::{Dialect, HopMemo, UssdSessionId};

/// What R1 keeps per session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<HopMemo>,
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// Unix seconds of the last write, for the resume window.
    #[serde(rename = "t", default)]
    pub at: i64,
    /// A resume mark exists that this session must replace or clear (its own, or an older session's).
    #[serde(rename = "r", default, skip_serializing_if = "std::ops::Not::not")]
    pub marked: bool,
    /// The mark points at this session (written once per session, not every hop).
    #[serde(rename = "o", default, skip_serializing_if = "std::ops::Not::not")]
    pub own: bool,
    /// The service code this session was dialled on ([`resume::dialled_code`]), for its resume mark.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The token of the hop lease this record was written under: a request finding that lease taken
    /// knows its holder has finished ([`Sessions::lease_and_load`]).
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<String>,
}

/// What the first hop needs to know about a subscriber, read in one round trip.
#[derive(Debug, Clone, Default)]
pub struct Subscriber {
    pub lang: Option<String>,
    pub resume: Option<ResumeMark>,
    /// The customer's LMS id, when an earlier dial found them registered (`ussd.registered_ttl`): the
    /// first hop then skips the LMS lookup.
    pub customer: Option<String>,
}

/// `ussd:{dialect}:{msisdn}:{session id, percent-encoded outside [A-Za-z0-9_.-]}` (R1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKey(String);

const KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'_').remove(b'.').remove(b'-');

impl SessionKey {
    pub fn new(dialect: Dialect, msisdn: &Msisdn, session_id: &UssdSessionId) -> Self {
        Self(format!("ussd:{}:{}:{}", dialect.name(), msisdn.as_str(), utf8_percent_encode(session_id.as_str(), KEEP)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `lease:{session key}:{hop fingerprint}`: outside the `ussd:` prefix, so counting live sessions
    /// by prefix does not count leases.
    fn lease(&self, hop_fingerprint: &str) -> String {
        format!("lease:{}:{hop_fingerprint}", self.0)
    }

    /// The idempotency key of the effect a task node runs in this session (R2 "effect keys").
    pub fn effect(&self, node: &str) -> String {
        effect_key(&self.0, node)
    }
}

/// The effect key of `node` in the session whose key is `session`: a resumed journey passes its
/// origin session here ([`crate::menu::State::origin`]), so its effects keep their first keys.
pub fn effect_key(session: &str, node: &str) -> String {
    let digest = Sha256::digest(format!("{session}\n{node}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("effect:{hex}")
}

/// An unreadable record (an older format) is a lost session, not an outage.
fn decode(bytes: &[u8]) -> SessionRecord {
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        // serde quotes the value it choked on, which can be the subscriber's number.
        tracing::warn!(error = %crate::telemetry::redact_digits(&e.to_string()), "unreadable session record; starting afresh");
        SessionRecord::default()
    })
}

/// The subscriber facts a first hop reads: language, resume mark, registration (LMS id).
fn facts_keys(msisdn: &Msisdn) -> [String; 3] {
    ["lang", "resume", "reg"].map(|fact| format!("sub:{}:{fact}", msisdn.as_str()))
}

/// How long per-subscriber settings live without a visit.
const SUBSCRIBER_TTL: Duration = Duration::from_secs(400 * 24 * 3600);
/// Effects are remembered well beyond any session.
const EFFECT_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Clone)]
pub struct Sessions {
    store: SharedStore,
    ttl: Duration,
    resume_window: Duration,
}

impl Sessions {
    pub fn new(store: SharedStore, ttl: Duration, resume_window: Duration) -> Self {
        Self { store, ttl, resume_window }
    }

    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// The record, one JSON string value (`GET`). A record in the old hash format reads as absent: a
    /// lost session, which the hop answers with a friendly END.
    pub async fn load(&self, key: &SessionKey) -> Result<Option<SessionRecord>, StoreError> {
        let mut values = self.store.get_many(&[key.as_str()]).await?.into_iter();
        Ok(values.next().flatten().map(|bytes| decode(&bytes)))
    }

    /// Stores the record with a fresh TTL. A first write (`existing == false`) only creates (`SET NX`);
    /// a later one only overwrites (`SET XX`), so a session an end notice deleted during the turn is not
    /// recreated. `false` when the write was refused.
    pub async fn save(&self, key: &SessionKey, existing: bool, record: &SessionRecord) -> Result<bool, StoreError> {
        let bytes = serde_json::to_vec(record).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        if existing {
            self.store.set_xx(key.as_str(), &bytes, self.ttl).await
        } else {
            self.store.set_nx(key.as_str(), &bytes, self.ttl).await
        }
    }

    /// Takes this hop's lease and reads the record with the subscriber's facts, in one round trip of
    /// two commands. The lease is per hop (keyed by the request's fingerprint), not per session: the
    /// next hop never waits for a release, and no release is sent — the lease expires after `ttl`
    /// (the hop budget), and a duplicate that finds it taken replays from the record it read.
    /// The first value is `None` when this call took the lease, else the holder's token.
    pub async fn lease_and_load(
        &self,
        key: &SessionKey,
        (hop_fingerprint, token): (&str, &str),
        ttl: Duration,
        msisdn: &Msisdn,
    ) -> Result<(Option<String>, Option<SessionRecord>, Subscriber), StoreError> {
        let [lang, resume, registered] = facts_keys(msisdn);
        let lease = key.lease(hop_fingerprint);
        let keys = [key.as_str(), lang.as_str(), resume.as_str(), registered.as_str()];
        let (holder, values) = self.store.lease_and_get_many(&lease, token, ttl, &keys).await?;
        let mut values = values.into_iter();
        let record = values.next().flatten().map(|bytes| decode(&bytes));
        let holder = holder.map(|h| String::from_utf8_lossy(&h).into_owned());
        Ok((holder, record, self.facts(values)))
    }

    /// Lets a lease go early, after a hop that failed before storing anything, so a retry of the
    /// same request runs instead of waiting out the hop budget.
    pub async fn drop_lease(&self, key: &SessionKey, hop_fingerprint: &str) -> Result<(), StoreError> {
        self.store.delete(&key.lease(hop_fingerprint)).await
    }

    /// Session records held: live ones, and ended ones kept for a duplicate's replay until their TTL.
    pub async fn held(&self) -> Result<u64, StoreError> {
        self.store.count_prefix("ussd:", ":lock").await
    }

    pub async fn delete(&self, key: &SessionKey) -> Result<(), StoreError> {
        self.store.delete(key.as_str()).await
    }

    pub fn resume_window(&self) -> Duration {
        self.resume_window
    }

    pub async fn language(&self, msisdn: &Msisdn) -> Result<Option<String>, StoreError> {
        let bytes = self.store.get(&format!("sub:{}:lang", msisdn.as_str())).await?;
        Ok(bytes.and_then(|b| String::from_utf8(b).ok()))
    }

    pub async fn set_language(&self, msisdn: &Msisdn, lang: &str) -> Result<(), StoreError> {
        self.store.set(&format!("sub:{}:lang", msisdn.as_str()), lang.as_bytes(), SUBSCRIBER_TTL).await
    }

    /// Language and resume mark of a subscriber, in one round trip.
    pub async fn subscriber(&self, msisdn: &Msisdn) -> Result<Subscriber, StoreError> {
        let [lang, resume, registered] = facts_keys(msisdn);
        let values = self.store.get_many(&[&lang, &resume, &registered]).await?;
        Ok(self.facts(values.into_iter()))
    }

    /// Language, resume mark and registration, in the order of [`facts_keys`].
    fn facts(&self, mut values: impl Iterator<Item = Option<Vec<u8>>>) -> Subscriber {
        let mut text = || values.next().flatten().and_then(|b| String::from_utf8(b).ok());
        let (lang, resume, customer) = (text(), text(), text());
        let resume =
            if self.resume_window.is_zero() { None } else { resume.and_then(|r| serde_json::from_str(&r).ok()) };
        Subscriber { lang, resume, customer }
    }

    /// Remembers for `ttl` that the subscriber is the LMS customer `lms_id`.
    pub async fn remember_registered(&self, msisdn: &Msisdn, lms_id: &str, ttl: Duration) -> Result<(), StoreError> {
        self.store.set(&format!("sub:{}:reg", msisdn.as_str()), lms_id.as_bytes(), ttl).await
    }

    /// The LMS no longer knows the subscriber: the next dial asks it again.
    pub async fn forget_registered(&self, msisdn: &Msisdn) -> Result<(), StoreError> {
        self.store.delete(&format!("sub:{}:reg", msisdn.as_str())).await
    }

    /// Claims an effect key; `Err(previous value)` when the effect already ran (or is running).
    pub async fn claim_effect(&self, key: &str) -> Result<Result<(), Vec<u8>>, StoreError> {
        if self.store.set_nx(key, b"", EFFECT_TTL).await? {
            return Ok(Ok(()));
        }
        Ok(Err(self.store.get(key).await?.unwrap_or_default()))
    }

    /// What a claimed effect recorded so far (empty while it runs; `None` once forgotten).
    pub async fn effect_result(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.store.get(key).await
    }

    /// Records what a claimed effect produced (a reference), for a retry that finds the claim.
    pub async fn record_effect(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.store.set(key, value, EFFECT_TTL).await
    }

    pub async fn pin_hash(&self, msisdn: &Msisdn) -> Result<Option<String>, StoreError> {
        let bytes = self.store.get(&format!("sub:{}:pin", msisdn.as_str())).await?;
        Ok(bytes.and_then(|b| String::from_utf8(b).ok()))
    }

    pub async fn set_pin_hash(&self, msisdn: &Msisdn, phc: &str) -> Result<(), StoreError> {
        self.store.set(&format!("sub:{}:pin", msisdn.as_str()), phc.as_bytes(), SUBSCRIBER_TTL).await
    }

    /// Wrong PINs so far within the lockout window.
    pub async fn pin_failures(&self, msisdn: &Msisdn) -> Result<u64, StoreError> {
        let bytes = self.store.get(&format!("sub:{}:pinfail", msisdn.as_str())).await?;
        Ok(bytes.and_then(|b| String::from_utf8(b).ok()?.parse().ok()).unwrap_or(0))
    }

    pub async fn add_pin_failure(&self, msisdn: &Msisdn, lockout: Duration) -> Result<u64, StoreError> {
        self.store.incr(&format!("sub:{}:pinfail", msisdn.as_str()), lockout).await
    }

    pub async fn clear_pin_failures(&self, msisdn: &Msisdn) -> Result<(), StoreError> {
        self.store.delete(&format!("sub:{}:pinfail", msisdn.as_str())).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_key_names_dialect_msisdn_and_the_encoded_session_id() {
        let msisdn = Msisdn::parse("0712345678", "255").unwrap();
        let id = UssdSessionId::parse("ATUid_1.a-b/c d").unwrap();
        let key = SessionKey::new(Dialect::AfricasTalking, &msisdn, &id);
        assert_eq!(key.as_str(), "ussd:africastalking:255712345678:ATUid_1.a-b%2Fc%20d");
    }

    #[test]
    fn effect_keys_differ_by_node_and_session() {
        let msisdn = Msisdn::parse("255712345678", "255").unwrap();
        let a = SessionKey::new(Dialect::Beem, &msisdn, &UssdSessionId::parse("1").unwrap());
        let b = SessionKey::new(Dialect::Beem, &msisdn, &UssdSessionId::parse("2").unwrap());
        assert_ne!(a.effect("borrow-do"), a.effect("repay-do"));
        assert_ne!(a.effect("borrow-do"), b.effect("borrow-do"));
        assert_eq!(a.effect("borrow-do"), a.effect("borrow-do"));
    }
}
