//! Shared plumbing for the client tests: settings aimed at a mockito server, a movable clock, an
//! OAuth mock, and the sample requests. Every mock states how often it must be hit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use mockito::{Matcher, Mock, ServerGuard};
use rust_decimal::Decimal;

use super::DarajaClient;
use crate::domain::clock::Clock;
use crate::domain::Msisdn;
use crate::momo::daraja::settings::tests::sample;
use crate::momo::{Direction, Money, OutboundRequest, Reference};

pub const PATH_TOKEN: &str = "k3Jt9QwZp2Lx7VbN4mRc8A";
pub const CREDENTIAL: &str = "c2VjdXJpdHktY3JlZGVudGlhbA==";
pub const PASSKEY: &str = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919";
/// 2026-05-25 13:02:38 in Nairobi.
pub const NOW: &str = "2026-05-25T10:02:38Z";

pub fn callback(path: &str) -> String {
    format!("https://gw.example.com/v1/callbacks/daraja/{PATH_TOKEN}/{path}")
}

/// A clock the test can move forward.
#[derive(Clone)]
pub struct TestClock(Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    pub fn new() -> Self {
        Self(Arc::new(Mutex::new(NOW.parse().unwrap())))
    }

    pub fn advance(&self, seconds: i64) {
        *self.0.lock().unwrap() += TimeDelta::seconds(seconds);
    }

    pub fn clock(&self) -> Clock {
        let inner = Arc::clone(&self.0);
        Clock::from_fn(move || *inner.lock().unwrap())
    }
}

pub fn client(server: &ServerGuard) -> DarajaClient {
    client_with(server, &TestClock::new(), Duration::from_secs(2))
}

pub fn client_with(server: &ServerGuard, clock: &TestClock, timeout: Duration) -> DarajaClient {
    let mut settings = sample(&server.url());
    settings.request_timeout = timeout;
    DarajaClient::new(&settings, clock.clock()).unwrap()
}

fn basic() -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("key:secret"))
}

/// The OAuth endpoint handing out `tokens` in order (the last repeats), expected `hits` times.
pub async fn oauth(server: &mut ServerGuard, tokens: &[&str], hits: usize) -> Mock {
    let tokens: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
    let served = Arc::new(AtomicUsize::new(0));
    server
        .mock("GET", "/oauth/v1/generate")
        .match_query(Matcher::UrlEncoded("grant_type".into(), "client_credentials".into()))
        .match_header("authorization", basic().as_str())
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body_from_request(move |_| {
            let n = served.fetch_add(1, Ordering::SeqCst).min(tokens.len() - 1);
            format!(r#"{{"access_token":"{}","expires_in":"3599"}}"#, tokens[n]).into_bytes()
        })
        .expect(hits)
        .create_async()
        .await
}

/// A POST to `path` with `Bearer {token}` and a body matching `body`, answered with `status`/`answer`.
pub async fn api(
    server: &mut ServerGuard,
    path: &str,
    token: &str,
    body: Matcher,
    status: usize,
    answer: &str,
    hits: usize,
) -> Mock {
    server
        .mock("POST", path)
        .match_header("authorization", format!("Bearer {token}").as_str())
        .match_header("content-type", "application/json")
        .match_body(body)
        .with_status(status)
        .with_header("content-type", "application/json")
        .with_body(answer)
        .expect(hits)
        .create_async()
        .await
}

pub fn kes(amount: i64) -> Money {
    Money::new(Decimal::from(amount), "KES")
}

pub fn payout_request() -> OutboundRequest {
    OutboundRequest {
        reference: Reference::parse("L0000123455").unwrap(),
        direction: Direction::Payout,
        msisdn: Msisdn::parse("254712345678", "254").unwrap(),
        amount: Money::new(Decimal::new(500000, 2), "KES"),
        account: None,
        description: None,
    }
}

pub fn collection_request() -> OutboundRequest {
    OutboundRequest {
        reference: Reference::parse("C0000000174").unwrap(),
        direction: Direction::Collection,
        msisdn: Msisdn::parse("0712345678", "254").unwrap(),
        amount: kes(11100),
        account: Some("L0000123455".into()),
        description: None,
    }
}
