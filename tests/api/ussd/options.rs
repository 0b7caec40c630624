//! The per-dialect switches of docs/ussd.md, end to end: Africa's Talking `accept_get` and `hop_metadata`, Beem
//! `request_id_echo` (and the per-session learning of whether Beem echoes at all), Hubtel `accept_camel_case`; each at its default and flipped, and each refused at
//! boot under a dialect it does not belong to.

use mkopo::config::{load_from, ConfigSource, DialectSettings, Environment, Settings};
use mkopo::phone::Screen;
use serde_json::json;

use super::phone::{Phone, Via, FORM, JSON};
use crate::helpers::TestApp;

const TOKEN: &str = "tok_9d2e6b1f7a4c8053e1b9d7f2a6c4e8b0_q-Z3";
const METADATA: &str = "at-ussd-hop-metadata";

fn dialect<'s>(s: &'s mut Settings, name: &str) -> &'s mut DialectSettings {
    s.ussd.dialects.get_mut(name).unwrap()
}

/// Status, `Allow` header and body of a GET.
async fn get(url: &str) -> (u16, Option<String>, String) {
    let response = reqwest::get(url).await.unwrap();
    let allow = response.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), allow, response.text().await.unwrap())
}

/// An AT hop posted as a form: status, the hop-metadata header, body.
async fn post_at(phone: &Phone, text: &str) -> (u16, Option<String>, String) {
    let response = reqwest::Client::new()
        .post(phone.endpoint())
        .header("content-type", FORM)
        .body(phone.at_form(text))
        .send()
        .await
        .unwrap();
    let metadata = response.headers().get(METADATA).map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), metadata, response.text().await.unwrap())
}

/// The option number of `label` on an AT `CON` body.
fn option(body: &str, label: &str) -> String {
    let screen = Screen { text: body.trim_start_matches("CON ").to_owned(), end: false };
    screen.option(label).unwrap_or_else(|| panic!("no option {label:?} on {body:?}"))
}

#[tokio::test]
async fn a_get_hop_is_refused_with_405_allow_post_by_default() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let phone = Phone::unseen(&app, Via::AfricasTalking, &Via::AfricasTalking.msisdn(860));
    let url = format!("{}?{}", phone.endpoint(), phone.at_form(""));
    assert_eq!(get(&url).await, (405, Some("POST".to_owned()), String::new()));
}

#[tokio::test]
async fn with_accept_get_a_get_hop_is_served_exactly_like_a_post() {
    let app = TestApp::spawn_on_redis(|s| dialect(s, "africastalking").accept_get = Some(true)).await;
    let phone = Phone::unseen(&app, Via::AfricasTalking, &Via::AfricasTalking.msisdn(861));
    let at = |text: &str| format!("{}?{}", phone.endpoint(), phone.at_form(text));

    let (status, _, first) = get(&at("")).await;
    assert_eq!(status, 200, "{first}");
    assert!(first.starts_with("CON Welcome to Mkopo loans."), "{first}");
    assert_eq!(get(&at("")).await, (200, None, first.clone()), "a repeated GET is a duplicate, replayed");
    let terms = option(&first, "Read terms");
    let (status, _, second) = get(&at(&terms)).await;
    assert_eq!(status, 200, "{second}");
    assert!(second.starts_with("CON Loans go to your wallet."), "{second}");
    // The POST route carries on the same session: the path it extends is the one the GETs stored.
    let (status, _, third) = post_at(&phone, &format!("{terms}*{}", option(&second, "Decline"))).await;
    assert_eq!(status, 200, "{third}");
    assert!(third.starts_with("END "), "{third}");

    // The same parser reads the query: a repeated key is a 400 (R11).
    let (status, _, body) = get(&format!("{}&text=2", at(""))).await;
    assert_eq!((status, body.contains("more than once")), (400, true), "{body}");
    // accept_get belongs to AT: a GET on Beem is still refused.
    let beem = format!("{}/ussd/beem?command=initiate", app.base);
    assert_eq!(get(&beem).await, (405, Some("POST".to_owned()), String::new()));
}

#[tokio::test]
async fn with_accept_get_behind_a_path_token_only_the_token_route_serves_a_get() {
    let app = TestApp::spawn_on_redis(|s| {
        let at = dialect(s, "africastalking");
        at.accept_get = Some(true);
        at.path_token = Some(TOKEN.into());
    })
    .await;
    let phone = Phone::unseen(&app, Via::AfricasTalking, &Via::AfricasTalking.msisdn(862));
    let form = phone.at_form("");
    assert_eq!(get(&format!("{}?{form}", phone.endpoint())).await.0, 404, "the bare route");
    let (status, _, body) = get(&format!("{}/{TOKEN}?{form}", phone.endpoint())).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("CON Welcome to Mkopo loans."), "{body}");
}

