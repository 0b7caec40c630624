//! The calls the page is making: one terminal-phone [`Phone`] per call, aimed at this gateway's own
//! `/ussd/<dialect>` route over loopback, so every hop goes through the real guard, parser, menu engine
//! and renderer, in the dialect's real wire format.
//!
//! The page keeps only an opaque call id; the wire state (AT's input path, Beem's `request_id`, Hubtel's
//! `Sequence`) stays in the [`Phone`]. Calls live in a process-wide cache, because `configure` runs once
//! per HTTP worker and a call's hops may land on different workers; ids are random, so several
//! gateways in one process (the test suite) never share a call. An idle call is forgotten after
//! [`IDLE`], like an aggregator session.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use moka::future::Cache;
use tokio::sync::Mutex;

use crate::phone::{Dialect, Phone};

/// How long an untouched call is kept.
pub const IDLE: Duration = Duration::from_secs(600);
/// At most this many calls are kept; the least recently used go first.
const CAPACITY: u64 = 1_000;
/// A hop gives up after this long (the gateway's own hop budget is a few seconds).
const HOP_TIMEOUT: Duration = Duration::from_secs(20);

/// One call: its phone, locked for the length of a hop so two clicks cannot interleave.
pub type Line = Arc<Mutex<Phone>>;

fn calls() -> &'static Cache<String, Line> {
    static CALLS: OnceLock<Cache<String, Line>> = OnceLock::new();
    CALLS.get_or_init(|| Cache::builder().max_capacity(CAPACITY).time_to_idle(IDLE).build())
}

/// How the simulator gets past a dialect's guard: its path token and basic-auth credentials, from the
/// same settings the guard checks. (An IP allow-list must admit loopback for the simulator to pass.)
pub struct Pass<'a> {
    pub path_token: Option<&'a str>,
    pub basic_auth: Option<(&'a str, &'a str)>,
}

/// A phone for `msisdn` dialling `code` through `dialect`'s route on the server at `local`, with what
/// the route's guard asks for.
pub fn phone(local: SocketAddr, dialect: Dialect, pass: &Pass<'_>, msisdn: &str, code: &str) -> Phone {
    let endpoint = format!("http://{}/ussd/{}", loopback(local), dialect.route());
    let mut phone = Phone::new(endpoint, dialect, msisdn).with_code(code).with_timeout(HOP_TIMEOUT);
    if let Some(token) = pass.path_token {
        phone = phone.with_token(token);
    }
    if let Some((username, password)) = pass.basic_auth {
        phone = phone.with_basic_auth(username, password);
    }
    phone
}

/// Keeps `phone` as a new call and returns its id.
pub async fn open(phone: Phone) -> (String, Line) {
    let id = format!("call-{}", uuid::Uuid::new_v4().simple());
    let line = Arc::new(Mutex::new(phone));
    calls().insert(id.clone(), line.clone()).await;
    (id, line)
}

pub async fn find(id: &str) -> Option<Line> {
    calls().get(id).await
}

pub async fn forget(id: &str) {
    calls().invalidate(id).await;
}

/// The provider's notice for a subscriber who hangs up mid-session (docs/ussd.md).
pub fn hang_up_notice(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::AfricasTalking => "Incomplete",
        Dialect::Beem => "terminate",
        Dialect::Hubtel => "Release",
    }
}

/// Where to reach the server that took the request: a wildcard bind address becomes loopback.
fn loopback(local: SocketAddr) -> SocketAddr {
    match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), local.port()),
        _ => local,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: Pass<'static> = Pass { path_token: None, basic_auth: None };

    #[test]
    fn a_wildcard_bind_address_is_reached_over_loopback() {
        let v4 = phone("0.0.0.0:8080".parse().unwrap(), Dialect::Beem, &NONE, "255712345678", "*150*88#");
        assert_eq!(v4.endpoint(), "http://127.0.0.1:8080/ussd/beem");
        let token = Pass { path_token: Some("tok"), basic_auth: None };
        let v6 = phone("[::]:9000".parse().unwrap(), Dialect::Hubtel, &token, "233241234567", "*713*20#");
        assert_eq!(v6.endpoint(), "http://[::1]:9000/ussd/hubtel/tok");
    }

    #[tokio::test]
    async fn a_call_is_found_by_its_id_until_it_is_forgotten() {
        let (id, _) =
            open(phone("127.0.0.1:9".parse().unwrap(), Dialect::AfricasTalking, &NONE, "255712345678", "*1#")).await;
        assert!(find(&id).await.is_some());
        forget(&id).await;
        assert!(find(&id).await.is_none());
        assert!(find("call-unknown").await.is_none());
    }
}
