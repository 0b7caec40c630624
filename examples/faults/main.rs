//! The fault suite: the money path and the USSD surface under the faults a payments operator fears,
//! against the real `mkopo` binary, with every part a separate process.
//!
//!     scripts/faults --short            # about two minutes; scripts/test runs it after cargo test
//!     scripts/faults --long             # thousands of callbacks per fault, several kills and restarts
//!     cargo run --example faults -- --short [--only redis_restart,gateway_kill] [--bound redis_restart=15s]
//!                                       [--drain-deadline 30s] [--lms-ignores-keys] [--keep-logs]
//!                                       [--gateway-env MKOPO_MONEY__RECLAIM_IDLE=60s ...]
//!
//! For each fault it starts, in a fresh temporary directory, its own `redis-server` (free loopback
//! port, `--appendonly yes --appendfsync always`), `mkopo sandbox-lms`, `mkopo sandbox-wallet` and the
//! gateway (`mkopo serve`) pointed at them by `MKOPO_*` variables alone (LMS over HTTP, the sandbox
//! wallet as the generic wallet `sandbox` at its own URL, fast money timers), each with its own log
//! file. It seeds subscribers with loans in the sandbox LMS over its HTTP API, then drives signed
//! `payment.received` callbacks (Standard Webhooks, the sandbox wallet's secret, retried like a wallet
//! retries) and USSD balance journeys (Africa's Talking) while it injects the fault:
//!
//! | fault | what happens | recovery_ms |
//! |---|---|---|
//! | `duplicates` | bursts of simultaneous copies of each callback (half one `webhook-id`, half fresh ones), then each delivered twice more after it was posted | last burst → every acknowledged receipt posted |
//! | `gateway_kill` | `kill -9` of the gateway under load, several times, restarted on the same port | worst kill → callbacks acknowledged again |
//! | `lms_outage` | repayments answer `commit_then_internal`, then `unavailable` for a period (the sandbox LMS's fault hook), then the LMS is frozen (SIGSTOP) and thawed | thaw → every acknowledged receipt posted |
//! | `redis_restart` | Redis `kill -9`, down for a while, restarted on its append-only file; the gateway is not restarted | Redis back → hops and callbacks both answer normally again (the worse of the two) |
//! | `shutdown_after_outage` | Redis down and back, then SIGTERM to the gateway a second later; it is started again to drain | SIGTERM → exit (must be status 0, no panic) |
//!
//! Each fault prints exactly one line:
//!
//!     fault=redis_restart sent=300 acked=300 posted=300 lost=0 doubled=0 recovery_ms=1840 panics=0 bound_ms=15000 ...
//!
//! `sent` distinct receipts, `acked` those the gateway answered 2xx at least once, `posted` acknowledged
//! receipts the LMS holds (read back per loan: each receipt's amount is unique on its loan, and the
//! loan's `totalRepayment` must equal the sum of the receipts it holds), `lost` acknowledged but not
//! posted by the drain deadline, `doubled` receipts held twice, repayments matching no receipt or
//! totals above the receipts, `panics` lines with `panicked` in any process's log. After those:
//! `bound_ms`, `drain_ms`, `deliveries` (HTTP posts, retries and copies included), `unacked_posted`
//! (stored but the answer was lost, e.g. killed mid-request: neither lost nor doubled), `hops_ok`
//! (good/all balance journeys) and the fault's own figures; `result=ok|FAIL`.
//!
//! Before the faults, a self-check plants a loss (a receipt marked acknowledged but never sent) and a
//! double (a receipt's repayment posted a second time straight to the LMS) and stops the run unless
//! the counting reports exactly those.
//!
//! The exit status is non-zero when any fault lost or doubled money, any log has a panic line, a
//! recovery exceeded its bound, or a scenario could not run; the failing faults' log files are listed
//! and kept.
//!
//! Needs `redis-server` on PATH and the `mkopo` binary next to this example (`cargo build --bin mkopo`)
//! or at `MKOPO_BIN`. Everything runs on loopback ports of this machine and stops by itself.

