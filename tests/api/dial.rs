//! `mkopo dial`, the terminal phone, as a developer runs it: the real binary replays every shipped
//! journey script against a live gateway in every dialect, fails loudly on a wrong expectation, and
//! plays a session from stdin.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use tokio::io::AsyncWriteExt;

use crate::helpers::TestApp;

const DIALECTS: [&str; 3] = ["africastalking", "beem", "hubtel"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn mkopo() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_mkopo"));
    command.current_dir(root()).env_remove("RUST_LOG").kill_on_drop(true);
    command
}

/// `mkopo dial <args>`, stdin closed, its output.
async fn dial(args: &[&str]) -> Output {
    mkopo().arg("dial").args(args).stdin(Stdio::null()).output().await.expect("mkopo runs")
}

/// `mkopo dial <args>` with `typed` on stdin (then closed), its output.
async fn dial_typing(args: &[&str], typed: &[u8]) -> Output {
    let mut child = mkopo()
        .arg("dial")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mkopo starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(typed).await.unwrap();
    drop(stdin);
    child.wait_with_output().await.unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn shipped_scripts() -> Vec<PathBuf> {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(root().join("scripts/journeys"))
        .expect("scripts/journeys exists")
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    scripts.sort();
    scripts
}

fn temp_script(name: &str, yaml: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("mkopo-{name}-{}.yml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, yaml).unwrap();
    path
}

#[tokio::test]
async fn every_shipped_journey_script_passes_against_a_live_gateway_in_every_dialect() {
    let scripts = shipped_scripts();
    let names: Vec<String> = scripts.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for journey in ["register-and-borrow", "balance", "repay", "my-payments", "language"] {
        assert!(names.contains(&format!("{journey}.yml")), "{journey}.yml is shipped: {names:?}");
    }
    assert!(names.iter().any(|n| n.contains("dialoguss")), "a dialoguss script is shipped: {names:?}");

    let runs = DIALECTS.map(|dialect| {
        let scripts = scripts.clone();
        async move {
            // One gateway per dialect: the scripts register their own numbers, so each needs a fresh LMS.
            let app = TestApp::spawn_on_redis(|_| {}).await;
            let mut failures = Vec::new();
            for script in &scripts {
                let path = script.to_string_lossy();
                let out = dial(&["--script", &path, "--url", &app.base, "--dialect", dialect]).await;
                let said = text(&out);
                if !out.status.success() || !said.contains("passed") {
                    failures.push(format!("{path} via {dialect}:\n{said}"));
                }
            }
            failures
        }
    });
    let failures: Vec<String> = futures::future::join_all(runs).await.into_iter().flatten().collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test]
async fn a_wrong_expectation_exits_non_zero_naming_the_step_the_expectation_and_the_screen() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let mkopo_script = temp_script(
        "wrong",
        "msisdn: \"255713000701\"\nsteps:\n  - expect: Welcome to Mkopo loans.\n  - send: \"1\"\n    expect: You are registered.\n  - send: \"1\"\n    expect: Karibu\n",
    );
    let dialoguss_script = temp_script(
        "wrong-dialoguss",
        "url: http://127.0.0.1:9/ussd/africastalking\nsessions:\n  - id: wrong\n    phoneNumber: 255713000702\n    steps:\n      - expect: Welcome\n",
    );
    for (i, dialect) in DIALECTS.into_iter().enumerate() {
        // A number of its own per dialect (the positional number overrides the script's): one app.
        let msisdn = format!("25571300071{i}");
        let script = mkopo_script.to_string_lossy();
        let out = dial(&[&msisdn, "--script", &script, "--url", &app.base, "--dialect", dialect]).await;
        let said = text(&out);
        assert!(!out.status.success(), "{dialect}: {said}");
        assert!(said.contains("step 3 (send \"1\")"), "{dialect}: names the step: {said}");
        assert!(said.contains("\"Karibu\""), "{dialect}: names the expectation: {said}");
        assert!(
            said.contains("but the screen (CON) was:\n    Mkopo\n    1. Borrow"),
            "{dialect}: shows the screen: {said}"
        );

        // dialoguss compares whole screens: the first screen is more than "Welcome".
        let out =
            dial(&["--script", &dialoguss_script.to_string_lossy(), "--url", &app.base, "--dialect", dialect]).await;
        let said = text(&out);
        assert!(!out.status.success(), "{dialect}: {said}");
        assert!(said.contains("session wrong, step 1 (dial): expected the screen to read:\n    Welcome\n"), "{said}");
    }
    let broken = temp_script("broken", "steps:\n  - sned: \"1\"\n");
    let out = dial(&["--script", &broken.to_string_lossy(), "--url", &app.base]).await;
    assert!(!out.status.success() && text(&out).contains("unknown field `sned`"), "{}", text(&out));
    for path in [mkopo_script, dialoguss_script, broken] {
        std::fs::remove_file(path).unwrap();
    }
}

#[tokio::test]
async fn a_dialoguss_expectation_is_the_exact_screen_so_a_block_newline_or_a_kept_prefix_fails_and_says_why() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    let welcome = "Welcome to Mkopo loans. Accept the terms to register.\n          1. Accept\n          2. Read terms\n          3. Decline";
    let script = |name: &str, expect: &str| {
        temp_script(
            name,
            &format!(
                "sessions:\n  - id: {name}\n    phoneNumber: \"255713000720\"\n    steps:\n      - expect: {expect}\n"
            ),
        )
    };
    let block = script("block", &format!("|\n          {welcome}"));
    let prefixed = script(
        "prefixed",
        "\"CON Welcome to Mkopo loans. Accept the terms to register.\\n1. Accept\\n2. Read terms\\n3. Decline\"",
    );
    let exact = script("exact", &format!("|-\n          {welcome}"));
    for (path, hint) in [(&block, "use `|-`"), (&prefixed, "leave it out of the expectation")] {
        let out = dial(&["--script", &path.to_string_lossy(), "--url", &app.base]).await;
        let said = text(&out);
        assert!(!out.status.success() && said.contains(hint), "{said}");
    }
    let out = dial(&["--script", &exact.to_string_lossy(), "--url", &app.base]).await;
    assert!(out.status.success() && text(&out).contains("passed"), "{}", text(&out));
    for path in [block, prefixed, exact] {
        std::fs::remove_file(path).unwrap();
    }
}

