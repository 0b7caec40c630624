//! When to try an LMS call again: a pure function of the failure, the attempt number and whether the
//! call is safe to repeat (docs/lms.md). No clock, no randomness inside: the caller passes the jitter, so
//! every rule is unit-tested without a network.

use std::time::Duration;

use super::error::ErrorCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts for `unavailable` and no-answer failures, the first one included.
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Stop,
    RetryAfter(Duration),
}

/// Whether repeating a call can change anything on the LMS beyond what the first attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, repayments with an `idempotencyKey`, creates keyed by an externalId, rollback.
    Safe,
    /// Anything else: never resent automatically.
    Unsafe,
}

impl RetryPolicy {
    /// Decides after failed attempt number `attempt` (1-based). `jitter` in `[0, 1]` spreads retries
    /// of many callers: the delay is drawn from the upper half of the backoff step ("equal jitter").
    pub fn decide(
        &self,
        code: ErrorCode,
        retry_after: Option<Duration>,
        attempt: u32,
        idempotency: Idempotency,
        jitter: f64,
    ) -> Decision {
        if idempotency == Idempotency::Unsafe {
            return Decision::Stop;
        }
        match code {
            ErrorCode::Unavailable | ErrorCode::Transport | ErrorCode::Timeout => {
                if attempt >= self.max_attempts {
                    return Decision::Stop;
                }
                let backoff = self.backoff(attempt, jitter);
                // A server's Retry-After wins over our guess, but never past the cap.
                Decision::RetryAfter(retry_after.map_or(backoff, |r| r.min(self.cap)))
            }
            // Internal errors are retried exactly once: a second one is surfaced (or parked by workers).
            ErrorCode::Internal if attempt == 1 => Decision::RetryAfter(self.backoff(1, jitter)),
            _ => Decision::Stop,
        }
    }

    fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self.base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let step = exp.min(self.cap);
        let jitter = jitter.clamp(0.0, 1.0);
        step / 2 + step.mul_f64(jitter) / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorCode::*;

    const P: RetryPolicy =
        RetryPolicy { max_attempts: 5, base: Duration::from_millis(200), cap: Duration::from_secs(5) };

    fn safe(code: ErrorCode, attempt: u32) -> Decision {
        P.decide(code, None, attempt, Idempotency::Safe, 1.0)
    }

    #[test]
    fn unavailable_backs_off_exponentially_up_to_the_cap_then_stops() {
        assert_eq!(safe(Unavailable, 1), Decision::RetryAfter(Duration::from_millis(200)));
        assert_eq!(safe(Unavailable, 2), Decision::RetryAfter(Duration::from_millis(400)));
        assert_eq!(safe(Unavailable, 4), Decision::RetryAfter(Duration::from_millis(1600)));
        assert_eq!(safe(Unavailable, 5), Decision::Stop);
        let long = RetryPolicy { max_attempts: 100, ..P };
        assert_eq!(long.decide(Unavailable, None, 30, Idempotency::Safe, 1.0), Decision::RetryAfter(P.cap));
    }

    #[test]
    fn jitter_stays_within_the_upper_half_of_the_step() {
        assert_eq!(
            P.decide(Unavailable, None, 2, Idempotency::Safe, 0.0),
            Decision::RetryAfter(Duration::from_millis(200))
        );
        assert_eq!(
            P.decide(Unavailable, None, 2, Idempotency::Safe, 0.5),
            Decision::RetryAfter(Duration::from_millis(300))
        );
    }

    #[test]
    fn no_answer_is_treated_like_unavailable() {
        assert!(matches!(safe(Transport, 1), Decision::RetryAfter(_)));
        assert!(matches!(safe(Timeout, 4), Decision::RetryAfter(_)));
        assert_eq!(safe(Timeout, 5), Decision::Stop);
    }

    #[test]
    fn internal_is_retried_exactly_once() {
        assert!(matches!(safe(Internal, 1), Decision::RetryAfter(_)));
        assert_eq!(safe(Internal, 2), Decision::Stop);
    }

    #[test]
    fn answers_that_a_retry_cannot_change_are_never_retried() {
        for code in [
            Aborted,
            InvalidArgument,
            NotFound,
            PermissionDenied,
            FailedPrecondition,
            Rejected,
            Decode,
            Conflict,
            Unauthenticated,
        ] {
            assert_eq!(safe(code, 1), Decision::Stop, "{code:?}");
        }
    }

    #[test]
    fn unsafe_calls_are_never_retried() {
        for code in [Unavailable, Transport, Timeout, Internal] {
            assert_eq!(P.decide(code, None, 1, Idempotency::Unsafe, 1.0), Decision::Stop, "{code:?}");
        }
    }

    #[test]
    fn retry_after_is_honoured_but_capped() {
        assert_eq!(
            P.decide(Unavailable, Some(Duration::from_secs(2)), 1, Idempotency::Safe, 1.0),
            Decision::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(
            P.decide(Unavailable, Some(Duration::from_secs(60)), 1, Idempotency::Safe, 1.0),
            Decision::RetryAfter(P.cap)
        );
    }
}
