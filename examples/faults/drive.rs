//! The traffic: signed `payment.received` callbacks as the sandbox wallet would deliver them (Standard
//! Webhooks, retried like a wallet retries), and USSD balance journeys as Africa's Talking posts them.
//! Every outcome lands on a [`Timeline`], so recovery is measured from what clients saw.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mkopo::momo::signature::{sign, WebhookSecret};
use rust_decimal::Decimal;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::lms::Loan;

/// How long a wallet waits before each delivery attempt of one callback (the sandbox wallet's
/// schedule, halved): up to six attempts over about 15 s.
const RETRY_DELAYS_MS: [u64; 6] = [0, 500, 1_000, 2_000, 4_000, 8_000];
/// Consecutive good outcomes that count as "answering normally again".
const RECOVERED_RUN: usize = 5;

/// One payment of the plan: its receipt, the loan it pays (index into the seeded loans), its amount.
/// Amounts are unique per loan, so the LMS's history tells which receipt each repayment is.
#[derive(Clone, Debug)]
pub struct Payment {
    pub receipt: String,
    pub loan: usize,
    pub amount: Decimal,
}

/// `count` payments spread round-robin over `loans`: payment `i` pays loan `i % loans` the amount
/// 10 + i / loans (whole TZS), so a loan never receives two payments of the same amount and at most
/// 100 payments per loan stay well under its 10,000 principal.
pub fn plan(tag: &str, loans: usize, count: usize) -> Vec<Payment> {
    assert!(count <= loans * 100, "at most 100 payments per loan ({count} over {loans} loans)");
    (0..count)
        .map(|i| Payment { receipt: format!("{tag}{i:07}"), loan: i % loans, amount: Decimal::from(10 + i / loans) })
        .collect()
}

/// When each client-visible outcome happened, and whether it was good.
#[derive(Default)]
pub struct Timeline(Mutex<Vec<(Instant, bool)>>);

impl Timeline {
    fn record(&self, ok: bool) {
        self.0.lock().expect("timeline").push((Instant::now(), ok));
    }

    /// (good, all) outcomes.
    pub fn counts(&self) -> (usize, usize) {
        let events = self.0.lock().expect("timeline");
        (events.iter().filter(|e| e.1).count(), events.len())
    }

    /// The first instant after `since` from which [`RECOVERED_RUN`] consecutive outcomes were good
    /// (fewer if the run ended sooner, as long as all of them were good).
    pub fn recovered_at(&self, since: Instant) -> Option<Instant> {
        let mut events: Vec<(Instant, bool)> =
            self.0.lock().expect("timeline").iter().copied().filter(|e| e.0 >= since).collect();
        events.sort_by_key(|e| e.0);
        (0..events.len()).find_map(|i| {
            let run = &events[i..(i + RECOVERED_RUN).min(events.len())];
            run.iter().all(|e| e.1).then_some(events[i].0)
        })
    }
}

/// The wallet side: signs and delivers callbacks, remembers which receipts were acknowledged.
pub struct Wallet {
    url: String,
    secret: WebhookSecret,
    http: reqwest::Client,
    loans: Vec<Loan>,
    pub acked: Vec<AtomicBool>,
    pub deliveries: AtomicUsize,
    pub timeline: Timeline,
}

impl Wallet {
    pub fn new(gateway: &str, loans: Vec<Loan>, payments: usize) -> anyhow::Result<Arc<Self>> {
        let secret = mkopo::config::Settings::local_defaults().sandbox.wallet.webhook_secret;
        Ok(Arc::new(Self {
            url: format!("{gateway}/v1/callbacks/sandbox"),
            secret: WebhookSecret::parse(&secret).map_err(|e| anyhow::anyhow!("sandbox webhook secret: {e}"))?,
            http: reqwest::Client::builder().timeout(Duration::from_secs(3)).pool_max_idle_per_host(64).build()?,
            loans,
            acked: (0..payments).map(|_| AtomicBool::new(false)).collect(),
            deliveries: AtomicUsize::new(0),
            timeline: Timeline::default(),
        }))
    }

