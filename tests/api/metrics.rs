//! `GET /metrics` on a running gateway: what subscribers, wallets and the LMS did shows up in the
//! Prometheus text, labelled without PII; the scrape-time gauges read the real stores.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use mkopo::metrics::Metrics;
use mkopo::momo::store::{MemoryMoneyStore, MoneyStore, OpsList, RedisMoneyStore, SetStats};

use crate::helpers::{client_config, eventually, token_body, year_token, TestApp};
use crate::money::{payment_body, Delivery};
use crate::ussd::journeys::{borrow, registered};
use crate::ussd::phone::Via;

/// One scrape: every sample by its series (`name{labels}`).
struct Scrape {
    text: String,
    samples: BTreeMap<String, f64>,
}

impl Scrape {
    async fn of(app: &TestApp) -> Scrape {
        let response = reqwest::get(format!("{}/metrics", app.base)).await.unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
        Scrape::parse(response.text().await.unwrap())
    }

    fn parse(text: String) -> Scrape {
        let samples = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let (series, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {l}"));
                (series.to_owned(), value.parse::<f64>().unwrap_or_else(|_| panic!("not a value: {l}")))
            })
            .collect();
        Scrape { text, samples }
    }

    /// The value of one series, which must exist.
    fn value(&self, series: &str) -> f64 {
        *self.samples.get(series).unwrap_or_else(|| panic!("no series {series} in:\n{}", self.text))
    }

    /// The sum over every series whose text starts with `prefix` (e.g. all screens of a dialect).
    fn sum(&self, prefix: &str) -> f64 {
        self.samples.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| v).sum()
    }
}

