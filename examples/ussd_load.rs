//! Load generator for USSD hops (Africa's Talking dialect) against the real gateway on real Redis, with
//! the LMS answering from a separate process (`mkopo sandbox-lms`), next to a "floor" server that per
//! hop does only the same Redis round trips (lock, HMGET load, on the first hop one MGET of the
//! subscriber's language and resume mark, the resume pointer SET when a session first stops mid-journey,
//! compare-and-set save, unlock) and the same one LMS call, then answers a fixed screen.
//!
//!     cargo build --release --bin mkopo --example ussd_load
//!     cargo run --release --example ussd_load -- [sessions] [concurrency[,concurrency...]] [borrow_sessions] [memory_sessions]
//!
//! Phases:
//! 1. balance journey (dial, "2" My balance) closed-loop at each concurrency, floor then gateway;
//! 2. open loop (a fixed arrival rate of sessions) on the gateway at 10,000 hops/s, then lower rates until
//!    one is sustainable;
//! 3. borrow journey (dial, "1" Borrow, "1" product, "1" amount, "1" Confirm) on the gateway;
//! 4. memory: sessions stopped at the amount list, `MEMORY USAGE` of their keys and `used_memory` delta.
//!
//! `USSD_LOAD_PHASES=balance,open,borrow,memory` (the default) picks phases; `soak` runs only the gateway
//! on the balance journey at the highest concurrency, e.g. under `perf record`.
//!
//! Needs Redis at 127.0.0.1:6379 (or `USSD_LOAD_REDIS_URL`; a `redis-server` is started on 6379 if none
//! answers) and the `mkopo` binary next to the examples directory (or `MKOPO_BIN`). Every key written
//! carries a random prefix and is removed at the end. Everything shares this machine's cores: gateway,
//! floor, generator, sandbox LMS and Redis.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use futures::StreamExt;
use mkopo::config::{LmsMode, Settings};
use mkopo::momo::service::MoneyService;
use mkopo::startup::Application;
use serde::Deserialize;

const FORM: &str = "application/x-www-form-urlencoded";
const PARTNER: (&str, &str) = ("partner@sandbox.local", "sandbox");
/// Subscribers dialling the balance journey; every 8th holds an active loan.
const POOL: usize = 10_000;
const LOAN_EVERY: usize = 8;
const OPEN_LOOP_TARGET: f64 = 10_000.0;
const OPEN_LOOP_SECS: f64 = 5.0;
/// Sessions in flight beyond which the open loop drops arrivals (and the rate counts as unsustainable).
const OPEN_LOOP_CAP: usize = 1_000;

// ------------------------------------------------------------------------------------------------
// Child process: the standalone sandbox LMS.

struct Lms {
    child: Child,
    base: String,
}

