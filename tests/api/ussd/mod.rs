//! The USSD surface end to end: real HTTP hops through each aggregator's dialect, sessions in real
//! Redis, the sandbox LMS and the sandbox wallet behind them.

mod balance;
mod edges;
mod faults;
mod guards;
mod hop_cost;
pub(crate) mod journeys;
mod options;
pub mod phone;
mod pin;
mod resume;
mod screens;
