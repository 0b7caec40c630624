//! Shared primitives that every surface speaks: exact money, validated identifiers, who is calling
//! (address lists and the trusted-proxy rule) and the one constant-time comparison of secrets.
//! Each newtype is built once at the edge by a constructor that can fail; holding one means it is valid.

pub mod clock;
pub mod constant_time;
pub mod money;
pub mod msisdn;
pub mod netguard;

pub use msisdn::{Msisdn, MsisdnError};
