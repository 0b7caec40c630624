//! How transactions end. A new payout completes after `payout_delay`; a collection is approved after
//! `collection_approve_delay`; a rule may make either fail, be declined or stay pending. Whatever ends a
//! transaction (the timer or an approve/decline hook), [`SandboxWallet::finish`] moves it out of
//! `pending` exactly once, so it produces exactly one final callback (docs/money.md guarantee 4).

use super::delivery;
use super::errors::WalletError;
use super::rules::Behaviour;
use super::state::{require_runtime, spawn, SandboxWallet};
use super::transaction::{now, TransactionKind, TransactionStatus, TransactionView};

/// The final status a pending transaction moves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// `completed`, with a fresh receipt.
    Complete,
    /// `failed` (definite: no money moved).
    Fail { code: String, message: String },
}

impl Ending {
    /// The subscriber declined the collection prompt.
    pub fn declined() -> Self {
        Ending::Fail {
            code: "cancelled_by_user".to_owned(),
            message: "The subscriber declined the payment prompt".to_owned(),
        }
    }

    /// How a new transaction under `behaviour` ends by itself; `None`: it never does.
    fn for_behaviour(behaviour: Option<&Behaviour>) -> Option<Self> {
        match behaviour {
            Some(Behaviour::StayPending) => None,
            Some(Behaviour::Fail { code }) => {
                Some(Ending::Fail { code: code.clone(), message: format!("Sandbox rule: failed with {code}") })
            }
            Some(Behaviour::Decline) => Some(Ending::declined()),
            _ => Some(Ending::Complete),
        }
    }
}

/// Starts the timer that ends a just-recorded transaction, unless its behaviour keeps it pending.
pub(crate) fn schedule(wallet: &SandboxWallet, kind: TransactionKind, reference: &str, behaviour: Option<&Behaviour>) {
    let Some(ending) = Ending::for_behaviour(behaviour) else { return };
    let delay = wallet.delay_for(kind);
    let (wallet, reference) = (wallet.clone(), reference.to_owned());
    spawn(async move {
        tokio::time::sleep(delay).await;
        // Already ended by a hook: nothing to do, and no second callback.
        let _ = wallet.finish(&reference, ending);
    });
}

impl SandboxWallet {
    /// Moves the pending transaction `reference` to its final status and dispatches its one final
    /// callback. `409 not_pending` if it had already ended.
    pub(crate) fn finish(&self, reference: &str, ending: Ending) -> Result<TransactionView, WalletError> {
        let view = self.with_state(|s| {
            let status = s.get(reference).map(|v| v.status);
            match status {
                None => return Err(WalletError::not_found("no transaction with this reference")),
                Some(TransactionStatus::Pending) => {}
                Some(_) => return Err(WalletError::not_pending("this transaction already has a final status")),
            }
            let receipt = (ending == Ending::Complete).then(|| s.mint_receipt());
            let view =
                s.get_mut(reference).ok_or_else(|| WalletError::not_found("no transaction with this reference"))?;
            view.occurred_at = Some(now());
            match ending {
                Ending::Complete => {
                    view.status = TransactionStatus::Completed;
                    view.receipt = receipt;
                }
                Ending::Fail { code, message } => {
                    view.status = TransactionStatus::Failed;
                    view.failure_code = Some(code);
                    view.failure_message = Some(message);
                }
            }
            Ok(view.clone())
        })?;
        tracing::info!(reference, kind = view.kind.as_str(), status = ?view.status, "sandbox wallet: transaction final");
        delivery::dispatch(self, &view);
        Ok(view)
    }

    /// Ends a pending collection now, as its subscriber would (the approve/decline hooks).
    pub(crate) fn resolve_collection(&self, reference: &str, ending: Ending) -> Result<TransactionView, WalletError> {
        require_runtime()?;
        let kind = self.with_state(|s| s.get(reference).map(|v| v.kind));
        if kind != Some(TransactionKind::Collection) {
            return Err(WalletError::not_found("no collection with this reference"));
        }
        self.finish(reference, ending)
    }
}