    fn body(&self, payment: &Payment) -> String {
        let loan = &self.loans[payment.loan];
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        json!({
            "type": "payment.received", "timestamp": now,
            "data": { "kind": "payment", "reference": null, "receipt": payment.receipt, "account": loan.reference,
                      "msisdn": loan.msisdn, "amount": format!("{:.2}", payment.amount), "currency": "TZS",
                      "status": "completed", "failure_code": null, "failure_message": null, "occurred_at": now }
        })
        .to_string()
    }

    /// One delivery attempt under `webhook_id`; the HTTP status, 0 when no answer came.
    pub async fn deliver_once(&self, index: usize, payment: &Payment, webhook_id: &str) -> u16 {
        let body = self.body(payment);
        let ts = chrono::Utc::now().timestamp();
        let signature = sign(&self.secret, webhook_id, ts, body.as_bytes());
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        let sent = self
            .http
            .post(&self.url)
            .header("webhook-id", webhook_id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let status = sent.map_or(0, |r| r.status().as_u16());
        let ok = (200..300).contains(&status);
        self.timeline.record(ok);
        if ok {
            self.acked[index].store(true, Ordering::Relaxed);
        }
        status
    }

    /// Delivers until acknowledged, at most [`RETRY_DELAYS_MS`] attempts, keeping one `webhook-id`.
    pub async fn deliver(&self, index: usize, payment: &Payment, webhook_id: &str) -> bool {
        for delay in RETRY_DELAYS_MS {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            if (200..300).contains(&self.deliver_once(index, payment, webhook_id).await) {
                return true;
            }
        }
        false
    }

    pub fn acked_count(&self) -> usize {
        self.acked.iter().filter(|a| a.load(Ordering::Relaxed)).count()
    }
}

/// Sends `payments[range]` at `rate` per second, each with its wallet retries, and returns once every
/// delivery has finished. At most `concurrency` payments are in flight: a gateway that stops answering
/// slows the wallet down only once that many wait on their retries.
pub async fn stream(
    wallet: Arc<Wallet>,
    payments: Arc<Vec<Payment>>,
    range: std::ops::Range<usize>,
    rate: f64,
    concurrency: usize,
) {
    let gate = Arc::new(Semaphore::new(concurrency));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tasks = Vec::with_capacity(range.len());
    for i in range {
        tick.tick().await;
        let permit = gate.clone().acquire_owned().await.expect("open semaphore");
        let (wallet, payments) = (wallet.clone(), payments.clone());
        tasks.push(tokio::spawn(async move {
            let payment = &payments[i];
            wallet.deliver(i, payment, &format!("evt_{}", payment.receipt)).await;
            drop(permit);
        }));
    }
    futures::future::join_all(tasks).await;
}

/// Subscribers dialling the balance journey (dial, then "2" My balance) while the faults happen.
pub struct Phones {
    url: String,
    http: reqwest::Client,
    loans: Vec<Loan>,
    pub timeline: Timeline,
    stop: AtomicBool,
}

impl Phones {
    pub fn new(gateway: &str, loans: Vec<Loan>) -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(Self {
            url: format!("{gateway}/ussd/africastalking"),
            http: reqwest::Client::builder().timeout(Duration::from_secs(6)).build()?,
            loans,
            timeline: Timeline::default(),
            stop: AtomicBool::new(false),
        }))
    }

    async fn hop(&self, session: &str, msisdn: &str, text: &str) -> Option<String> {
        let form = [
            ("sessionId", session),
            ("serviceCode", "*150*88#"),
            ("phoneNumber", &format!("+{msisdn}")),
            ("networkCode", "64009"),
            ("text", text),
        ];
        let response = self.http.post(&self.url).form(&form).send().await.ok()?;
        if response.status() != 200 {
            return None;
        }
        response.text().await.ok()
    }

    /// One balance journey; good when the menu and then the subscriber's loan with its balance came back.
    async fn journey(&self, n: usize) -> bool {
        let msisdn = &self.loans[n % self.loans.len()].msisdn;
        let session = format!("faults-{}", uuid::Uuid::new_v4().simple());
        let menu = self.hop(&session, msisdn, "").await;
        if !menu.is_some_and(|m| m.starts_with("CON Mkopo") && m.contains("My balance")) {
            return false;
        }
        // One loan: its own screen with what is owed and a Repay offer.
        self.hop(&session, msisdn, "2").await.is_some_and(|b| b.starts_with("CON ") && b.contains("Owed: "))
    }

    /// Runs `phones` subscribers dialling one journey after another until [`Phones::stop`].
    pub fn start(self: &Arc<Self>, phones: usize) -> Vec<tokio::task::JoinHandle<()>> {
        (0..phones)
            .map(|p| {
                let me = self.clone();
                tokio::spawn(async move {
                    let mut n = p;
                    while !me.stop.load(Ordering::Relaxed) {
                        let ok = me.journey(n).await;
                        me.timeline.record(ok);
                        n += phones;
                        tokio::time::sleep(Duration::from_millis(if ok { 20 } else { 100 })).await;
                    }
                })
            })
            .collect()
    }

    pub async fn stop(&self, tasks: Vec<tokio::task::JoinHandle<()>>) {
        self.stop.store(true, Ordering::Relaxed);
        futures::future::join_all(tasks).await;
    }
}

