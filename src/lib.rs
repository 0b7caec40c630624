//! mkopo: a USSD and mobile-money gateway in front of a Fineract-based loan-management API (the "LMS").
//!
//! The binary (`main.rs`) is a thin shell over this crate: [`startup::Application`] builds the whole
//! service so that tests can run the very same thing on port 0.

pub mod cli;
pub mod config;
pub mod domain;
pub mod health;
pub mod journeys;
pub mod lms;
pub mod menu;
pub mod metrics;
pub mod momo;
pub mod phone;
pub mod routes;
pub mod sandbox;
pub mod session;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod ussd;
