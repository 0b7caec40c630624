use std::net::IpAddr;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;

use super::*;
use crate::domain::netguard::TrustedProxies;

const TOKEN: &str = "q7Vx2LmN9pR4sT6uW8yZa1Bc3De5Fg0H";
const PROXY: &str = "10.0.0.7";

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn strings(entries: &[&str]) -> Vec<String> {
    entries.iter().map(|e| e.to_string()).collect()
}

fn none() -> TrustedProxies {
    TrustedProxies::default()
}

fn with_token() -> Guard {
    Guard::new(&AccessSettings { path_token: Some(TOKEN.into()), ..AccessSettings::default() }, &none()).unwrap()
}

fn allowing(ranges: &[&str]) -> Guard {
    let settings = AccessSettings { ip_allow: strings(ranges), ..AccessSettings::default() };
    Guard::new(&settings, &TrustedProxies::parse("t", &strings(&["10.0.0.0/24", "fd00::/8"])).unwrap()).unwrap()
}

fn with_basic_auth() -> Guard {
    let basic_auth = BasicAuthSettings { username: "beem".into(), password: "s3cr3t-pass".into() };
    Guard::new(&AccessSettings { basic_auth: Some(basic_auth), ..AccessSettings::default() }, &none()).unwrap()
}

fn from(peer: &str) -> GuardInput<'static> {
    GuardInput { peer: Some(ip(peer)), ..GuardInput::default() }
}

fn forwarded<'a>(peer: &str, xff: &'a str) -> GuardInput<'a> {
    GuardInput { peer: Some(ip(peer)), forwarded_for: Some(xff), ..GuardInput::default() }
}

fn authorised(header: &str) -> GuardInput<'_> {
    GuardInput { authorization: Some(header), ..GuardInput::default() }
}

fn basic(user_pass: &str) -> String {
    format!("Basic {}", STANDARD.encode(user_pass))
}

fn problems(settings: &AccessSettings) -> String {
    Guard::new(settings, &none()).unwrap_err().to_string()
}

#[test]
fn the_right_token_passes() {
    let guard = with_token();
    assert!(guard.requires_token());
    assert_eq!(guard.check(&GuardInput { path_token: Some(TOKEN), ..GuardInput::default() }), Ok(()));
}

#[test]
fn a_wrong_or_missing_token_is_not_found() {
    let guard = with_token();
    let mut last_changed = TOKEN.to_owned();
    last_changed.replace_range(31.., "I");
    let wrong = [&last_changed[..], &TOKEN[..31], &format!("{TOKEN}x"), &TOKEN.to_ascii_uppercase(), "", " "];
    for given in wrong {
        let req = GuardInput { path_token: Some(given), ..GuardInput::default() };
        assert_eq!(guard.check(&req), Err(Refusal::NotFound), "{given}");
    }
    assert_eq!(guard.check(&GuardInput::default()), Err(Refusal::NotFound), "the bare route");
}

#[test]
fn a_token_given_when_none_is_configured_is_not_found() {
    let guard = Guard::new(&AccessSettings::default(), &none()).unwrap();
    assert!(!guard.requires_token());
    assert_eq!(guard.check(&GuardInput::default()), Ok(()));
    assert_eq!(guard.check(&GuardInput { path_token: Some(TOKEN), ..GuardInput::default() }), Err(Refusal::NotFound));
}

#[test]
fn an_empty_token_setting_counts_as_unset() {
    let guard =
        Guard::new(&AccessSettings { path_token: Some("".into()), ..AccessSettings::default() }, &none()).unwrap();
    assert!(!guard.requires_token());
    assert_eq!(guard.check(&GuardInput::default()), Ok(()));
}

#[test]
fn a_short_or_non_url_safe_token_is_refused_at_config_time_without_echoing_it() {
    let short = "sh0rtButSecretTokenValue";
    let err = problems(&AccessSettings { path_token: Some(short.into()), ..AccessSettings::default() });
    assert!(err.contains("at least 32 characters") && !err.contains(short), "{err}");

    let spaced = format!("{} {}", &TOKEN[..16], &TOKEN[16..]);
    let err = problems(&AccessSettings { path_token: Some(spaced.as_str().into()), ..AccessSettings::default() });
    assert!(err.contains("URL-safe") && !err.contains(&TOKEN[..16]), "{err}");
}