#[tokio::test]
async fn the_interactive_phone_shows_each_screen_and_sends_each_line_of_stdin() {
    let app = TestApp::spawn_on_redis(|_| {}).await;
    for (i, dialect) in DIALECTS.into_iter().enumerate() {
        let msisdn = format!("25571300080{i}");
        let out = dial_typing(&[&msisdn, "--url", &app.base, "--dialect", dialect], b"1\n1\n2\n").await;
        let said = text(&out);
        assert!(out.status.success(), "{dialect}: {said}");
        let screens = [
            "│ Welcome to Mkopo loans. Accept │",
            "│ 1. Accept",
            "│ You are registered. Welcome!",
            "│ 1. Borrow",
            "│ You have no active loan.",
        ];
        let mut rest = said.as_str();
        for screen in screens {
            let at = rest.find(screen).unwrap_or_else(|| panic!("{dialect}: {screen:?} in order in:\n{said}"));
            rest = &rest[at..];
        }
        assert!(said.contains("[CON]") && rest.contains("[END]") && rest.contains("Session ended."), "{said}");
    }

    // Stdin closing mid-session hangs up; the last screen was shown.
    let out = mkopo().args(["dial", "255713000810", "--url", &app.base]).stdin(Stdio::null()).output().await.unwrap();
    let said = text(&out);
    assert!(out.status.success() && said.contains("Welcome to Mkopo loans.") && said.contains("Hung up."), "{said}");
}

#[tokio::test]
async fn bad_input_is_a_clear_error_and_never_a_panic() {
    for (args, says) in [
        (vec!["12ab", "--url", "http://127.0.0.1:9"], "must be digits"),
        (vec!["--url", "http://127.0.0.1:9"], "give the subscriber's number"),
        (vec!["255713000901", "--url", "127.0.0.1:9"], "is not a URL"),
        (vec!["255713000901", "--url", "http://127.0.0.1:9"], "cannot reach the gateway"),
        (vec!["255713000901", "--url", "http://h/ussd/beem", "--dialect", "hubtel"], "the URL is the beem route"),
        (vec!["--script", "/nonexistent/journey.yml", "--url", "http://127.0.0.1:9"], "cannot read"),
    ] {
        let out = dial(&args).await;
        let said = text(&out);
        assert!(!out.status.success(), "{args:?}: {said}");
        assert!(said.contains(says) && !said.contains("panicked"), "{args:?}: {said}");
    }
}

#[tokio::test]
async fn a_basic_auth_route_is_dialled_with_credentials_in_the_url_and_the_password_never_printed() {
    let app = TestApp::spawn_on_redis(|s| {
        s.ussd.dialects.get_mut("beem").unwrap().basic_auth = Some(mkopo::ussd::guard::BasicAuthSettings {
            username: "beem-ops".into(),
            password: "pa55-w0rd-9".to_owned().into(),
        })
    })
    .await;
    let authority = app.base.trim_start_matches("http://");
    let url = format!("http://beem-ops:pa55-w0rd-9@{authority}/ussd/beem");
    let out = dial_typing(&["255713000820", "--url", &url], b"1\n").await;
    let said = text(&out);
    assert!(out.status.success() && said.contains("You are registered."), "{said}");
    assert!(said.contains("beem-ops:****@") && !said.contains("pa55-w0rd-9"), "{said}");

    // The same route without the credentials is refused, so the URL's were what got through.
    let bare = format!("{}/ussd/beem", app.base);
    let out = mkopo().args(["dial", "255713000821", "--url", &bare]).stdin(Stdio::null()).output().await.unwrap();
    assert!(!out.status.success() && text(&out).contains("401"), "{}", text(&out));
}
