//! Load generator for callback ingestion (verify → dedupe → durable append → acknowledge).
//!
//! Starts its own redis-server with AOF (`appendfsync everysec`), runs the real gateway against it,
//! and a "floor" server that does nothing per request but the same inbox Lua script. Both get the
//! same signed callbacks at the same concurrency; it prints throughput and latency percentiles of
//! each and the ratio. Then it measures how fast the workers drain the inbox into the sandbox LMS.
//!
//!     cargo run --release --example ingest_load -- [callbacks] [concurrency]
//!
//! Needs `redis-server` on PATH.

/// The allocator of the `mkopo` binary (src/main.rs), so the in-process gateway and floor run as the
/// product does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use futures::StreamExt;
use mkopo::config::Settings;
use mkopo::momo::signature::{sign, WebhookSecret};
use mkopo::startup::Application;

const SECRET: &str = "whsec_bWtvcG8tdGVzdC12ZWN0b3Itc2VjcmV0LTMyYnl0ZXM=";

fn body(i: usize) -> String {
    format!(
        r#"{{"type":"payment.received","timestamp":"2026-05-25T09:14:03Z","data":{{"kind":"payment","reference":null,"receipt":"LOAD{i:06}","account":"L0000123455","msisdn":"255712345678","amount":"100.00","currency":"TZS","status":"completed","failure_code":null,"failure_message":null,"occurred_at":"2026-05-25T09:13:58Z"}}}}"#
    )
}

struct Report {
    per_sec: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

async fn fire(url: &str, n: usize, concurrency: usize) -> Report {
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let secret = WebhookSecret::parse(SECRET).unwrap();
    let requests: Vec<(String, String, String)> = (0..n)
        .map(|i| {
            let (id, body) = (format!("evt_load_{i}"), body(i));
            let ts = chrono::Utc::now().timestamp();
            let sig = sign(&secret, &id, ts, body.as_bytes());
            (format!("{id}|{ts}"), sig, body)
        })
        .collect();
    let started = Instant::now();
    let results: Vec<(Duration, bool)> = futures::stream::iter(requests)
        .map(|(id_ts, sig, body)| {
            let client = client.clone();
            async move {
                let (id, ts) = id_ts.split_once('|').unwrap();
                let t = Instant::now();
                let ok = client
                    .post(url)
                    .header("webhook-id", id)
                    .header("webhook-timestamp", ts)
                    .header("webhook-signature", sig)
                    .body(body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                (t.elapsed(), ok)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let mut latencies: Vec<Duration> = results.iter().map(|r| r.0).collect();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Report {
        per_sec: n as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
        errors: results.iter().filter(|r| !r.1).count(),
    }
}

const INGEST: &str = "if redis.call('SET', KEYS[1], ARGV[1], 'NX') then redis.call('HSET', KEYS[2], 'state', 'received', 'record', ARGV[2]) redis.call('XADD', KEYS[3], '*', 'event', ARGV[3]) return 1 end return 0";

async fn floor(req: HttpRequest, body: web::Bytes, conn: web::Data<redis::aio::ConnectionManager>) -> HttpResponse {
    let id = req.headers().get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or("x").to_owned();
    let mut conn = conn.get_ref().clone();
    let script = redis::Script::new(INGEST);
    let mut call = script.prepare_invoke();
    call.key(format!("floor:dedupe:{id}"))
        .key(format!("floor:event:{id}"))
        .key("floor:inbox")
        .arg("now")
        .arg(body.as_ref())
        .arg(&id);
    match call.invoke_async::<i64>(&mut conn).await {
        Ok(_) => HttpResponse::Ok().body(r#"{"received":true}"#),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(64);

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let dir = std::env::temp_dir().join(format!("mkopo-load-{port}"));
    std::fs::create_dir_all(&dir)?;
    let mut redis_server = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"])
        .args(["--appendfsync", "everysec", "--dir", dir.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .spawn()?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let redis_url = format!("redis://127.0.0.1:{port}");

    let mut settings = Settings::local_defaults();
    settings.server.port = 0;
    settings.redis.url = Some(redis_url.clone().into());
    settings.money.workers = 2;
    let app = Application::build(settings).await?;
    let gateway = format!("{}/v1/callbacks/sandbox", app.base_url());
    let money = app.money().clone();
    tokio::spawn(app.run_until_stopped());

    let conn = redis::aio::ConnectionManager::new(redis::Client::open(redis_url.as_str())?).await?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let floor_url = format!("http://{}/floor", listener.local_addr()?);
    let data = web::Data::new(conn);
    tokio::spawn(
        HttpServer::new(move || App::new().app_data(data.clone()).route("/floor", web::post().to(floor)))
            .listen(listener)?
            .run(),
    );

    // Warm both up, then measure alternately so machine noise hits both.
    fire(&floor_url, 500, concurrency).await;
    let floor_report = fire(&floor_url, n, concurrency).await;
    let gateway_report = fire(&gateway, n, concurrency).await;
    for (name, r) in [("floor (script only)", &floor_report), ("gateway ingestion", &gateway_report)] {
        println!(
            "{name:>20}: {:>8.0}/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}",
            r.per_sec,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.errors
        );
    }
    println!("{:>20}: {:.0}% of the floor", "ratio", 100.0 * gateway_report.per_sec / floor_report.per_sec);

    // Drain: every callback names loan L0000123455, which does not exist, so each event costs one
    // LMS lookup per plan (customer lookup included) before it reaches suspense.
    let drain_started = Instant::now();
    loop {
        let stats = money.store.inbox_stats().await?;
        if stats.length == 0 && stats.pending == 0 {
            break;
        }
        if drain_started.elapsed() > Duration::from_secs(120) {
            println!("drain: {} entries left after 120 s", stats.length);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "{:>20}: {:.0} events/s ({} events in {:.1} s)",
        "worker drain",
        n as f64 / drain_started.elapsed().as_secs_f64(),
        n,
        drain_started.elapsed().as_secs_f64()
    );
    let _ = redis_server.kill();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