#[test]
fn every_config_problem_is_listed_and_no_secret_is_quoted() {
    let settings = AccessSettings {
        path_token: Some("tiny!".into()),
        ip_allow: strings(&["10.0.0.0/8", "10.0.0.0/33", "oops"]),
        basic_auth: Some(BasicAuthSettings { username: "a:b".into(), password: "".into() }),
    };
    let err = Guard::new(&settings, &none()).unwrap_err();
    assert_eq!(err.problems.len(), 6, "{err}");
    let text = err.to_string();
    for expected in [
        "path_token must be at least",
        "path_token may hold only",
        "ip_allow: \"10.0.0.0/33\"",
        "ip_allow: \"oops\"",
        "basic_auth.username must not contain a colon",
        "basic_auth.password must be set",
    ] {
        assert!(text.contains(expected), "{expected} missing from {text}");
    }
    assert!(!text.contains("tiny!") && !text.contains("a:b"), "{text}");

    let no_user = AccessSettings {
        basic_auth: Some(BasicAuthSettings { username: "".into(), password: "pw".into() }),
        ..AccessSettings::default()
    };
    assert!(problems(&no_user).contains("basic_auth.username must be set"));
}

#[test]
fn ipv4_ranges_and_single_addresses_allow_and_deny() {
    let guard = allowing(&["196.201.214.200", "196.201.212.0/24", "41.0.0.9/8"]);
    for allowed in ["196.201.214.200", "196.201.212.1", "196.201.212.255", "41.200.1.1"] {
        assert_eq!(guard.check(&from(allowed)), Ok(()), "{allowed}");
    }
    for denied in ["196.201.214.201", "196.201.213.0", "42.0.0.1", "2001:db8::1"] {
        assert_eq!(guard.check(&from(denied)), Err(Refusal::Forbidden), "{denied}");
    }
}

#[test]
fn ipv6_ranges_and_single_addresses_allow_and_deny() {
    let guard = allowing(&["2001:db8:1::/48", "2001:db8:ff::5"]);
    for allowed in ["2001:db8:1::1", "2001:db8:1:ffff::9", "2001:db8:ff::5"] {
        assert_eq!(guard.check(&from(allowed)), Ok(()), "{allowed}");
    }
    for denied in ["2001:db8:2::1", "2001:db8:ff::6", "196.201.214.200"] {
        assert_eq!(guard.check(&from(denied)), Err(Refusal::Forbidden), "{denied}");
    }
}

#[test]
fn ipv4_mapped_ipv6_peers_match_ipv4_ranges() {
    let guard = allowing(&["196.201.212.0/24"]);
    assert_eq!(guard.check(&from("::ffff:196.201.212.138")), Ok(()));
    assert_eq!(guard.check(&from("::ffff:196.201.213.138")), Err(Refusal::Forbidden));
    assert_eq!(guard.client_ip(&from("::ffff:196.201.212.138")), Some(ip("196.201.212.138")));
    // A mapped trusted proxy is recognised as well, so its header is believed.
    assert_eq!(guard.check(&forwarded("::ffff:10.0.0.7", "196.201.212.9")), Ok(()));
}

#[test]
fn an_empty_allow_list_admits_any_address_even_an_unknown_one() {
    let guard = allowing(&[]);
    assert!(!guard.restricts_callers());
    assert_eq!(guard.check(&from("203.0.113.9")), Ok(()));
    assert_eq!(guard.check(&GuardInput::default()), Ok(()));
}

#[test]
fn an_unknown_peer_is_forbidden_when_an_allow_list_is_set() {
    let guard = allowing(&["0.0.0.0/0", "::/0"]);
    assert!(guard.restricts_callers());
    assert_eq!(guard.check(&GuardInput::default()), Err(Refusal::Forbidden));
    let no_peer = GuardInput { forwarded_for: Some("196.201.212.9"), ..GuardInput::default() };
    assert_eq!(guard.check(&no_peer), Err(Refusal::Forbidden), "a header without a peer proves nothing");
}

#[test]
fn forwarded_for_is_honoured_from_a_trusted_proxy() {
    let guard = allowing(&["196.201.212.0/24"]);
    assert_eq!(guard.check(&forwarded(PROXY, "196.201.212.9")), Ok(()));
    assert_eq!(guard.check(&forwarded(PROXY, "203.0.113.9")), Err(Refusal::Forbidden));
    assert_eq!(guard.check(&forwarded("fd00::1", "196.201.212.9")), Ok(()));
    // The proxy's own address is not the caller: without the header it is judged like anyone else.
    assert_eq!(guard.check(&from(PROXY)), Err(Refusal::Forbidden));
}

