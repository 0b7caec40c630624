//! What `/readyz` and the liveness metrics are made of, kept apart from the parts they watch:
//! [`Liveness`], where every background task says it finished a loop. It is read without any I/O, so
//! a probe never waits on a worker.

mod workers;

pub use workers::{Heartbeat, Liveness, TaskState};
