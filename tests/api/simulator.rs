//! The phone in the browser (`GET /simulator`): a self-contained page and its JSON API, and a
//! subscriber who borrows and repays by clicking the page in a real headless Chromium.

mod webdriver;

use std::time::Duration;

use mkopo::phone::Screen;
use mkopo::ussd::guard::BasicAuthSettings;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use webdriver::Browser;

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

/// A number no other test uses: a random 7-digit suffix.
fn fresh_msisdn() -> String {
    format!("25578{:07}", rand::random::<u32>() % 10_000_000)
}

async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let response = http().post(format!("{}{path}", app.base)).json(&body).send().await.unwrap();
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let response = http().get(format!("{}{path}", app.base)).send().await.unwrap();
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_page_and_its_assets_are_html_css_and_script_from_this_origin_only() {
    let app = TestApp::spawn().await;
    for (path, kind) in
        [("/simulator", "text/html"), ("/simulator/page.css", "text/css"), ("/simulator/page.js", "text/javascript")]
    {
        let response = http().get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        assert!(header("content-type").is_some_and(|t| t.starts_with(kind)), "{path}: {:?}", header("content-type"));
        assert!(header("content-security-policy").is_some_and(|c| c.starts_with("default-src 'self'")), "{path}");
        let body = response.text().await.unwrap();
        for external in ["http://", "https://", "//fonts.", "@import"] {
            assert!(!body.contains(external), "{path} must load nothing from elsewhere, yet it has {external:?}");
        }
    }
    let page = http().get(format!("{}/simulator", app.base)).send().await.unwrap().text().await.unwrap();
    for id in ["dialect", "msisdn", "code", "screen-text", "reply", "key-call", "key-end", "key-0", "key-star"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "the page has #{id}");
    }
    assert!(page.contains(r#"src="/simulator/page.js""#) && page.contains(r#"href="/simulator/page.css""#));
}

#[tokio::test]
async fn the_api_refuses_bad_requests_with_a_code_and_a_message() {
    let app = TestApp::spawn().await;
    let dial = |msisdn: &str, dialect: &str| json!({ "dialect": dialect, "msisdn": msisdn });
    let refusals = [
        (post(&app, "/simulator/api/dial", dial("12ab", "africastalking")).await, 400, "bad_msisdn"),
        (post(&app, "/simulator/api/dial", dial("1234", "beem")).await, 400, "bad_msisdn"),
        (post(&app, "/simulator/api/dial", dial("255712345678", "ussd-r-us")).await, 400, "unknown_dialect"),
        (
            post(&app, "/simulator/api/dial", json!({ "dialect": "beem", "msisdn": "255712345678", "code": "*1**2#" }))
                .await,
            400,
            "bad_code",
        ),
        (post(&app, "/simulator/api/dial", json!({ "dialect": "beem" })).await, 400, "bad_request"),
        (get(&app, "/simulator/api/loans?msisdn=not-a-number").await, 400, "bad_msisdn"),
        (get(&app, "/simulator/api/loans").await, 400, "bad_request"),
        (post(&app, "/simulator/api/send", json!({ "call": "call-nope", "input": "1" })).await, 404, "unknown_call"),
        (post(&app, "/simulator/api/send", json!({ "call": "call-nope", "input": "" })).await, 400, "bad_input"),
    ];
    for ((status, body), want_status, want_code) in refusals {
        assert_eq!(status.as_u16(), want_status, "{body}");
        assert_eq!(body["code"], want_code, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
    let response = http()
        .post(format!("{}/simulator/api/dial", app.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "bad_request");
}

#[tokio::test]
async fn the_api_dials_each_enabled_dialect_through_the_gateways_own_routes() {
    let app = TestApp::spawn().await;
    let (_, config) = get(&app, "/simulator/api/config").await;
    let names: Vec<&str> = config["dialects"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["africastalking", "beem", "hubtel"], "{config}");
    assert_eq!(config["dialects"][0]["code"], "*150*88#");

    for dialect in names {
        let msisdn = fresh_msisdn();
        let (status, first) = post(&app, "/simulator/api/dial", json!({ "dialect": dialect, "msisdn": msisdn })).await;
        assert_eq!(status, 200, "{dialect}: {first}");
        assert_eq!(
            (&first["dialect"], &first["msisdn"], &first["screen"]["end"]),
            (&json!(dialect), &json!(msisdn), &json!(false))
        );
        assert!(first["screen"]["text"].as_str().unwrap().starts_with("Welcome to Mkopo loans."), "{first}");

        let call = first["call"].as_str().unwrap();
        let (_, next) = post(&app, "/simulator/api/send", json!({ "call": call, "input": "1" })).await;
        assert!(next["screen"]["text"].as_str().unwrap().starts_with("You are registered."), "{dialect}: {next}");
        let (_, loans) = get(&app, &format!("/simulator/api/loans?msisdn={msisdn}&dialect={dialect}")).await;
        assert_eq!((&loans["registered"], &loans["loans"]), (&json!(true), &json!([])), "{dialect}: {loans}");

        let (status, _) = post(&app, "/simulator/api/hangup", json!({ "call": call })).await;
        assert_eq!(status, 200);
        let (status, gone) = post(&app, "/simulator/api/send", json!({ "call": call, "input": "1" })).await;
        assert_eq!((status.as_u16(), &gone["code"]), (404, &json!("unknown_call")), "{dialect}: hung up");
    }
}

#[tokio::test]
async fn the_simulator_passes_a_path_token_and_basic_auth_from_the_dialects_settings() {
    let app = TestApp::spawn_with(|s| {
        let beem = s.ussd.dialects.get_mut("beem").unwrap();
        beem.basic_auth =
            Some(BasicAuthSettings { username: "beem-ops".into(), password: "s3cret-pass".to_owned().into() });
        let hubtel = s.ussd.dialects.get_mut("hubtel").unwrap();
        hubtel.path_token = Some("tok_5b1e9c7d3a2f4e6081c9b7d5a3f1e2c4_k-9Q".to_owned().into());
        hubtel.basic_auth =
            Some(BasicAuthSettings { username: "hubtel-ops".into(), password: "an0ther".to_owned().into() });
    })
    .await;
    // The guards are on: without what they ask for the routes refuse.
    let bare = |dialect: &str| http().post(format!("{}/ussd/{dialect}", app.base)).body("{}").send();
    assert_eq!(bare("beem").await.unwrap().status(), 401);
    assert_eq!(bare("hubtel").await.unwrap().status(), 404);

    for dialect in ["beem", "hubtel"] {
        let msisdn = fresh_msisdn();
        let (status, first) = post(&app, "/simulator/api/dial", json!({ "dialect": dialect, "msisdn": msisdn })).await;
        assert_eq!(status, 200, "{dialect}: {first}");
        assert!(first["screen"]["text"].as_str().unwrap().starts_with("Welcome to Mkopo loans."), "{first}");
        let call = first["call"].as_str().unwrap();
        let (_, next) = post(&app, "/simulator/api/send", json!({ "call": call, "input": "1" })).await;
        assert!(next["screen"]["text"].as_str().unwrap().starts_with("You are registered."), "{dialect}: {next}");
    }
}

#[tokio::test]
async fn the_simulator_is_not_served_when_it_is_disabled() {
    let app = TestApp::spawn_with(|s| s.simulator.enabled = false).await;
    for path in ["/simulator", "/simulator/api/config"] {
        let response = http().get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

/// The browser, driven the way a person uses the page.
struct Page {
    browser: Browser,
}

impl Page {
    /// Presses the keypad keys of `digits`, then Send, and waits for the screen to show `expect`.
    async fn press(&self, digits: &str, expect: &str) -> String {
        for digit in digits.chars() {
            let key = match digit {
                '*' => "star".to_owned(),
                '#' => "hash".to_owned(),
                d => d.to_string(),
            };
            self.browser.click(&format!("#key-{key}")).await;
        }
        self.browser.click("#key-call").await;
        self.screen(expect).await
    }

    /// Picks the option whose label contains `label` on the current screen.
    async fn choose(&self, label: &str, expect: &str) -> String {
        let text = self.screen("").await;
        let screen = Screen { text: text.clone(), end: false };
        let Some(option) = screen.option(label) else {
            self.browser.fail(&format!("no option {label:?} on the screen {text:?}")).await;
        };
        self.press(&option, expect).await
    }

    /// The screen's text once it contains `expect` and the phone is not waiting for the gateway.
    async fn screen(&self, expect: &str) -> String {
        let text = self.browser.wait_text("#screen-text", 20, &format!("{expect:?}"), |t| t.contains(expect)).await;
        self.browser.wait_text("#screen-status", 20, "an idle phone", |s| !s.ends_with('…')).await;
        text
    }

    /// The loans panel's row of the only loan, once its `field` cell reads `want`.
    async fn loan_cell(&self, field: &str, want: &str) {
        let css = format!("#loans-body tr[data-testid=loan] td.{field}");
        self.browser.wait_text(&css, 20, want, |t| t == want).await;
    }
}

#[tokio::test]
async fn a_subscriber_borrows_and_repays_by_clicking_the_phone_in_a_headless_browser() {
    webdriver::ensure_installed();
    let app = TestApp::spawn_on_redis(|s| {
        // The repay prompt reaches the wallet quickly and waits there for the click on Approve.
        s.ussd.collection_delay = Duration::from_millis(200);
        s.sandbox.wallet.collection_approve_delay = Duration::from_secs(300);
    })
    .await;
    let msisdn = fresh_msisdn();
    let page = Page { browser: Browser::launch().await };
    let browser = &page.browser;
    browser.goto(&format!("{}/simulator", app.base)).await;
    browser.find("body[data-ready=true]", 20).await;

    // The SIM: Beem's wire format, a number of this test's own.
    browser.click("#dialect option[value=beem]").await;
    browser.type_into("#msisdn", &msisdn).await;
    browser.wait_text("#screen-network", 5, "Beem", |t| t == "Beem").await;

    // Dial, register, borrow TZS 10,000 of the 7-day loan.
    browser.click("#key-call").await;
    page.screen("Welcome to Mkopo loans.").await;
    page.choose("Accept", "You are registered.").await;
    page.choose("Main menu", "Mkopo\n1. Borrow").await;
    page.choose("Borrow", "Choose a loan:").await;
    page.choose("7-Day", "Choose amount").await;
    page.choose("Other amount", "Enter amount").await;
    page.press("10000", "Borrow TZS 10,000\nCharges: TZS 1,100\nRepay TZS 11,100 by ").await;
    let outcome = page.choose("Confirm", "has been sent to your wallet.").await;
    assert!(outcome.starts_with("TZS 10,000 has been sent to your wallet. Repay TZS 11,100 by"), "{outcome}");
    browser.wait_text("#screen-status", 5, "the end of the session", |s| s.eq_ignore_ascii_case("Session ended")).await;
    browser.wait_text("#screen-kind", 5, "END", |s| s == "END").await;

    // The loans panel shows the new loan as the LMS holds it; the wallet shows the payout.
    page.loan_cell("principal", "10,000").await;
    page.loan_cell("outstanding", "11,100").await;
    page.loan_cell("status", "Active").await;
    browser.wait_text("#wallet-history", 20, "the payout", |t| t.contains("Received TZS 10,000")).await;

    // Repay 4,000 (typed in the reply line this time): the wallet prompt appears; Approve pays it.
    browser.click("#key-end").await;
    browser.click("#key-call").await;
    page.screen("Mkopo\n1. Borrow").await;
    page.choose("Repay", "Owed: TZS 11,100").await;
    page.choose("Other amount", "Enter amount").await;
    browser.type_into("#reply", "4000").await;
    browser.click("#key-call").await;
    page.screen("Pay TZS 4,000 for Halotel 7-Day Loan?").await;
    page.choose("Confirm", "You will get a wallet prompt to pay TZS 4,000.").await;

    let prompt = "#wallet-prompts li[data-testid=prompt]";
    browser.wait_text(prompt, 20, "the TZS 4,000 prompt", |t| t.contains("Pay TZS 4,000")).await;
    browser.click(&format!("{prompt} button[data-testid=approve]")).await;
    page.loan_cell("outstanding", "7,100").await;
    browser.wait_text("#wallet-status", 20, "no prompt left", |t| t.contains("0 prompts")).await;

    page.browser.quit().await;
    app.stop().await;
}
