//! The money machinery's background tasks: the inbox workers, the timer sweeper and the saga recovery
//! sweep. Each one beats a [`Heartbeat`] after every loop (so `/readyz` and `mkopo_worker_stalled`
//! name one that stopped), and each runs under a supervisor: a task that panics is logged and started
//! again a second later instead of leaving its work undone until the process restarts.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::service::MoneyService;
use super::{saga, timers, worker};
use crate::health::{Heartbeat, Liveness};

/// How often the recovery sweep looks for disbursements to resume.
pub const RECOVERY_EVERY: Duration = Duration::from_secs(300);
/// A failed recovery sweep (the store was away) is tried again this soon, not after a whole period.
const RECOVERY_RETRY: Duration = Duration::from_secs(5);
/// Pause before a task that panicked is started again, so a task that panics at once cannot spin.
const RESTART_DELAY: Duration = Duration::from_secs(1);

/// Starts every task; all stop when `stop` turns true. `margin` is `readiness.worker_stall_margin`.
pub fn spawn(
    money: &MoneyService,
    liveness: &Liveness,
    margin: Duration,
    stop: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    // Consumer names are unique per process (a restarted process must not inherit another's pending
    // entries by name); the heartbeat names are stable, so metric labels do not grow with restarts.
    let instance = uuid::Uuid::new_v4().simple().to_string();
    let settings = money.settings.clone();
    let mut tasks: Vec<JoinHandle<()>> = (0..settings.workers.max(1))
        .map(|n| {
            let beat = liveness.register(format!("inbox-{n}"), settings.claim_block, margin);
            let (money, consumer, stopped) = (money.clone(), format!("{}-{n}", &instance[..8]), stop.clone());
            supervise(beat.clone(), stop.clone(), move || {
                worker::run_watched(money.clone(), consumer.clone(), stopped.clone(), beat.clone())
            })
        })
        .collect();
    let beat = liveness.register("timers", settings.timer_tick, margin);
    let (sweeper, stopped) = (money.clone(), stop.clone());
    tasks.push(supervise(beat.clone(), stop.clone(), move || {
        timers::run_watched(sweeper.clone(), stopped.clone(), beat.clone())
    }));
    let beat = liveness.register("recovery", RECOVERY_EVERY, margin);
    let (recovering, stopped) = (money.clone(), stop.clone());
    tasks.push(supervise(beat.clone(), stop, move || recovery(recovering.clone(), stopped.clone(), beat.clone())));
    tasks
}

/// Runs `task` until it returns with `stop` set; a panic (or a return before `stop`) is logged and the
/// task started again.
fn supervise<F, Fut>(beat: Heartbeat, mut stop: watch::Receiver<bool>, task: F) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let outcome = tokio::spawn(task()).await;
            if *stop.borrow() {
                return;
            }
            match outcome {
                Err(error) if error.is_panic() => {
                    tracing::error!(task = beat.name(), "background task panicked; starting it again")
                }
                // Cancelled: the runtime itself is going away.
                Err(_) => return,
                Ok(()) => tracing::error!(task = beat.name(), "background task returned early; starting it again"),
            }
            tokio::select! {
                _ = tokio::time::sleep(RESTART_DELAY) => {}
                _ = stop.changed() => return,
            }
        }
    })
}

/// The saga recovery sweep: every open disbursement whose next step is an action is advanced.
async fn recovery(money: MoneyService, mut stop: watch::Receiver<bool>, beat: Heartbeat) {
    while !*stop.borrow() {
        let wait = match saga::recover(&money).await {
            Ok(0) => RECOVERY_EVERY,
            Ok(n) => {
                tracing::info!(resumed = n, "recovery sweep resumed disbursements");
                RECOVERY_EVERY
            }
            Err(error) => {
                tracing::warn!(%error, "recovery sweep failed; trying again shortly");
                RECOVERY_RETRY
            }
        };
        beat.beat();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
}
