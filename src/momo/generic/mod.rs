//! The generic wallet: mkopo's own published wallet contract (docs/money.md), spoken by
//! HaloPesa-style integrations and by the sandbox wallet.
//!
//! - [`wire`]: the transaction object, the callback envelope and the request bodies as typed DTOs,
//!   shared with the sandbox wallet so both ends write the same bytes.
//! - [`callback`]: pure authentication and parsing of callbacks into [`crate::momo::InboundEvent`]s,
//!   plus the exact acknowledgement and error bodies.
//! - [`GenericWalletClient`]: `POST /payouts`, `POST /collections`, `GET /transactions/{reference}`,
//!   with every answer classified by the pure functions of [`classify`].
//! - [`GenericWalletSettings`]: one wallet's configuration.

pub mod callback;
pub mod classify;
mod client;
mod settings;
pub mod wire;

pub use crate::momo::wallet::{StatusAnswer, SubmitResult};
pub use callback::{authenticate, error_body, parse, CallbackError, ACK_BODY, MAX_BODY_BYTES};
pub use client::GenericWalletClient;
pub use settings::GenericWalletSettings;
pub use wire::{CallbackEnvelope, FailureCode, TransactionObject, TxKind, TxStatus};

#[cfg(test)]
mod client_tests;
