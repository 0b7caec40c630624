//! The five faults, each against a fresh stack: duplicates, gateway `kill -9`, LMS outage, Redis
//! `kill -9` and restart, and a graceful shutdown shortly after a Redis outage.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::drive::{plan, stream, Depths, Payment, Phones, Wallet};
use crate::lms::{Lms, Loan};
use crate::report::{drain, ms, Outcome};
use crate::stack::Stack;
use crate::Options;

/// Everything one fault works with.
pub struct Run {
    pub stack: Stack,
    lms: Lms,
    loans: Vec<Loan>,
    payments: Arc<Vec<Payment>>,
    wallet: Arc<Wallet>,
    phones: Arc<Phones>,
    hop_tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Run {
    async fn start(name: &str, tag: u32, options: &Options, payments: usize) -> anyhow::Result<Self> {
        let stack = Stack::start(name, options).await?;
        let lms = Lms::connect(&stack.lms).await?;
        let loans = lms.seed(tag, options.profile.loans).await?;
        let payments = Arc::new(plan(&format!("FT{tag}"), loans.len(), payments));
        let wallet = Wallet::new(&stack.gateway, loans.clone(), payments.len())?;
        let phones = Phones::new(&stack.gateway, loans.clone())?;
        let hop_tasks = phones.start(options.profile.phones);
        Ok(Self { stack, lms, loans, payments, wallet, phones, hop_tasks })
    }

    /// Streams every payment evenly over `window` in the background.
    fn stream_over(&self, window: Duration, options: &Options) -> tokio::task::JoinHandle<()> {
        let rate = self.payments.len() as f64 / window.as_secs_f64().max(0.1);
        let (wallet, payments) = (self.wallet.clone(), self.payments.clone());
        tokio::spawn(stream(wallet, payments.clone(), 0..payments.len(), rate, options.profile.concurrency))
    }

    /// Stops the phones, waits for the drain, counts, and fills `outcome` (drain from now).
    async fn finish(mut self, mut outcome: Outcome, options: &Options) -> anyhow::Result<(Outcome, Stack)> {
        self.phones.stop(std::mem::take(&mut self.hop_tasks)).await;
        let (drained, counts) =
            drain(&self.lms, &self.loans, &self.payments, &self.wallet, options.drain_deadline).await?;
        outcome.drain = drained;
        outcome.tally(self.payments.len(), &self.wallet, counts);
        outcome.hops = self.phones.timeline.counts();
        outcome.panics = self.stack.panics();
        Ok((outcome, self.stack))
    }
}

/// Bursts of simultaneous copies of one callback (half under one `webhook-id`, half under fresh ones),
/// then every callback delivered again after it was posted.
pub async fn duplicates(options: &Options) -> anyhow::Result<(Outcome, Stack)> {
    let p = &options.profile;
    let run = Run::start("duplicates", 1, options, p.dup_payments).await?;
    let mut outcome = Outcome::new("duplicates", options.bound("duplicates"));
    let refused = Arc::new(AtomicUsize::new(0));
    let bursts = futures::stream::iter(0..run.payments.len()).map(|i| {
        let (wallet, payments, refused) = (run.wallet.clone(), run.payments.clone(), refused.clone());
        let copies = p.dup_copies;
        async move {
            let payment = &payments[i];
            let sends = (0..copies).map(|c| {
                let id = if c % 2 == 0 {
                    format!("evt_{}", payment.receipt)
                } else {
                    format!("evt_{}_{c}", payment.receipt)
                };
                let wallet = wallet.clone();
                async move { wallet.deliver_once(i, payment, &id).await }
            });
            let statuses = futures::future::join_all(sends).await;
            let bad = statuses.iter().filter(|s| !(200..300).contains(*s)).count();
            refused.fetch_add(bad, Ordering::Relaxed);
        }
    });
    bursts.buffer_unordered(4).collect::<Vec<()>>().await;
    let last_send = Instant::now();
    let (drained, _) = drain(&run.lms, &run.loans, &run.payments, &run.wallet, options.drain_deadline).await?;
    outcome.recovery = drained.map(|_| last_send.elapsed());
    // Re-deliveries of callbacks already posted: the same id, and a new id.
    for (i, payment) in run.payments.iter().enumerate() {
        for id in [format!("evt_{}", payment.receipt), format!("evt_{}_again", payment.receipt)] {
            if !(200..300).contains(&run.wallet.deliver_once(i, payment, &id).await) {
                refused.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    // Give a wrongly accepted re-delivery time to be posted, so a double would show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let refused = refused.load(Ordering::Relaxed);
    if refused > 0 {
        outcome.problems.push(format!("{refused} duplicate deliveries were not acknowledged"));
    }
    outcome.extra.push(("copies", p.dup_copies.to_string()));
    outcome.extra.push(("dup_refused", refused.to_string()));
    run.finish(outcome, options).await
}

/// `kill -9` of the gateway under load, restarted each time on the same port.
pub async fn gateway_kill(options: &Options) -> anyhow::Result<(Outcome, Stack)> {
    let p = &options.profile;
    let mut run = Run::start("gateway_kill", 2, options, p.payments).await?;
    let mut outcome = Outcome::new("gateway_kill", options.bound("gateway_kill"));
    let window = p.kill_every * (p.kills as u32 + 1);
    let sending = run.stream_over(window, options);
    let mut kills = Vec::new();
    for _ in 0..p.kills {
        tokio::time::sleep(p.kill_every).await;
        run.stack.gateway_proc.kill9();
        kills.push(Instant::now());
        run.stack.start_gateway().await?;
    }
    sending.await?;
    let recoveries: Vec<Option<Duration>> =
        kills.iter().map(|k| run.wallet.timeline.recovered_at(*k).map(|r| r - *k)).collect();
    outcome.recovery = recoveries.iter().try_fold(Duration::ZERO, |max, r| r.map(|r| max.max(r)));
    outcome.extra.push(("kills", p.kills.to_string()));
    run.finish(outcome, options).await
}

/// The LMS failing repayments: first `commit_then_internal` (the write lands, the answer is a 500), then
/// `unavailable` for a period, then the whole process frozen (SIGSTOP) and thawed (SIGCONT).
pub async fn lms_outage(options: &Options) -> anyhow::Result<(Outcome, Stack)> {
    let p = &options.profile;
    let run = Run::start("lms_outage", 3, options, p.payments).await?;
    let mut outcome = Outcome::new("lms_outage", options.bound("lms_outage"));
    let lead = Duration::from_secs(1);
    let window = lead * 3 + p.lms_outage + p.lms_freeze;
    let sending = run.stream_over(window, options);
    const REPAYMENTS: &str = "/v1/loans/external/*/repayments";
    tokio::time::sleep(lead).await;
    run.lms.fault("POST", REPAYMENTS, "commit_then_internal", p.commit_faults).await?;
    tokio::time::sleep(lead).await;
    run.lms.fault("*", REPAYMENTS, "unavailable", 1_000_000).await?;
    tokio::time::sleep(p.lms_outage).await;
    run.lms.clear_faults().await?;
    tokio::time::sleep(lead).await;
    run.stack.lms_proc.signal("STOP")?;
    tokio::time::sleep(p.lms_freeze).await;
    run.stack.lms_proc.signal("CONT")?;
    let thawed = Instant::now();
    sending.await?;
    let (drained, _) = drain(&run.lms, &run.loans, &run.payments, &run.wallet, options.drain_deadline).await?;
    outcome.recovery = drained.map(|_| thawed.elapsed());
    let hops = run.phones.timeline.recovered_at(thawed).map(|r| r - thawed);
    outcome.extra.push(("hops_recovery_ms", hops.map_or_else(|| "never".into(), |d| ms(d).to_string())));
    outcome.extra.push(("outage_ms", ms(p.lms_outage).to_string()));
    outcome.extra.push(("freeze_ms", ms(p.lms_freeze).to_string()));
    run.finish(outcome, options).await
}

/// Redis `kill -9` while callbacks and hops go on, restarted on its append-only file; the gateway is
/// never restarted. Recovery: until hops and callbacks both answer normally again after Redis is back;
/// `inbox_drained_ms`: until the gateway's `mkopo_inbox_depth`, past the backlog's peak, is back to
/// what the traffic kept queued before the fault, per restart (`late`: still draining when the next outage
/// began); the last one's must be gone within the drain deadline.
pub async fn redis_restart(options: &Options) -> anyhow::Result<(Outcome, Stack)> {
    let p = &options.profile;
    let mut run = Run::start("redis_restart", 4, options, p.payments).await?;
    let mut outcome = Outcome::new("redis_restart", options.bound("redis_restart"));
    let (lead, after) = (Duration::from_secs(2), Duration::from_secs(5));
    let window = lead + (p.redis_down + after) * p.redis_restarts as u32;
    let (depths, sampler) = Depths::start(run.stack.gateway.clone())?;
    let started = Instant::now();
    let sending = run.stream_over(window, options);
    tokio::time::sleep(lead).await;
    // What the traffic alone keeps in the inbox (plus one), before anything went wrong.
    let baseline = depths.max_between(started, Instant::now()) + 1;
    let (mut kills, mut backs) = (Vec::new(), Vec::new());
    for _ in 0..p.redis_restarts {
        run.stack.redis.kill9();
        kills.push(Instant::now());
        tokio::time::sleep(p.redis_down).await;
        run.stack.start_redis().await?;
        backs.push(Instant::now());
        tokio::time::sleep(after).await;
    }
    sending.await?;
    // The last backlog may still be draining: wait for it, up to the drain deadline.
    let last_back = *backs.last().expect("at least one restart");
    let far = last_back + options.drain_deadline;
    while depths.drained_at(last_back, far, baseline).is_none() && last_back.elapsed() < options.drain_deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    depths.stop(sampler).await;
    // Each restart's backlog is timed when it was gone before the next outage began (a large one may
    // not be); the last one must be gone within the drain deadline, with no restart of the gateway.
    let mut inbox_each = Vec::new();
    for (i, back) in backs.iter().enumerate() {
        let until = kills.get(i + 1).copied().unwrap_or(far);
        match depths.drained_at(*back, until, baseline).map(|d| d - *back) {
            Some(d) => inbox_each.push(ms(d).to_string()),
            None if i + 1 == backs.len() => {
                inbox_each.push("never".into());
                outcome.problems.push(format!(
                    "the inbox did not go back to its depth before the fault ({baseline}) within {:?} of Redis coming back",
                    options.drain_deadline
                ));
            }
            None => inbox_each.push("late".into()),
        }
    }
    let (mut worst, mut hops_worst, mut acks_worst) =
        (Some(Duration::ZERO), Some(Duration::ZERO), Some(Duration::ZERO));
    for back in &backs {
        let hops = run.phones.timeline.recovered_at(*back).map(|r| r - *back);
        let acks = run.wallet.timeline.recovered_at(*back).map(|r| r - *back);
        let both = hops.zip(acks).map(|(h, a)| h.max(a));
        worst = worst.zip(both).map(|(w, b)| w.max(b));
        hops_worst = hops_worst.zip(hops).map(|(w, b)| w.max(b));
        acks_worst = acks_worst.zip(acks).map(|(w, b)| w.max(b));
    }
    outcome.recovery = worst;
    if let Some(status) = run.stack.gateway_proc.exited() {
        outcome.problems.push(format!("the gateway exited during the Redis restarts ({status})"));
    }
    let text = |d: Option<Duration>| d.map_or_else(|| "never".to_owned(), |d| ms(d).to_string());
    outcome.extra.push(("restarts", p.redis_restarts.to_string()));
    outcome.extra.push(("down_ms", ms(p.redis_down).to_string()));
    outcome.extra.push(("hops_recovery_ms", text(hops_worst)));
    outcome.extra.push(("acks_recovery_ms", text(acks_worst)));
    outcome.extra.push(("inbox_drained_ms", inbox_each.join(",")));
    outcome.extra.push(("inbox_baseline", baseline.to_string()));
    run.finish(outcome, options).await
}

/// Redis down for a while and back, then SIGTERM to the gateway shortly after: it must exit cleanly
/// (status 0, no panic line) within its shutdown timeout; restarted, it posts everything it acknowledged.
pub async fn shutdown_after_outage(options: &Options) -> anyhow::Result<(Outcome, Stack)> {
    let p = &options.profile;
    let mut run = Run::start("shutdown_after_outage", 5, options, p.payments / 3).await?;
    let mut outcome = Outcome::new("shutdown_after_outage", options.bound("shutdown_after_outage"));
    let lead = Duration::from_secs(1);
    let shortly = Duration::from_secs(1);
    let sending = run.stream_over(lead + p.redis_down + shortly, options);
    tokio::time::sleep(lead).await;
    run.stack.redis.kill9();
    tokio::time::sleep(p.redis_down).await;
    run.stack.start_redis().await?;
    tokio::time::sleep(shortly).await;
    match run.stack.gateway_proc.terminate(Duration::from_secs(30)).await? {
        Some((status, took)) => {
            outcome.recovery = Some(took);
            outcome.extra.push(("exit", status.code().map_or_else(|| status.to_string(), |c| c.to_string())));
            if !status.success() {
                outcome.problems.push(format!("the gateway exited with {status} after SIGTERM"));
            }
        }
        None => outcome.problems.push("the gateway did not exit within 30 s of SIGTERM (killed)".into()),
    }
    // Started again, it must post what it acknowledged before the shutdown (and what the wallet retried).
    run.stack.start_gateway().await?;
    sending.await?;
    outcome.extra.push(("down_ms", ms(p.redis_down).to_string()));
    run.finish(outcome, options).await
}

/// A fault that could not even be run: its line says why.
pub fn broken(fault: &'static str, bound: Duration, error: &anyhow::Error) -> Outcome {
    let mut outcome = Outcome::new(fault, bound);
    outcome.problems.push(format!("the scenario failed: {error:#}"));
    outcome
}

/// Proves the counting can see what it counts: four payments over two loans, one never sent but
/// marked acknowledged (must count as lost) and one posted a second time straight to the LMS (must
/// count as doubled). An error when the counts differ from what was planted.
pub async fn self_check(options: &Options) -> anyhow::Result<()> {
    let stack = Stack::start("self_check", options).await?;
    let lms = Lms::connect(&stack.lms).await?;
    let loans = lms.seed(0, 2).await?;
    let payments = plan("FT0", loans.len(), 4);
    let wallet = Wallet::new(&stack.gateway, loans.clone(), payments.len())?;
    for (i, payment) in payments.iter().enumerate().take(3) {
        anyhow::ensure!(
            wallet.deliver(i, payment, &format!("evt_{}", payment.receipt)).await,
            "{} not acknowledged",
            payment.receipt
        );
    }
    wallet.acked[3].store(true, Ordering::Relaxed);
    let planted = (3, 1, 1);
    let mut seen = (0, 0, 0);
    for round in 0..2 {
        let (_, counts) = drain(&lms, &loans, &payments, &wallet, Duration::from_secs(5)).await?;
        if round == 0 {
            lms.repay(&loans[payments[0].loan].reference, payments[0].amount).await?;
        }
        seen = (counts.posted, counts.lost, counts.doubled);
    }
    let panics = stack.panics();
    stack.dispose(false);
    anyhow::ensure!(seen == planted, "counted (posted, lost, doubled) = {seen:?} where {planted:?} was planted");
    anyhow::ensure!(panics.is_empty(), "panic lines: {panics:?}");
    Ok(())
}