/// The allocator of the `mkopo` binary (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod drive;
mod faults;
mod lms;
mod procs;
mod report;
mod stack;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::report::Outcome;
use crate::stack::Stack;

pub const FAULTS: [&str; 5] = ["duplicates", "gateway_kill", "lms_outage", "redis_restart", "shutdown_after_outage"];

/// Volumes and timings of one profile.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: &'static str,
    /// Subscribers with a loan per fault (at most 100 payments each).
    pub loans: usize,
    /// Callbacks per fault (a third of them for the shutdown fault).
    pub payments: usize,
    /// Payments in flight at most (each waiting on its answer or its next retry).
    pub concurrency: usize,
    /// Subscribers dialling balance journeys throughout.
    pub phones: usize,
    pub dup_payments: usize,
    pub dup_copies: usize,
    pub kills: usize,
    pub kill_every: Duration,
    pub commit_faults: u32,
    pub lms_outage: Duration,
    pub lms_freeze: Duration,
    pub redis_down: Duration,
    pub redis_restarts: usize,
}

impl Profile {
    fn short() -> Self {
        Self {
            name: "short",
            loans: 10,
            payments: 400,
            concurrency: 256,
            phones: 2,
            dup_payments: 100,
            dup_copies: 10,
            kills: 3,
            kill_every: Duration::from_secs(2),
            commit_faults: 10,
            lms_outage: Duration::from_secs(4),
            lms_freeze: Duration::from_secs(3),
            redis_down: Duration::from_secs(4),
            redis_restarts: 2,
        }
    }

    fn long() -> Self {
        Self {
            name: "long",
            loans: 60,
            payments: 3_000,
            concurrency: 1024,
            phones: 4,
            dup_payments: 500,
            dup_copies: 20,
            kills: 6,
            kill_every: Duration::from_secs(3),
            commit_faults: 50,
            lms_outage: Duration::from_secs(20),
            lms_freeze: Duration::from_secs(10),
            redis_down: Duration::from_secs(8),
            redis_restarts: 3,
        }
    }
}

pub struct Options {
    pub profile: Profile,
    pub only: Vec<String>,
    bounds: HashMap<String, Duration>,
    pub drain_deadline: Duration,
    /// Run the sandbox LMS with `quirks.ignore_idempotency_key`: a resent repayment would post twice.
    pub lms_ignores_keys: bool,
    pub keep_logs: bool,
    /// `--gateway-env KEY=VALUE`: extra settings of the gateway, after the suite's own.
    pub gateway_env: Vec<(String, String)>,
}

impl Options {
    /// The recovery bound of `fault`.
    pub fn bound(&self, fault: &str) -> Duration {
        self.bounds.get(fault).copied().unwrap_or_else(|| {
            Duration::from_secs(match fault {
                "gateway_kill" | "redis_restart" => 15,
                "shutdown_after_outage" => 10,
                _ => 30,
            })
        })
    }

