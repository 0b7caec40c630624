//! In-process tests of the sandbox through actix's test service, one file per area of the docs/lms.md
//! checklist, plus the documented generations, doc quirks, odd products and back-office loans.
//! [`start`] mounts a fresh instance at `/sandbox/lms`, pins the business date to 2026-05-25
//! and fetches a token; the request helpers add the prefix and the bearer token.

mod auth;
mod back_office;
mod customers;
mod errors_and_paging;
mod faults;
mod generations;
mod hooks;
mod loans;
mod products;
mod quirks;
mod repayments;
mod rollback;
mod scorecard;

use std::rc::Rc;

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::AUTHORIZATION;
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::App;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::NaiveDate;
use futures::future::LocalBoxFuture;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{scope, SandboxLms, SandboxLmsSettings};

pub(super) const PREFIX: &str = "/sandbox/lms";

/// Sends one request through the app; boxed so the harness needs no unnameable service type.
type Sender = Box<dyn Fn(TestRequest) -> LocalBoxFuture<'static, ServiceResponse<BoxBody>>>;

/// A running sandbox with a valid token.
pub(super) struct TestLms {
    send: Sender,
    pub lms: SandboxLms,
    pub token: String,
}

/// A response with its JSON body (`Null` when empty).
#[derive(Debug)]
pub(super) struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub raw: Vec<u8>,
}

pub(super) fn date(text: &str) -> NaiveDate {
    text.parse().expect("test date")
}

pub(super) fn dec(text: &str) -> Decimal {
    text.parse().expect("test decimal")
}

/// The exact decimal behind a JSON number.
pub(super) fn amount(value: &Value) -> Decimal {
    match value {
        Value::Number(n) => crate::domain::money::parse_decimal(&n.to_string()).expect("decimal number"),
        other => panic!("expected a number, found {other}"),
    }
}

pub(super) fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// `(field, error)` pairs of an `invalid_argument` message.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        let message = self.body["message"].as_str().expect("message");
        let entries: Vec<Value> = serde_json::from_str(message).expect("JSON array message");
        entries
            .iter()
            .map(|e| (e["field"].as_str().unwrap().to_owned(), e["error"].as_str().unwrap().to_owned()))
            .collect()
    }

    pub fn amount(&self, field: &str) -> Decimal {
        amount(&self.body[field])
    }

    /// Asserts the status and error code, showing the body on failure.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!((self.status.as_u16(), self.code()), (status, code), "body: {}", self.body);
        assert!(self.body["message"].is_string(), "envelope needs a message: {}", self.body);
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.body);
        &self.body
    }
}

/// Mounts `lms` under `prefix` in a fresh test service.
pub(super) async fn mount(prefix: &'static str, lms: SandboxLms) -> Sender {
    let app = Rc::new(test::init_service(App::new().service(scope(prefix, lms))).await);
    Box::new(move |req: TestRequest| {
        let app = Rc::clone(&app);
        Box::pin(async move { test::call_service(&*app, req.to_request()).await.map_into_boxed_body() })
    })
}

pub(super) async fn start() -> TestLms {
    start_with(SandboxLmsSettings::default()).await
}

pub(super) async fn start_with(settings: SandboxLmsSettings) -> TestLms {
    let lms = SandboxLms::new(&settings).expect("valid settings");
    lms.set_today(date("2026-05-25"));
    let send = mount(PREFIX, lms.clone()).await;
    let mut t = TestLms { send, lms, token: String::new() };
    t.token = t.fresh_token().await;
    t
}

impl TestLms {
    /// Sends `req` as is, after prefixing its path.
    pub async fn raw(&self, req: TestRequest) -> Reply {
        let res = (self.send)(req).await;
        let status = res.status();
        let raw = test::read_body(res).await.to_vec();
        let body = if raw.is_empty() { Value::Null } else { serde_json::from_slice(&raw).expect("JSON body") };
        Reply { status, body, raw }
    }

    fn authed(&self, req: TestRequest, path: &str) -> TestRequest {
        req.uri(&format!("{PREFIX}{path}")).insert_header((AUTHORIZATION, format!("Bearer {}", self.token)))
    }

    pub async fn fresh_token(&self) -> String {
        let req = TestRequest::get()
            .uri(&format!("{PREFIX}/v1/auth/token"))
            .insert_header((AUTHORIZATION, basic("partner@sandbox.local", "sandbox")));
        let reply = self.raw(req).await;
        reply.assert_ok()["token"].as_str().expect("token").to_owned()
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.raw(self.authed(TestRequest::get(), path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.raw(self.authed(TestRequest::post(), path).set_json(body)).await
    }

    pub async fn post_raw(&self, path: &str, body: &'static str) -> Reply {
        self.raw(self.authed(TestRequest::post(), path).set_payload(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.raw(self.authed(TestRequest::delete(), path)).await
    }

    /// A hook call: no token.
    pub async fn hook(&self, req: TestRequest, path: &str, body: Option<Value>) -> Reply {
        let req = req.uri(&format!("{PREFIX}{path}"));
        self.raw(match body {
            Some(body) => req.set_json(body),
            None => req,
        })
        .await
    }

    pub async fn customer(&self, external_id: &str) -> Value {
        self.post("/v1/customers", json!({ "externalId": external_id })).await.assert_ok().clone()
    }

    pub async fn loan(&self, customer: &str, product: u32, principal: u64, external_id: &str) -> Value {
        let body =
            json!({ "customerId": customer, "productId": product, "principal": principal, "externalId": external_id });
        self.post("/v1/loans", body).await.assert_ok().clone()
    }

    /// A customer with one loan of product 1 at 10000 (11100 due on 2026-06-01).
    pub async fn seven_day_loan(&self, customer: &str, external_id: &str) -> Value {
        self.customer(customer).await;
        self.loan(customer, 1, 10_000, external_id).await
    }

    pub async fn repay(&self, loan: &str, amount: &str, key: &str) -> Reply {
        let body =
            format!(r#"{{"transactionAmount": {amount}, "transactionDate": "2026-05-25", "idempotencyKey": "{key}"}}"#);
        let req = self.authed(TestRequest::post(), &format!("/v1/loans/external/{loan}/repayments"));
        self.raw(req.insert_header(("content-type", "application/json")).set_payload(body)).await
    }
}
