//! Built-in simulators of the parties mkopo talks to, for the local environment and tests only.
//! Production refuses to start with any of them enabled (see `config`).

pub mod lms;
pub mod wallet;
