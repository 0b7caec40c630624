//! What the USSD routes refuse before any session is touched: malformed bodies (R11, R4: a 4xx whose
//! plain-text body names the problem, never the input; the issue asks for a clear message) and callers
//! failing a dialect's route guard (R10: path token, IP allow-list; empty bodies).

use serde_json::json;

use super::phone::{Phone, Via, FORM, JSON};
use crate::helpers::TestApp;

const TOKEN: &str = "tok_4f9c1e7a2b8d6053c1e9f7a4b2d8c6e0_x-Y9";

async fn post(url: &str, ct: Option<&str>, body: String) -> (u16, String) {
    let mut request = reqwest::Client::new().post(url).body(body);
    if let Some(ct) = ct {
        request = request.header("content-type", ct);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn malformed_bodies_get_a_4xx_naming_the_problem_and_never_echoing_the_input() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let at = Phone::unseen(&app, Via::AfricasTalking, &Via::AfricasTalking.msisdn(800));
    let beem = Phone::unseen(&app, Via::Beem, &Via::Beem.msisdn(801));
    let hubtel = Phone::unseen(&app, Via::Hubtel, &Via::Hubtel.msisdn(802));
    let url = |via: Via| format!("{}/ussd/{}", app.base, via.route());
    let (at_url, beem_url, hubtel_url) = (url(Via::AfricasTalking), url(Via::Beem), url(Via::Hubtel));
    let events_url = format!("{at_url}/events");
    let long_id = format!("sessionId={}&serviceCode=*150*88%23&phoneNumber=%2B{}&text=", "S".repeat(129), at.msisdn);
    let cases: Vec<(&str, &str, Option<&str>, String, u16)> = vec![
        ("AT: a duplicate form key", &at_url, Some(FORM), format!("{}&text=2", at.at_form("1")), 400),
        ("AT: invalid UTF-8 in the form", &at_url, Some(FORM), at.at_form("%FF").replace("%25FF", "%FF"), 400),
        ("AT: no phoneNumber", &at_url, Some(FORM), at.at_form("").replace("phoneNumber=", "x="), 400),
        ("AT: a 3-digit MSISDN", &at_url, Some(FORM), at.at_form("").replace(&at.msisdn, "123"), 400),
        ("AT: a session id over 128 bytes", &at_url, Some(FORM), long_id, 400),
        ("AT: JSON content type", &at_url, Some(JSON), at.at_form(""), 415),
        ("AT: no content type", &at_url, None, at.at_form(""), 415),
        ("AT events: no status", &events_url, Some(FORM), at.at_form(""), 400),
        ("AT events: a JSON body", &events_url, Some(JSON), "{}".into(), 415),
        ("Beem: invalid JSON", &beem_url, Some(JSON), "{\"command\": ".into(), 400),
        ("Beem: a duplicate JSON key", &beem_url, Some(JSON), beem_duplicate_key(&beem), 400),
        (
            "Beem: an invalid msisdn",
            &beem_url,
            Some(JSON),
            beem.beem_json("initiate", 0, "").replace(&beem.msisdn, "12ab"),
            400,
        ),
        ("Beem: an unknown command", &beem_url, Some(JSON), beem.beem_json("dance", 0, ""), 400),
        ("Beem: a form content type", &beem_url, Some(FORM), beem.beem_json("initiate", 0, ""), 415),
        ("Beem: text/plain", &beem_url, Some("text/plain"), beem.beem_json("initiate", 0, ""), 415),
        ("Hubtel: invalid JSON", &hubtel_url, Some(JSON), "[1, 2".into(), 400),
        (
            "Hubtel: an invalid Mobile",
            &hubtel_url,
            Some(JSON),
            hubtel.hubtel_json("Initiation", 1, "").replace(&hubtel.msisdn, "+"),
            400,
        ),
        (
            "Hubtel: no SessionId",
            &hubtel_url,
            Some(JSON),
            json!({ "Type": "Initiation", "Mobile": hubtel.msisdn }).to_string(),
            400,
        ),
        ("Hubtel: a form content type", &hubtel_url, Some(FORM), hubtel.hubtel_json("Initiation", 1, ""), 415),
    ];
    let mut wrong = Vec::new();
    for (what, url, ct, body, status) in cases {
        let (got, text) = post(url, ct, body).await;
        let echoes = [&at.msisdn, &beem.msisdn, &hubtel.msisdn].iter().any(|m| text.contains(m.as_str()));
        if got != status || text.trim().is_empty() || echoes {
            wrong.push(format!("{what}: expected {status} with a message and no input, got {got} {text:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn msisdns_of_8_to_15_digits_are_served_and_any_other_length_refused() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let mut wrong = Vec::new();
    for (digits, status) in [("1234567", 400), ("12345678", 200), ("123456789012345", 200), ("1234567890123456", 400)] {
        let phone = Phone::unseen(&app, Via::AfricasTalking, digits);
        let (got, body) = phone.post_raw("", FORM, phone.at_form("")).await;
        if got != status {
            wrong.push(format!("+{digits} ({} digits): expected {status}, got {got} {body:?}", digits.len()));
        }
    }
    assert!(wrong.is_empty(), "R8 allows 8 to 15 digits:\n{}", wrong.join("\n"));
}

fn beem_duplicate_key(beem: &Phone) -> String {
    let body = beem.beem_json("initiate", 0, "");
    body.replacen("{", &format!("{{\"msisdn\":\"{}\",", beem.msisdn), 1)
}

/// Posts `pad` extra bytes to AT, AT's events and Hubtel, with `ussd.max_body_bytes` at 2048.
async fn oversized(pad: usize) {
    let app = TestApp::spawn_on_redis(|s| s.ussd.max_body_bytes = 2048).await;
    let at = Phone::unseen(&app, Via::AfricasTalking, &Via::AfricasTalking.msisdn(803));
    let hubtel = Phone::unseen(&app, Via::Hubtel, &Via::Hubtel.msisdn(804));
    let form = format!("{}&pad={}", at.at_form(""), "x".repeat(pad));
    let limit = |(status, text): (u16, String)| (status, text.contains("limit"));
    assert_eq!(limit(at.post_raw("", FORM, form.clone()).await), (413, true), "AT, {pad}");
    assert_eq!(limit(at.post_raw("/events", FORM, form).await), (413, true), "events, {pad}");
    let json = hubtel.hubtel_json("Initiation", 1, &"9".repeat(pad));
    assert_eq!(limit(hubtel.post_raw("", JSON, json).await), (413, true), "Hubtel, {pad}");

    let fits = format!("{}&pad={}", at.at_form(""), "x".repeat(1800));
    let (status, body) = at.post_raw("", FORM, fits).await;
    assert_eq!(status, 200, "a body within the limit is served: {body}");
}

#[tokio::test]
async fn a_body_just_over_the_limit_is_refused_with_413() {
    oversized(2100).await;
}

#[tokio::test]
async fn a_body_far_over_the_limit_is_refused_with_413() {
    // Beyond the body extractor's own cap (the limit + 1 KiB), so actix refuses it before the gateway.
    oversized(20_000).await;
}

#[tokio::test]
async fn a_get_on_a_ussd_route_answers_405() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let client = reqwest::Client::new();
    for path in ["/ussd/africastalking", "/ussd/africastalking/events", "/ussd/beem", "/ussd/hubtel"] {
        let response = client.get(format!("{}{path}?sessionId=S&text=", app.base)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 405, "GET {path}");
        assert_eq!(response.text().await.unwrap(), "", "GET {path}: empty body");
    }
}

#[tokio::test]
async fn a_path_token_hides_the_bare_route_and_serves_the_token_route() {
    let app = TestApp::spawn_on_redis(|s| {
        for dialect in ["beem", "africastalking"] {
            s.ussd.dialects.get_mut(dialect).unwrap().path_token = Some(TOKEN.into());
        }
    })
    .await;
    let bare = Phone::unseen(&app, Via::Beem, &Via::Beem.msisdn(810));
    let initiate = bare.beem_json("initiate", 0, "");
    assert_eq!(bare.post_raw("", JSON, initiate.clone()).await, (404, String::new()), "the bare route");
    let wrong = format!("/{}", TOKEN.replace('4', "5"));
    assert_eq!(bare.post_raw(&wrong, JSON, initiate).await, (404, String::new()), "a wrong token");

    let mut phone = Phone::unseen(&app, Via::Beem, &Via::Beem.msisdn(810)).with_token(TOKEN);
    phone.begin().await;
    assert!(phone.screen.text.starts_with("Welcome to Mkopo loans."), "{}", phone.screen.text);
    phone.walk(&["Read terms"]).await;
    assert!(phone.screen.text.starts_with("Loans go to your wallet."));

    // AT's notifications move under the token too: `/ussd/africastalking/{token}/events`.
    let at = Via::AfricasTalking;
    let mut bare = Phone::unseen(&app, at, &at.msisdn(811));
    assert_eq!(bare.notice("Success").await, (404, String::new()), "bare AT events");
    let mut phone = Phone::unseen(&app, at, &at.msisdn(811)).with_token(TOKEN);
    phone.begin().await;
    assert!(phone.screen.text.starts_with("Welcome to Mkopo loans."));
    assert_eq!(phone.notice("Success").await, (200, "OK".to_owned()), "AT events behind the token");

    // Hubtel has no token: a token segment there is no route either.
    let hubtel = Phone::unseen(&app, Via::Hubtel, &Via::Hubtel.msisdn(812));
    let body = hubtel.hubtel_json("Initiation", 1, "*713*20#");
    assert_eq!(hubtel.post_raw(&format!("/{TOKEN}"), JSON, body).await, (404, String::new()));
}

#[tokio::test]
async fn a_caller_outside_the_ip_allow_list_is_refused_with_403() {
    let app = TestApp::spawn_on_redis(|s| {
        s.ussd.dialects.get_mut("hubtel").unwrap().ip_allow = vec!["10.0.0.0/8".into()];
        s.ussd.dialects.get_mut("beem").unwrap().ip_allow = vec!["127.0.0.1/32".into()];
    })
    .await;
    let hubtel = Phone::unseen(&app, Via::Hubtel, &Via::Hubtel.msisdn(813));
    let body = hubtel.hubtel_json("Initiation", 1, "*713*20#");
    assert_eq!(hubtel.post_raw("", JSON, body.clone()).await, (403, String::new()), "from 127.0.0.1");
    // 127.0.0.1 is no trusted proxy, so its X-Forwarded-For is not believed.
    let spoofed = reqwest::Client::new()
        .post(format!("{}/ussd/hubtel", app.base))
        .header("content-type", JSON)
        .header("x-forwarded-for", "10.1.2.3")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status().as_u16(), 403, "a forwarded-for header from an untrusted peer");

    let phone = Phone::dial(&app, Via::Beem, &Via::Beem.msisdn(814)).await;
    assert!(phone.screen.text.starts_with("Welcome to Mkopo loans."), "an allowed caller is served");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_caller_is_judged_and_the_old_key_still_works() {
    for (name, server, ussd) in [("server.trusted_proxies", true, false), ("ussd.trusted_proxies", false, true)] {
        let app = TestApp::spawn_on_redis(|s| {
            s.ussd.dialects.get_mut("hubtel").unwrap().ip_allow = vec!["10.0.0.0/8".into()];
            let proxies = vec!["127.0.0.1".to_owned()];
            if server {
                s.server.trusted_proxies = proxies.clone();
            }
            if ussd {
                s.ussd.trusted_proxies = proxies;
            }
        })
        .await;
        let hubtel = Phone::unseen(&app, Via::Hubtel, &Via::Hubtel.msisdn(815));
        let post = |forwarded: &'static str| {
            reqwest::Client::new()
                .post(format!("{}/ussd/hubtel", app.base))
                .header("content-type", JSON)
                .header("x-forwarded-for", forwarded)
                .body(hubtel.hubtel_json("Initiation", 1, "*713*20#"))
                .send()
        };
        assert_eq!(post("10.1.2.3").await.unwrap().status().as_u16(), 200, "{name}: an allowed forwarded caller");
        assert_eq!(post("10.1.2.3, 203.0.113.9").await.unwrap().status().as_u16(), 403, "{name}: right-most hop");
        app.stop().await;
    }
}