/// The gateway's `mkopo_inbox_depth` (callbacks stored and not yet processed), from `/metrics`.
pub async fn inbox_depth(http: &reqwest::Client, gateway: &str) -> Option<u64> {
    let text = http.get(format!("{gateway}/metrics")).send().await.ok()?.text().await.ok()?;
    text.lines().find_map(|l| l.strip_prefix("mkopo_inbox_depth ")).and_then(|v| v.trim().parse().ok())
}

/// Samples the gateway's inbox depth every 100 ms until stopped.
pub struct Depths {
    samples: Mutex<Vec<(Instant, Option<u64>)>>,
    stop: AtomicBool,
}

impl Depths {
    pub fn start(gateway: String) -> anyhow::Result<(Arc<Self>, tokio::task::JoinHandle<()>)> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(1)).build()?;
        let me = Arc::new(Self { samples: Mutex::new(Vec::new()), stop: AtomicBool::new(false) });
        let sampler = me.clone();
        let task = tokio::spawn(async move {
            while !sampler.stop.load(Ordering::Relaxed) {
                let depth = inbox_depth(&http, &gateway).await;
                sampler.samples.lock().expect("samples").push((Instant::now(), depth));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Ok((me, task))
    }

    pub async fn stop(&self, task: tokio::task::JoinHandle<()>) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = task.await;
    }

    /// The deepest inbox seen in `[from, to)`: what the traffic alone keeps queued.
    pub fn max_between(&self, from: Instant, to: Instant) -> u64 {
        let samples = self.samples.lock().expect("samples");
        samples.iter().filter(|s| s.0 >= from && s.0 < to).filter_map(|s| s.1).max().unwrap_or(0)
    }

    /// When the inbox was back to `baseline` in `[since, until)`: the first answered sample at most
    /// `baseline` after the deepest one (the backlog that piled up, often the burst of the wallet's
    /// retries once Redis answered). `None` when it never got there in that window.
    pub fn drained_at(&self, since: Instant, until: Instant, baseline: u64) -> Option<Instant> {
        let samples = self.samples.lock().expect("samples");
        let seen: Vec<(Instant, u64)> =
            samples.iter().filter(|s| s.0 >= since && s.0 < until).filter_map(|s| s.1.map(|d| (s.0, d))).collect();
        let deepest = seen.iter().map(|s| s.1).max()?;
        let peak = seen.iter().position(|s| s.1 == deepest)?;
        seen[peak..].iter().find(|s| s.1 <= baseline).map(|s| s.0)
    }
}