    fn parse(args: impl Iterator<Item = String>) -> anyhow::Result<Self> {
        let mut options = Options {
            profile: Profile::short(),
            only: FAULTS.iter().map(|f| (*f).to_owned()).collect(),
            bounds: HashMap::new(),
            drain_deadline: Duration::from_secs(30),
            lms_ignores_keys: false,
            keep_logs: false,
            gateway_env: Vec::new(),
        };
        let mut args = args.peekable();
        let duration = |text: &str| humantime::parse_duration(text).map_err(|e| anyhow::anyhow!("{text:?}: {e}"));
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| anyhow::anyhow!("{arg} needs a value"));
            match arg.as_str() {
                "--short" => options.profile = Profile::short(),
                "--long" => {
                    options.profile = Profile::long();
                    options.drain_deadline = Duration::from_secs(90);
                }
                "--only" => {
                    options.only = value()?.split(',').map(|f| f.trim().to_owned()).collect();
                    if let Some(unknown) = options.only.iter().find(|f| !FAULTS.contains(&f.as_str())) {
                        anyhow::bail!("unknown fault {unknown:?}; faults: {}", FAULTS.join(", "));
                    }
                }
                "--bound" => {
                    let v = value()?;
                    let (fault, d) = v.split_once('=').ok_or_else(|| anyhow::anyhow!("--bound FAULT=DURATION"))?;
                    anyhow::ensure!(FAULTS.contains(&fault), "unknown fault {fault:?}");
                    options.bounds.insert(fault.to_owned(), duration(d)?);
                }
                "--drain-deadline" => options.drain_deadline = duration(&value()?)?,
                "--lms-ignores-keys" => options.lms_ignores_keys = true,
                "--keep-logs" => options.keep_logs = true,
                "--gateway-env" => {
                    let v = value()?;
                    let (k, v) = v.split_once('=').ok_or_else(|| anyhow::anyhow!("--gateway-env KEY=VALUE"))?;
                    options.gateway_env.push((k.to_owned(), v.to_owned()));
                }
                "-h" | "--help" => {
                    println!("usage: faults [--short|--long] [--only F,G] [--bound FAULT=DURATION] [--drain-deadline D] [--lms-ignores-keys] [--gateway-env KEY=VALUE] [--keep-logs]\nfaults: {}", FAULTS.join(", "));
                    std::process::exit(0);
                }
                other => anyhow::bail!("unknown argument {other:?} (try --help)"),
            }
        }
        Ok(options)
    }
}

async fn run_one(fault: &'static str, options: &Options) -> (Outcome, Option<Stack>) {
    let result = match fault {
        "duplicates" => faults::duplicates(options).await,
        "gateway_kill" => faults::gateway_kill(options).await,
        "lms_outage" => faults::lms_outage(options).await,
        "redis_restart" => faults::redis_restart(options).await,
        _ => faults::shutdown_after_outage(options).await,
    };
    match result {
        Ok((outcome, stack)) => (outcome, Some(stack)),
        Err(e) => (faults::broken(fault, options.bound(fault), &e), None),
    }
}

async fn suite(options: Options) -> anyhow::Result<bool> {
    let started = Instant::now();
    let (redis, bin) = (procs::redis_server_bin()?, procs::mkopo_bin()?);
    eprintln!(
        "fault suite, {} profile: {} with {} and {}",
        options.profile.name,
        options.only.join(", "),
        bin.display(),
        redis.display()
    );
    faults::self_check(&options).await.map_err(|e| e.context("the counting's self-check"))?;
    eprintln!("self-check: a planted loss and a planted double were counted as such");
    let (mut passed, mut failed) = (0, 0);
    for fault in FAULTS.iter().copied().filter(|f| options.only.iter().any(|o| o == f)) {
        let (outcome, stack) = run_one(fault, &options).await;
        println!("{}", outcome.line());
        let failures = outcome.failures();
        let ok = failures.is_empty();
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
        if !ok {
            for failure in &failures {
                eprintln!("  {fault}: {failure}");
            }
        }
        if let Some(stack) = stack {
            if !ok || options.keep_logs {
                for log in stack.logs() {
                    eprintln!("  {fault} log: {}", log.display());
                }
            }
            stack.dispose(!ok || options.keep_logs);
        }
    }
    eprintln!("fault suite: {} s", started.elapsed().as_secs_f64().round());
    // The closing line test runners print, so CI reads the verdict as a count.
    println!("faults: {passed} passed, {failed} failed");
    Ok(failed == 0)
}

#[tokio::main]
async fn main() {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("faults: {e:#}");
            std::process::exit(2);
        }
    };
    // Ctrl-C ends the run through the normal drops, so every child process is killed.
    let outcome = tokio::select! {
        outcome = suite(options) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    match outcome {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("faults: {e:#}");
            std::process::exit(2);
        }
    }
}