#[test]
fn a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let guard = allowing(&["196.201.212.0/24"]);
    assert_eq!(guard.check(&forwarded("203.0.113.9", "196.201.212.9")), Err(Refusal::Forbidden));
    assert_eq!(guard.client_ip(&forwarded("203.0.113.9", "196.201.212.9")), Some(ip("203.0.113.9")));
    // An allowed peer stays allowed whatever the header claims.
    assert_eq!(guard.check(&forwarded("196.201.212.9", "203.0.113.9")), Ok(()));
}

#[test]
fn the_walk_takes_the_right_most_entry_that_is_not_a_trusted_proxy() {
    let guard = allowing(&["196.201.212.0/24"]);
    // The client prepended an allowed address; our proxies appended the real one on the right.
    let chain = "196.201.212.9, 203.0.113.9, 10.0.0.3";
    assert_eq!(guard.client_ip(&forwarded(PROXY, chain)), Some(ip("203.0.113.9")));
    assert_eq!(guard.check(&forwarded(PROXY, chain)), Err(Refusal::Forbidden));
    assert_eq!(guard.client_ip(&forwarded(PROXY, "203.0.113.9,196.201.212.9,10.0.0.3")), Some(ip("196.201.212.9")));
    assert_eq!(guard.client_ip(&forwarded(PROXY, "196.201.212.9:4711, [fd00::2]:443")), Some(ip("196.201.212.9")));
    assert_eq!(guard.client_ip(&forwarded(PROXY, "::ffff:196.201.212.9")), Some(ip("196.201.212.9")));
    // Only our proxies in the chain: the left-most one is the nearest we know.
    assert_eq!(guard.client_ip(&forwarded(PROXY, "10.0.0.1, 10.0.0.2")), Some(ip("10.0.0.1")));
}

#[test]
fn an_unparseable_forwarded_for_falls_back_to_the_peer() {
    let guard = allowing(&["196.201.212.0/24"]);
    for xff in ["", "unknown", "196.201.212.9, garbage", "196.201.212.9,", "196.201.212.300"] {
        assert_eq!(guard.client_ip(&forwarded(PROXY, xff)), Some(ip(PROXY)), "{xff}");
        assert_eq!(guard.check(&forwarded(PROXY, xff)), Err(Refusal::Forbidden), "{xff}");
    }
}

#[test]
fn basic_auth_with_the_right_credentials_passes_whatever_the_scheme_case() {
    let guard = with_basic_auth();
    let encoded = STANDARD.encode("beem:s3cr3t-pass");
    for header in [format!("Basic {encoded}"), format!("basic {encoded}"), format!("BASIC  {encoded} ")] {
        assert_eq!(guard.check(&authorised(&header)), Ok(()), "{header}");
    }
    let unpadded = format!("Basic {}", STANDARD_NO_PAD.encode("beem:s3cr3t-pass"));
    assert_eq!(guard.check(&authorised(&unpadded)), Ok(()));
}

#[test]
fn basic_auth_with_wrong_or_missing_credentials_is_unauthorized() {
    let guard = with_basic_auth();
    for wrong in ["beem:s3cr3t-pas", "beem:s3cr3t-pass ", "Beem:s3cr3t-pass", "s3cr3t-pass:beem", "beem:", ":"] {
        assert_eq!(guard.check(&authorised(&basic(wrong))), Err(Refusal::Unauthorized), "{wrong}");
    }
    assert_eq!(guard.check(&GuardInput::default()), Err(Refusal::Unauthorized));
}

#[test]
fn malformed_basic_auth_is_unauthorized() {
    let guard = with_basic_auth();
    let no_colon = basic("beems3cr3t-pass");
    for header in ["Basic", "Basic ", "Basic !!not-base64!!", no_colon.as_str(), "", "YmVlbTpzM2NyM3QtcGFzcw=="] {
        assert_eq!(guard.check(&authorised(header)), Err(Refusal::Unauthorized), "{header}");
    }
}

#[test]
fn basic_auth_under_another_scheme_is_unauthorized() {
    let guard = with_basic_auth();
    let encoded = STANDARD.encode("beem:s3cr3t-pass");
    for scheme in ["Bearer", "Digest", "Basicx"] {
        let header = format!("{scheme} {encoded}");
        assert_eq!(guard.check(&authorised(&header)), Err(Refusal::Unauthorized), "{header}");
    }
}

