//! In-process tests of the sandbox wallet through actix's test service. [`start`] mounts a fresh
//! wallet with millisecond delays at `/sandbox/wallet` and points its callbacks at a [`Receiver`] on a
//! random port; the request helpers add the prefix and the bearer key.

mod auth_and_validation;
mod behaviours;
mod collections;
mod delivery;
mod payments;
mod payouts;
mod receiver;
mod settings;

use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::AUTHORIZATION;
use actix_web::test::{self, TestRequest};
use actix_web::App;
use futures::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::{scope, BehaviourRule, SandboxWallet, SandboxWalletSettings, TransactionStatus, TransactionView};
use receiver::Receiver;

pub(super) const PREFIX: &str = "/sandbox/wallet";
pub(super) const KEY: &str = "sandbox-wallet-key";
pub(super) const SECRET: &str = "whsec_bWtvcG8tdGVzdC12ZWN0b3Itc2VjcmV0LTMyYnl0ZXM=";
pub(super) const MSISDN: &str = "255712345678";

/// Sends one request through the app; boxed so the harness needs no unnameable service type.
type Sender = Box<dyn Fn(TestRequest) -> LocalBoxFuture<'static, ServiceResponse<BoxBody>>>;

/// Default settings with millisecond delays.
pub(super) fn fast() -> SandboxWalletSettings {
    SandboxWalletSettings {
        payout_delay: Duration::from_millis(20),
        collection_approve_delay: Duration::from_millis(40),
        delivery_retry_delays: vec![Duration::ZERO, Duration::from_millis(20), Duration::from_millis(20)],
        ..SandboxWalletSettings::default()
    }
}

pub(super) fn rule(json: Value) -> BehaviourRule {
    serde_json::from_value(json).expect("test rule")
}

pub(super) struct TestWallet {
    send: Sender,
    pub wallet: SandboxWallet,
    pub receiver: Receiver,
}

/// A response with its JSON body (`Null` when empty) and exact bytes.
#[derive(Debug)]
pub(super) struct Reply {
    pub status: u16,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    /// Asserts the status and the `{"error", "message"}` envelope, showing the body on failure.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!((self.status, self.body["error"].as_str()), (status, Some(code)), "body: {}", self.body);
        assert!(self.body["message"].is_string(), "the envelope needs a message: {}", self.body);
        assert_eq!(self.body.as_object().map(|o| o.len()), Some(2), "only error and message: {}", self.body);
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        &self.body
    }
}

/// Mounts `wallet` under `prefix` in a fresh test service.
pub(super) async fn mount(prefix: &'static str, wallet: SandboxWallet) -> Sender {
    let app = Rc::new(test::init_service(App::new().service(scope(prefix, wallet))).await);
    Box::new(move |req: TestRequest| {
        let app = Rc::clone(&app);
        Box::pin(async move { test::call_service(&*app, req.to_request()).await.map_into_boxed_body() })
    })
}

pub(super) async fn start() -> TestWallet {
    start_with(fast()).await
}

pub(super) async fn start_with(settings: SandboxWalletSettings) -> TestWallet {
    let receiver = Receiver::start().await;
    let wallet = SandboxWallet::new(&settings, receiver.url.clone()).expect("valid settings");
    let send = mount(PREFIX, wallet.clone()).await;
    TestWallet { send, wallet, receiver }
}

/// Polls `check` every 5 ms for up to 5 s.
pub(super) async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Lets background work run, to show that nothing more happens.
pub(super) async fn settle() {
    tokio::time::sleep(Duration::from_millis(150)).await;
}

pub(super) fn payout_body(reference: &str, msisdn: &str, amount: &str) -> Value {
    json!({ "reference": reference, "msisdn": msisdn, "amount": amount, "currency": "TZS", "description": "Mkopo loan" })
}

pub(super) fn collection_body(reference: &str, msisdn: &str, amount: &str, account: &str) -> Value {
    json!({ "reference": reference, "msisdn": msisdn, "amount": amount, "currency": "TZS", "account": account })
}

/// A receipt as docs/money.md and the brief want it: 10 upper-case alphanumerics.
#[track_caller]
pub(super) fn assert_receipt(receipt: Option<&str>) {
    let receipt = receipt.expect("a receipt");
    assert_eq!(receipt.len(), 10, "{receipt}");
    assert!(receipt.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()), "{receipt}");
}

impl TestWallet {
    pub async fn raw(&self, req: TestRequest) -> Reply {
        let res = (self.send)(req).await;
        let status = res.status().as_u16();
        let raw = test::read_body(res).await.to_vec();
        let body = if raw.is_empty() { Value::Null } else { serde_json::from_slice(&raw).expect("JSON body") };
        Reply { status, body, raw }
    }

    fn authed(req: TestRequest, path: &str) -> TestRequest {
        req.uri(&format!("{PREFIX}{path}")).insert_header((AUTHORIZATION, format!("Bearer {KEY}")))
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.raw(Self::authed(TestRequest::post(), path).set_json(body)).await
    }

    pub async fn post_raw(&self, path: &str, body: &'static str) -> Reply {
        let req = Self::authed(TestRequest::post(), path).insert_header(("content-type", "application/json"));
        self.raw(req.set_payload(body)).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.raw(Self::authed(TestRequest::get(), path)).await
    }

    /// A hook call: no key.
    pub async fn hook(&self, req: TestRequest, path: &str, body: Option<Value>) -> Reply {
        let req = req.uri(&format!("{PREFIX}{path}"));
        self.raw(match body {
            Some(body) => req.set_json(body),
            None => req,
        })
        .await
    }

    pub async fn payout(&self, reference: &str, msisdn: &str, amount: &str) -> Reply {
        self.post("/payouts", payout_body(reference, msisdn, amount)).await
    }

    pub async fn collection(&self, reference: &str, msisdn: &str, amount: &str, account: &str) -> Reply {
        self.post("/collections", collection_body(reference, msisdn, amount, account)).await
    }

    /// Waits until `reference` has a final status.
    pub async fn wait_final(&self, reference: &str) -> TransactionView {
        eventually(&format!("{reference} to finish"), || {
            self.wallet.transaction(reference).filter(|t| t.status != TransactionStatus::Pending)
        })
        .await
    }
}
