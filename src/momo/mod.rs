//! Mobile money: the neutral model, our references, the provider adapters (one file or folder per
//! provider) and the durable machinery that moves money exactly once between wallets and the LMS.

pub mod allocate;
pub mod collect;
pub mod daraja;
pub mod generic;
pub mod model;
mod posting;
pub mod records;
pub mod reference;
pub mod saga;
pub mod service;
pub mod signature;
pub mod store;
pub mod tasks;
pub mod timers;
pub mod wallet;
pub mod worker;

pub use model::*;
pub use reference::{Reference, ReferenceKind};
