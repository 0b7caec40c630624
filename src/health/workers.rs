//! Liveness of the background tasks (inbox workers, the timer sweeper, the recovery sweep). Each task
//! beats after every loop it finishes; one that has not beaten for three of its intervals plus a
//! margin is stalled, and `/readyz`, `mkopo_worker_stalled` and the `MkopoWorkerStalled` alert name it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

struct Task {
    name: String,
    stall_after: Duration,
    last_beat_ms: AtomicU64,
}

struct Inner {
    epoch: Instant,
    tasks: RwLock<Vec<Arc<Task>>>,
}

/// Every background task of one application. Cheap to clone.
#[derive(Clone)]
pub struct Liveness(Arc<Inner>);

impl Default for Liveness {
    fn default() -> Self {
        Self(Arc::new(Inner { epoch: Instant::now(), tasks: RwLock::default() }))
    }
}

impl std::fmt::Debug for Liveness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.tasks()).finish()
    }
}

/// One task's handle: [`Heartbeat::beat`] after every finished loop. Clones beat for the same task (a
/// restarted task keeps its name and its history).
#[derive(Clone)]
pub struct Heartbeat {
    task: Arc<Task>,
    epoch: Instant,
}

/// A task as a probe sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskState {
    pub name: String,
    /// Time since the task last finished a loop (or started).
    pub since_last_loop: Duration,
    /// Past this, the task is stalled.
    pub stall_after: Duration,
}

impl TaskState {
    pub fn stalled(&self) -> bool {
        self.since_last_loop > self.stall_after
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Liveness {
    /// Registers a task that loops about every `interval` (its block or tick); it is stalled after
    /// `3 × interval + margin` without a finished loop. The clock starts now.
    pub fn register(&self, name: impl Into<String>, interval: Duration, margin: Duration) -> Heartbeat {
        let task = Arc::new(Task {
            name: name.into(),
            stall_after: interval.saturating_mul(3).saturating_add(margin),
            last_beat_ms: AtomicU64::new(millis(self.0.epoch.elapsed())),
        });
        let mut tasks = self.0.tasks.write().unwrap_or_else(|e| e.into_inner());
        tasks.retain(|t| t.name != task.name);
        tasks.push(task.clone());
        Heartbeat { task, epoch: self.0.epoch }
    }

    /// Every registered task, in registration order.
    pub fn tasks(&self) -> Vec<TaskState> {
        let now = millis(self.0.epoch.elapsed());
        let tasks = self.0.tasks.read().unwrap_or_else(|e| e.into_inner());
        tasks
            .iter()
            .map(|t| TaskState {
                name: t.name.clone(),
                since_last_loop: Duration::from_millis(now.saturating_sub(t.last_beat_ms.load(Ordering::Relaxed))),
                stall_after: t.stall_after,
            })
            .collect()
    }

    /// The stalled tasks, worded for `/readyz`; `None` when every task loops.
    pub fn stalled(&self) -> Option<String> {
        let stalled: Vec<String> = self
            .tasks()
            .into_iter()
            .filter(TaskState::stalled)
            .map(|t| {
                format!(
                    "{} (no loop finished for {:.1}s; expected within {:.1}s)",
                    t.name,
                    t.since_last_loop.as_secs_f64(),
                    t.stall_after.as_secs_f64()
                )
            })
            .collect();
        (!stalled.is_empty()).then(|| format!("stalled: {}", stalled.join(", ")))
    }
}

impl Heartbeat {
    /// The task finished a loop (or an entry of one): it is alive.
    pub fn beat(&self) {
        self.task.last_beat_ms.store(millis(self.epoch.elapsed()), Ordering::Relaxed);
    }

    pub fn name(&self) -> &str {
        &self.task.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_that_beats_is_alive_and_one_that_does_not_is_named() {
        let liveness = Liveness::default();
        let quick = liveness.register("timers", Duration::from_millis(1), Duration::from_millis(10));
        let _slow = liveness.register("inbox-0", Duration::from_secs(2), Duration::from_secs(30));
        assert_eq!(liveness.stalled(), None, "a task is alive when it starts");
        std::thread::sleep(Duration::from_millis(30));
        let stalled = liveness.stalled().expect("timers stopped beating");
        assert!(stalled.starts_with("stalled: timers (no loop finished for "), "{stalled}");
        assert!(!stalled.contains("inbox-0"), "{stalled}");
        quick.beat();
        assert_eq!(liveness.stalled(), None);
    }

    #[test]
    fn the_threshold_is_three_intervals_and_the_margin() {
        let liveness = Liveness::default();
        liveness.register("inbox-0", Duration::from_secs(2), Duration::from_secs(60));
        assert_eq!(liveness.tasks()[0].stall_after, Duration::from_secs(66));
    }

    #[test]
    fn registering_a_name_again_replaces_the_task() {
        let liveness = Liveness::default();
        liveness.register("recovery", Duration::from_secs(300), Duration::ZERO);
        let again = liveness.register("recovery", Duration::from_secs(1), Duration::ZERO);
        assert_eq!(liveness.tasks().len(), 1);
        assert_eq!(again.name(), "recovery");
        assert_eq!(liveness.tasks()[0].stall_after, Duration::from_secs(3));
    }
}