#[tokio::test]
async fn hop_metadata_names_the_shown_node_when_on_and_is_absent_by_default() {
    let off = TestApp::spawn_on_redis(|_| {}).await;
    let phone = Phone::unseen(&off, Via::AfricasTalking, &Via::AfricasTalking.msisdn(863));
    let (status, metadata, body) = post_at(&phone, "").await;
    assert_eq!((status, metadata), (200, None), "off by default: {body}");

    let on = TestApp::spawn_on_redis(|s| dialect(s, "africastalking").hop_metadata = Some(true)).await;
    let phone = Phone::unseen(&on, Via::AfricasTalking, &Via::AfricasTalking.msisdn(864));
    let (status, metadata, first) = post_at(&phone, "").await;
    assert_eq!((status, metadata.as_deref()), (200, Some("register")), "{first}");
    let terms = option(&first, "Read terms");
    let (_, metadata, second) = post_at(&phone, &terms).await;
    assert_eq!(metadata.as_deref(), Some("terms"), "{second}");
    // A replay does not know which node its cached reply showed, so it goes without; so does the replay
    // answering a path conflict.
    assert_eq!(post_at(&phone, &terms).await, (200, None, second.clone()), "a duplicate");
    assert_eq!(post_at(&phone, "9*9").await, (200, None, second.clone()), "a path conflict");
    let declined = format!("{terms}*{}", option(&second, "Decline"));
    let (_, metadata, end) = post_at(&phone, &declined).await;
    assert_eq!(metadata.as_deref(), Some("register-declined"), "{end}");
    // A system screen is named by its message id.
    let (_, metadata, ended) = post_at(&phone, &format!("{declined}*1")).await;
    assert_eq!(metadata.as_deref(), Some("msg-ended"), "{ended}");
    // The events acknowledgement is no screen.
    let response = reqwest::Client::new()
        .post(format!("{}/events", phone.endpoint()))
        .header("content-type", FORM)
        .body(format!("{}&status=Success", phone.at_form(&declined)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers().get(METADATA).is_none(), "the events ack");

    // hop_metadata is AT's: Beem replies carry no such header.
    let beem = Phone::unseen(&on, Via::Beem, &Via::Beem.msisdn(865));
    let response = reqwest::Client::new()
        .post(beem.endpoint())
        .header("content-type", JSON)
        .body(beem.beem_json("initiate", 0, ""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers().get(METADATA).is_none());
}

#[tokio::test]
async fn without_accept_camel_case_a_camel_case_hubtel_body_is_refused_with_400() {
    let camel = |phone: &Phone| {
        json!({
            "sequence": 1, "type": "Initiation", "message": "*713*20#", "serviceCode": "713*20",
            "operator": "mtn", "mobile": phone.msisdn, "sessionId": phone.session_id
        })
        .to_string()
    };
    let lenient = TestApp::spawn_on_redis(|_| {}).await;
    let phone = Phone::unseen(&lenient, Via::Hubtel, &Via::Hubtel.msisdn(866));
    let (status, body) = phone.post_raw("", JSON, camel(&phone)).await;
    assert_eq!(status, 200, "camelCase is accepted by default: {body}");
    assert!(body.contains("Welcome to Mkopo loans."), "{body}");

    let strict = TestApp::spawn_on_redis(|s| dialect(s, "hubtel").accept_camel_case = Some(false)).await;
    let phone = Phone::unseen(&strict, Via::Hubtel, &Via::Hubtel.msisdn(867));
    let (status, body) = phone.post_raw("", JSON, camel(&phone)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("`Type`") && !body.contains(&phone.msisdn), "{body}");
    let phone = Phone::dial(&strict, Via::Hubtel, &Via::Hubtel.msisdn(867)).await;
    assert!(phone.screen.text.starts_with("Welcome to Mkopo loans."), "PascalCase is served: {}", phone.screen.text);
}

#[tokio::test]
async fn without_request_id_echo_a_repeated_beem_continue_runs_a_fresh_turn() {
    for (echo, request_id, command) in [(None, 2, "continue"), (Some(false), 3, "terminate")] {
        let app = TestApp::spawn_on_redis(|s| dialect(s, "beem").request_id_echo = echo).await;
        let mut phone = Phone::dial(&app, Via::Beem, &Via::Beem.msisdn(868)).await;
        phone.choose("Read terms").await;
        assert!(phone.screen.text.starts_with("Loans go to your wallet."), "{}", phone.screen.text);
        // The same `{request_id: 1, response: <Read terms>}` again: a replay of hop 2 with the echo on; with it
        // off a fresh turn at hop 3, where the same digit picks Decline on the terms screen.
        let (status, raw) = phone.resend().await;
        let reply: serde_json::Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(status, 200, "{raw}");
        assert_eq!(
            (&reply["payload"]["request_id"], &reply["command"]),
            (&json!(request_id), &json!(command)),
            "{echo:?}"
        );
    }
}

/// The screen text and `request_id` of a Beem reply.
fn beem_screen(raw: &str) -> (String, serde_json::Value) {
    let reply: serde_json::Value = serde_json::from_str(raw).unwrap_or_else(|e| panic!("{e}: {raw}"));
    (reply["payload"]["request"].as_str().unwrap_or_default().to_owned(), reply["payload"]["request_id"].clone())
}

#[tokio::test]
async fn a_beem_sending_request_id_zero_has_two_answers_of_1_in_a_row_both_served() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let phone = Phone::unseen(&app, Via::Beem, &Via::Beem.msisdn(869));
    let send = |command: &str, request_id: u64, input: &str| {
        phone.post_raw("", JSON, phone.beem_json(command, request_id, input))
    };
    let (_, first) = send("initiate", 0, "").await;
    assert!(beem_screen(&first).0.starts_with("Welcome to Mkopo loans."), "{first}");
    // "1" accepts the terms; "1" again, on the next screen, opens the main menu. Sent as the published
    // integration sends them, with request_id 0 each time: the second must not be taken for a retry.
    let (_, registered) = send("continue", 0, "1").await;
    assert_eq!(beem_screen(&registered), ("You are registered. Welcome!\n1. Main menu".into(), json!(2)));
    let (_, menu) = send("continue", 0, "1").await;
    let (text, id) = beem_screen(&menu);
    assert!(text.starts_with("Mkopo\n1. Borrow"), "the second 1 was served: {text}");
    assert_eq!(id, json!(3));
}

#[tokio::test]
async fn an_echoing_beem_has_a_true_retry_replayed_and_its_next_answer_served() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let phone = Phone::unseen(&app, Via::Beem, &Via::Beem.msisdn(870));
    let send = |command: &str, request_id: u64, input: &str| {
        phone.post_raw("", JSON, phone.beem_json(command, request_id, input))
    };
    send("initiate", 0, "").await;
    let (_, registered) = send("continue", 1, "1").await;
    assert_eq!(beem_screen(&registered), ("You are registered. Welcome!\n1. Main menu".into(), json!(2)));
    // The network repeats the answer to screen 1: replayed byte for byte, no turn run.
    assert_eq!(send("continue", 1, "1").await, (200, registered.clone()));
    let (_, menu) = send("continue", 2, "1").await;
    let (text, id) = beem_screen(&menu);
    assert!(text.starts_with("Mkopo\n1. Borrow"), "{text}");
    assert_eq!(id, json!(3), "the retry did not advance the session");
}

