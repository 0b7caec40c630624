//! The phases: seeding, warm-up, balance, open loop, borrow, memory and soak, then the report.

use std::time::{Duration, Instant};

use mkopo::momo::service::MoneyService;

use crate::lms::{lms_token, seed};
use crate::measure::{ms, pct, Meter, Run};
use crate::memory::memory_phase;
use crate::phone::{closed, open_loop, Journey, Sess, Target};
use crate::report::{report, row};
use crate::{LOAN_EVERY, OPEN_LOOP_SECS, OPEN_LOOP_TARGET, POOL};

pub struct Ctx {
    pub client: reqwest::Client,
    pub meter: Meter,
    pub redis_url: String,
    pub prefix: String,
    pub lms: String,
    pub gateway: Target,
    pub floor: Target,
    pub money: MoneyService,
    pub sessions: usize,
    pub concurrency: Vec<usize>,
    pub borrow_sessions: usize,
    pub memory_sessions: usize,
    pub phases: Vec<&'static str>,
}

pub fn msisdn(block: usize, i: usize) -> String {
    format!("25571{:07}", block * 1_000_000 + i)
}

pub fn sessions_of(tag: &str, journey: Journey, numbers: impl Iterator<Item = (String, bool)>) -> Vec<Sess> {
    numbers
        .enumerate()
        .map(|(i, (msisdn, loans))| Sess { id: format!("ATUid_{tag}_{i}"), msisdn, journey, loans })
        .collect()
}

fn balance_sessions(tag: &str, n: usize, only_loan_free: bool) -> Vec<Sess> {
    let numbers = (0..POOL).filter(|i| !only_loan_free || i % LOAN_EVERY != 0).cycle().take(n);
    sessions_of(tag, Journey::Balance, numbers.map(|i| (msisdn(0, i), i % LOAN_EVERY == 0)))
}

