//! The `mkopo` binary as an operator runs it: the gateway on its defaults, the standalone sandbox LMS,
//! and the gateway pointed at that sandbox over HTTP by environment variables alone.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Running {
    child: Child,
    first_line: String,
    /// Everything it printed after the first line.
    output: Arc<Mutex<Vec<String>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `mkopo <args>` with `env` and returns once it printed the line saying where it listens.
fn start(args: &[&str], env: &[(&str, &str)]) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mkopo"));
    command.args(args).stdout(Stdio::piped()).stderr(Stdio::null()).env_remove("RUST_LOG");
    for (k, v) in env {
        command.env(k, v);
    }
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    let mut child = command.spawn().expect("the mkopo binary starts");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    while !first_line.contains("listening on") {
        first_line.clear();
        assert!(reader.read_line(&mut first_line).unwrap() > 0, "mkopo exited before listening");
    }
    // Keep draining stdout so the child never blocks on a full pipe.
    let output = Arc::new(Mutex::new(Vec::new()));
    let sink = output.clone();
    std::thread::spawn(move || reader.lines().map_while(Result::ok).for_each(|l| sink.lock().unwrap().push(l)));
    Running { child, first_line, output }
}

/// The `http://host:port` that a "... listening on http://host:port..." line names.
fn base_of(line: &str) -> String {
    let start = line.find("http://").unwrap_or_else(|| panic!("no URL in {line:?}"));
    let rest = &line[start..];
    let end = rest[7..].find(['/', ' ', '\n', '"', ')']).map_or(rest.len(), |i| i + 7);
    rest[..end].to_owned()
}

