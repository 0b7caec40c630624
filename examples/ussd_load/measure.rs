//! Measurements: latency percentiles, throughput, Redis commands and CPU per hop, and a run's results.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::phone::{Fault, SessionOutcome};

pub fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> f64 {
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
pub struct Probe {
    redis_calls: BTreeMap<String, u64>,
    /// CPU seconds: this process minus the generator thread (the servers), the generator thread (this
    /// one: every probe runs on it), the sandbox LMS, Redis.
    cpu: [f64; 4],
}

pub struct Meter {
    pub redis: redis::aio::MultiplexedConnection,
    pub redis_pid: Option<u32>,
    pub lms_pid: u32,
}

impl Meter {
    async fn info(&self, section: &str) -> String {
        let mut conn = self.redis.clone();
        redis::cmd("INFO").arg(section).query_async::<String>(&mut conn).await.unwrap_or_default()
    }

    pub async fn probe(&self) -> Probe {
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

    pub async fn used_memory(&self) -> i64 {
        let info = self.info("memory").await;
        info.lines().find_map(|l| l.strip_prefix("used_memory:")?.trim().parse().ok()).unwrap_or(0)
    }
}

#[derive(Default)]
pub struct Run {
    label: String,
    pub sessions: usize,
    elapsed: Duration,
    pub lat: Vec<Duration>,
    pub by_hop: Vec<Vec<Duration>>,
    faults: BTreeMap<Fault, usize>,
    examples: Vec<String>,
    pub tags: BTreeMap<&'static str, usize>,
    events: usize,
    redis_per_hop: BTreeMap<String, f64>,
    /// CPU milliseconds per hop: servers in this process, load generator, sandbox LMS, Redis.
    pub cpu_per_hop: [f64; 4],
    pub dropped: usize,
    /// Open loop: the most sessions in flight at once.
    pub peak_in_flight: usize,
}

impl Run {
    pub fn new(label: String, outcomes: Vec<SessionOutcome>, elapsed: Duration, before: &Probe, after: &Probe) -> Run {
        let mut run = Run { label, sessions: outcomes.len(), elapsed, ..Run::default() };
        for o in outcomes {
            for (hop, latency) in o.hops {
                run.lat.push(latency);
                run.hop_mut(hop).push(latency);
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
    pub fn merge(mut self, other: Run) -> Run {
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
            let mine = self.hop_mut(i);
            mine.extend(hop);
            mine.sort();
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

    /// The latencies of hop `i`, growing the per-hop list as needed.
    fn hop_mut(&mut self, i: usize) -> &mut Vec<Duration> {
        if self.by_hop.len() <= i {
            self.by_hop.resize_with(i + 1, Vec::new);
        }
        &mut self.by_hop[i]
    }

    fn hops(&self) -> usize {
        self.lat.len()
    }

    pub fn per_sec(&self) -> f64 {
        self.hops() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn errors(&self) -> usize {
        self.faults.values().sum()
    }

    pub fn redis_total(&self) -> f64 {
        self.redis_per_hop.values().sum()
    }

    pub fn redis_breakdown(&self) -> String {
        let mut top: Vec<(&String, &f64)> = self.redis_per_hop.iter().filter(|(_, v)| **v >= 0.05).collect();
        top.sort_by(|a, b| b.1.total_cmp(a.1));
        top.iter().map(|(k, v)| format!("{k} {v:.2}")).collect::<Vec<_>>().join(", ")
    }

    pub fn print_errors(&self) {
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
