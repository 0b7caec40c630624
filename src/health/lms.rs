//! The LMS as the client last saw it. The client notes the outcome of every HTTP attempt; `/readyz`
//! reports the LMS down when the most recent attempts within a window all failed with an outage
//! (unavailable, 5xx, timeout, no connection), without calling the LMS itself. Answers the LMS gave
//! on purpose (404, 400, 401) mean it is up. With no attempt inside the window there is nothing to
//! judge by, and the verdict falls back to the token check.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::lms::{ErrorCode, LmsError};

/// More than any sensible `readiness.lms_failures`.
const KEPT: usize = 32;

struct Attempt {
    at: Instant,
    /// `(error label, endpoint template)` of an outage; `None` when the LMS answered.
    outage: Option<(&'static str, &'static str)>,
}

/// Recent LMS attempts, newest last. Cheap to clone; every clone of one client shares it.
#[derive(Clone, Default)]
pub struct LmsHealth(Arc<Mutex<VecDeque<Attempt>>>);

impl std::fmt::Debug for LmsHealth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LmsHealth")
    }
}

/// Failures that say the LMS is not there, as opposed to answers about the request.
fn outage(error: &LmsError) -> bool {
    matches!(error.code(), ErrorCode::Unavailable | ErrorCode::Internal | ErrorCode::Timeout | ErrorCode::Transport)
}

impl LmsHealth {
    /// One attempt on `endpoint` (a route template, never a concrete path): `None` when it succeeded.
    pub fn record(&self, endpoint: &'static str, error: Option<&LmsError>) {
        let outage = error.filter(|e| outage(e)).map(|e| (e.label(), endpoint));
        let mut attempts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if attempts.len() == KEPT {
            attempts.pop_front();
        }
        attempts.push_back(Attempt { at: Instant::now(), outage });
    }

    /// `Err(reason)` when the last `failures` attempts within `window` all were outages; `failures = 0`
    /// turns the check off.
    pub fn verdict(&self, window: Duration, failures: usize) -> Result<(), String> {
        if failures == 0 {
            return Ok(());
        }
        let attempts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let recent: Vec<&Attempt> =
            attempts.iter().rev().take_while(|a| a.at.elapsed() <= window).take(failures).collect();
        if recent.len() < failures || recent.iter().any(|a| a.outage.is_none()) {
            return Ok(());
        }
        let mut seen: Vec<String> = Vec::new();
        for (label, endpoint) in recent.iter().filter_map(|a| a.outage) {
            let what = format!("{label} on {endpoint}");
            if !seen.contains(&what) {
                seen.push(what);
            }
        }
        let last = recent.first().map_or(Duration::ZERO, |a| a.at.elapsed());
        Err(format!(
            "the last {failures} LMS attempts within {window:?} failed ({}), the latest {:.1}s ago",
            seen.join(", "),
            last.as_secs_f64()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(30);

    fn unavailable() -> LmsError {
        LmsError::Unavailable { message: "down".into(), retry_after: None }
    }

    #[test]
    fn consecutive_outages_make_the_lms_not_ready_with_the_reason() {
        let health = LmsHealth::default();
        health.record("GET /v1/loans", Some(&unavailable()));
        health.record("GET /v1/loans", Some(&LmsError::Timeout { endpoint: "x".into(), timeout: WINDOW }));
        assert_eq!(health.verdict(WINDOW, 3), Ok(()), "two failures are not yet an outage");
        health.record("POST /v1/loans/external/{id}/repayments", Some(&unavailable()));
        let why = health.verdict(WINDOW, 3).unwrap_err();
        assert!(why.starts_with("the last 3 LMS attempts within 30s failed (unavailable on POST"), "{why}");
        assert!(why.contains("timeout on GET /v1/loans") && why.contains("unavailable on GET /v1/loans"), "{why}");
    }

    #[test]
    fn one_success_or_an_answer_about_the_request_means_the_lms_is_up() {
        let health = LmsHealth::default();
        for _ in 0..5 {
            health.record("GET /v1/loans", Some(&unavailable()));
        }
        health.record("GET /v1/customers/external/{id}", Some(&LmsError::NotFound { message: "no".into() }));
        assert_eq!(health.verdict(WINDOW, 3), Ok(()));
        health.record("GET /v1/loans", Some(&unavailable()));
        health.record("GET /v1/loans", None);
        assert_eq!(health.verdict(WINDOW, 3), Ok(()));
    }

    #[test]
    fn old_failures_age_out_and_zero_turns_the_check_off() {
        let health = LmsHealth::default();
        for _ in 0..3 {
            health.record("GET /v1/loans", Some(&unavailable()));
        }
        assert!(health.verdict(WINDOW, 3).is_err());
        assert_eq!(health.verdict(WINDOW, 0), Ok(()));
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(health.verdict(Duration::from_millis(10), 3), Ok(()), "nothing recent to judge by");
    }

    #[test]
    fn only_the_latest_attempts_are_kept() {
        let health = LmsHealth::default();
        for _ in 0..(KEPT * 2) {
            health.record("GET /v1/loans", None);
        }
        assert_eq!(health.0.lock().unwrap().len(), KEPT);
    }
}