#[test]
fn a_dialect_only_key_under_another_dialect_is_refused_at_boot() {
    let local = || ConfigSource::embedded(Environment::Local);
    let misplaced = local()
        .with_env("MKOPO_USSD__DIALECTS__BEEM__ACCEPT_GET", "true")
        .with_env("MKOPO_USSD__DIALECTS__HUBTEL__REQUEST_ID_ECHO", "false");
    let text = load_from(&misplaced).expect_err("misplaced keys are refused").to_string();
    assert!(text.contains("ussd.dialects.beem.accept_get applies only to ussd.dialects.africastalking"), "{text}");
    assert!(text.contains("ussd.dialects.hubtel.request_id_echo applies only to ussd.dialects.beem"), "{text}");

    let placed = local()
        .with_env("MKOPO_USSD__DIALECTS__AFRICASTALKING__ACCEPT_GET", "true")
        .with_env("MKOPO_USSD__DIALECTS__AFRICASTALKING__HOP_METADATA", "true")
        .with_env("MKOPO_USSD__DIALECTS__BEEM__REQUEST_ID_ECHO", "false")
        .with_env("MKOPO_USSD__DIALECTS__HUBTEL__ACCEPT_CAMEL_CASE", "false");
    let s = load_from(&placed).unwrap();
    let d = |name: &str| s.ussd.dialects[name].clone();
    assert_eq!((d("africastalking").accept_get, d("africastalking").hop_metadata), (Some(true), Some(true)));
    assert_eq!((d("beem").request_id_echo, d("hubtel").accept_camel_case), (Some(false), Some(false)));
    let defaults = load_from(&local()).unwrap();
    let at = &defaults.ussd.dialects["africastalking"];
    assert_eq!((at.accept_get, at.hop_metadata), (Some(false), Some(false)), "base.toml states the defaults");
}
