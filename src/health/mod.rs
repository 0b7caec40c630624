//! What `/readyz` and the liveness metrics are made of, kept apart from the parts they watch:
//! [`Liveness`], where every background task says it finished a loop, and [`LmsHealth`], where the LMS
//! client notes the outcome of every attempt. Both are read without any I/O, so a probe never calls
//! the LMS or waits on a worker.

mod lms;
mod workers;

pub use lms::LmsHealth;
pub use workers::{Heartbeat, Liveness, TaskState};
