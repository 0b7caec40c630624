//! The integration suite: one binary, so the crate links once. Each module reads like the behaviour it
//! proves; `helpers` spawns apps, mocks and sandboxes.

mod binary;
mod config;
mod config_currency;
mod daraja;
mod deploy;
mod dial;
mod docs;
mod heal;
mod health;
mod helpers;
mod lms_client;
mod lms_contract;
mod lms_generations;
mod lms_settled;
mod lms_token;
mod lms_undo;
mod log_masking;
mod metrics;
mod money;
mod parsers;
mod readme;
mod real_lms;
mod saga;
mod session;
mod shutdown;
mod simulator;
mod store;
mod store_lease;
mod ussd;