pub async fn generate(ctx: Ctx) -> anyhow::Result<()> {
    let c = &ctx;
    let bearer = lms_token(&c.client, &c.lms).await?;
    let pool: Vec<String> = (0..POOL).map(|i| msisdn(0, i)).collect();
    let t = Instant::now();
    seed(&c.client, &c.lms, &bearer, &pool, false).await?;
    let holders: Vec<String> = pool.iter().step_by(LOAN_EVERY).cloned().collect();
    seed(&c.client, &c.lms, &bearer, &holders, true).await?;
    println!(
        "seeded the sandbox LMS: {} customers, {} with an active loan ({:.1} s)",
        pool.len(),
        holders.len(),
        t.elapsed().as_secs_f64()
    );

    // Warm both servers (connections, token, script cache, products cache).
    for target in [&c.floor, &c.gateway] {
        let warm = balance_sessions(&format!("warm{}", target.name), 400, false);
        let run = closed(&c.meter, target, format!("warm-up {}", target.name), &warm, 16).await;
        run.print_errors();
    }

    // 1. Balance journey, closed loop at each concurrency, in two rounds ordered floor, gateway, gateway,
    //    floor so that drift on this shared machine hits both alike; each side's rounds are merged.
    let mut balance: Vec<(usize, Run, Run)> = Vec::new();
    for &conc in c.concurrency.iter().filter(|_| c.phases.contains(&"balance")) {
        let half = c.sessions.div_ceil(2);
        let mut runs: Vec<(bool, Run)> = Vec::new();
        for (round, is_gateway) in [false, true, true, false].into_iter().enumerate() {
            let target = if is_gateway { &c.gateway } else { &c.floor };
            let sessions = balance_sessions(&format!("{}{conc}r{round}", target.name), half, false);
            let label = format!("{} c={conc}", target.name);
            runs.push((is_gateway, closed(&c.meter, target, label, &sessions, conc).await));
        }
        let mut merged = |gateway: bool| {
            let mut side = runs.iter_mut().filter(|(g, _)| *g == gateway).map(|(_, r)| std::mem::take(r));
            let first = side.next().unwrap_or_default();
            side.fold(first, Run::merge)
        };
        let (floor, gateway) = (merged(false), merged(true));
        println!(
            "balance c={conc:<3} floor {:>6.0} hops/s p99 {:>6.2} ms | gateway {:>6.0} hops/s p99 {:>6.2} ms",
            floor.per_sec(),
            ms(pct(&floor.lat, 0.99)),
            gateway.per_sec(),
            ms(pct(&gateway.lat, 0.99))
        );
        floor.print_errors();
        gateway.print_errors();
        balance.push((conc, floor, gateway));
    }

    // 2. Open loop at 10,000 hops/s, else the highest of a ladder of lower rates the gateway holds; the
    //    floor runs each rate too, just before the gateway, for the side-by-side reading.
    let best = balance.iter().map(|(_, _, g)| g.per_sec()).fold(0.0, f64::max);
    let mut rates = vec![OPEN_LOOP_TARGET];
    rates.extend(
        [1.2, 1.1, 1.0, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5, 0.45, 0.4]
            .iter()
            .map(|f| (best * f / 100.0).round() * 100.0),
    );
    rates.retain(|r| *r > 0.0);
    let mut open: Vec<OpenRun> = Vec::new();
    for (k, rate) in rates.into_iter().enumerate().filter(|_| c.phases.contains(&"open")) {
        if k > 0 && rate >= OPEN_LOOP_TARGET {
            continue;
        }
        let n = (rate * OPEN_LOOP_SECS / 2.0) as usize;
        let mut runs = Vec::new();
        for target in [&c.floor, &c.gateway] {
            let sessions = balance_sessions(&format!("o{k}{}", target.name), n, true);
            let run = open_loop(&c.meter, target, rate, sessions).await;
            println!(
                "open loop target {rate:>6.0} hops/s {:<7}: achieved {:>6.0} hops/s, p50 {:.2} ms, p99 {:.2} ms, dropped {}, errors {} -> {}",
                target.name,
                run.per_sec(),
                ms(pct(&run.lat, 0.5)),
                ms(pct(&run.lat, 0.99)),
                run.dropped,
                run.errors(),
                if sustained(&run, rate) { "sustained" } else { "NOT sustained" }
            );
            run.print_errors();
            runs.push(run);
            // Let a saturated run's backlog (and the sandbox LMS) settle before the next one.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let gateway = runs.pop().unwrap_or_default();
        let floor = runs.pop().unwrap_or_default();
        let held = sustained(&gateway, rate);
        open.push(OpenRun { rate, floor, gateway });
        if held {
            break;
        }
    }

    // 3. Borrow journey on the gateway, fresh registered numbers (one loan each).
    let mut borrow: Vec<(usize, Run)> = Vec::new();
    for (k, &conc) in c.concurrency.iter().enumerate().filter(|_| c.phases.contains(&"borrow")) {
        let numbers: Vec<String> = (0..c.borrow_sessions).map(|i| msisdn(1 + k, i)).collect();
        seed(&c.client, &c.lms, &bearer, &numbers, false).await?;
        let sessions = sessions_of(&format!("b{conc}"), Journey::Borrow, numbers.into_iter().map(|m| (m, false)));
        let run = closed(&c.meter, &c.gateway, format!("borrow c={conc}"), &sessions, conc).await;
        println!(
            "borrow  c={conc:<3} gateway {:>6.0} hops/s p99 {:>7.2} ms, outcomes {:?}",
            run.per_sec(),
            ms(pct(&run.lat, 0.99)),
            run.tags
        );
        run.print_errors();
        borrow.push((conc, run));
        wait_for_inbox(&c.money).await;
    }

    // 4. Memory per live session: sessions left at the amount list (largest state + resume snapshot).
    let memory = if c.phases.contains(&"memory") { Some(memory_phase(c, &bearer).await?) } else { None };

    // One server (the gateway, or the floor with `USSD_LOAD_SOAK=floor`), balance journey at the highest
    // concurrency, e.g. to run under `perf record`.
    if c.phases.contains(&"soak") {
        let conc = c.concurrency.iter().copied().max().unwrap_or(64);
        let floor = std::env::var("USSD_LOAD_SOAK").is_ok_and(|t| t == "floor");
        let target = if floor { &c.floor } else { &c.gateway };
        let sessions = balance_sessions("soak", c.sessions, false);
        let run = closed(&c.meter, target, format!("soak c={conc}"), &sessions, conc).await;
        println!("soak ({} only, balance, c={conc}):", target.name);
        println!("{}", row(&format!("  {}", target.name), &run));
        run.print_errors();
    }

    report(c, &balance, &open, &borrow, memory.as_ref());
    Ok(())
}

/// One open-loop rate, floor and gateway.
pub struct OpenRun {
    pub rate: f64,
    pub floor: Run,
    pub gateway: Run,
}

/// Sustained: every arrival served, no queue build-up (p99 within 100 ms, throughput kept up).
pub fn sustained(run: &Run, rate: f64) -> bool {
    run.dropped == 0
        && run.errors() == 0
        && run.per_sec() >= 0.97 * rate
        && pct(&run.lat, 0.99) <= Duration::from_millis(100)
}

async fn wait_for_inbox(money: &MoneyService) {
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        match money.store.inbox_stats().await {
            Ok(stats) if stats.pending == 0 => break,
            Ok(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(_) => break,
        }
    }
}
