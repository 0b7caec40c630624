//! Shared primitives that every surface speaks: exact money and validated identifiers.
//! Each newtype is built once at the edge by a constructor that can fail; holding one means it is valid.

pub mod clock;
pub mod money;
pub mod msisdn;

pub use msisdn::{Msisdn, MsisdnError};
