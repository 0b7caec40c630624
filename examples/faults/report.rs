//! Counting what the LMS holds against what the gateway acknowledged, and the one line per fault.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;

use crate::drive::{Payment, Wallet};
use crate::lms::{Lms, Loan};

/// Money per receipt, read back from the LMS.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    /// Acknowledged receipts the LMS holds.
    pub posted: usize,
    /// Acknowledged receipts the LMS does not hold.
    pub lost: usize,
    /// Receipts the LMS holds more than once, repayments matching no receipt, loans whose
    /// `totalRepayment` exceeds the sum of the receipts it holds.
    pub doubled: usize,
    /// Receipts the LMS holds that were never acknowledged (stored, then the answer was lost, e.g. the
    /// gateway was killed before it replied): neither lost nor doubled.
    pub unacked_posted: usize,
    /// Loans whose `totalRepayment` is below the sum of the receipts it holds.
    pub short_totals: usize,
    /// The first few findings in words (which receipt, which loan), for the operator.
    pub findings: Vec<String>,
}

impl Counts {
    fn finding(&mut self, text: String) {
        if self.findings.len() < 5 {
            self.findings.push(text);
        }
    }
}

pub async fn count(lms: &Lms, loans: &[Loan], payments: &[Payment], wallet: &Wallet) -> anyhow::Result<Counts> {
    let held = lms.held_all(loans).await?;
    let mut counts = Counts::default();
    let mut by_loan: Vec<Vec<usize>> = vec![Vec::new(); loans.len()];
    for (i, p) in payments.iter().enumerate() {
        by_loan[p.loan].push(i);
    }
    for (loan, held) in held.iter().enumerate() {
        let mut times: HashMap<Decimal, usize> = HashMap::new();
        for amount in &held.amounts {
            *times.entry(amount.normalize()).or_default() += 1;
        }
        let mut expected = Decimal::ZERO;
        let mut loan_doubles = 0;
        for &i in &by_loan[loan] {
            let p = &payments[i];
            let n = times.remove(&p.amount.normalize()).unwrap_or(0);
            let acked = wallet.acked[i].load(Ordering::Relaxed);
            match (acked, n) {
                (true, 0) => {
                    counts.lost += 1;
                    counts.finding(format!(
                        "{} ({}) acknowledged, not on {}",
                        p.receipt, p.amount, loans[loan].reference
                    ));
                }
                (true, _) => counts.posted += 1,
                (false, 0) => {}
                (false, _) => counts.unacked_posted += 1,
            }
            if n > 1 {
                loan_doubles += 1;
                counts.finding(format!("{} ({}) held {n} times on {}", p.receipt, p.amount, loans[loan].reference));
            }
            if n > 0 {
                expected += p.amount;
            }
        }
        // Whatever is left matched no receipt of ours.
        for (amount, n) in &times {
            loan_doubles += n;
            counts.finding(format!("{n} repayment(s) of {amount} on {} match no receipt", loans[loan].reference));
        }
        // A total above the receipts held once each, that no double or stray above explains.
        let reference = &loans[loan].reference;
        if loan_doubles == 0 && held.total_repayment > expected {
            loan_doubles += 1;
            counts.finding(format!(
                "{reference}: totalRepayment {} above its receipts' {expected}",
                held.total_repayment
            ));
        } else if held.total_repayment < expected {
            counts.short_totals += 1;
            counts.finding(format!(
                "{reference}: totalRepayment {} below its receipts' {expected}",
                held.total_repayment
            ));
        }
        counts.doubled += loan_doubles;
    }
    Ok(counts)
}

/// Waits until every acknowledged receipt is posted; the time it took, or `None` past `deadline`
/// (the last counts either way).
pub async fn drain(
    lms: &Lms,
    loans: &[Loan],
    payments: &[Payment],
    wallet: &Wallet,
    deadline: Duration,
) -> anyhow::Result<(Option<Duration>, Counts)> {
    let started = Instant::now();
    loop {
        let counts = count(lms, loans, payments, wallet).await?;
        if counts.lost == 0 {
            return Ok((Some(started.elapsed()), counts));
        }
        if started.elapsed() > deadline {
            return Ok((None, counts));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// One fault's result.
#[derive(Debug)]
pub struct Outcome {
    pub fault: &'static str,
    pub sent: usize,
    pub acked: usize,
    pub deliveries: usize,
    pub counts: Counts,
    /// (good, all) balance journeys.
    pub hops: (usize, usize),
    /// The fault's recovery time (what it means is the fault's own; `None` = never) and its bound.
    pub recovery: Option<Duration>,
    pub bound: Duration,
    /// From the end of the fault (or the last send) until every acknowledged receipt was posted.
    pub drain: Option<Duration>,
    pub panics: Vec<String>,
    /// Other reasons this fault failed, e.g. an unclean exit.
    pub problems: Vec<String>,
    /// Extra `key=value` fields for the line.
    pub extra: Vec<(&'static str, String)>,
}

impl Outcome {
    pub fn new(fault: &'static str, bound: Duration) -> Self {
        Self {
            fault,
            sent: 0,
            acked: 0,
            deliveries: 0,
            counts: Counts::default(),
            hops: (0, 0),
            recovery: None,
            bound,
            drain: None,
            panics: Vec::new(),
            problems: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// Takes the wallet's and the count's figures.
    pub fn tally(&mut self, payments: usize, wallet: &Wallet, counts: Counts) {
        self.sent = payments;
        self.acked = wallet.acked_count();
        self.deliveries = wallet.deliveries.load(Ordering::Relaxed);
        self.counts = counts;
    }

    pub fn failures(&self) -> Vec<String> {
        let mut failures = self.problems.clone();
        let c = &self.counts;
        if c.lost > 0 {
            failures.push(format!("{} acknowledged payments never reached the LMS", c.lost));
        }
        if c.doubled > 0 {
            failures.push(format!("{} receipts or totals posted more than once", c.doubled));
        }
        if c.short_totals > 0 {
            failures.push(format!("{} loans' totalRepayment is below the receipts they hold", c.short_totals));
        }
        match self.recovery {
            None => failures.push("never recovered".into()),
            Some(r) if r > self.bound => {
                failures.push(format!("recovery {} ms over the bound of {} ms", ms(r), ms(self.bound)))
            }
            Some(_) => {}
        }
        for finding in &c.findings {
            failures.push(format!("e.g. {finding}"));
        }
        if !self.panics.is_empty() {
            failures.push(format!("{} panic lines, e.g. {}", self.panics.len(), self.panics[0]));
        }
        failures
    }

    pub fn line(&self) -> String {
        let c = &self.counts;
        let opt = |d: Option<Duration>| d.map_or_else(|| "never".to_owned(), |d| ms(d).to_string());
        let mut line = format!(
            "fault={} sent={} acked={} posted={} lost={} doubled={} recovery_ms={} panics={}",
            self.fault,
            self.sent,
            self.acked,
            c.posted,
            c.lost,
            c.doubled,
            opt(self.recovery),
            self.panics.len()
        );
        let _ = write!(
            line,
            " bound_ms={} drain_ms={} deliveries={} unacked_posted={} hops_ok={}/{}",
            ms(self.bound),
            opt(self.drain),
            self.deliveries,
            c.unacked_posted,
            self.hops.0,
            self.hops.1
        );
        for (k, v) in &self.extra {
            let _ = write!(line, " {k}={v}");
        }
        let _ = write!(line, " result={}", if self.failures().is_empty() { "ok" } else { "FAIL" });
        line
    }
}

pub fn ms(d: Duration) -> u128 {
    d.as_millis()
}
