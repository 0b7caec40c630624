//! `/healthz` and `/readyz` on a running app.

use crate::helpers::TestApp;
use crate::store::redis_url;

#[tokio::test]
async fn healthz_answers_while_the_process_lives() {
    let app = TestApp::spawn().await;
    let response = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn readyz_is_ready_with_redis_and_the_sandbox_lms() {
    let app = TestApp::spawn_with(|s| s.redis.url = Some(redis_url().into())).await;
    let response = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["checks"]["store"], "ok");
    assert_eq!(body["checks"]["store_kind"], "redis");
    assert_eq!(body["checks"]["lms"], "ok");
    app.stop().await;
}

#[tokio::test]
async fn readyz_names_the_lms_when_no_token_can_be_obtained() {
    let app = TestApp::spawn_with(|s| s.lms.partner_password = "wrong".to_owned().into()).await;
    let response = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_ready");
    assert!(body["message"].as_str().unwrap().contains("lms"), "{body}");
    assert_eq!(body["checks"]["store"], "ok");
    assert!(body["checks"]["lms"].as_str().unwrap().starts_with("down:"), "{body}");
    assert!(!body.to_string().contains("wrong"), "the password never shows");

    // What the Kubernetes probe asks: the LMS is reported but does not take the pod out of the Service.
    let probe = reqwest::get(format!("{}/readyz?ignore=lms,workers", app.base)).await.unwrap();
    assert_eq!(probe.status(), 200);
    let body: serde_json::Value = probe.json().await.unwrap();
    assert_eq!(body["status"], "ready (ignoring some checks)");
    assert!(body["checks"]["lms"].as_str().unwrap().starts_with("down:"), "{body}");
    app.stop().await;
}

/// A throwaway redis-server on a free port, killed on drop.
pub(crate) struct OwnRedis {
    child: std::process::Child,
    pub(crate) url: String,
    pub(crate) port: u16,
}

impl OwnRedis {
    pub(crate) async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/test installs it)");
        let url = format!("redis://127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Self { child, url, port }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn readyz_names_the_store_when_redis_goes_away() {
    let redis = OwnRedis::start().await;
    let url = redis.url.clone();
    let app = TestApp::spawn_with(move |s| s.redis.url = Some(url.into())).await;
    let ready = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(ready.status(), 200);
    drop(redis);
    let response = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["checks"]["store"].as_str().unwrap().starts_with("down:"), "{body}");
    assert_eq!(body["checks"]["lms"], "ok");
    assert!(body["message"].as_str().unwrap().contains("store"), "{body}");
    app.stop().await;
}
