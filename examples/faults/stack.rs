//! One scenario's world: a fresh temp directory, Redis, the sandbox LMS, the sandbox wallet and the
//! gateway pointed at them by `MKOPO_*` variables alone, as an operator would run them.

use std::path::PathBuf;
use std::time::Duration;

use crate::procs::{answers, free_port, mkopo_bin, redis_answers, redis_server_bin, wait_until, Proc};
use crate::Options;

/// How long a process may take to answer after it was started.
const BOOT_BOUND: Duration = Duration::from_secs(30);

pub struct Stack {
    pub dir: PathBuf,
    pub redis_url: String,
    pub lms: String,
    pub wallet: String,
    pub gateway: String,
    pub redis: Proc,
    pub lms_proc: Proc,
    pub wallet_proc: Proc,
    pub gateway_proc: Proc,
    http: reqwest::Client,
}

impl Stack {
    /// Starts all four processes of scenario `name` and waits until each answers.
    pub async fn start(name: &str, options: &Options) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("mkopo-faults-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let (redis_port, lms_port, wallet_port, gateway_port) =
            (free_port()?, free_port()?, free_port()?, free_port()?);
        let redis_url = format!("redis://127.0.0.1:{redis_port}");
        let lms = format!("http://127.0.0.1:{lms_port}");
        let wallet = format!("http://127.0.0.1:{wallet_port}");
        let gateway = format!("http://127.0.0.1:{gateway_port}");
        let bin = mkopo_bin()?;
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let data = dir.join("redis");
        std::fs::create_dir_all(&data)?;
        let redis = Proc::new(
            "redis",
            redis_server_bin()?,
            strings(&["--port", &redis_port.to_string(), "--bind", "127.0.0.1", "--save", ""])
                .into_iter()
                .chain(strings(&["--appendonly", "yes", "--appendfsync", "always", "--dir"]))
                .chain([data.display().to_string()])
                .collect(),
            Vec::new(),
            &dir,
        );
        let quiet = vec![("MKOPO_TELEMETRY__FILTER".to_owned(), "info".to_owned())];
        let mut lms_env = quiet.clone();
        if options.lms_ignores_keys {
            lms_env.push(("MKOPO_SANDBOX__LMS__QUIRKS__IGNORE_IDEMPOTENCY_KEY".into(), "true".into()));
        }
        let lms_proc = Proc::new(
            "sandbox-lms",
            bin.clone(),
            strings(&["sandbox-lms", "--port", &lms_port.to_string()]),
            lms_env,
            &dir,
        );
        let callback_url = format!("{gateway}/v1/callbacks/sandbox");
        let wallet_proc = Proc::new(
            "sandbox-wallet",
            bin.clone(),
            strings(&["sandbox-wallet", "--port", &wallet_port.to_string(), "--callback-url", &callback_url]),
            quiet,
            &dir,
        );
        let gateway_proc = Proc::new(
            "gateway",
            bin,
            strings(&["serve"]),
            gateway_env(gateway_port, &redis_url, &lms, &wallet, &options.gateway_env),
            &dir,
        );
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let mut stack =
            Stack { dir, redis_url, lms, wallet, gateway, redis, lms_proc, wallet_proc, gateway_proc, http };
        stack.start_redis().await?;
        stack.lms_proc.spawn()?;
        stack.wallet_proc.spawn()?;
        let (http, lms, wallet) = (stack.http.clone(), stack.lms.clone(), stack.wallet.clone());
        let clock = format!("{lms}/sandbox/clock");
        wait_until("the sandbox LMS", &stack.lms_proc.log, BOOT_BOUND, || answers(&http, &clock, 200)).await?;
        let rules = format!("{wallet}/sandbox/rules");
        wait_until("the sandbox wallet", &stack.wallet_proc.log, BOOT_BOUND, || answers(&http, &rules, 200)).await?;
        stack.start_gateway().await?;
        Ok(stack)
    }

    /// Starts (or restarts, on the same port and append-only file) Redis; returns when it answers PING.
    pub async fn start_redis(&mut self) -> anyhow::Result<Duration> {
        self.redis.spawn()?;
        let url = self.redis_url.clone();
        wait_until("redis-server", &self.redis.log, BOOT_BOUND, || redis_answers(&url)).await
    }

    /// Starts the gateway; returns when `/readyz` says ready.
    pub async fn start_gateway(&mut self) -> anyhow::Result<Duration> {
        self.gateway_proc.spawn()?;
        let (http, ready) = (self.http.clone(), format!("{}/readyz", self.gateway));
        wait_until("the gateway", &self.gateway_proc.log, BOOT_BOUND, || answers(&http, &ready, 200)).await
    }

    /// Every log's lines that tell of a panic, with the log's name.
    pub fn panics(&self) -> Vec<String> {
        [&self.redis, &self.lms_proc, &self.wallet_proc, &self.gateway_proc]
            .iter()
            .flat_map(|p| p.panic_lines().into_iter().map(move |l| format!("{}: {l}", p.name)))
            .collect()
    }

    pub fn logs(&self) -> Vec<PathBuf> {
        [&self.redis, &self.lms_proc, &self.wallet_proc, &self.gateway_proc].iter().map(|p| p.log.clone()).collect()
    }

    /// Stops every process and removes the directory (only after a passing scenario: a failing one
    /// keeps its logs for the operator).
    pub fn dispose(mut self, keep: bool) {
        for p in [&mut self.gateway_proc, &mut self.wallet_proc, &mut self.lms_proc, &mut self.redis] {
            p.kill9();
        }
        if !keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The gateway's settings: Redis, the LMS over HTTP, the sandbox wallet as a generic wallet at its own
/// URL, and money timers fast enough for a test of seconds.
/// `extra` (`--gateway-env`) comes last and wins.
fn gateway_env(
    port: u16,
    redis_url: &str,
    lms: &str,
    wallet: &str,
    extra: &[(String, String)],
) -> Vec<(String, String)> {
    let partner = mkopo::config::Settings::local_defaults().sandbox.lms;
    [
        ("MKOPO_SERVER__PORT", port.to_string()),
        ("MKOPO_SERVER__SHUTDOWN_TIMEOUT", "5s".into()),
        ("MKOPO_TELEMETRY__FILTER", "info".into()),
        ("MKOPO_REDIS__URL", redis_url.into()),
        ("MKOPO_LMS__MODE", "http".into()),
        ("MKOPO_LMS__AUTH_BASE_URL", lms.into()),
        ("MKOPO_LMS__API_BASE_URL", lms.into()),
        ("MKOPO_LMS__PARTNER_EMAIL", partner.partner_email.clone()),
        ("MKOPO_LMS__PARTNER_PASSWORD", partner.partner_password.clone()),
        ("MKOPO_LMS__REQUEST_TIMEOUT", "2s".into()),
        ("MKOPO_LMS__WORKER_REQUEST_TIMEOUT", "3s".into()),
        ("MKOPO_WALLETS__GENERIC__SANDBOX__BASE_URL", wallet.into()),
        ("MKOPO_MONEY__CLAIM_BLOCK", "200ms".into()),
        ("MKOPO_MONEY__RECLAIM_IDLE", "3s".into()),
        ("MKOPO_MONEY__RETRY_BASE", "200ms".into()),
        ("MKOPO_MONEY__RETRY_CAP", "2s".into()),
        ("MKOPO_MONEY__TIMER_TICK", "100ms".into()),
        // A journey broken off by a fault would otherwise offer "continue" on the next dial.
        ("MKOPO_USSD__RESUME_WINDOW", "0s".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .chain(extra.iter().cloned())
    .collect()
}
