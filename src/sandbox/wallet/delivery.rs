//! Callback delivery (docs/money.md): one background task per event.
//!
//! The body `{"type", "timestamp", "data"}` is serialised once and sent as those exact bytes on every
//! attempt, under the same `webhook-id`; `webhook-timestamp` and `webhook-signature` are fresh per
//! attempt. A non-2xx answer, a transport error or the request timeout is retried after the next entry
//! of `delivery_retry_delays`; when the list runs out the task gives up. After a 2xx the task sends
//! `duplicate_deliveries` extra copies. Outcomes are logged without the body (it holds MSISDNs).

use std::error::Error as _;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::CONTENT_TYPE;
use serde::Serialize;

use super::ids;
use super::state::{spawn, SandboxWallet};
use super::transaction::{now, rfc3339, TransactionView};
use crate::momo::signature::sign;

/// One callback and how its delivery is going.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeliveryView {
    pub webhook_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// The transaction's reference (`None` for payments) and receipt, to find it.
    pub reference: Option<String>,
    pub receipt: Option<String>,
    /// Attempts made, duplicates not counted.
    pub attempts: u32,
    /// HTTP status of the last attempt, if it got an answer.
    pub last_status: Option<u16>,
    /// Transport error or timeout of the last attempt, if it got no answer.
    pub last_error: Option<String>,
    /// Some attempt got a 2xx.
    pub delivered: bool,
    /// Every attempt failed and the retry schedule ran out.
    pub gave_up: bool,
    /// Extra copies sent after the 2xx.
    pub duplicates_sent: u32,
}

/// The result of one HTTP attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Attempt {
    Answered(u16),
    Failed(String),
}

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Delivered,
    RetryAfter(Duration),
    GiveUp,
}

/// The retry decision: stop on a 2xx; otherwise wait `delays[attempts_made]`, or give up when the
/// schedule is exhausted (`delays[0]` preceded the first attempt).
pub(crate) fn decide(attempt: &Attempt, attempts_made: usize, delays: &[Duration]) -> Step {
    match attempt {
        Attempt::Answered(status) if (200..300).contains(status) => Step::Delivered,
        _ => delays.get(attempts_made).map_or(Step::GiveUp, |&delay| Step::RetryAfter(delay)),
    }
}

#[derive(Serialize)]
struct Event<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: String,
    data: &'a TransactionView,
}

/// Registers and starts the delivery of the callback for a final `view` (none while pending).
pub(crate) fn dispatch(wallet: &SandboxWallet, view: &TransactionView) {
    let Some(event_type) = view.event_type() else { return };
    let body = match serde_json::to_vec(&Event { event_type, timestamp: rfc3339(now()), data: view }) {
        Ok(body) => Bytes::from(body),
        Err(e) => {
            tracing::error!(event_type, error = %e, "sandbox wallet: cannot serialise a callback");
            return;
        }
    };
    let webhook_id = ids::webhook_id();
    let index = wallet.with_state(|s| {
        s.deliveries.push(DeliveryView {
            webhook_id: webhook_id.clone(),
            event_type: event_type.to_owned(),
            reference: view.reference.clone(),
            receipt: view.receipt.clone(),
            attempts: 0,
            last_status: None,
            last_error: None,
            delivered: false,
            gave_up: false,
            duplicates_sent: 0,
        });
        s.deliveries.len() - 1
    });
    spawn(deliver(wallet.clone(), index, webhook_id, event_type, body));
}

async fn deliver(wallet: SandboxWallet, index: usize, webhook_id: String, event_type: &'static str, body: Bytes) {
    let delays = wallet.config().delivery_retry_delays.clone();
    let mut wait = delays.first().copied().unwrap_or_default();
    let mut made = 0;
    loop {
        tokio::time::sleep(wait).await;
        let attempt = send(&wallet, &webhook_id, &body).await;
        made += 1;
        let step = decide(&attempt, made, &delays);
        wallet.with_state(|s| {
            if let Some(d) = s.deliveries.get_mut(index) {
                d.attempts += 1;
                (d.last_status, d.last_error) = match &attempt {
                    Attempt::Answered(status) => (Some(*status), None),
                    Attempt::Failed(error) => (None, Some(error.clone())),
                };
                d.delivered = step == Step::Delivered;
                d.gave_up = step == Step::GiveUp;
            }
        });
        match step {
            Step::Delivered => {
                tracing::info!(webhook_id, event_type, attempt = made, "sandbox wallet: callback delivered");
                break;
            }
            Step::RetryAfter(delay) => {
                tracing::warn!(webhook_id, event_type, attempt = made, outcome = ?attempt, retry_in = ?delay, "sandbox wallet: callback attempt failed");
                wait = delay;
            }
            Step::GiveUp => {
                tracing::error!(webhook_id, event_type, attempts = made, outcome = ?attempt, "sandbox wallet: callback undelivered, giving up");
                return;
            }
        }
    }
    for copy in 1..=wallet.config().duplicate_deliveries {
        let attempt = send(&wallet, &webhook_id, &body).await;
        tracing::info!(webhook_id, copy, outcome = ?attempt, "sandbox wallet: duplicate callback sent");
        wallet.with_state(|s| s.deliveries.get_mut(index).map(|d| d.duplicates_sent += 1));
    }
}

/// One signed POST of `body` to the callback URL.
async fn send(wallet: &SandboxWallet, webhook_id: &str, body: &Bytes) -> Attempt {
    let timestamp = chrono::Utc::now().timestamp();
    let signature = sign(&wallet.config().secret, webhook_id, timestamp, body);
    let result = wallet
        .http()
        .post(wallet.callback_url().clone())
        .header("webhook-id", webhook_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .header(CONTENT_TYPE, "application/json")
        .body(body.clone())
        .send()
        .await;
    match result {
        Ok(response) => Attempt::Answered(response.status().as_u16()),
        Err(error) => Attempt::Failed(cause_chain(&error)),
    }
}

/// `error: cause: cause…`, so a refused connection says so rather than just "error sending request".
fn cause_chain(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() { format!("timed out: {error}") } else { error.to_string() };
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
