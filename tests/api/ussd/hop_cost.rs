//! What a hop costs the session store: Redis commands per hop over the balance journey (dial, then
//! My balance), counted on a Redis of the test's own, commands run inside scripts included.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::journeys::registered;
use super::phone::{Phone, Via};
use crate::health::OwnRedis;
use crate::helpers::{dec, TestApp};

/// Commands Redis ran that name `needle`, as `MONITOR` shows them while `journey` runs. `MONITOR`
/// rather than `INFO commandstats`: the app's background workers (inbox streams, event leases) keep
/// issuing commands of their own, and only the lines naming the subscriber are the hops'. It lists
/// the commands a script runs as well (`[0 lua]`), so those count too.
async fn commands_naming<F: std::future::Future<Output = ()>>(port: u16, needle: &str, journey: F) -> Vec<String> {
    let mut monitor = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "monitor"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("redis-cli must be installed (scripts/test installs it)");
    let stdout = monitor.stdout.take().unwrap();
    let lines = std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());
    // MONITOR answers OK once it is listening; give it that moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    journey.await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    monitor.kill().unwrap();
    monitor.wait().unwrap();
    let lines = lines.join().unwrap();
    lines.into_iter().filter(|l| l.contains(needle)).collect()
}

#[tokio::test]
async fn the_balance_journey_costs_at_most_three_redis_commands_per_hop() {
    let redis = OwnRedis::start().await;
    let app = TestApp::spawn_on_redis_at(&redis.url, |_| {}).await;
    let msisdn = Via::AfricasTalking.msisdn(1190);
    registered(&app, Via::AfricasTalking, &msisdn).await;
    app.sandbox.seed_loan_without_external_id(&msisdn, "1", dec("5000")).unwrap();
    let commands = commands_naming(redis.port, &msisdn, async {
        let mut phone = Phone::dial(&app, Via::AfricasTalking, &msisdn).await;
        phone.walk(&["My balance"]).await;
        assert!(phone.screen.text.starts_with("Halotel 7-Day Loan\nOwed: TZS 5,550\n"), "{}", phone.screen.text);
    })
    .await;
    let hops = 2;
    assert!(commands.len() <= 3 * hops, "{} commands over {hops} hops: {commands:#?}", commands.len());
    app.stop().await;
}
