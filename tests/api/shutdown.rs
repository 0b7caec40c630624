//! The real `mkopo` binary stopped by SIGTERM in the middle of a burst of signed wallet callbacks, with
//! a standalone sandbox LMS that outlives it: every acknowledged callback becomes exactly one LMS
//! repayment once the gateway is started again on the same Redis prefix, and nothing is posted twice.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use mkopo::domain::clock::Clock;
use mkopo::lms::{LmsClient, NewLoan};
use mkopo::momo::records::{EventRecord, EventState};
use mkopo::momo::reference::{Reference, ReferenceKind};
use mkopo::momo::store::{MoneyStore, RedisMoneyStore};
use rust_decimal::prelude::ToPrimitive;

use crate::helpers::{client_config, dec, eventually};
use crate::money::payment_body;

/// Callbacks fired at the gateway; SIGTERM goes out once a third of them were answered.
const CALLBACKS: usize = 300;
/// Loans the callbacks are spread over (one subscriber each).
const LOANS: usize = 10;
/// Requests in flight at once.
const CONCURRENCY: usize = 16;
/// `server.shutdown_timeout` of the gateway under test.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(3);

/// A child `mkopo` process, killed if the test ends (or fails) while it still runs.
pub(crate) struct Process {
    child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Starts `mkopo <args>` with `env`, its output going to `log`, and returns once it said where it
    /// listens (the processes bind port 0, so the port is free by construction).
    pub fn start(args: &[&str], env: &[(&str, String)], log: PathBuf) -> Self {
        let out = File::options().create(true).append(true).open(&log).expect("the log file opens");
        let mut command = Command::new(env!("CARGO_BIN_EXE_mkopo"));
        command
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(out.try_clone().unwrap()))
            .env_remove("RUST_LOG")
            .env("MKOPO_TELEMETRY__FILTER", "warn,mkopo=info")
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("the mkopo binary starts");
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut out = out;
        let mut line = String::new();
        while !line.contains("listening on") {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.kill();
                let _ = child.wait();
                panic!("mkopo {args:?} exited before listening; see {}", log.display());
            }
            let _ = out.write_all(line.as_bytes());
        }
        let base = base_of(&line);
        // Keep draining stdout into the log so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                let _ = writeln!(out, "{line}");
            }
        });
        Self { child, base, log }
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Polls for the exit status until `bound` has passed.
    pub async fn exit_within(&mut self, bound: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + bound;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

/// The `http://host:port` that a "... listening on http://host:port..." line names.
fn base_of(line: &str) -> String {
    let start = line.find("http://").unwrap_or_else(|| panic!("no URL in {line:?}"));
    let rest = &line[start..];
    let end = rest[7..].find(['/', ' ', '\n']).map_or(rest.len(), |i| i + 7);
    rest[..end].to_owned()
}

pub(crate) async fn wait_ready(url: &str) {
    for _ in 0..200 {
        if let Ok(response) = reqwest::get(url).await {
            if response.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never became ready");
}

/// One repayment callback: a distinct receipt and a distinct amount, so the LMS history shows which
/// callbacks were posted (the sandbox's repayments carry the amount, not the receipt).
#[derive(Clone)]
struct Payment {
    receipt: String,
    loan: String,
    msisdn: String,
    amount: u64,
}

impl Payment {
    fn amount_text(&self) -> String {
        format!("{}.00", self.amount)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Acknowledged,
    Status(u16),
    Refused,
    Failed(String),
}

async fn deliver(client: &reqwest::Client, base: &str, payment: &Payment) -> Answer {
    let body = payment_body(&payment.receipt, &payment.loan, &payment.msisdn, &payment.amount_text());
    let id = format!("evt_{}", payment.receipt);
    let sent = crate::money::send_signed(client, base, &id, body).await;
    match sent {
        Ok(response) => {
            let status = response.status();
            match response.bytes().await {
                Ok(bytes) if status.is_success() && &bytes[..] == br#"{"received":true}"# => Answer::Acknowledged,
                Ok(_) => Answer::Status(status.as_u16()),
                Err(error) => Answer::Failed(format!("{status}, body lost: {error}")),
            }
        }
        Err(error) if error.is_connect() => Answer::Refused,
        Err(error) => Answer::Failed(format!("{:?}", std::error::Error::source(&error))),
    }
}

pub(crate) fn sigterm(pid: &str) {
    let status = Command::new("kill").args(["-TERM", pid]).status().expect("kill runs");
    assert!(status.success(), "kill -TERM {pid} failed: {status}");
}

/// Amount → how many times it appears among the repayments of every loan.
async fn posted_amounts(lms: &LmsClient, loans: &[String]) -> BTreeMap<u64, usize> {
    let mut seen = BTreeMap::new();
    for loan in loans {
        let page = lms.list_repayments(loan, 1, 100).await.unwrap();
        assert!(page.items.len() < 100, "one page holds every repayment of {loan}");
        for repayment in page.items {
            assert!(repayment.amount.fract().is_zero(), "whole amounts only: {}", repayment.amount);
            let amount = repayment.amount.to_u64().expect("a positive amount");
            *seen.entry(amount).or_insert(0) += 1;
        }
    }
    seen
}

#[tokio::test]
async fn a_sigterm_during_load_loses_and_doubles_nothing() {
    let started = Instant::now();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let logs = std::env::temp_dir().join(format!("mkopo-shutdown-{run}"));
    std::fs::create_dir_all(&logs).unwrap();

    // The LMS lives in its own process, so its books survive the gateway's restart.
    let sandbox = Process::start(&["sandbox-lms", "--port", "0"], &[], logs.join("lms.log"));
    let lms = {
        let mut config = client_config(&sandbox.base);
        config.partner_email = "partner@sandbox.local".into();
        config.partner_password = "sandbox".to_owned().into();
        LmsClient::new(config, Clock::system()).unwrap()
    };
    let mut loans = Vec::new();
    for n in 0..LOANS {
        let msisdn = format!("2557140{n:05}");
        let reference = Reference::mint(ReferenceKind::Loan, 900 + n as u64).unwrap().to_string();
        lms.ensure_customer(&msisdn).await.unwrap();
        let loan = NewLoan {
            customer_external_id: msisdn.clone(),
            product_id: "1".into(),
            principal: dec("10000"),
            external_id: reference.clone(),
        };
        lms.create_loan(&loan).await.unwrap();
        loans.push((reference, msisdn));
    }
    // 30 payments of 100..=399 per loan stay well below the 11100 owed, so every loan stays open.
    let payments: Vec<Payment> = (0..CALLBACKS)
        .map(|i| {
            let (loan, msisdn) = loans[i % LOANS].clone();
            Payment { receipt: format!("SIG{}{i:04}", &run[..6]).to_uppercase(), loan, msisdn, amount: 100 + i as u64 }
        })
        .collect();
    let loan_refs: Vec<String> = loans.iter().map(|(l, _)| l.clone()).collect();
    // A slow LMS keeps the workers busy when the SIGTERM lands, so entries are in hand and queued; the
    // first posts land and then fail, so retries must lean on the idempotency key.
    let path = "/v1/loans/external/*/repayments";
    for fault in [
        serde_json::json!({ "method": "POST", "path": path, "kind": "commit_then_internal", "count": 5 }),
        serde_json::json!({ "method": "POST", "path": path, "kind": "delay", "count": 100_000, "delayMs": 40 }),
    ] {
        let added = reqwest::Client::new().post(format!("{}/sandbox/faults", sandbox.base)).json(&fault).send().await;
        assert!(added.unwrap().status().is_success(), "the sandbox takes the fault {fault}");
    }

    let prefix = format!("mkopo-test-{run}");
    let env = vec![
        ("MKOPO_SERVER__PORT", "0".to_owned()),
        ("MKOPO_SERVER__WORKERS", "2".to_owned()),
        ("MKOPO_SERVER__SHUTDOWN_TIMEOUT", format!("{}s", SHUTDOWN_TIMEOUT.as_secs())),
        ("MKOPO_REDIS__URL", crate::store::redis_url()),
        ("MKOPO_REDIS__KEY_PREFIX", prefix.clone()),
        ("MKOPO_LMS__MODE", "http".to_owned()),
        ("MKOPO_LMS__AUTH_BASE_URL", sandbox.base.clone()),
        ("MKOPO_LMS__API_BASE_URL", sandbox.base.clone()),
        ("MKOPO_LMS__PARTNER_EMAIL", "partner@sandbox.local".to_owned()),
        ("MKOPO_LMS__PARTNER_PASSWORD", "sandbox".to_owned()),
        ("MKOPO_MONEY__CLAIM_BLOCK", "200ms".to_owned()),
        ("MKOPO_MONEY__RECLAIM_IDLE", "500ms".to_owned()),
        ("MKOPO_MONEY__RETRY_BASE", "50ms".to_owned()),
        ("MKOPO_MONEY__RETRY_CAP", "300ms".to_owned()),
        ("MKOPO_MONEY__TIMER_TICK", "50ms".to_owned()),
    ];
    let mut gateway = Process::start(&["serve"], &env, logs.join("gateway-1.log"));
    wait_ready(&format!("{}/readyz", gateway.base)).await;

    // Fresh connections per request, so that once the gateway stops listening new sends are refused.
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(SHUTDOWN_TIMEOUT * 3).build().unwrap();
    let answered = Arc::new(AtomicUsize::new(0));
    let terminated_at: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let pid = gateway.pid();
    let base = gateway.base.clone();
    let answers: Vec<(Payment, Answer, bool)> = futures::stream::iter(payments.clone())
        .map(|payment| {
            let (client, base, pid) = (client.clone(), base.clone(), pid.clone());
            let (answered, terminated_at) = (answered.clone(), terminated_at.clone());
            async move {
                let answer = deliver(&client, &base, &payment).await;
                let after_sigterm = terminated_at.lock().unwrap().is_some();
                if answered.fetch_add(1, Ordering::SeqCst) + 1 == CALLBACKS / 3 {
                    sigterm(&pid);
                    *terminated_at.lock().unwrap() = Some(Instant::now());
                }
                (payment, answer, after_sigterm)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let terminated_at = terminated_at.lock().unwrap().expect("SIGTERM was sent");

    let acknowledged: BTreeSet<u64> =
        answers.iter().filter(|(_, a, _)| *a == Answer::Acknowledged).map(|(p, _, _)| p.amount).collect();
    let acked_after = answers.iter().filter(|(_, a, after)| *a == Answer::Acknowledged && *after).count();
    let refused = answers.iter().filter(|(_, a, _)| *a == Answer::Refused).count();
    let other: Vec<&Answer> =
        answers.iter().map(|(_, a, _)| a).filter(|a| !matches!(a, Answer::Acknowledged | Answer::Refused)).collect();
    eprintln!(
        "callbacks: {} acknowledged ({acked_after} after SIGTERM), {refused} refused, {} other {:?}; logs in {}",
        acknowledged.len(),
        other.len(),
        other.iter().take(5).collect::<Vec<_>>(),
        logs.display()
    );
    assert!(acknowledged.len() >= CALLBACKS / 3 - CONCURRENCY, "the load ran before the SIGTERM");
    assert!(refused > 0, "the gateway stopped taking connections while callbacks were still being sent");

    let bound = SHUTDOWN_TIMEOUT * 2 + Duration::from_secs(10);
    let status = gateway.exit_within(bound).await;
    let took = terminated_at.elapsed();
    assert!(status.is_some(), "the gateway did not exit within {bound:?} of SIGTERM; see {}", gateway.log.display());
    let status = status.unwrap();
    assert!(status.success(), "the gateway exited with {status} after SIGTERM; see {}", gateway.log.display());
    eprintln!("gateway exited {status} {took:?} after SIGTERM");
    drop(gateway);
    let before_restart = posted_amounts(&lms, &loan_refs).await.len();
    eprintln!("{before_restart} repayments were posted before the restart");

    // The same Redis prefix: what the first run stored and did not finish is still there.
    let gateway = Process::start(&["serve"], &env, logs.join("gateway-2.log"));
    wait_ready(&format!("{}/readyz", gateway.base)).await;
    let store = RedisMoneyStore::connect(&crate::store::redis_url(), &prefix, Duration::from_secs(2)).await.unwrap();
    let sent: BTreeSet<u64> = payments.iter().map(|p| p.amount).collect();
    let check = |seen: &BTreeMap<u64, usize>| {
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "posted more than once (amount, times): {twice:?}");
        let strangers: Vec<_> = seen.keys().filter(|a| !sent.contains(a)).collect();
        assert!(strangers.is_empty(), "repayments nobody sent: {strangers:?}");
    };
    eventually(30, "every acknowledged callback to be posted to the LMS", || async {
        let seen = posted_amounts(&lms, &loan_refs).await;
        check(&seen);
        let stats = store.inbox_stats().await.unwrap();
        let missing = acknowledged.iter().filter(|a| !seen.contains_key(a)).count();
        (missing == 0 && stats.pending == 0).then_some(())
    })
    .await;
    for payment in payments.iter().filter(|p| acknowledged.contains(&p.amount)) {
        let bytes = store.load_event(&format!("event:sandbox:{}", payment.receipt)).await.unwrap();
        let bytes = bytes.unwrap_or_else(|| panic!("the acknowledged {} is stored", payment.receipt));
        assert_eq!(EventRecord::from_bytes(&bytes).unwrap().state, EventState::Posted, "{}", payment.receipt);
    }
    // Settled: a moment later nothing has been posted a second time.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = posted_amounts(&lms, &loan_refs).await;
    check(&seen);
    eprintln!(
        "posted {} repayments ({} acknowledged, {} unacknowledged but stored) in {:?}",
        seen.len(),
        acknowledged.len(),
        seen.len() - acknowledged.len(),
        started.elapsed()
    );
    drop(gateway);
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&logs);
}