#[tokio::test]
async fn hops_lms_calls_callbacks_sagas_and_stores_show_in_the_scrape() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let msisdn = Via::Beem.msisdn(9_100);
    let mut phone = registered(&app, Via::Beem, &msisdn).await; // 3 hops: start, registered, main
    let (status, _) = phone.resend().await; // a duplicate of the last hop: replayed
    assert_eq!(status, 200);
    let outcome = borrow(&mut phone, "5000").await; // 5 hops, the last one ends the session
    assert!(outcome.starts_with("TZS 5,000 has been sent"), "{outcome}");
    let (status, _) = phone.post_raw("", "application/json", "{not json".into()).await;
    assert_eq!(status, 400);

    // A repayment from a number with no loan, for a loan nobody has: stored, acknowledged, then parked in
    // suspense. Sent twice.
    let stranger = Via::Beem.msisdn(9_101);
    let body = payment_body("MTRC000001", "L0000099999", &stranger, "700.00");
    let wallet = Delivery { base: app.base.clone() };
    assert_eq!(wallet.deliver("evt_metrics_1", &body).await.0, 200);
    assert_eq!(wallet.deliver("evt_metrics_1", &body).await.0, 200);
    // Accepted: that payment, and the sandbox wallet's own callback for the loan's payout.
    let accepted = r#"mkopo_callbacks_total{provider="sandbox",verdict="accepted"}"#;
    let scrape = eventually(10, "the payment in suspense, both callbacks counted, the inbox drained", || async {
        let scrape = Scrape::of(&app).await;
        let parked = scrape.samples.get(r#"mkopo_ops_list_size{list="suspense"}"#) == Some(&1.0);
        let drained = scrape.samples.get("mkopo_inbox_depth") == Some(&0.0);
        (parked && drained && scrape.samples.get(accepted) == Some(&2.0)).then_some(scrape)
    })
    .await;

    assert_eq!(scrape.value(r#"mkopo_ussd_hops_total{dialect="beem",outcome="ok"}"#), 8.0);
    assert_eq!(scrape.value(r#"mkopo_ussd_hops_total{dialect="beem",outcome="replay"}"#), 1.0);
    assert_eq!(scrape.value(r#"mkopo_ussd_hops_total{dialect="beem",outcome="invalid"}"#), 1.0);
    assert_eq!(scrape.sum(r#"mkopo_ussd_hop_duration_seconds_count{dialect="beem","#), 9.0);
    assert_eq!(scrape.value(r#"mkopo_ussd_hop_duration_seconds_count{dialect="beem",screen="main"}"#), 1.0);
    assert_eq!(scrape.value(r#"mkopo_ussd_hop_duration_seconds_count{dialect="beem",screen="replay"}"#), 1.0);
    assert!(scrape.value(r#"mkopo_ussd_hop_duration_seconds_sum{dialect="beem",screen="main"}"#) > 0.0);

    assert!(scrape.value(r#"mkopo_lms_request_duration_seconds_count{endpoint="POST /v1/loans",code="200"}"#) >= 1.0);
    assert!(scrape.value(r#"mkopo_lms_token_refreshes_total{outcome="ok"}"#) >= 1.0);
    assert_eq!(scrape.value(r#"mkopo_sagas_finished_total{phase="done"}"#), 1.0);
    assert_eq!(scrape.value(r#"mkopo_sagas_open{phase="payout_pending"}"#), 0.0);

    assert_eq!(scrape.value(r#"mkopo_callbacks_total{provider="sandbox",verdict="duplicate"}"#), 1.0);
    assert_eq!(scrape.value("mkopo_inbox_pending"), 0.0);
    assert!(scrape.value(r#"mkopo_ops_list_oldest_seconds{list="suspense"}"#) < 60.0);
    assert_eq!(scrape.value(r#"mkopo_ops_list_size{list="recon"}"#), 0.0);
    assert_eq!(scrape.value("mkopo_ussd_sessions_live"), 1.0, "this test's one session (under its own prefix)");
    assert_eq!(scrape.value(r#"mkopo_metrics_store_up{store="money"}"#), 1.0);
    assert_eq!(scrape.value(r#"mkopo_metrics_store_up{store="sessions"}"#), 1.0);

    for number in [&msisdn, &stranger] {
        assert!(!scrape.text.contains(&number[3..]), "no subscriber number in any label");
    }
    assert!(!scrape.text.contains("L0000099999") && !scrape.text.contains("MTRC000001"), "no reference either");
    app.stop().await;
}

/// An LMS client counting into a registry of its own.
fn counted(mut config: mkopo::lms::LmsClientConfig) -> (mkopo::lms::LmsClient, Metrics) {
    let metrics = Metrics::new();
    config.metrics = metrics.clone();
    (mkopo::lms::LmsClient::new(config, mkopo::domain::clock::Clock::system()).unwrap(), metrics)
}

#[tokio::test]
async fn failed_lms_attempts_are_counted_by_endpoint_and_code() {
    let mut server = mockito::Server::new_async().await;
    let token =
        server.mock("GET", "/v1/auth/token").with_body(token_body(&year_token("m"))).expect(1).create_async().await;
    let unavailable = server
        .mock("GET", "/v1/loan-products")
        .with_status(503)
        .with_body(r#"{"code":"unavailable","message":"down"}"#)
        .expect(3)
        .create_async()
        .await;
    let (lms, metrics) = counted(client_config(&server.url()));
    assert!(lms.loan_products().await.is_err());
    token.assert_async().await;
    unavailable.assert_async().await;

    let scrape = Scrape::parse(metrics.encode());
    assert_eq!(scrape.value(r#"mkopo_lms_errors_total{endpoint="GET /v1/loan-products",code="503"}"#), 3.0);
    assert_eq!(
        scrape.value(r#"mkopo_lms_request_duration_seconds_count{endpoint="GET /v1/loan-products",code="503"}"#),
        3.0
    );
    assert_eq!(scrape.value(r#"mkopo_lms_token_refreshes_total{outcome="ok"}"#), 1.0);
}

#[tokio::test]
async fn an_lms_that_never_answers_counts_as_timeouts_and_a_refused_token_as_a_failed_refresh() {
    let mut server = mockito::Server::new_async().await;
    let refused = server.mock("GET", "/v1/auth/token").with_status(401).expect(1).create_async().await;
    let (lms, metrics) = counted(client_config(&server.url()));
    assert!(lms.loan_products().await.is_err());
    refused.assert_async().await;
    let scrape = Scrape::parse(metrics.encode());
    assert_eq!(scrape.value(r#"mkopo_lms_token_refreshes_total{outcome="error"}"#), 1.0);

    // The token host answers; the API host accepts connections and never answers.
    let token =
        server.mock("GET", "/v1/auth/token").with_body(token_body(&year_token("t"))).expect(1).create_async().await;
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = client_config(&server.url());
    config.api_base_url = format!("http://{}", silent.local_addr().unwrap());
    config.request_timeout = Duration::from_millis(200);
    config.retry.max_attempts = 1;
    let (lms, metrics) = counted(config);
    assert!(lms.loan_products().await.is_err());
    token.assert_async().await;
    let scrape = Scrape::parse(metrics.encode());
    assert_eq!(scrape.value(r#"mkopo_lms_errors_total{endpoint="GET /v1/loan-products",code="timeout"}"#), 1.0);
    drop(silent);
}

#[tokio::test]
async fn the_metrics_route_can_require_a_token_or_be_off() {
    let app = TestApp::spawn_with(|s| s.metrics.token = "scrape-me-please".to_owned().into()).await;
    let client = reqwest::Client::new();
    let url = format!("{}/metrics", app.base);
    let anonymous = client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    assert_eq!(client.get(&url).bearer_auth("wrong").send().await.unwrap().status(), 401);
    let scraped = client.get(&url).bearer_auth("scrape-me-please").send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.text().await.unwrap().contains("mkopo_build_info{version="));
    app.stop().await;

    let off = TestApp::spawn_with(|s| s.metrics.enabled = false).await;
    assert_eq!(reqwest::get(format!("{}/metrics", off.base)).await.unwrap().status(), 404);
    off.stop().await;
}

/// Size and earliest entry of the timer set and of an operators' list, on either backend.
async fn set_stats_read_size_and_earliest(store: &dyn MoneyStore) {
    assert_eq!(store.timer_stats().await.unwrap(), SetStats::default());
    let soon = Utc::now() + TimeDelta::seconds(5);
    let later = soon + TimeDelta::seconds(60);
    store.schedule("later", later).await.unwrap();
    store.schedule("soon", soon).await.unwrap();
    let timers = store.timer_stats().await.unwrap();
    assert_eq!(timers.size, 2);
    assert_eq!(timers.earliest.map(|t| t.timestamp_millis()), Some(soon.timestamp_millis()));

    let old = Utc::now() - TimeDelta::hours(2);
    store.list_add(OpsList::Suspense, "event:a", Utc::now()).await.unwrap();
    store.list_add(OpsList::Suspense, "event:b", old).await.unwrap();
    let suspense = store.list_stats(OpsList::Suspense).await.unwrap();
    assert_eq!((suspense.size, suspense.earliest.map(|t| t.timestamp_millis())), (2, Some(old.timestamp_millis())));
    assert_eq!(store.list_stats(OpsList::Overpaid).await.unwrap(), SetStats::default());
}

#[tokio::test]
async fn timer_and_list_stats_on_redis_and_in_memory() {
    let prefix = format!("mkopo-test-{}", uuid::Uuid::new_v4());
    let redis = RedisMoneyStore::connect(&crate::store::redis_url(), &prefix, Duration::from_secs(2)).await.unwrap();
    set_stats_read_size_and_earliest(&redis).await;
    set_stats_read_size_and_earliest(&MemoryMoneyStore::new()).await;
}

/// Every `mkopo_*` name in `text` (PromQL in the dashboard or the alert rules).
fn metric_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("mkopo_") {
        let tail = &rest[at..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// The sample names a scrape can carry: each family's `# TYPE` name, histograms with their suffixes.
fn served_names(scrape: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for line in scrape.lines().filter_map(|l| l.strip_prefix("# TYPE ")) {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(kind)) = (parts.next(), parts.next()) else { continue };
        names.insert(name.to_owned());
        if kind == "histogram" {
            names.extend(["_bucket", "_sum", "_count"].map(|s| format!("{name}{s}")));
        }
    }
    names
}

#[tokio::test]
async fn the_dashboard_and_the_alert_rules_use_only_metrics_the_gateway_serves() {
    // A fresh app serves the store gauges and the primed series; the families that only appear with
    // traffic (latencies by screen and endpoint, LMS errors, cut screens) are recorded once here.
    let app = TestApp::spawn().await;
    let mut served = served_names(&Scrape::of(&app).await.text);
    app.stop().await;
    let busy = Metrics::new();
    busy.hop("beem", "main", "ok", Duration::from_millis(1));
    busy.screen_truncated("beem", "main");
    busy.lms_attempt("GET /v1/loans", "503", false, Duration::from_millis(1));
    busy.product_skipped("2", "no_bounds");
    busy.repayment_recovered("amount_date");
    served.extend(served_names(&busy.encode()));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |path: &str| std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));

    let dashboard: serde_json::Value = serde_json::from_str(&read("deploy/grafana/mkopo-dashboard.json")).unwrap();
    let panels: Vec<_> = dashboard["panels"].as_array().unwrap().iter().filter(|p| p["type"] != "row").collect();
    assert!(panels.len() >= 15, "a panel per concern");
    let mut exprs = String::new();
    for panel in &panels {
        let targets = panel["targets"].as_array().unwrap_or_else(|| panic!("{} has no targets", panel["title"]));
        assert!(!targets.is_empty(), "{}", panel["title"]);
        targets.iter().for_each(|t| exprs.push_str(t["expr"].as_str().unwrap()));
    }
    let used = metric_names(&exprs);
    let unknown: Vec<_> = used.difference(&served).collect();
    assert!(unknown.is_empty(), "the dashboard asks for metrics nobody serves: {unknown:?}");
    // Every family is on some panel (a histogram through its buckets or count).
    let families = served.iter().filter(|n| !["_bucket", "_sum", "_count"].iter().any(|s| n.ends_with(s)));
    let unused: Vec<_> = families.filter(|f| !used.iter().any(|u| u.starts_with(f.as_str()))).collect();
    assert!(unused.is_empty(), "served but on no panel: {unused:?}");

    let rules: serde_json::Value = serde_norway::from_str(&read("deploy/prometheus/alerts.yaml")).unwrap();
    let operations = read("docs/operations.md");
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let name = rule["alert"].as_str().expect("an alert name");
            let expr = rule["expr"].as_str().expect("an expression");
            let unknown: Vec<_> = metric_names(expr).into_iter().filter(|n| !served.contains(n)).collect();
            assert!(unknown.is_empty(), "{name} uses metrics nobody serves: {unknown:?}");
            assert!(["page", "ticket"].contains(&rule["labels"]["severity"].as_str().unwrap_or("")), "{name}");
            assert!(rule["annotations"]["summary"].is_string(), "{name} has a summary");
            assert!(operations.contains(&format!("`{name}`")), "docs/operations.md explains {name}");
        }
    }

    let deployment = std::fs::read_to_string(root.join("deploy/k8s/deployment.yaml")).unwrap();
    assert!(deployment.contains("prometheus.io/path: /metrics") && deployment.contains("prometheus.io/port: \"8080\""));
}
