//! The timer sweeper: one task per process moves due timers into action. `retry:{event}` puts an
//! event back on the inbox; `saga:{R}` advances a disbursement; `coll:{C}` submits or polls a
//! collection. Timers are leased while handled, so a crash makes them fire again.

use std::time::Duration;

use tokio::sync::watch;

use super::reference::Reference;
use super::service::MoneyService;
use super::worker::Deferred;
use crate::health::Heartbeat;

/// How long a fired timer is hidden from other sweepers while it is handled.
const LEASE: Duration = Duration::from_secs(30);

pub async fn run(service: MoneyService, shutdown: watch::Receiver<bool>) {
    let beat = crate::health::Liveness::default().register("timers", Duration::ZERO, Duration::ZERO);
    run_watched(service, shutdown, beat).await
}

/// [`run`], beating `beat` after every sweep. A failed sweep (the store away) is logged once when the
/// failures start and when they end, and the next tick tries again.
pub async fn run_watched(service: MoneyService, mut shutdown: watch::Receiver<bool>, beat: Heartbeat) {
    let tick = service.settings.timer_tick;
    let mut failures = 0u32;
    while !*shutdown.borrow() {
        match sweep(&service).await {
            Ok(_) if failures > 0 => {
                tracing::info!(failures, "timer sweeps work again");
                failures = 0;
            }
            Ok(_) => {}
            Err(error) => {
                failures += 1;
                if failures == 1 || failures.is_multiple_of(100) {
                    tracing::warn!(%error, failures, "timer sweep failed");
                }
            }
        }
        beat.beat();
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            // A dropped sender is a stop too, or this loop would spin.
            changed = shutdown.changed() => if changed.is_err() { break },
        }
    }
}

/// Handles every timer due now; returns how many fired.
pub async fn sweep(service: &MoneyService) -> Result<usize, Deferred> {
    let due = service.store.take_due(service.now(), LEASE, 100).await?;
    for timer in &due {
        if let Err(error) = fire(service, timer).await {
            tracing::warn!(%error, timer, "timer deferred; it fires again after its lease");
        }
    }
    Ok(due.len())
}

async fn fire(service: &MoneyService, timer: &str) -> Result<(), Deferred> {
    if let Some(event_key) = timer.strip_prefix("retry:") {
        service.store.enqueue(event_key).await?;
        service.store.cancel(timer).await?;
    } else if let Some(reference) = timer.strip_prefix("saga:").and_then(Reference::parse) {
        super::saga::advance(service, &reference).await?;
    } else if let Some(reference) = timer.strip_prefix("coll:").and_then(Reference::parse) {
        super::collect::advance(service, &reference).await?;
    } else {
        tracing::warn!(timer, "unknown timer dropped");
        service.store.cancel(timer).await?;
    }
    Ok(())
}
