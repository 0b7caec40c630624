//! The real binary through a Redis outage: Redis is killed while hops and callbacks keep arriving, comes
//! back, the gateway serves again within the reconnect bound, and a SIGTERM shortly afterwards stops it
//! cleanly. A reconnect left running on a runtime that was shutting down used to panic here.

use std::time::{Duration, Instant};

use super::{callback, hop, ThrowawayRedis};
use crate::shutdown::{sigterm, wait_ready, Process};

/// One USSD dial and one signed callback; true when both were served (a `CON` menu and a 200).
async fn traffic(client: &reqwest::Client, base: &str, n: usize) -> bool {
    let receipt = format!("HEAL{n:06}");
    let served = hop(client, base, &format!("heal-{n}")).await;
    served && callback(client, base, &receipt, "L0000000018", "255713500001").await == 200
}

/// Keeps 32 senders busy while Redis is away for `outage`, so every HTTP worker and every background
/// task meets the outage and starts a reconnect of its own.
async fn traffic_during(client: &reqwest::Client, base: &str, outage: Duration, first: usize) {
    let started = Instant::now();
    let senders = (0..32).map(|lane| {
        let (client, base) = (client.clone(), base.to_owned());
        async move {
            let mut n = first + lane * 10_000;
            while started.elapsed() < outage {
                let _ = traffic(&client, &base, n).await;
                n += 1;
            }
        }
    });
    futures::future::join_all(senders).await;
}

#[tokio::test]
async fn after_a_redis_outage_the_binary_serves_again_quickly_and_a_sigterm_exits_cleanly() {
    let mut redis = ThrowawayRedis::start().await;
    let log = std::env::temp_dir().join(format!("mkopo-heal-{}.log", uuid::Uuid::new_v4().simple()));
    let env = vec![
        ("MKOPO_SERVER__PORT", "0".to_owned()),
        ("MKOPO_SERVER__WORKERS", "2".to_owned()),
        ("MKOPO_SERVER__SHUTDOWN_TIMEOUT", "3s".to_owned()),
        ("MKOPO_REDIS__URL", redis.url.clone()),
    ];
    let mut gateway = Process::start(&["serve"], &env, log.clone());
    wait_ready(&format!("{}/readyz", gateway.base)).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    assert!(traffic(&client, &gateway.base, 0).await, "the gateway serves before the outage");

    redis.kill();
    traffic_during(&client, &gateway.base, Duration::from_millis(3500), 100_000).await;
    redis.restart().await;
    let back = Instant::now();
    let mut n = 1;
    while !traffic(&client, &gateway.base, n).await {
        assert!(back.elapsed() < Duration::from_secs(6), "hops and callbacks still fail 6s after Redis came back");
        n += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("hops and callbacks served again {:?} after Redis answered", back.elapsed());

    // A second outage, and the SIGTERM as soon as Redis is back: reconnects are still under way.
    redis.kill();
    traffic_during(&client, &gateway.base, Duration::from_millis(2000), 500_000).await;
    redis.restart().await;
    sigterm(&gateway.pid());
    let status = gateway.exit_within(Duration::from_secs(15)).await;
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let panics: Vec<&str> = output.lines().filter(|l| l.contains("panicked")).collect();
    assert!(panics.is_empty(), "the gateway panicked (log {}):\n{}", log.display(), panics.join("\n"));
    let status = status.unwrap_or_else(|| panic!("the gateway did not exit after SIGTERM; log {}", log.display()));
    assert!(status.success(), "the gateway exited with {status}; log {}", log.display());
    let _ = std::fs::remove_file(&log);
}
