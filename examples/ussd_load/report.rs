//! The printed tables: one row per run and the balance, open-loop, borrow and memory sections.

use std::time::Duration;

use crate::measure::{ms, pct, Run};
use crate::memory::Memory;
use crate::phases::{sustained, Ctx, OpenRun};
use crate::{LOAN_EVERY, OPEN_LOOP_SECS};

/// CPU milliseconds per hop: servers/generator/LMS/Redis.
fn cpu(r: &Run) -> String {
    let [server, generator, lms, redis] = r.cpu_per_hop;
    format!("{server:.3}/{generator:.3}/{lms:.3}/{redis:.3}")
}

pub fn row(label: &str, r: &Run) -> String {
    format!(
        "{label:<9} {:>8.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>6.1}  {}",
        r.per_sec(),
        ms(pct(&r.lat, 0.5)),
        ms(pct(&r.lat, 0.9)),
        ms(pct(&r.lat, 0.99)),
        ms(r.lat.last().copied().unwrap_or_default()),
        r.errors(),
        r.redis_total(),
        cpu(r),
    )
}

pub fn report(
    c: &Ctx,
    balance: &[(usize, Run, Run)],
    open: &[OpenRun],
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
    println!("load average at the end: {} (anything else running on this machine competes too)", loadavg());
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

/// This machine's /proc/loadavg line, trimmed.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().to_owned()
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

fn print_open(open: &[OpenRun]) {
    println!();
    println!(
        "Open loop, floor then gateway at each rate (balance journey, loan-free numbers, {OPEN_LOOP_SECS} s of arrivals"
    );
    println!(
        "each; first-hop latency from the scheduled arrival; sustained = nothing dropped or failed, >= 97% of target,"
    );
    println!("p99 <= 100 ms; the ladder stops at the first rate the gateway sustains)");
    println!(
        "{:>10} {:<8} {:>10} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7}  {:<13}  CPU ms per hop",
        "target/s", "", "achieved/s", "p50 ms", "p90 ms", "p99 ms", "dropped", "in flight", "errors", "verdict"
    );
    for OpenRun { rate, floor, gateway } in open {
        for (name, r) in [("floor", floor), ("gateway", gateway)] {
            println!(
                "{rate:>10.0} {name:<8} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>8} {:>9} {:>7}  {:<13}  {}",
                r.per_sec(),
                ms(pct(&r.lat, 0.5)),
                ms(pct(&r.lat, 0.9)),
                ms(pct(&r.lat, 0.99)),
                r.dropped,
                r.peak_in_flight,
                r.errors(),
                if sustained(r, *rate) { "sustained" } else { "not sustained" },
                cpu(r),
            );
        }
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
