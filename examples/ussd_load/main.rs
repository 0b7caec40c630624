//! Load generator for USSD hops (Africa's Talking dialect) against the real gateway on real Redis, with
//! the LMS answering from a separate process (`mkopo sandbox-lms`), next to a "floor" server that per
//! hop does only the same Redis round trips (the lock with the HMGET load in one pipeline; on the first
//! hop one MGET of the subscriber's language and resume mark; the resume pointer SET when a session
//! first stops mid-journey; the compare-and-set save with the unlock in one pipeline) and the same one
//! LMS call, then answers a fixed screen.
//!
//!     cargo build --release --bin mkopo --example ussd_load
//!     cargo run --release --example ussd_load -- [sessions] [concurrency[,concurrency...]] [borrow_sessions] [memory_sessions]
//!
//! Phases:
//! 1. balance journey (dial, "2" My balance) closed-loop at each concurrency, floor then gateway;
//! 2. open loop (a fixed arrival rate of sessions) at 10,000 hops/s, then lower rates until the gateway
//!    sustains one; the floor runs each rate just before the gateway;
//! 3. borrow journey (dial, "1" Borrow, "1" product, "1" amount, "1" Confirm) on the gateway;
//! 4. memory: sessions stopped at the amount list, `MEMORY USAGE` of their keys and `used_memory` delta.
//!
//! `USSD_LOAD_PHASES=balance,open,borrow,memory` (the default) picks phases; `soak` runs only the gateway
//! (or the floor, with `USSD_LOAD_SOAK=floor`) on the balance journey at the highest concurrency, e.g.
//! under `perf record`.
//!
//! Needs Redis at 127.0.0.1:6379 (or `USSD_LOAD_REDIS_URL`; a `redis-server` is started on 6379 if none
//! answers) and the `mkopo` binary next to the examples directory (or `MKOPO_BIN`). Every key written
//! carries a random prefix and is removed at the end. Everything shares this machine's cores: gateway,
//! floor, generator, sandbox LMS and Redis.

/// The allocator of the `mkopo` binary (src/main.rs), so the in-process gateway and floor run as the
/// product does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod floor;
mod lms;
mod measure;
mod memory;
mod phases;
mod phone;
mod report;
mod wire;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpServer};
use mkopo::config::{LmsMode, Settings};
use mkopo::startup::Application;

use crate::floor::{floor_event, floor_hop, Floor};
use crate::lms::{lms_token, start_lms};
use crate::measure::Meter;
use crate::phases::{generate, Ctx};
use crate::phone::Target;
use crate::report::loadavg;
use crate::wire::Wire;

const PARTNER: (&str, &str) = ("partner@sandbox.local", "sandbox");
/// Subscribers dialling the balance journey; every 8th holds an active loan.
const POOL: usize = 10_000;
const LOAN_EVERY: usize = 8;
const OPEN_LOOP_TARGET: f64 = 10_000.0;
const OPEN_LOOP_SECS: f64 = 5.0;
/// Sessions in flight beyond which the open loop drops arrivals (and the rate counts as unsustainable).
const OPEN_LOOP_CAP: usize = 1_000;

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
    println!("load average at the start: {}", loadavg());
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
    // Quiet by default; `RUST_LOG=info USSD_LOAD_LOG_FORMAT=json` measures production's logging too (the
    // lines go to stdout with the report: filter them out, e.g. `| grep -v '^{'`).
    settings.telemetry.filter = "warn".into();
    if std::env::var("USSD_LOAD_LOG_FORMAT").is_ok_and(|f| f == "json") {
        settings.telemetry.format = mkopo::config::LogFormat::Json;
    }
    let _log = mkopo::telemetry::init(&settings.telemetry);
    let app = Application::build(settings).await?;
    let gateway_base = app.base_url();
    let money = app.money().clone();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());

    let http = reqwest::Client::new();
    let mut floor_redis = redis::aio::ConnectionManager::new(redis::Client::open(redis_url.as_str())?).await?;
    let (save_sha, unlock_sha) = floor::load_scripts(&mut floor_redis).await?;
    let floor = Floor {
        redis: floor_redis,
        save_sha,
        unlock_sha,
        bearer: lms_token(&http, &lms.base).await?,
        http,
        lms: lms.base.clone(),
        prefix: prefix.clone(),
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
        wire: Arc::new(Wire::new(&gateway_base)?),
        hop: "/ussd/africastalking".into(),
        events: "/ussd/africastalking/events".into(),
    };
    let floor_target = Target {
        name: "floor",
        wire: Arc::new(Wire::new(&floor_base)?),
        hop: "/floor".into(),
        events: "/floor/events".into(),
    };
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