impl Drop for Lms {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mkopo_bin() -> anyhow::Result<std::path::PathBuf> {
    if let Ok(path) = std::env::var("MKOPO_BIN") {
        return Ok(path.into());
    }
    // target/<profile>/examples/ussd_load -> target/<profile>/mkopo
    let exe = std::env::current_exe()?;
    let bin = exe.parent().and_then(|p| p.parent()).map(|p| p.join("mkopo"));
    match bin {
        Some(bin) if bin.exists() => Ok(bin),
        _ => anyhow::bail!("no mkopo binary next to {}: run `cargo build --release --bin mkopo`", exe.display()),
    }
}

fn start_lms() -> anyhow::Result<Lms> {
    let mut child = Command::new(mkopo_bin()?)
        .args(["sandbox-lms", "--port", "0"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .env("MKOPO_TELEMETRY__FILTER", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut reader = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        anyhow::ensure!(reader.read_line(&mut line)? > 0, "mkopo sandbox-lms exited before listening");
    }
    std::thread::spawn(move || for _ in reader.lines() {});
    let start = line.find("http://").ok_or_else(|| anyhow::anyhow!("no URL in {line:?}"))?;
    let rest = &line[start..];
    let end = rest[7..].find(['/', ' ', '\n']).map_or(rest.len(), |i| i + 7);
    Ok(Lms { base: rest[..end].to_owned(), child })
}

async fn lms_token(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    #[derive(Deserialize)]
    struct Token {
        token: String,
    }
    let response = client.get(format!("{base}/v1/auth/token")).basic_auth(PARTNER.0, Some(PARTNER.1)).send().await?;
    anyhow::ensure!(response.status() == 200, "token: {}", response.status());
    Ok(response.json::<Token>().await?.token)
}

/// Registers customers (and optionally gives them a 7-day loan of 10,000), many at a time.
async fn seed(
    client: &reqwest::Client,
    lms: &str,
    bearer: &str,
    msisdns: &[String],
    loans: bool,
) -> anyhow::Result<()> {
    let failures: Vec<String> = futures::stream::iter(msisdns.iter().enumerate())
        .map(|(i, msisdn)| async move {
            let url = if loans { format!("{lms}/v1/loans") } else { format!("{lms}/v1/customers") };
            let body = if loans {
                serde_json::json!({ "customerId": msisdn, "productId": 1, "principal": 10000, "externalId": format!("SEED{msisdn}{i}") })
            } else {
                serde_json::json!({ "externalId": msisdn })
            };
            match client.post(url).bearer_auth(bearer).json(&body).send().await {
                Ok(r) if r.status() == 200 => None,
                Ok(r) => Some(format!("{msisdn}: {} {}", r.status(), r.text().await.unwrap_or_default())),
                Err(e) => Some(format!("{msisdn}: {e}")),
            }
        })
        .buffer_unordered(32)
        .filter_map(|f| async move { f })
        .collect()
        .await;
    anyhow::ensure!(failures.is_empty(), "seeding the LMS: {} failures, e.g. {}", failures.len(), failures[0]);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// The floor: only the Redis round trips and the one LMS call of a hop.

const SAVE_VERSIONED: &str = r"
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', current + 1, 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return current + 1";

const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

const MAIN_SCREEN: &str = "CON Mkopo\n1. Borrow\n2. My balance\n3. Repay\n4. My payments\n5. Language";

struct Floor {
    redis: redis::aio::ConnectionManager,
    http: reqwest::Client,
    lms: String,
    bearer: String,
    prefix: String,
    save: redis::Script,
    unlock: redis::Script,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AtForm {
    session_id: String,
    phone_number: String,
    #[serde(default)]
    text: String,
}

impl Floor {
    fn keys(&self, form: &AtForm) -> (String, String) {
        let msisdn = form.phone_number.trim_start_matches('+');
        let session = format!("{}:floor:ussd:{msisdn}:{}", self.prefix, form.session_id);
        (session, format!("{}:floor:sub:{msisdn}:resume", self.prefix))
    }

    async fn hop(&self, form: &AtForm) -> Result<String, String> {
        let (key, snapshot) = self.keys(form);
        let lock = format!("{key}:lock");
        let msisdn = form.phone_number.trim_start_matches('+');
        let mut conn = self.redis.clone();
        let token = uuid::Uuid::new_v4().simple().to_string();
        let e = |e: redis::RedisError| e.to_string();
        let locked: redis::Value = redis::cmd("SET")
            .arg(&lock)
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(4000)
            .query_async(&mut conn)
            .await
            .map_err(e)?;
        if locked == redis::Value::Nil {
            return Err("session busy".into());
        }
        let (version, _state): (Option<u64>, Option<Vec<u8>>) =
            redis::cmd("HMGET").arg(&key).arg("v").arg("d").query_async(&mut conn).await.map_err(e)?;
        let hop = if form.text.is_empty() { 1 } else { form.text.split('*').count() + 1 };
        let (reply, end) = if hop == 1 {
            let url = format!("{}/v1/customers/external/{msisdn}", self.lms);
            let response = self.http.get(url).bearer_auth(&self.bearer).send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let _ = response.bytes().await.map_err(|e| e.to_string())?;
            if status != 200 {
                return Err(format!("LMS customer lookup answered {status}"));
            }
            (MAIN_SCREEN.to_owned(), false)
        } else {
            let url = format!("{}/v1/loans?customerExternalId={msisdn}&status=Active&page=1&rows=50", self.lms);
            let response = self.http.get(url).bearer_auth(&self.bearer).send().await.map_err(|e| e.to_string())?;
            let page: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
            match page["items"].as_array().map_or(0, Vec::len) {
                0 => ("END You have no active loan.".to_owned(), true),
                n => (format!("CON Your loan:\n1. {n} loan(s)\n0. Back"), false),
            }
        };
        let state = serde_json::json!({
            "m": { "hop": hop, "fp": "0123456789abcdef0123456789abcdef", "reply": { "text": reply, "end": end } },
            "s": { "node": if hop == 1 { "main" } else { "balance-list" }, "lang": "en", "slots": { "currency": "TZS" } }
        })
        .to_string();
        if hop == 1 {
            let lang = format!("{}:floor:sub:{msisdn}:lang", self.prefix);
            let _: Vec<Option<Vec<u8>>> =
                redis::cmd("MGET").arg(&lang).arg(&snapshot).query_async(&mut conn).await.map_err(e)?;
        } else if !end {
            redis::cmd("SET")
                .arg(&snapshot)
                .arg(format!("{{\"p\":\"{key}\"}}"))
                .arg("PX")
                .arg(300_000)
                .query_async::<()>(&mut conn)
                .await
                .map_err(e)?;
        }
        let mut save = self.save.prepare_invoke();
        save.key(&key).arg(version.unwrap_or(0)).arg(&state).arg(300_000);
        save.invoke_async::<u64>(&mut conn).await.map_err(e)?;
        let mut unlock = self.unlock.prepare_invoke();
        unlock.key(&lock).arg(&token);
        unlock.invoke_async::<i64>(&mut conn).await.map_err(e)?;
        Ok(reply)
    }
}

async fn floor_hop(floor: web::Data<Floor>, form: web::Form<AtForm>) -> HttpResponse {
    match floor.hop(&form).await {
        Ok(reply) => HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(reply),
        Err(error) => HttpResponse::ServiceUnavailable().body(error),
    }
}

async fn floor_event(floor: web::Data<Floor>, form: web::Form<AtForm>) -> HttpResponse {
    let (key, snapshot) = floor.keys(&form);
    let mut conn = floor.redis.clone();
    // As the gateway: read the record, delete it, keep a copy of a mid-journey state for resuming.
    let deleted = async {
        let (_v, state): (Option<u64>, Option<Vec<u8>>) =
            redis::cmd("HMGET").arg(&key).arg("v").arg("d").query_async(&mut conn).await?;
        redis::cmd("DEL").arg(&key).query_async::<()>(&mut conn).await?;
        redis::cmd("SET")
            .arg(&snapshot)
            .arg(state.unwrap_or_default())
            .arg("PX")
            .arg(120_000)
            .query_async(&mut conn)
            .await
    };
    match deleted.await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("OK"),
        Err(error) => HttpResponse::ServiceUnavailable().body(error.to_string()),
    }
}

// ------------------------------------------------------------------------------------------------
// The phone side: sessions, screens, results.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Journey {
    /// dial, "2" My balance.
    Balance,
    /// dial, "1" Borrow, "1" first product, "1" first amount, "1" Confirm.
    Borrow,
    /// dial, "1" Borrow, "1" first product: left at the amount list (the memory phase).
    Partial,
}

impl Journey {
    fn inputs(self) -> &'static [&'static str] {
        match self {
            Journey::Balance => &["", "2"],
            Journey::Borrow => &["", "1", "1", "1", "1"],
            Journey::Partial => &["", "1", "1"],
        }
    }

    /// Whether `body` is the screen this hop should show; `Some(tag)` classifies a valid last screen.
    fn check(self, hop: usize, loans: bool, body: &str) -> Result<Option<&'static str>, ()> {
        let ok = |b: bool| if b { Ok(None) } else { Err(()) };
        match (self, hop) {
            (_, 0) => ok(body.starts_with("CON Mkopo\n") && body.contains("My balance")),
            (Journey::Balance, _) if loans => ok(body.starts_with("CON Your loan")),
            (Journey::Balance, _) => ok(body == "END You have no active loan."),
            (_, 1) => ok(body.starts_with("CON Choose a loan:")),
            (_, 2) => ok(body.starts_with("CON ") && body.contains("Choose amount")),
            (_, 3) => ok(body.starts_with("CON Borrow TZS")),
            _ if body.starts_with("END ") && body.contains("has been sent to your wallet") => Ok(Some("done")),
            _ if body.starts_with("END ") && body.contains("is being sent") => Ok(Some("pending")),
            _ => Err(()),
        }
    }
}

#[derive(Clone)]
struct Sess {
    id: String,
    msisdn: String,
    journey: Journey,
    loans: bool,
}

#[derive(Clone)]
struct Target {
    name: &'static str,
    hop: String,
    events: String,
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}

fn at_form(s: &Sess, text: &str) -> String {
    let phone = format!("+{}", s.msisdn);
    form(&[
        ("sessionId", &s.id),
        ("serviceCode", "*150*88#"),
        ("phoneNumber", &phone),
        ("networkCode", "64009"),
        ("text", text),
    ])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Transport,
    Status,
    Screen,
    Event,
}

#[derive(Default)]
struct SessionOutcome {
    /// (hop index, latency) of every hop that got an HTTP answer.
    hops: Vec<(usize, Duration)>,
    fault: Option<(Fault, String)>,
    tag: Option<&'static str>,
    events: usize,
}

/// An error with its causes (reqwest's own message hides them).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn short(body: &str) -> String {
    let one_line = body.replace('\n', "\\n");
    if one_line.chars().count() > 110 {
        format!("{}…", one_line.chars().take(110).collect::<String>())
    } else {
        one_line
    }
}

