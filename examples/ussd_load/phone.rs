//! The phone side: journeys, sessions, screens, and the closed- and open-loop drivers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::measure::{Meter, Run};
use crate::wire::Wire;
use crate::OPEN_LOOP_CAP;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Journey {
    /// dial, "2" My balance.
    Balance,
    /// dial, "1" Borrow, "1" first product, "1" first amount, "1" Confirm.
    Borrow,
    /// dial, "1" Borrow, "1" first product: left at the amount list (the memory phase).
    Partial,
}

impl Journey {
    fn inputs(self) -> &'static [&'static str] {
        match self {
            Journey::Balance => &["", "2"],
            Journey::Borrow => &["", "1", "1", "1", "1"],
            Journey::Partial => &["", "1", "1"],
        }
    }

    /// Whether `body` is the screen this hop should show; `Some(tag)` classifies a valid last screen.
    fn check(self, hop: usize, loans: bool, body: &str) -> Result<Option<&'static str>, ()> {
        let ok = |b: bool| if b { Ok(None) } else { Err(()) };
        match (self, hop) {
            (_, 0) => ok(body.starts_with("CON Mkopo\n") && body.contains("My balance")),
            (Journey::Balance, _) if loans => ok(body.starts_with("CON ") && body.contains("\nOwed: ")),
            (Journey::Balance, _) => ok(body == "END You have no active loan."),
            (_, 1) => ok(body.starts_with("CON Choose a loan:")),
            (_, 2) => ok(body.starts_with("CON ") && body.contains("Choose amount")),
            (_, 3) => ok(body.starts_with("CON Borrow TZS")),
            _ if body.starts_with("END ") && body.contains("has been sent to your wallet") => Ok(Some("done")),
            _ if body.starts_with("END ") && body.contains("is being sent") => Ok(Some("pending")),
            _ => Err(()),
        }
    }
}

#[derive(Clone)]
pub struct Sess {
    pub id: String,
    pub msisdn: String,
    pub journey: Journey,
    pub loans: bool,
}

#[derive(Clone)]
pub struct Target {
    pub name: &'static str,
    pub wire: Arc<Wire>,
    /// Paths of the hop and the Africa's Talking end-of-session event.
    pub hop: String,
    pub events: String,
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}

/// An Africa's Talking form for `s`: session, service code, phone and network, then `rest`.
fn at_form(s: &Sess, rest: &[(&str, &str)]) -> String {
    let phone = format!("+{}", s.msisdn);
    let mut pairs = vec![("sessionId", s.id.as_str()), ("serviceCode", "*150*88#"), ("phoneNumber", &phone)];
    pairs.push(("networkCode", "64009"));
    pairs.extend_from_slice(rest);
    form(&pairs)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    Transport,
    Status,
    Screen,
    Event,
}

#[derive(Default)]
pub struct SessionOutcome {
    /// (hop index, latency) of every hop that got an HTTP answer.
    pub hops: Vec<(usize, Duration)>,
    pub fault: Option<(Fault, String)>,
    pub tag: Option<&'static str>,
    pub events: usize,
}

/// An error with its causes (reqwest's own message hides them).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn short(body: &str) -> String {
    let one_line = body.replace('\n', "\\n");
    if one_line.chars().count() > 110 {
        format!("{}…", one_line.chars().take(110).collect::<String>())
    } else {
        one_line
    }
}

/// Walks one session; the first hop's latency counts from `scheduled` when given (open loop).
pub async fn run_session(target: &Target, s: &Sess, scheduled: Option<Instant>) -> SessionOutcome {
    let mut out = SessionOutcome::default();
    let inputs = s.journey.inputs();
    for hop in 0..inputs.len() {
        let text = inputs[1..=hop].join("*");
        let started = if hop == 0 { scheduled.unwrap_or_else(Instant::now) } else { Instant::now() };
        let answered = target.wire.post_form(&target.hop, &at_form(s, &[("text", &text)])).await;
        let (status, body) = match answered {
            Ok(answer) => answer,
            Err(error) => {
                out.fault = Some((Fault::Transport, format!("hop {} text={text:?}: {}", hop + 1, chain(&error))));
                return out;
            }
        };
        out.hops.push((hop, started.elapsed()));
        if status != 200 {
            out.fault = Some((Fault::Status, format!("hop {} text={text:?}: HTTP {status} {}", hop + 1, short(&body))));
            return out;
        }
        match s.journey.check(hop, s.loans, &body) {
            Ok(tag) => out.tag = tag.or(out.tag),
            Err(()) => {
                let what =
                    format!("hop {} text={text:?} ({:?}, loans={}): {}", hop + 1, s.journey, s.loans, short(&body));
                out.fault = Some((Fault::Screen, what));
                return out;
            }
        }
    }
    // The balance list is a CON screen: the subscriber hangs up and the aggregator says so (AT /events),
    // which ends the session and clears its resume snapshot, as it would in production.
    if s.journey == Journey::Balance && s.loans {
        let event = at_form(s, &[("status", "Success"), ("hopsCount", "2")]);
        match target.wire.post_form(&target.events, &event).await {
            Ok((200, _)) => out.events += 1,
            Ok((status, _)) => out.fault = Some((Fault::Event, format!("end-of-session event: HTTP {status}"))),
            Err(e) => out.fault = Some((Fault::Event, format!("end-of-session event: {}", chain(&e)))),
        }
    }
    out
}

pub async fn closed(meter: &Meter, target: &Target, label: String, sessions: &[Sess], concurrency: usize) -> Run {
    let before = meter.probe().await;
    let started = Instant::now();
    let outcomes: Vec<SessionOutcome> = futures::stream::iter(sessions)
        .map(|s| run_session(target, s, None))
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let after = meter.probe().await;
    Run::new(label, outcomes, elapsed, &before, &after)
}

/// Sessions arrive at a fixed rate (two hops each) whatever the answers do; latency of the first hop
/// counts from the scheduled arrival, so queueing in the generator or the server is not hidden.
pub async fn open_loop(meter: &Meter, target: &Target, hops_per_sec: f64, sessions: Vec<Sess>) -> Run {
    let every = Duration::from_secs_f64(2.0 / hops_per_sec);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let before = meter.probe().await;
    let started = Instant::now();
    let mut handles = Vec::with_capacity(sessions.len());
    let (mut dropped, mut peak) = (0, 0);
    for (i, s) in sessions.into_iter().enumerate() {
        let at = started + every * i as u32;
        tokio::time::sleep_until(at.into()).await;
        if in_flight.load(Ordering::Relaxed) >= OPEN_LOOP_CAP {
            dropped += 1;
            continue;
        }
        peak = peak.max(in_flight.fetch_add(1, Ordering::Relaxed) + 1);
        let (target, in_flight) = (target.clone(), in_flight.clone());
        handles.push(tokio::spawn(async move {
            let outcome = run_session(&target, &s, Some(at)).await;
            in_flight.fetch_sub(1, Ordering::Relaxed);
            outcome
        }));
    }
    let outcomes: Vec<SessionOutcome> = futures::future::join_all(handles).await.into_iter().flatten().collect();
    let elapsed = started.elapsed();
    let after = meter.probe().await;
    let mut run = Run::new(format!("open loop {hops_per_sec:.0} hops/s"), outcomes, elapsed, &before, &after);
    run.dropped = dropped;
    run.peak_in_flight = peak;
    run
}