async fn wait_ready(url: &str) -> reqwest::Response {
    for _ in 0..100 {
        if let Ok(response) = reqwest::get(url).await {
            if response.status() == 200 {
                return response;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never became ready");
}

#[tokio::test]
async fn the_default_run_command_serves_and_says_where() {
    let gateway = start(&["serve"], &[("MKOPO_SERVER__PORT", "0"), ("MKOPO_SERVER__HOST", "0.0.0.0")]);
    let first = &gateway.first_line;
    assert!(first.starts_with("mkopo listening on 0.0.0.0:"), "the real bind address: {first}");
    assert!(first.contains("(http://127.0.0.1:") && first.contains("from this machine"), "{first}");
    let base = base_of(first);
    let body: serde_json::Value = wait_ready(&format!("{base}/readyz")).await.json().await.unwrap();
    assert_eq!(body["checks"]["lms"], "ok", "the embedded sandbox LMS answers the gateway's client");
    let banner = gateway.output.lock().unwrap().join("\n");
    for shown in ["USSD:        POST /ussd/africastalking /ussd/beem /ussd/hubtel", "mkopo dial", "/simulator"] {
        assert!(banner.contains(shown), "the banner shows {shown:?}:\n{banner}");
    }
    assert!(!banner.contains('\u{1b}'), "no colour codes off a terminal:\n{banner}");
}

#[tokio::test]
async fn the_gateway_can_be_pointed_at_a_standalone_sandbox_lms_by_environment() {
    let sandbox = start(&["sandbox-lms", "--port", "0"], &[]);
    let lms = base_of(&sandbox.first_line);
    let token = reqwest::Client::new()
        .get(format!("{lms}/v1/auth/token"))
        .basic_auth("partner@sandbox.local", Some("sandbox"))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    let gateway = start(
        &[],
        &[
            ("MKOPO_SERVER__PORT", "0"),
            ("MKOPO_LMS__MODE", "http"),
            ("MKOPO_LMS__AUTH_BASE_URL", &lms),
            ("MKOPO_LMS__API_BASE_URL", &lms),
        ],
    );
    let base = base_of(&gateway.first_line);
    wait_ready(&format!("{base}/readyz")).await;
    let sandbox_mount = reqwest::get(format!("{base}/sandbox/lms/v1/loan-products")).await.unwrap();
    assert_eq!(sandbox_mount.status(), 404, "http mode mounts no sandbox");
}

#[tokio::test]
async fn the_gateway_boots_in_a_pod_with_kubernetes_service_links() {
    // What the kubelet injects for a Service named `mkopo` (and one named `mkopo-redis`).
    let gateway = start(
        &["serve"],
        &[
            ("MKOPO_SERVER__PORT", "0"),
            ("MKOPO_SERVICE_HOST", "10.96.0.11"),
            ("MKOPO_SERVICE_PORT", "8080"),
            ("MKOPO_SERVICE_PORT_HTTP", "8080"),
            ("MKOPO_PORT", "tcp://10.96.0.11:8080"),
            ("MKOPO_PORT_8080_TCP", "tcp://10.96.0.11:8080"),
            ("MKOPO_PORT_8080_TCP_PROTO", "tcp"),
            ("MKOPO_PORT_8080_TCP_PORT", "8080"),
            ("MKOPO_PORT_8080_TCP_ADDR", "10.96.0.11"),
            ("MKOPO_REDIS_SERVICE_HOST", "10.96.0.12"),
            ("MKOPO_REDIS_PORT_6379_TCP", "tcp://10.96.0.12:6379"),
        ],
    );
    wait_ready(&format!("{}/readyz", base_of(&gateway.first_line))).await;
}

#[test]
fn check_config_refuses_production_without_its_settings() {
    let output = Command::new(env!("CARGO_BIN_EXE_mkopo"))
        .arg("check-config")
        .env("MKOPO_ENVIRONMENT", "production")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("redis.url is required in production"), "{stderr}");
}

/// A Kenyan lender's production settings: the LMS, Redis, one aggregator, and Daraja as the wallet.
const DARAJA_LENDER: &[(&str, &str)] = &[
    ("MKOPO_ENVIRONMENT", "production"),
    ("MKOPO_REDIS__URL", "redis://redis.internal:6379"),
    ("MKOPO_LMS__AUTH_BASE_URL", "https://api.dev.auth.bsa.ai"),
    ("MKOPO_LMS__API_BASE_URL", "https://api.dev.bsa.ai"),
    ("MKOPO_LMS__PARTNER_EMAIL", "ops@lender.example"),
    ("MKOPO_LMS__PARTNER_PASSWORD", "partner-password"),
    ("MKOPO_LMS__CURRENCY", "KES"),
    ("MKOPO_USSD__CURRENCY", "KES"),
    ("MKOPO_ADMIN__TOKEN", "ops-token"),
    ("MKOPO_USSD__PATH_MAC_KEY", "a-production-mac-key-of-some-length"),
    ("MKOPO_USSD__DIALECTS__AFRICASTALKING__ENABLED", "true"),
    ("MKOPO_USSD__DIALECTS__AFRICASTALKING__PATH_TOKEN", "Zq8v0bXw3kT6yN1mR4pL7sD9fH2jC5gA"),
    ("MKOPO_WALLETS__DEFAULT", "daraja"),
    ("MKOPO_WALLETS__DARAJA__BASE_URL", "https://api.safaricom.co.ke"),
    ("MKOPO_WALLETS__DARAJA__CONSUMER_KEY", "consumer-key"),
    ("MKOPO_WALLETS__DARAJA__CONSUMER_SECRET", "consumer-secret"),
    ("MKOPO_WALLETS__DARAJA__SHORTCODE", "600638"),
    ("MKOPO_WALLETS__DARAJA__B2C_SHORTCODE", "600996"),
    ("MKOPO_WALLETS__DARAJA__INITIATOR_NAME", "mkopo_api"),
    ("MKOPO_WALLETS__DARAJA__SECURITY_CREDENTIAL", "c2VjdXJpdHktY3JlZGVudGlhbA=="),
    ("MKOPO_WALLETS__DARAJA__STK_SHORTCODE", "174379"),
    ("MKOPO_WALLETS__DARAJA__STK_PASSKEY", "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"),
    ("MKOPO_WALLETS__DARAJA__PATH_TOKEN", "k3Jt9QwZp2Lx7VbN4mRc8A"),
    ("MKOPO_WALLETS__DARAJA__CALLBACK_BASE_URL", "https://gw.lender.example"),
];

fn check_config(env: &[(&str, &str)], without: Option<&str>) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mkopo"))
        .arg("check-config")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied().filter(|(k, _)| Some(*k) != without))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

#[test]
fn a_daraja_lender_passes_check_config_and_each_missing_daraja_setting_is_named() {
    let complete = check_config(DARAJA_LENDER, None);
    assert!(complete.status.success(), "{}", String::from_utf8_lossy(&complete.stderr));
    for (key, named) in [
        ("MKOPO_WALLETS__DARAJA__CONSUMER_KEY", "consumer_key"),
        ("MKOPO_WALLETS__DARAJA__CONSUMER_SECRET", "consumer_secret"),
        ("MKOPO_WALLETS__DARAJA__SHORTCODE", "shortcode"),
        ("MKOPO_WALLETS__DARAJA__B2C_SHORTCODE", "b2c_shortcode"),
        ("MKOPO_WALLETS__DARAJA__INITIATOR_NAME", "initiator_name"),
        ("MKOPO_WALLETS__DARAJA__SECURITY_CREDENTIAL", "security_credential"),
        ("MKOPO_WALLETS__DARAJA__STK_SHORTCODE", "stk_shortcode"),
        ("MKOPO_WALLETS__DARAJA__STK_PASSKEY", "stk_passkey"),
        ("MKOPO_WALLETS__DARAJA__PATH_TOKEN", "path_token"),
        ("MKOPO_WALLETS__DARAJA__CALLBACK_BASE_URL", "callback_base_url"),
    ] {
        let output = check_config(DARAJA_LENDER, Some(key));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{key} missing must be refused");
        assert!(stderr.contains(named), "{key}: the refusal names {named}: {stderr}");
    }
    // Daraja moves KES: a TZS lender cannot pick it.
    let tzs: Vec<(&str, &str)> = DARAJA_LENDER
        .iter()
        .copied()
        .filter(|(k, _)| !k.ends_with("LMS__CURRENCY") && !k.ends_with("USSD__CURRENCY"))
        .collect();
    let refused = check_config(&tzs, None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("KES"), "{}", String::from_utf8_lossy(&refused.stderr));
}

#[test]
fn check_config_names_the_lms_generation_in_use() {
    let run = |envs: &[(&str, &str)]| {
        let output = Command::new(env!("CARGO_BIN_EXE_mkopo"))
            .arg("check-config")
            .envs(envs.iter().copied())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(run(&[]).contains("generation=current"));
    let legacy = run(&[("MKOPO_LMS__GENERATION", "legacy"), ("MKOPO_SANDBOX__LMS__GENERATION", "legacy")]);
    assert!(legacy.contains("generation=legacy"), "{legacy}");
}

#[tokio::test]
async fn operators_list_suspense_from_the_shell() {
    let gateway = start(&["serve"], &[("MKOPO_SERVER__PORT", "0")]);
    let base = base_of(&gateway.first_line);
    wait_ready(&format!("{base}/readyz")).await;
    let paid = reqwest::Client::new()
        .post(format!("{base}/sandbox/wallet/payments"))
        .json(&serde_json::json!({ "msisdn": "255714000001", "amount": "1000.00", "currency": "TZS", "account": null }))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 202);
    let list = || {
        Command::new(env!("CARGO_BIN_EXE_mkopo"))
            .args(["suspense", "list", "--url", &base])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    let mut listed = String::new();
    for _ in 0..100 {
        let output = list();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        listed = String::from_utf8_lossy(&output.stdout).into_owned();
        if listed.contains("unknown_customer") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(listed.contains("unknown_customer") && listed.contains("1000.00"), "{listed}");
    assert!(listed.starts_with("1 payment in suspense:\n  event:"), "readable by default: {listed}");
    assert!(listed.contains("mkopo suspense retry <id>"), "{listed}");
    assert!(!listed.contains("255714000001"), "the number is masked: {listed}");
    let id = listed.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let as_json = Command::new(env!("CARGO_BIN_EXE_mkopo"))
        .args(["suspense", "list", "--json", "--url", &base])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&as_json.stdout).expect("--json prints the API's JSON");
    assert_eq!(body["items"][0]["id"], id.as_str());
    let retried = Command::new(env!("CARGO_BIN_EXE_mkopo"))
        .args(["suspense", "retry", &id, "--url", &base])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&retried.stdout);
    assert!(retried.status.success() && said.starts_with(&format!("Re-driven {id}: it will be allocated")), "{said}");
    // The token as an operator's shell has it: the setting's own variable.
    let by_env = Command::new(env!("CARGO_BIN_EXE_mkopo"))
        .args(["recon", "--url", &base])
        .env("MKOPO_ADMIN__TOKEN", "local-admin")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(by_env.status.success(), "{}", String::from_utf8_lossy(&by_env.stderr));
    let refused = Command::new(env!("CARGO_BIN_EXE_mkopo"))
        .args(["recon", "--url", &base, "--token", "wrong"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(!refused.status.success(), "a wrong token is an error exit");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401"), "the refusal says why");
    let unknown = Command::new(env!("CARGO_BIN_EXE_mkopo"))
        .args(["suspense", "retry", "event:sandbox:NOPE", "--url", &base])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("404 Not Found (not_found): no such event"));
}

#[test]
fn the_tools_run_under_production_settings_without_them() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mkopo"))
            .args(args)
            .env("MKOPO_ENVIRONMENT", "production")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    let menus = run(&["check-menus"]);
    assert!(menus.status.success(), "{}", String::from_utf8_lossy(&menus.stderr));
    assert!(String::from_utf8_lossy(&menus.stdout).starts_with("menus OK"));
    let help = run(&["suspense", "retry", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("original idempotency keys"), "every subcommand has help");
}

#[tokio::test]
async fn the_standalone_sandbox_runs_under_production_settings_with_a_warning() {
    let sandbox = start(&["sandbox-lms", "--port", "0"], &[("MKOPO_ENVIRONMENT", "production")]);
    assert!(sandbox.first_line.contains("sandbox LMS listening on"), "{}", sandbox.first_line);
}

#[tokio::test]
async fn the_sandbox_wallet_runs_standalone_and_guards_its_api() {
    let wallet = start(&["sandbox-wallet", "--port", "0"], &[]);
    let base = base_of(&wallet.first_line);
    let client = reqwest::Client::new();
    let body = serde_json::json!({ "reference": "L0000000018", "msisdn": "255712345678", "amount": "100.00", "currency": "TZS" });
    let anonymous = client.post(format!("{base}/payouts")).json(&body).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let accepted =
        client.post(format!("{base}/payouts")).bearer_auth("sandbox-wallet-key").json(&body).send().await.unwrap();
    assert_eq!(accepted.status(), 202);
    let found =
        client.get(format!("{base}/transactions/L0000000018")).bearer_auth("sandbox-wallet-key").send().await.unwrap();
    assert_eq!(found.status(), 200);
}

fn mkopo(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mkopo"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("MKOPO_TELEMETRY__FILTER", "error")
        .output()
        .expect("mkopo runs")
}

#[test]
fn check_menus_passes_the_shipped_menus_and_prints_a_mermaid_graph() {
    let out = mkopo(&["check-menus"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("menus OK (built-in menus):"), "{stdout}");
    let out = mkopo(&["check-menus", "--graph"]);
    let graph = String::from_utf8_lossy(&out.stdout);
    assert!(graph.starts_with("flowchart TD\n") && graph.contains("main -->|1| borrow"), "{graph}");
}

#[test]
fn check_menus_warns_about_an_offered_product_a_language_does_not_name() {
    let out = Command::new(env!("CARGO_BIN_EXE_mkopo"))
        .arg("check-menus")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .env("MKOPO_LMS__PRODUCT_IDS", "1,4")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the LMS's name stands in, so the menus still pass: {stdout}");
    assert!(!stdout.contains("product 1 "), "{stdout}");
    for lang in ["en", "sw"] {
        let line =
            format!("warning: product 4 has no name in {lang}.ftl (`product-4`): the LMS's name is shown instead");
        assert!(stdout.contains(&line), "{stdout}");
    }
}

#[test]
fn check_menus_fails_loudly_on_a_broken_menu_directory() {
    let dir = std::env::temp_dir().join(format!("mkopo-menus-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("menus");
    let menu = std::fs::read_to_string(root.join("menu.toml"))
        .unwrap()
        .replace("goto = \"borrow-quote\"", "goto = \"nowhere\"");
    std::fs::write(dir.join("menu.toml"), menu).unwrap();
    let sw = std::fs::read_to_string(root.join("sw.ftl")).unwrap().replace("main-borrow = Kopa\n", "");
    std::fs::write(dir.join("sw.ftl"), sw).unwrap();
    std::fs::copy(root.join("en.ftl"), dir.join("en.ftl")).unwrap();
    let out = mkopo(&["check-menus", "--dir", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("node `borrow-amount` leads to the unknown node `nowhere`"), "{stderr}");
    assert!(stderr.contains("message `main-borrow` is missing in sw.ftl"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn check_menus_holds_the_menus_to_the_tightest_operator_budget() {
    let check = |env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mkopo"));
        command.arg("check-menus").current_dir(env!("CARGO_MANIFEST_DIR")).env_remove("RUST_LOG");
        command.envs(env.iter().copied()).output().unwrap()
    };
    assert!(check(&[]).status.success());
    // One operator with 60 septets: the registration screen (terms and two options) cannot fit.
    let tight = check(&[("MKOPO_USSD__SCREEN__OPERATORS__64009", "60")]);
    let stderr = String::from_utf8_lossy(&tight.stderr);
    assert!(!tight.status.success(), "{stderr}");
    assert!(stderr.contains("screen `register` in en does not fit the 60 budget"), "{stderr}");
}

#[tokio::test]
async fn json_log_lines_carry_the_request_spans_and_no_number_or_input() {
    let gateway = start(
        &["serve"],
        &[
            ("MKOPO_SERVER__PORT", "0"),
            ("MKOPO_TELEMETRY__FORMAT", "json"),
            ("MKOPO_TELEMETRY__FILTER", "info,mkopo=debug"),
        ],
    );
    let base = base_of(&gateway.first_line);
    wait_ready(&format!("{base}/readyz")).await;
    let msisdn = "255718273645";
    let url = format!("{base}/ussd/africastalking");
    let mut phone = mkopo::phone::Phone::new(url, mkopo::phone::Dialect::AfricasTalking, msisdn);
    phone.begin().await.unwrap();
    let mut typed = Vec::new();
    for step in ["Accept", "Main menu", "Borrow", "7-Day", "Other amount", "7341", "Confirm"] {
        let input = match step.parse::<u32>() {
            Ok(_) => step.to_owned(),
            Err(_) => phone.screen.option(step).unwrap_or_else(|| panic!("no {step:?} on {}", phone.screen.text)),
        };
        phone.send(&input).await.unwrap();
        typed.push(input);
    }
    assert!(phone.screen.end, "the walk ends the session:\n{}", phone.screen.text);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lines = gateway.output.lock().unwrap().clone();

    // In JSON mode even the banner is a log line: a log shipper never meets plain text.
    let banner: serde_json::Value = serde_json::from_str(&gateway.first_line).expect("the banner is a JSON line");
    assert!(banner["fields"]["bind"].as_str().unwrap().starts_with("127.0.0.1:"), "{banner}");
    let json: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
        .collect();
    let hop = json
        .iter()
        .find(|l| l["fields"]["message"] == "USSD hop")
        .unwrap_or_else(|| panic!("no hop line in:\n{}", lines.join("\n")));
    let spans = hop["spans"].as_array().expect("a span list");
    let http = spans.iter().find(|s| s["name"] == "http").expect("the request's root span");
    assert_eq!(http["route"], "/ussd/africastalking", "the enabled dialects have static routes");
    assert!(http["request_id"].as_str().is_some_and(|id| id.len() == 36), "{http}");
    let ussd = spans.iter().find(|s| s["name"] == "ussd").expect("the hop span");
    assert_eq!(ussd["dialect"], "africastalking");
    assert_eq!(ussd["msisdn"], "25571****645", "masked");
    // Every LMS call a hop makes, in the hop or in the work it leaves running (the disbursement), is
    // tied to the hop and its request; only the inbox workers' and timers' calls stand alone.
    let span_names = |line: &serde_json::Value| -> Vec<String> {
        line["spans"]
            .as_array()
            .map_or(Vec::new(), |s| s.iter().filter_map(|s| s["name"].as_str().map(str::to_owned)).collect())
    };
    let lms_lines: Vec<_> =
        json.iter().map(span_names).filter(|names| names.last().is_some_and(|n| n == "lms")).collect();
    assert!(lms_lines.iter().any(|names| names == &["http", "ussd", "lms"]), "{lms_lines:?}");
    let create = json
        .iter()
        .find(|l| l["spans"].as_array().is_some_and(|s| s.iter().any(|s| s["endpoint"] == "POST /v1/loans")));
    let create = create.expect("the loan creation is logged");
    assert_eq!(span_names(create), ["http", "ussd", "lms"], "the detached disbursement keeps the hop's spans");

    let leaks: Vec<_> = lines.iter().filter(|l| l.contains("718273645")).collect();
    assert!(leaks.is_empty(), "the number never appears in full: {leaks:#?}");
    let path = typed.join("*");
    // The amount as a value of its own; inside a timestamp's fraction or a UUID it is chance, not a leak.
    let leaks: Vec<_> = lines.iter().filter(|l| l.contains(&path) || stands_alone(l, "7341")).collect();
    assert!(leaks.is_empty(), "the AT input path {path} never appears: {leaks:#?}");
}

/// Whether `token` occurs in `line` with no letter, digit, `-` or `.` on either side.
fn stands_alone(line: &str, token: &str) -> bool {
    let joins = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    line.match_indices(token)
        .any(|(at, _)| !joins(line[..at].chars().next_back()) && !joins(line[at + token.len()..].chars().next()))
}

#[test]
fn a_token_stands_alone_only_between_separators() {
    assert!(stands_alone(r#"{"input":"7341"}"#, "7341"));
    assert!(stands_alone("amount 7341, confirm", "7341"));
    assert!(!stands_alone("2026-11-25T17:31:07.734123Z", "7341"));
    assert!(!stands_alone("8f2c1a9e-7341-4b2d-9c1e-0a1b2c3d4e5f", "7341"));
    assert!(!stands_alone("a17341b", "7341"));
}