#[test]
fn an_authorization_header_is_ignored_when_basic_auth_is_not_configured() {
    let guard = Guard::new(&AccessSettings::default(), &none()).unwrap();
    assert_eq!(guard.check(&authorised("Bearer whatever")), Ok(()));
}

#[test]
fn checks_run_in_order_token_then_address_then_basic_auth() {
    let settings = AccessSettings {
        path_token: Some(TOKEN.into()),
        ip_allow: strings(&["196.201.212.0/24"]),
        basic_auth: Some(BasicAuthSettings { username: "beem".into(), password: "s3cr3t-pass".into() }),
    };
    let guard = Guard::new(&settings, &none()).unwrap();
    let good_auth = basic("beem:s3cr3t-pass");
    let req = |token, peer: &str, auth| GuardInput {
        path_token: token,
        peer: Some(ip(peer)),
        forwarded_for: None,
        authorization: auth,
    };
    let outcome = |r: GuardInput<'_>| guard.check(&r).map_err(Refusal::status);
    assert_eq!(outcome(req(Some("wrong"), "203.0.113.9", None)), Err(404), "wrong token from a forbidden IP");
    assert_eq!(outcome(req(None, "203.0.113.9", None)), Err(404));
    assert_eq!(outcome(req(Some(TOKEN), "203.0.113.9", None)), Err(403), "forbidden IP without credentials");
    assert_eq!(outcome(req(Some(TOKEN), "196.201.212.9", Some("Basic Zm9vOmJhcg=="))), Err(401));
    assert_eq!(outcome(req(Some(TOKEN), "196.201.212.9", Some(&good_auth))), Ok(()));
    assert!(guard.restricts_callers());
}

#[test]
fn refusals_map_to_the_r4_statuses_and_only_401_carries_a_challenge() {
    assert_eq!([Refusal::NotFound, Refusal::Forbidden, Refusal::Unauthorized].map(Refusal::status), [404, 403, 401]);
    assert_eq!(Refusal::NotFound.challenge(), None);
    assert_eq!(Refusal::Forbidden.challenge(), None);
    assert!(Refusal::Unauthorized.challenge().is_some_and(|c| c.starts_with("Basic ")));
}

#[test]
fn settings_deserialise_with_every_key_optional() {
    let empty: AccessSettings = toml::from_str("").unwrap();
    assert!(empty.path_token.is_none() && empty.ip_allow.is_empty() && empty.basic_auth.is_none());

    let full: AccessSettings = toml::from_str(&format!(
        "path_token = \"{TOKEN}\"\nip_allow = [\"196.201.212.0/24\", \"2001:db8::1\"]\n\
         [basic_auth]\nusername = \"beem\"\npassword = \"s3cr3t-pass\""
    ))
    .unwrap();
    let guard = Guard::new(&full, &none()).unwrap();
    let req = GuardInput { path_token: Some(TOKEN), peer: Some(ip("2001:db8::1")), ..GuardInput::default() };
    assert_eq!(guard.check(&req), Err(Refusal::Unauthorized));

    let half: AccessSettings = toml::from_str("[basic_auth]\nusername = \"beem\"").unwrap();
    assert!(problems(&half).contains("basic_auth.password must be set"));
}

#[test]
fn debug_output_never_shows_secrets_or_the_authorization_header() {
    let settings = AccessSettings {
        path_token: Some(TOKEN.into()),
        ip_allow: strings(&["196.201.212.0/24"]),
        basic_auth: Some(BasicAuthSettings { username: "beem".into(), password: "s3cr3t-pass".into() }),
    };
    let guard = Guard::new(&settings, &TrustedProxies::parse("t", &strings(&[PROXY])).unwrap()).unwrap();
    let header = basic("beem:s3cr3t-pass");
    let input = GuardInput {
        path_token: Some(TOKEN),
        peer: Some(ip(PROXY)),
        forwarded_for: Some("196.201.212.9"),
        authorization: Some(&header),
    };
    let text = format!("{settings:?}\n{guard:?}\n{input:?}\n{:?}", Refusal::Unauthorized);
    for secret in [TOKEN, "s3cr3t-pass", "beem", &header[6..]] {
        assert!(!text.contains(secret), "{secret} leaked in {text}");
    }
    assert!(text.contains("196.201.212.0/24") && text.contains("requires_token: true"), "{text}");
}
