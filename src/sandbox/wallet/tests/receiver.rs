//! A tiny actix server on a random port standing in for the gateway's callback endpoint. It records
//! every request (headers and exact body bytes) and answers from a script of statuses (then `200`).

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

use super::{eventually, SECRET};
use crate::momo::signature::{verify, SignedHeaders, VerifyError, WebhookSecret, DEFAULT_TOLERANCE_SECS};

pub(crate) const CALLBACK_PATH: &str = "/v1/callbacks/sandbox";

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("callback body is JSON")
    }

    /// Verifies the signature with the default secret, as the gateway would, now.
    pub fn verify(&self) -> Result<(), VerifyError> {
        let secret = WebhookSecret::parse(SECRET).expect("default secret");
        let headers =
            SignedHeaders { id: Some(&self.id), timestamp: Some(&self.timestamp), signature: Some(&self.signature) };
        verify(&[secret], headers, &self.body, chrono::Utc::now().timestamp(), DEFAULT_TOLERANCE_SECS)
    }
}

/// A scripted answer: a status, optionally after a pause.
#[derive(Clone, Copy)]
pub(crate) struct Answer {
    pub status: u16,
    pub after: Duration,
}

#[derive(Default)]
struct Shared {
    log: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Answer>>,
}

pub(crate) struct Receiver {
    pub url: String,
    shared: Arc<Shared>,
    handle: ServerHandle,
}

async fn receive(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let received = Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        content_type: header("content-type"),
        body: body.to_vec(),
    };
    shared.log.lock().unwrap().push(received);
    let answer = shared.script.lock().unwrap().pop_front();
    let answer = answer.unwrap_or(Answer { status: 200, after: Duration::ZERO });
    tokio::time::sleep(answer.after).await;
    let status = actix_web::http::StatusCode::from_u16(answer.status).expect("scripted status");
    HttpResponse::build(status).json(serde_json::json!({ "received": answer.status == 200 }))
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a random port");
        let port = listener.local_addr().expect("local address").port();
        let shared = Arc::new(Shared::default());
        let data = web::Data::from(Arc::clone(&shared));
        let server =
            HttpServer::new(move || App::new().app_data(data.clone()).route(CALLBACK_PATH, web::post().to(receive)))
                .workers(1)
                .disable_signals()
                .shutdown_timeout(0)
                .listen(listener)
                .expect("listen")
                .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self { url: format!("http://127.0.0.1:{port}{CALLBACK_PATH}"), shared, handle }
    }

    /// The next requests get these statuses, in order; later ones `200`.
    pub fn answer(&self, statuses: &[u16]) {
        let answers = statuses.iter().map(|&status| Answer { status, after: Duration::ZERO });
        self.shared.script.lock().unwrap().extend(answers);
    }

    pub fn answer_slowly(&self, answer: Answer) {
        self.shared.script.lock().unwrap().push_back(answer);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        eventually(&format!("{n} callback(s)"), || Some(self.received()).filter(|r| r.len() >= n)).await
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}
