//! The processes of one scenario: its own `redis-server` (AOF, fsync always), the sandbox LMS, the
//! sandbox wallet and the gateway, each a separate process of the built `mkopo` binary with its own log
//! file. Every child is killed when its [`Proc`] is dropped, so a failed run leaves nothing behind.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// A free loopback TCP port (bound and released at once; the child binds it next).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The `mkopo` binary: `MKOPO_BIN`, else the one cargo built next to this example
/// (`target/<profile>/examples/faults` -> `target/<profile>/mkopo`).
pub fn mkopo_bin() -> anyhow::Result<PathBuf> {
    if let Ok(path) = std::env::var("MKOPO_BIN") {
        anyhow::ensure!(Path::new(&path).exists(), "MKOPO_BIN={path} does not exist");
        return Ok(path.into());
    }
    let exe = std::env::current_exe()?;
    let bin = exe.parent().and_then(|p| p.parent()).map(|p| p.join("mkopo"));
    match bin {
        Some(bin) if bin.exists() => Ok(bin),
        _ => {
            anyhow::bail!("no mkopo binary next to {}: run `cargo build --bin mkopo` (or set MKOPO_BIN)", exe.display())
        }
    }
}

/// `redis-server` from PATH.
pub fn redis_server_bin() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| candidate.is_file())
        .context("redis-server is not on PATH (Debian: apt-get install redis-server)")
}

/// How to (re)start one child: program, arguments, environment, log file.
pub struct Proc {
    pub name: &'static str,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    pub log: PathBuf,
    child: Option<Child>,
    /// Exit statuses of earlier lives (after a kill or a graceful stop).
    pub exits: Vec<ExitStatus>,
}

impl Proc {
    pub fn new(
        name: &'static str,
        program: PathBuf,
        args: Vec<String>,
        env: Vec<(String, String)>,
        dir: &Path,
    ) -> Self {
        Self { name, program, args, env, log: dir.join(format!("{name}.log")), child: None, exits: Vec::new() }
    }

    /// Starts the process, its stdout and stderr appended to its log file.
    pub fn spawn(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.child.is_none(), "{} is already running", self.name);
        let mut log = OpenOptions::new().create(true).append(true).open(&self.log)?;
        writeln!(log, "==== faults: starting {} at {}", self.name, chrono::Utc::now().to_rfc3339())?;
        let err: File = log.try_clone()?;
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("RUST_LOG")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err);
        let child =
            command.spawn().with_context(|| format!("cannot start {} ({})", self.name, self.program.display()))?;
        self.child = Some(child);
        Ok(())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends a signal by name (`TERM`, `STOP`, `CONT`) through kill(1).
    pub fn signal(&self, signal: &str) -> anyhow::Result<()> {
        let pid = self.pid().with_context(|| format!("{} is not running", self.name))?;
        let status = Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status()?;
        anyhow::ensure!(status.success(), "kill -{signal} {pid} ({}) failed", self.name);
        Ok(())
    }

    /// SIGKILL and reap: no shutdown, no flush.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = self.signal_pid(child.id(), "CONT");
            let _ = child.kill();
            if let Ok(status) = child.wait() {
                self.exits.push(status);
            }
        }
    }

    fn signal_pid(&self, pid: u32, signal: &str) -> std::io::Result<ExitStatus> {
        Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).stderr(Stdio::null()).status()
    }

    /// SIGTERM, then waits up to `bound` for the exit; returns the status and how long it took, or
    /// `None` (and SIGKILL) when it did not exit in time.
    pub async fn terminate(&mut self, bound: Duration) -> anyhow::Result<Option<(ExitStatus, Duration)>> {
        self.signal("TERM")?;
        let started = Instant::now();
        while started.elapsed() < bound {
            let child = self.child.as_mut().context("no child")?;
            if let Some(status) = child.try_wait()? {
                self.child = None;
                self.exits.push(status);
                return Ok(Some((status, started.elapsed())));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill9();
        Ok(None)
    }

    /// Whether the child has exited by itself (and reaps it).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok()??;
        self.child = None;
        self.exits.push(status);
        Some(status)
    }

    /// Lines of its log that tell of a panic.
    pub fn panic_lines(&self) -> Vec<String> {
        let text = std::fs::read(&self.log).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        text.lines().filter(|l| l.contains("panicked")).map(str::to_owned).collect()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Polls `probe` every 20 ms until it is true; an error naming `what` and its log after `bound`.
pub async fn wait_until<F, Fut>(what: &str, log: &Path, bound: Duration, mut probe: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !probe().await {
        anyhow::ensure!(started.elapsed() < bound, "{what} did not come up within {bound:?} (log: {})", log.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(started.elapsed())
}

/// PING answered with PONG (a Redis still loading its append-only file answers LOADING instead).
pub async fn redis_answers(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else { return false };
    let Ok(Ok(mut conn)) =
        tokio::time::timeout(Duration::from_millis(500), client.get_multiplexed_async_connection()).await
    else {
        return false;
    };
    let pong: Result<String, _> = redis::cmd("PING").query_async(&mut conn).await;
    pong.is_ok_and(|p| p == "PONG")
}

/// An HTTP GET answered with `status`.
pub async fn answers(client: &reqwest::Client, url: &str, status: u16) -> bool {
    client.get(url).timeout(Duration::from_secs(1)).send().await.is_ok_and(|r| r.status().as_u16() == status)
}
