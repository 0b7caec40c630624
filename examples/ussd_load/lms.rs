//! The sandbox LMS as a child process (`mkopo sandbox-lms`), its partner token, and seeding customers and loans.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use futures::StreamExt;
use serde::Deserialize;

use crate::PARTNER;

pub struct Lms {
    pub child: Child,
    pub base: String,
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

pub fn start_lms() -> anyhow::Result<Lms> {
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

pub async fn lms_token(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    #[derive(Deserialize)]
    struct Token {
        token: String,
    }
    let response = client.get(format!("{base}/v1/auth/token")).basic_auth(PARTNER.0, Some(PARTNER.1)).send().await?;
    anyhow::ensure!(response.status() == 200, "token: {}", response.status());
    Ok(response.json::<Token>().await?.token)
}

/// Registers customers (and optionally gives them a 7-day loan of 10,000), many at a time.
pub async fn seed(
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
