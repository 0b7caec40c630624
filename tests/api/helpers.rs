//! Shared test plumbing: client configs pointed at a mock server, JWTs with chosen lifetimes, and a
//! running gateway on port 0 with the sandbox LMS mounted.

use std::str::FromStr;
use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use mkopo::config::Settings;
use mkopo::domain::clock::Clock;
use mkopo::lms::{LmsClient, LmsClientConfig, RetryPolicy};
use mkopo::startup::Application;
use rust_decimal::Decimal;

pub const EMAIL: &str = "partner@example.test";
pub const PASSWORD: &str = "s3cret-partner";

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A JWT-shaped token whose payload carries the given `iat` and `exp` (seconds from now).
pub fn jwt(name: &str, iat_from_now: i64, exp_from_now: i64) -> String {
    let now = Utc::now().timestamp();
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let header = b64(r#"{"alg":"RS256","kid":"test","typ":"JWT"}"#);
    let payload = b64(&format!(
        r#"{{"iss":"service-project","sub":"{name}","iat":{},"exp":{},"roles":["ADMIN"]}}"#,
        now + iat_from_now,
        now + exp_from_now
    ));
    format!("{header}.{payload}.sig-{name}")
}

/// A token that lives a year, as the real LMS issues them.
pub fn year_token(name: &str) -> String {
    jwt(name, 0, 365 * 24 * 3600)
}

pub fn token_body(token: &str) -> String {
    format!(r#"{{"token":"{token}"}}"#)
}

pub fn basic_auth() -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{PASSWORD}")))
}

/// A client config aimed at `base` (a mock server), with fast retries so tests stay quick.
pub fn client_config(base: &str) -> LmsClientConfig {
    let mut config = LmsClientConfig::from_settings(&Settings::local_defaults().lms, base.to_owned(), base.to_owned());
    config.partner_email = EMAIL.into();
    config.partner_password = PASSWORD.to_owned().into();
    config.retry = RetryPolicy { max_attempts: 3, base: Duration::from_millis(1), cap: Duration::from_millis(5) };
    config.request_timeout = Duration::from_secs(2);
    config.worker_request_timeout = Duration::from_secs(2);
    config.products_cache_ttl = Duration::from_secs(60);
    config
}

pub fn client(base: &str) -> LmsClient {
    LmsClient::new(client_config(base), Clock::system()).unwrap()
}

/// A running gateway on a free port with the sandbox LMS and in-memory stores.
pub struct TestApp {
    pub base: String,
    pub app_lms: LmsClient,
    pub sandbox: mkopo::sandbox::lms::SandboxLms,
    pub wallet: Option<mkopo::sandbox::wallet::SandboxWallet>,
    pub money: mkopo::momo::service::MoneyService,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings::local_defaults();
        settings.server.port = 0;
        settings.server.workers = 2;
        tweak(&mut settings);
        let app = Application::build(settings).await.expect("the app builds");
        let base = app.base_url();
        let app_lms = app.lms().clone();
        let sandbox = app.sandbox_lms().expect("sandbox mode").clone();
        let wallet = app.sandbox_wallet().cloned();
        let money = app.money().clone();
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        Self { base, app_lms, sandbox, wallet, money, handle }
    }

    /// An app on real Redis under a fresh key prefix, with fast money timers.
    pub async fn spawn_on_redis(tweak: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_on_redis_at(&crate::store::redis_url(), tweak).await
    }

    /// [`TestApp::spawn_on_redis`] on the Redis at `url` (a test's own throwaway server).
    pub async fn spawn_on_redis_at(url: &str, tweak: impl FnOnce(&mut Settings)) -> Self {
        let url = url.to_owned();
        Self::spawn_with(move |s| {
            s.redis.url = Some(url.into());
            s.redis.key_prefix = format!("mkopo-test-{}", uuid::Uuid::new_v4());
            fast_money(&mut s.money);
            s.sandbox.wallet.payout_delay = Duration::from_millis(50);
            s.sandbox.wallet.collection_approve_delay = Duration::from_millis(100);
            s.sandbox.wallet.delivery_retry_delays =
                vec![Duration::ZERO, Duration::from_millis(100), Duration::from_millis(300)];
            tweak(s);
        })
        .await
    }

    /// A fresh client with its own token cache, aimed at this app's sandbox LMS.
    pub fn sandbox_client(&self) -> LmsClient {
        let base = format!("{}/sandbox/lms", self.base);
        let mut config = client_config(&base);
        config.partner_email = "partner@sandbox.local".into();
        config.partner_password = "sandbox".to_owned().into();
        config.generation = self.app_lms.generation();
        LmsClient::new(config, Clock::system()).unwrap()
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// Money timers in milliseconds, so sagas and retries settle within a test.
pub fn fast_money(m: &mut mkopo::config::MoneySettings) {
    m.claim_block = Duration::from_millis(200);
    m.reclaim_idle = Duration::from_millis(500);
    m.retry_base = Duration::from_millis(50);
    m.retry_cap = Duration::from_millis(300);
    m.timer_tick = Duration::from_millis(50);
    m.payout_poll_schedule = vec![Duration::from_millis(200), Duration::from_millis(300)];
    m.payout_poll_every = Duration::from_millis(400);
    m.loan_create_deadline = Duration::from_secs(3);
    m.payout_pending_timeout = Duration::from_secs(2);
}

/// Polls `check` every 50 ms until it returns `Some`, or fails the test after `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A sandbox-wallet behaviour for one subscriber, for payouts, collections or both (`None`).
pub fn rule(
    msisdn: &str,
    direction: Option<&str>,
    behaviour: mkopo::sandbox::wallet::Behaviour,
) -> mkopo::sandbox::wallet::BehaviourRule {
    mkopo::sandbox::wallet::BehaviourRule {
        msisdn: Some(msisdn.into()),
        amount: None,
        direction: direction.map(Into::into),
        behaviour,
    }
}