/// Walks one session; the first hop's latency counts from `scheduled` when given (open loop).
async fn run_session(
    client: &reqwest::Client,
    target: &Target,
    s: &Sess,
    scheduled: Option<Instant>,
) -> SessionOutcome {
    let mut out = SessionOutcome::default();
    let inputs = s.journey.inputs();
    for hop in 0..inputs.len() {
        let text = inputs[1..=hop].join("*");
        let started = if hop == 0 { scheduled.unwrap_or_else(Instant::now) } else { Instant::now() };
        let sent = client.post(&target.hop).header("content-type", FORM).body(at_form(s, &text)).send().await;
        let answered = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                response.text().await.map(|body| (status, body))
            }
            Err(error) => Err(error),
        };
        let (status, body) = match answered {
            Ok(answer) => answer,
            Err(error) => {
                out.fault = Some((Fault::Transport, format!("hop {} text={text:?}: {}", hop + 1, chain(&error))));
                return out;
            }
        };
        out.hops.push((hop, started.elapsed()));
        if status != 200 {
            out.fault = Some((Fault::Status, format!("hop {} text={text:?}: HTTP {status} {}", hop + 1, short(&body))));
            return out;
        }
        match s.journey.check(hop, s.loans, &body) {
            Ok(tag) => out.tag = tag.or(out.tag),
            Err(()) => {
                let what =
                    format!("hop {} text={text:?} ({:?}, loans={}): {}", hop + 1, s.journey, s.loans, short(&body));
                out.fault = Some((Fault::Screen, what));
                return out;
            }
        }
    }
    // The balance list is a CON screen: the subscriber hangs up and the aggregator says so (AT /events),
    // which ends the session and clears its resume snapshot, as it would in production.
    if s.journey == Journey::Balance && s.loans {
        let event = form(&[
            ("sessionId", &s.id),
            ("serviceCode", "*150*88#"),
            ("phoneNumber", &format!("+{}", s.msisdn)),
            ("networkCode", "64009"),
            ("status", "Success"),
            ("hopsCount", "2"),
        ]);
        let sent = client.post(&target.events).header("content-type", FORM).body(event).send().await;
        match sent {
            Ok(r) if r.status() == 200 => out.events += 1,
            Ok(r) => out.fault = Some((Fault::Event, format!("end-of-session event: HTTP {}", r.status()))),
            Err(e) => out.fault = Some((Fault::Event, format!("end-of-session event: {}", chain(&e)))),
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// Measurements: latency, throughput, Redis commands, CPU.

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// CPU seconds (user + system) of a process or thread, from its /proc stat file (100 ticks per second).
fn cpu_secs(path: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(path) else { return 0.0 };
    let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else { return 0.0 };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

#[derive(Clone, Default)]
struct Probe {
    redis_calls: BTreeMap<String, u64>,
    /// CPU seconds: this process minus the generator thread (the servers), the generator thread (this
    /// one: every probe runs on it), the sandbox LMS, Redis.
    cpu: [f64; 4],
}

struct Meter {
    redis: redis::aio::MultiplexedConnection,
    redis_pid: Option<u32>,
    lms_pid: u32,
}

impl Meter {
    async fn info(&self, section: &str) -> String {
        let mut conn = self.redis.clone();
        redis::cmd("INFO").arg(section).query_async::<String>(&mut conn).await.unwrap_or_default()
    }

    async fn probe(&self) -> Probe {
        let stats = self.info("commandstats").await;
        let redis_calls = stats
            .lines()
            .filter_map(|l| l.strip_prefix("cmdstat_"))
            .filter_map(|l| {
                let (name, rest) = l.split_once(':')?;
                let calls = rest.strip_prefix("calls=")?.split(',').next()?.parse().ok()?;
                Some((name.to_owned(), calls))
            })
            .filter(|(name, _)| name != "info")
            .collect();
        let generator = cpu_secs("/proc/thread-self/stat");
        let redis = self.redis_pid.map_or(0.0, |p| cpu_secs(&format!("/proc/{p}/stat")));
        let cpu = [
            cpu_secs("/proc/self/stat") - generator,
            generator,
            cpu_secs(&format!("/proc/{}/stat", self.lms_pid)),
            redis,
        ];
        Probe { redis_calls, cpu }
    }

    async fn used_memory(&self) -> i64 {
        let info = self.info("memory").await;
        info.lines().find_map(|l| l.strip_prefix("used_memory:")?.trim().parse().ok()).unwrap_or(0)
    }
}

#[derive(Default)]
struct Run {
    label: String,
    sessions: usize,
    elapsed: Duration,
    lat: Vec<Duration>,
    by_hop: Vec<Vec<Duration>>,
    faults: BTreeMap<Fault, usize>,
    examples: Vec<String>,
    tags: BTreeMap<&'static str, usize>,
    events: usize,
    redis_per_hop: BTreeMap<String, f64>,
    /// CPU milliseconds per hop: servers in this process, load generator, sandbox LMS, Redis.
    cpu_per_hop: [f64; 4],
    dropped: usize,
    /// Open loop: the most sessions in flight at once.
    peak_in_flight: usize,
}

impl Run {
    fn new(label: String, outcomes: Vec<SessionOutcome>, elapsed: Duration, before: &Probe, after: &Probe) -> Run {
        let mut run = Run { label, sessions: outcomes.len(), elapsed, ..Run::default() };
        for o in outcomes {
            for (hop, latency) in o.hops {
                run.lat.push(latency);
                if run.by_hop.len() <= hop {
                    run.by_hop.resize_with(hop + 1, Vec::new);
                }
                run.by_hop[hop].push(latency);
            }
            if let Some((fault, what)) = o.fault {
                *run.faults.entry(fault).or_default() += 1;
                if run.examples.len() < 5 {
                    run.examples.push(format!("{fault:?}: {what}"));
                }
            }
            if let Some(tag) = o.tag {
                *run.tags.entry(tag).or_default() += 1;
            }
            run.events += o.events;
        }
        run.lat.sort();
        run.by_hop.iter_mut().for_each(|v| v.sort());
        let hops = run.lat.len().max(1) as f64;
        for (name, calls) in &after.redis_calls {
            let delta = calls.saturating_sub(before.redis_calls.get(name).copied().unwrap_or(0));
            if delta > 0 {
                run.redis_per_hop.insert(name.clone(), delta as f64 / hops);
            }
        }
        for i in 0..4 {
            run.cpu_per_hop[i] = (after.cpu[i] - before.cpu[i]) * 1e3 / hops;
        }
        run
    }

    /// Two runs of the same kind as one: latencies pooled, time and counts added, per-hop rates weighted.
    fn merge(mut self, other: Run) -> Run {
        let (a, b) = (self.hops() as f64, other.hops() as f64);
        let weigh = |x: f64, y: f64| if a + b > 0.0 { (x * a + y * b) / (a + b) } else { 0.0 };
        let names: Vec<String> = self.redis_per_hop.keys().chain(other.redis_per_hop.keys()).cloned().collect();
        for name in names {
            let x = self.redis_per_hop.get(&name).copied().unwrap_or(0.0);
            let y = other.redis_per_hop.get(&name).copied().unwrap_or(0.0);
            self.redis_per_hop.insert(name, weigh(x, y));
        }
        for i in 0..4 {
            self.cpu_per_hop[i] = weigh(self.cpu_per_hop[i], other.cpu_per_hop[i]);
        }
        self.sessions += other.sessions;
        self.elapsed += other.elapsed;
        self.lat.extend(other.lat);
        self.lat.sort();
        for (i, hop) in other.by_hop.into_iter().enumerate() {
            if self.by_hop.len() <= i {
                self.by_hop.resize_with(i + 1, Vec::new);
            }
            self.by_hop[i].extend(hop);
            self.by_hop[i].sort();
        }
        for (fault, n) in other.faults {
            *self.faults.entry(fault).or_default() += n;
        }
        self.examples.extend(other.examples);
        self.examples.truncate(5);
        for (tag, n) in other.tags {
            *self.tags.entry(tag).or_default() += n;
        }
        self.events += other.events;
        self.dropped += other.dropped;
        self
    }

    fn hops(&self) -> usize {
        self.lat.len()
    }

    fn per_sec(&self) -> f64 {
        self.hops() as f64 / self.elapsed.as_secs_f64()
    }

    fn errors(&self) -> usize {
        self.faults.values().sum()
    }

    fn redis_total(&self) -> f64 {
        self.redis_per_hop.values().sum()
    }

    fn redis_breakdown(&self) -> String {
        let mut top: Vec<(&String, &f64)> = self.redis_per_hop.iter().filter(|(_, v)| **v >= 0.05).collect();
        top.sort_by(|a, b| b.1.total_cmp(a.1));
        top.iter().map(|(k, v)| format!("{k} {v:.2}")).collect::<Vec<_>>().join(", ")
    }

    fn print_errors(&self) {
        if self.errors() > 0 || self.dropped > 0 {
            println!(
                "  !! {}: {} failed sessions {:?}, {} dropped arrivals",
                self.label,
                self.errors(),
                self.faults,
                self.dropped
            );
            for e in &self.examples {
                println!("     e.g. {e}");
            }
        }
    }
}

async fn closed(
    client: &reqwest::Client,
    meter: &Meter,
    target: &Target,
    label: String,
    sessions: &[Sess],
    concurrency: usize,
) -> Run {
    let before = meter.probe().await;
    let started = Instant::now();
    let outcomes: Vec<SessionOutcome> = futures::stream::iter(sessions)
        .map(|s| run_session(client, target, s, None))
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let after = meter.probe().await;
    Run::new(label, outcomes, elapsed, &before, &after)
}

/// Sessions arrive at a fixed rate (two hops each) whatever the answers do; latency of the first hop
/// counts from the scheduled arrival, so queueing in the generator or the server is not hidden.
async fn open_loop(
    client: &reqwest::Client,
    meter: &Meter,
    target: &Target,
    hops_per_sec: f64,
    sessions: Vec<Sess>,
) -> Run {
    let every = Duration::from_secs_f64(2.0 / hops_per_sec);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let before = meter.probe().await;
    let started = Instant::now();
    let mut handles = Vec::with_capacity(sessions.len());
    let (mut dropped, mut peak) = (0, 0);
    for (i, s) in sessions.into_iter().enumerate() {
        let at = started + every * i as u32;
        tokio::time::sleep_until(at.into()).await;
        if in_flight.load(Ordering::Relaxed) >= OPEN_LOOP_CAP {
            dropped += 1;
            continue;
        }
        peak = peak.max(in_flight.fetch_add(1, Ordering::Relaxed) + 1);
        let (client, target, in_flight) = (client.clone(), target.clone(), in_flight.clone());
        handles.push(tokio::spawn(async move {
            let outcome = run_session(&client, &target, &s, Some(at)).await;
            in_flight.fetch_sub(1, Ordering::Relaxed);
            outcome
        }));
    }
    let outcomes: Vec<SessionOutcome> = futures::future::join_all(handles).await.into_iter().flatten().collect();
    let elapsed = started.elapsed();
    let after = meter.probe().await;
    let mut run = Run::new(format!("open loop {hops_per_sec:.0} hops/s"), outcomes, elapsed, &before, &after);
    run.dropped = dropped;
    run.peak_in_flight = peak;
    run
}

// ------------------------------------------------------------------------------------------------

struct Ctx {
    client: reqwest::Client,
    meter: Meter,
    redis_url: String,
    prefix: String,
    lms: String,
    gateway: Target,
    floor: Target,
    money: MoneyService,
    sessions: usize,
    concurrency: Vec<usize>,
    borrow_sessions: usize,
    memory_sessions: usize,
    phases: Vec<&'static str>,
}

fn msisdn(block: usize, i: usize) -> String {
    format!("25571{:07}", block * 1_000_000 + i)
}

fn sessions_of(tag: &str, journey: Journey, numbers: impl Iterator<Item = (String, bool)>) -> Vec<Sess> {
    numbers
        .enumerate()
        .map(|(i, (msisdn, loans))| Sess { id: format!("ATUid_{tag}_{i}"), msisdn, journey, loans })
        .collect()
}

fn balance_sessions(tag: &str, n: usize, only_loan_free: bool) -> Vec<Sess> {
    let numbers = (0..POOL).filter(|i| !only_loan_free || i % LOAN_EVERY != 0).cycle().take(n);
    sessions_of(tag, Journey::Balance, numbers.map(|i| (msisdn(0, i), i % LOAN_EVERY == 0)))
}

async fn generate(ctx: Ctx) -> anyhow::Result<()> {
    let c = &ctx;
    let bearer = lms_token(&c.client, &c.lms).await?;
    let pool: Vec<String> = (0..POOL).map(|i| msisdn(0, i)).collect();
    let t = Instant::now();
    seed(&c.client, &c.lms, &bearer, &pool, false).await?;
    let holders: Vec<String> = pool.iter().step_by(LOAN_EVERY).cloned().collect();
    seed(&c.client, &c.lms, &bearer, &holders, true).await?;
    println!(
        "seeded the sandbox LMS: {} customers, {} with an active loan ({:.1} s)",
        pool.len(),
        holders.len(),
        t.elapsed().as_secs_f64()
    );

    // Warm both servers (connections, token, script cache, products cache).
    for target in [&c.floor, &c.gateway] {
        let warm = balance_sessions(&format!("warm{}", target.name), 400, false);
        let run = closed(&c.client, &c.meter, target, format!("warm-up {}", target.name), &warm, 16).await;
        run.print_errors();
    }

    // 1. Balance journey, closed loop at each concurrency, in two rounds ordered floor, gateway, gateway,
    //    floor so that drift on this shared machine hits both alike; each side's rounds are merged.
    let mut balance: Vec<(usize, Run, Run)> = Vec::new();
    for &conc in c.concurrency.iter().filter(|_| c.phases.contains(&"balance")) {
        let half = c.sessions.div_ceil(2);
        let mut runs: Vec<(bool, Run)> = Vec::new();
        for (round, is_gateway) in [false, true, true, false].into_iter().enumerate() {
            let target = if is_gateway { &c.gateway } else { &c.floor };
            let sessions = balance_sessions(&format!("{}{conc}r{round}", target.name), half, false);
            let label = format!("{} c={conc}", target.name);
            runs.push((is_gateway, closed(&c.client, &c.meter, target, label, &sessions, conc).await));
        }
        let mut merged = |gateway: bool| {
            let mut side = runs.iter_mut().filter(|(g, _)| *g == gateway).map(|(_, r)| std::mem::take(r));
            let first = side.next().unwrap_or_default();
            side.fold(first, Run::merge)
        };
        let (floor, gateway) = (merged(false), merged(true));
        println!(
            "balance c={conc:<3} floor {:>6.0} hops/s p99 {:>6.2} ms | gateway {:>6.0} hops/s p99 {:>6.2} ms",
            floor.per_sec(),
            ms(pct(&floor.lat, 0.99)),
            gateway.per_sec(),
            ms(pct(&gateway.lat, 0.99))
        );
        floor.print_errors();
        gateway.print_errors();
        balance.push((conc, floor, gateway));
    }

    // 2. Open loop on the gateway: 10,000 hops/s, else the highest of a ladder of lower rates that holds.
    let best = balance.iter().map(|(_, _, g)| g.per_sec()).fold(0.0, f64::max);
    let mut rates = vec![OPEN_LOOP_TARGET];
    rates.extend(
        [1.2, 1.1, 1.0, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5, 0.45, 0.4]
            .iter()
            .map(|f| (best * f / 100.0).round() * 100.0),
    );
    rates.retain(|r| *r > 0.0);
    let mut open: Vec<(f64, Run, bool)> = Vec::new();
    for (k, rate) in rates.into_iter().enumerate().filter(|_| c.phases.contains(&"open")) {
        if k > 0 && rate >= OPEN_LOOP_TARGET {
            continue;
        }
        let n = (rate * OPEN_LOOP_SECS / 2.0) as usize;
        let run = open_loop(&c.client, &c.meter, &c.gateway, rate, balance_sessions(&format!("o{k}"), n, true)).await;
        // Sustained: every arrival served, no queue build-up (p99 within 100 ms, throughput kept up).
        let sustained = run.dropped == 0
            && run.errors() == 0
            && run.per_sec() >= 0.97 * rate
            && pct(&run.lat, 0.99) <= Duration::from_millis(100);
        println!(
            "open loop target {rate:>6.0} hops/s: achieved {:>6.0} hops/s, p50 {:.2} ms, p99 {:.2} ms, dropped {}, errors {} -> {}",
            run.per_sec(),
            ms(pct(&run.lat, 0.5)),
            ms(pct(&run.lat, 0.99)),
            run.dropped,
            run.errors(),
            if sustained { "sustained" } else { "NOT sustained" }
        );
        run.print_errors();
        open.push((rate, run, sustained));
        // Let a saturated run's backlog (and the sandbox LMS) settle before the next one.
        tokio::time::sleep(Duration::from_secs(2)).await;
        if sustained {
            break;
        }
    }

    // 3. Borrow journey on the gateway, fresh registered numbers (one loan each).
    let mut borrow: Vec<(usize, Run)> = Vec::new();
    for (k, &conc) in c.concurrency.iter().enumerate().filter(|_| c.phases.contains(&"borrow")) {
        let numbers: Vec<String> = (0..c.borrow_sessions).map(|i| msisdn(1 + k, i)).collect();
        seed(&c.client, &c.lms, &bearer, &numbers, false).await?;
        let sessions = sessions_of(&format!("b{conc}"), Journey::Borrow, numbers.into_iter().map(|m| (m, false)));
        let run = closed(&c.client, &c.meter, &c.gateway, format!("borrow c={conc}"), &sessions, conc).await;
        println!(
            "borrow  c={conc:<3} gateway {:>6.0} hops/s p99 {:>7.2} ms, outcomes {:?}",
            run.per_sec(),
            ms(pct(&run.lat, 0.99)),
            run.tags
        );
        run.print_errors();
        borrow.push((conc, run));
        wait_for_inbox(&c.money).await;
    }

    // 4. Memory per live session: sessions left at the amount list (largest state + resume snapshot).
    let memory = if c.phases.contains(&"memory") { Some(memory_phase(c, &bearer).await?) } else { None };

    // Only the gateway, balance journey at the highest concurrency (e.g. to run under `perf record`).
    if c.phases.contains(&"soak") {
        let conc = c.concurrency.iter().copied().max().unwrap_or(64);
        let sessions = balance_sessions("soak", c.sessions, false);
        let run = closed(&c.client, &c.meter, &c.gateway, format!("soak c={conc}"), &sessions, conc).await;
        println!("soak (gateway only, balance, c={conc}):");
        println!("{}", row("  gateway", &run));
        run.print_errors();
    }

    report(c, &balance, &open, &borrow, memory.as_ref());
    Ok(())
}

async fn memory_phase(c: &Ctx, bearer: &str) -> anyhow::Result<(Memory, Run)> {
    let numbers: Vec<String> = (0..c.memory_sessions).map(|i| msisdn(8, i)).collect();
    seed(&c.client, &c.lms, bearer, &numbers, false).await?;
    let sessions = sessions_of("mem", Journey::Partial, numbers.into_iter().map(|m| (m, false)));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let used_before = c.meter.used_memory().await;
    let conc = c.concurrency.iter().copied().max().unwrap_or(32);
    let run = closed(&c.client, &c.meter, &c.gateway, "memory sessions".into(), &sessions, conc).await;
    let used_after = c.meter.used_memory().await;
    run.print_errors();
    Ok((measure_memory(c, &sessions, used_after - used_before).await, run))
}

async fn wait_for_inbox(money: &MoneyService) {
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        match money.store.inbox_stats().await {
            Ok(stats) if stats.pending == 0 => break,
            Ok(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(_) => break,
        }
    }
}

struct Memory {
    sessions: usize,
    sampled: usize,
    session_usage: f64,
    snapshot_usage: f64,
    record_bytes: f64,
    snapshot_bytes: f64,
    missing: usize,
    locks_left: usize,
    used_delta: i64,
    session_ttl_ms: i64,
    snapshot_ttl_ms: i64,
}

async fn measure_memory(c: &Ctx, sessions: &[Sess], used_delta: i64) -> Memory {
    let mut conn = c.meter.redis.clone();
    let step = (sessions.len() / 200).max(1);
    let mut m = Memory {
        sessions: sessions.len(),
        sampled: 0,
        session_usage: 0.0,
        snapshot_usage: 0.0,
        record_bytes: 0.0,
        snapshot_bytes: 0.0,
        missing: 0,
        locks_left: 0,
        used_delta,
        session_ttl_ms: 0,
        snapshot_ttl_ms: 0,
    };
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
        let record: i64 = redis::cmd("HSTRLEN").arg(&key).arg("d").query_async(&mut conn).await.unwrap_or(0);
        let snap_len: i64 = redis::cmd("STRLEN").arg(&snapshot).query_async(&mut conn).await.unwrap_or(0);
        let lock: i64 = redis::cmd("EXISTS").arg(format!("{key}:lock")).query_async(&mut conn).await.unwrap_or(0);
        if m.sampled == 0 {
            m.session_ttl_ms = redis::cmd("PTTL").arg(&key).query_async(&mut conn).await.unwrap_or(0);
            m.snapshot_ttl_ms = redis::cmd("PTTL").arg(&snapshot).query_async(&mut conn).await.unwrap_or(0);
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

fn row(label: &str, r: &Run) -> String {
    format!(
        "{label:<9} {:>8.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>6.1}  {:.3}/{:.3}/{:.3}/{:.3}",
        r.per_sec(),
        ms(pct(&r.lat, 0.5)),
        ms(pct(&r.lat, 0.9)),
        ms(pct(&r.lat, 0.99)),
        ms(r.lat.last().copied().unwrap_or_default()),
        r.errors(),
        r.redis_total(),
        r.cpu_per_hop[0],
        r.cpu_per_hop[1],
        r.cpu_per_hop[2],
        r.cpu_per_hop[3],
    )
}

fn report(
    c: &Ctx,
    balance: &[(usize, Run, Run)],
    open: &[(f64, Run, bool)],
    borrow: &[(usize, Run)],
    memory: Option<&(Memory, Run)>,
) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!("================================================================================================");
    println!(
        "USSD load, {cores} cores shared by gateway, floor, load generator, sandbox LMS (child) and Redis; {} sessions per run",
        c.sessions
    );
    println!("Redis {} (prefix {}), LMS {} (separate process)", c.redis_url, c.prefix, c.lms);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at the end: {} (anything else running on this machine competes too)", load.trim());
    if !balance.is_empty() {
        print_balance(balance);
    }
    if !open.is_empty() {
        print_open(open);
    }
    if !borrow.is_empty() {
        print_borrow(borrow);
    }
    if let Some((m, mem_run)) = memory {
        print_memory(m, mem_run);
    }
}

fn print_balance(balance: &[(usize, Run, Run)]) {
    println!();
    println!("Balance journey (dial, \"2\"; 1 in {LOAN_EVERY} numbers holds a loan -> CON list + AT end event)");
    println!(
        "{:<9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>6}  CPU ms per hop",
        "", "hops/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "redis"
    );
    println!("{:<62} {:>6}  server/generator/lms/redis", "", "/hop");
    for (conc, floor, gateway) in balance {
        println!("c={conc}");
        println!("{}", row("  floor", floor));
        println!("{}", row("  gateway", gateway));
        println!(
            "  ratio gateway/floor: throughput {:.0}%, p50 {:.2}x, p99 {:.2}x",
            100.0 * gateway.per_sec() / floor.per_sec(),
            ms(pct(&gateway.lat, 0.5)) / ms(pct(&floor.lat, 0.5)).max(1e-9),
            ms(pct(&gateway.lat, 0.99)) / ms(pct(&floor.lat, 0.99)).max(1e-9),
        );
        for (name, r) in [("floor", floor), ("gateway", gateway)] {
            let hop = |i: usize| r.by_hop.get(i).map_or(0.0, |v| ms(pct(v, 0.99)));
            println!(
                "    {name:<7} p99 hop1 {:.2} ms, hop2 {:.2} ms; redis/hop: {}",
                hop(0),
                hop(1),
                r.redis_breakdown()
            );
        }
    }
}

fn print_open(open: &[(f64, Run, bool)]) {
    println!();
    println!(
        "Open loop on the gateway (balance journey, loan-free numbers, {OPEN_LOOP_SECS} s of arrivals each; first-hop"
    );
    println!(
        "latency from the scheduled arrival; sustained = nothing dropped or failed, >= 97% of target, p99 <= 100 ms)"
    );
    println!(
        "{:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7}  {:<13}  CPU ms per hop",
        "target/s", "achieved/s", "p50 ms", "p90 ms", "p99 ms", "dropped", "in flight", "errors", "verdict"
    );
    for (rate, r, ok) in open {
        println!(
            "{rate:>10.0} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>8} {:>9} {:>7}  {:<13}  {:.3}/{:.3}/{:.3}/{:.3}",
            r.per_sec(),
            ms(pct(&r.lat, 0.5)),
            ms(pct(&r.lat, 0.9)),
            ms(pct(&r.lat, 0.99)),
            r.dropped,
            r.peak_in_flight,
            r.errors(),
            if *ok { "sustained" } else { "not sustained" },
            r.cpu_per_hop[0],
            r.cpu_per_hop[1],
            r.cpu_per_hop[2],
            r.cpu_per_hop[3],
        );
    }
}

fn print_borrow(borrow: &[(usize, Run)]) {
    println!();
    println!("Borrow journey on the gateway (dial, 1, 1, 1, 1 Confirm; the last hop waits for the payout saga)");
    println!(
        "{:<6} {:>9} {:>8} {:>8} {:>10} {:>13} {:>14} {:>7}  outcomes",
        "", "sessions", "hops/s", "p50 ms", "p99 ms", "p99 hops1-4", "p99 confirm", "errors"
    );
    for (conc, r) in borrow {
        let mut first: Vec<Duration> = r.by_hop.iter().take(4).flatten().copied().collect();
        first.sort();
        let confirm = r.by_hop.get(4).map_or(Duration::ZERO, |v| pct(v, 0.99));
        println!(
            "{:<6} {:>9} {:>8.0} {:>8.2} {:>10.2} {:>13.2} {:>14.2} {:>7}  {:?}",
            format!("c={conc}"),
            r.sessions,
            r.per_sec(),
            ms(pct(&r.lat, 0.5)),
            ms(pct(&r.lat, 0.99)),
            ms(pct(&first, 0.99)),
            ms(confirm),
            r.errors(),
            r.tags
        );
    }
}

fn print_memory(m: &Memory, mem_run: &Run) {
    println!();
    println!(
        "Memory per live session ({} sessions left at the amount list, {} sampled{}):",
        m.sessions,
        m.sampled,
        if m.missing > 0 { format!(", {} sample keys missing", m.missing) } else { String::new() }
    );
    println!(
        "  MEMORY USAGE session hash {:.0} B (record {:.0} B of JSON, PTTL {} ms) + resume snapshot {:.0} B (value {:.0} B, PTTL {} ms) = {:.0} B per live session (target <= 2048)",
        m.session_usage,
        m.record_bytes,
        m.session_ttl_ms,
        m.snapshot_usage,
        m.snapshot_bytes,
        m.snapshot_ttl_ms,
        m.session_usage + m.snapshot_usage
    );
    println!(
        "  INFO used_memory delta {} B / {} sessions = {:.0} B per session; locks left behind in the sample: {}",
        m.used_delta,
        m.sessions,
        m.used_delta as f64 / m.sessions.max(1) as f64,
        m.locks_left
    );
    println!(
        "  (the memory run itself: {:.0} hops/s, p99 {:.2} ms, {} errors)",
        mem_run.per_sec(),
        ms(pct(&mem_run.lat, 0.99)),
        mem_run.errors()
    );
}

async fn cleanup(redis_url: &str, prefix: &str) -> anyhow::Result<usize> {
    let mut conn = redis::Client::open(redis_url)?.get_multiplexed_async_connection().await?;
    let mut cursor: u64 = 0;
    let mut removed = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}:*"))
            .arg("COUNT")
            .arg(2000)
            .query_async(&mut conn)
            .await?;
        if !keys.is_empty() {
            removed += keys.len();
            redis::cmd("UNLINK").arg(&keys).query_async::<()>(&mut conn).await?;
        }
        if next == 0 {
            return Ok(removed);
        }
        cursor = next;
    }
}

async fn redis_up(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else { return false };
    let Ok(Ok(mut conn)) =
        tokio::time::timeout(Duration::from_secs(1), client.get_multiplexed_async_connection()).await
    else {
        return false;
    };
    redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok()
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let sessions: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let concurrency: Vec<usize> = args
        .get(2)
        .map(|a| a.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![16, 32, 64]);
    let borrow_sessions: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or((sessions / 5).max(1));
    let memory_sessions: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(sessions);

    let wanted = std::env::var("USSD_LOAD_PHASES").unwrap_or_else(|_| "balance,open,borrow,memory".into());
    let phases: Vec<&'static str> = ["balance", "open", "borrow", "memory", "soak"]
        .into_iter()
        .filter(|p| wanted.split(',').any(|w| w.trim() == *p))
        .collect();
    let redis_url = std::env::var("USSD_LOAD_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let mut own_redis = None;
    if !redis_up(&redis_url).await {
        println!("no Redis answers at {redis_url}; starting redis-server on 127.0.0.1:6379");
        own_redis = Some(
            Command::new("redis-server")
                .args(["--port", "6379", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .spawn()?,
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        anyhow::ensure!(redis_up(&redis_url).await, "redis-server did not come up");
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at the start: {}", load.trim());
    let prefix = format!("ussdload-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);

    let lms = start_lms()?;
    let lms_pid = lms.child.id();

    let mut settings = Settings::local_defaults();
    settings.server.port = 0;
    settings.redis.url = Some(redis_url.clone().into());
    settings.redis.key_prefix = prefix.clone();
    settings.lms.mode = LmsMode::Http;
    settings.lms.auth_base_url = lms.base.clone();
    settings.lms.api_base_url = lms.base.clone();
    settings.lms.partner_email = PARTNER.0.into();
    settings.lms.partner_password = PARTNER.1.to_owned().into();
    settings.telemetry.filter = "warn".into();
    mkopo::telemetry::init(&settings.telemetry);
    let app = Application::build(settings).await?;
    let gateway_base = app.base_url();
    let money = app.money().clone();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());

    let http = reqwest::Client::new();
    let floor = Floor {
        redis: redis::aio::ConnectionManager::new(redis::Client::open(redis_url.as_str())?).await?,
        bearer: lms_token(&http, &lms.base).await?,
        http,
        lms: lms.base.clone(),
        prefix: prefix.clone(),
        save: redis::Script::new(SAVE_VERSIONED),
        unlock: redis::Script::new(UNLOCK),
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let floor_base = format!("http://{}", listener.local_addr()?);
    let data = web::Data::new(floor);
    let floor_server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/floor", web::post().to(floor_hop))
            .route("/floor/events", web::post().to(floor_event))
    })
    .listen(listener)?
    .run();
    let floor_handle = floor_server.handle();
    tokio::spawn(floor_server);

    let redis_client = redis::Client::open(redis_url.as_str())?;
    let info: String = {
        let mut conn = redis_client.get_multiplexed_async_connection().await?;
        redis::cmd("INFO").arg("server").query_async(&mut conn).await?
    };
    let redis_pid = info.lines().find_map(|l| l.strip_prefix("process_id:")?.trim().parse().ok());

    // The generator runs on its own thread and runtime, so the servers' runtimes (and the Redis
    // connection drivers on this one) are not also scheduling the client.
    let (done, result) = tokio::sync::oneshot::channel();
    let gateway = Target {
        name: "gateway",
        hop: format!("{gateway_base}/ussd/africastalking"),
        events: format!("{gateway_base}/ussd/africastalking/events"),
    };
    let floor_target =
        Target { name: "floor", hop: format!("{floor_base}/floor"), events: format!("{floor_base}/floor/events") };
    let (url, pfx, lms_base) = (redis_url.clone(), prefix.clone(), lms.base.clone());
    let generator = std::thread::Builder::new().name("ussd-load-gen".into()).spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let outcome = runtime.block_on(async move {
            let meter = Meter { redis: redis_client.get_multiplexed_async_connection().await?, redis_pid, lms_pid };
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(OPEN_LOOP_CAP)
                .timeout(Duration::from_secs(15))
                .build()?;
            let ctx = Ctx {
                client,
                meter,
                redis_url: url,
                prefix: pfx,
                lms: lms_base,
                gateway,
                floor: floor_target,
                money,
                sessions,
                concurrency,
                borrow_sessions,
                memory_sessions,
                phases,
            };
            generate(ctx).await
        });
        let _ = done.send(outcome);
    })?;
    let outcome = result.await.unwrap_or_else(|_| Err(anyhow::anyhow!("the load generator thread died")));
    let _ = generator.join();

    handle.stop(true).await;
    floor_handle.stop(true).await;
    match cleanup(&redis_url, &prefix).await {
        Ok(n) => println!("\nremoved {n} keys under {prefix}:"),
        Err(e) => println!("\ncould not remove the keys under {prefix}: {e}"),
    }
    drop(lms);
    if let Some(mut redis) = own_redis {
        let _ = redis.kill();
    }
    outcome
}
