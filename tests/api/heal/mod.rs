//! Healing without an operator: Redis killed and restarted (with its append-only file, or with its data
//! gone), a worker that stops looping, an LMS that keeps failing, and a graceful shutdown right after a
//! Redis outage. Each test runs its own throwaway `redis-server`, so killing it disturbs no other test.

mod readiness;
mod restart;
mod shutdown;
mod wedged;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::money::payment_body;

/// A first USSD dial (Africa's Talking); true when a `CON` menu came back, not an error screen.
pub async fn hop(client: &reqwest::Client, base: &str, session: &str) -> bool {
    let hop = client
        .post(format!("{base}/ussd/africastalking"))
        .form(&[
            ("sessionId", session),
            ("serviceCode", "*150*88#"),
            ("phoneNumber", "+255713500001"),
            ("networkCode", "64009"),
            ("text", ""),
        ])
        .send()
        .await;
    match hop {
        Ok(response) => response.text().await.is_ok_and(|t| t.starts_with("CON")),
        Err(_) => false,
    }
}

/// A signed sandbox-wallet payment callback; its HTTP status (0 when no answer came).
pub async fn callback(client: &reqwest::Client, base: &str, receipt: &str, loan: &str, msisdn: &str) -> u16 {
    let body = payment_body(receipt, loan, msisdn, "100.00");
    let sent = crate::money::send_signed(client, base, &format!("evt_{receipt}"), body).await;
    sent.map_or(0, |r| r.status().as_u16())
}

/// A `redis-server` of the test's own on a free port, with an append-only file in a temporary
/// directory, which can be killed with SIGKILL and started again on the same port and file.
pub struct ThrowawayRedis {
    child: Option<Child>,
    pub port: u16,
    pub url: String,
    dir: PathBuf,
    persistent: bool,
}

impl ThrowawayRedis {
    /// With `--appendonly yes --appendfsync always`: every acknowledged write survives a `kill -9`.
    pub async fn start() -> Self {
        Self::start_with(true).await
    }

    /// `persistent = false` keeps nothing on disk: a restart comes back empty (a Redis that lost its data).
    pub async fn start_with(persistent: bool) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("mkopo-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut redis = Self { child: None, port, url: format!("redis://127.0.0.1:{port}"), dir, persistent };
        redis.launch().await;
        redis
    }

    async fn launch(&mut self) {
        let aof = if self.persistent { "yes" } else { "no" };
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", aof, "--appendfsync", "always"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/test installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.answers().await {
            assert!(Instant::now() < deadline, "the throwaway redis-server on {} did not come up", self.port);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// PING answered with PONG (a Redis still loading its file answers LOADING instead).
    pub async fn answers(&self) -> bool {
        let Ok(client) = redis::Client::open(self.url.as_str()) else { return false };
        let Ok(Ok(mut conn)) =
            tokio::time::timeout(Duration::from_millis(500), client.get_multiplexed_async_connection()).await
        else {
            return false;
        };
        let pong: Result<String, _> = redis::cmd("PING").query_async(&mut conn).await;
        pong.is_ok_and(|p| p == "PONG")
    }

    /// SIGKILL: no shutdown save, connections reset.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory; returns when it answers PING.
    pub async fn restart(&mut self) {
        self.kill();
        self.launch().await;
    }

    /// A raw connection, for what the gateway would never do itself (FLUSHALL).
    pub async fn raw(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str()).unwrap().get_multiplexed_async_connection().await.unwrap()
    }
}

impl Drop for ThrowawayRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
