//! The README stays true: its configuration table in step with `config/base.toml`, its quickstart
//! runnable again and again.

fn leaf_keys(prefix: &str, table: &toml::Table, out: &mut Vec<String>) {
    for (key, value) in table {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            // Per-number scorecards are examples of one documented map, not keys of their own.
            toml::Value::Table(_) if path == "sandbox.lms.scorecards" => out.push(path),
            toml::Value::Table(inner) => leaf_keys(&path, inner, out),
            _ => out.push(path),
        }
    }
}

#[test]
fn every_key_of_base_toml_is_in_the_readme_table() {
    let root = env!("CARGO_MANIFEST_DIR");
    let base: toml::Table = std::fs::read_to_string(format!("{root}/config/base.toml")).unwrap().parse().unwrap();
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let rows: Vec<&str> = readme.lines().filter(|l| l.starts_with("| `")).collect();
    let mut keys = Vec::new();
    leaf_keys("", &base, &mut keys);
    assert!(keys.len() > 20, "found only {keys:?}");
    let missing: Vec<&String> = keys
        .iter()
        .filter(|key| {
            let (section, leaf) = key.rsplit_once('.').unwrap();
            !rows.iter().any(|row| {
                let words: Vec<&str> = row.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
                row.contains(key.as_str()) || (row.contains(&format!("`{section}.")) && words.contains(&leaf))
            })
        })
        .collect();
    assert!(missing.is_empty(), "README.md's configuration table lacks {missing:?}");
}

/// The README's quickstart: the `at` steps, the subscriber number `N` and the reset command.
struct Quickstart {
    number: String,
    steps: Vec<(String, String)>,
    reset: String,
    dial_numbers: Vec<String>,
}

fn quickstart() -> Quickstart {
    let readme = std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let start = readme.find("## Quickstart").expect("a quickstart");
    let end = readme.find("### Trying it in the browser").expect("the browser section after it");
    let (quick, terminal) =
        readme[start..end].split_at(readme[start..end].find("### Trying it with the terminal").unwrap());
    let number = regex::Regex::new(r"(?m)^N=(\d+)").unwrap().captures(quick).expect("N=<number>")[1].to_owned();
    let step = regex::Regex::new(r#"(?m)^at "([^"]*)"\s+# (.+)$"#).unwrap();
    let steps = step.captures_iter(quick).map(|c| (c[1].to_owned(), c[2].to_owned())).collect();
    let reset = regex::Regex::new(r"curl -X POST http://127\.0\.0\.1:8080(\S+reset)").unwrap();
    let reset = reset.captures(quick).expect("a reset command")[1].to_owned();
    let dial = regex::Regex::new(r"dial (\d{12})").unwrap();
    let dial_numbers = dial.captures_iter(terminal).map(|c| c[1].to_owned()).collect();
    Quickstart { number, steps, reset, dial_numbers }
}

/// Whether `reply` shows what the README's comment says: its parts between `...` in order, ` / ` and
/// line breaks read as spaces.
fn shows(reply: &str, comment: &str) -> bool {
    let reply = reply.replace('\n', " ");
    let mut rest = reply.as_str();
    for part in comment.split("...").map(|p| p.replace(" / ", " ")).map(|p| p.trim().to_owned()) {
        match rest.find(part.as_str()) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[tokio::test]
async fn the_quickstart_runs_twice_with_the_reset_between_and_uses_its_own_number() {
    let q = quickstart();
    assert!(q.steps.len() >= 6, "the quickstart's steps: {:?}", q.steps);
    assert!(!q.dial_numbers.is_empty() && !q.dial_numbers.contains(&q.number), "N differs from the dial section's");
    let app = crate::helpers::TestApp::spawn().await;
    let http = reqwest::Client::new();
    for run in 0..2 {
        if run > 0 {
            let reset = http.post(format!("{}{}", app.base, q.reset)).send().await.unwrap();
            assert!(reset.status().is_success(), "the reset command: {}", reset.status());
        }
        for (text, comment) in &q.steps {
            let body = form_urlencoded::Serializer::new(String::new())
                .append_pair("sessionId", &format!("readme-{run}"))
                .append_pair("serviceCode", "*150*88#")
                .append_pair("phoneNumber", &format!("+{}", q.number))
                .append_pair("networkCode", "64009")
                .append_pair("text", text)
                .finish();
            let reply = http
                .post(format!("{}/ussd/africastalking", app.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(shows(&reply, comment), "run {}, step {text:?}: expected {comment:?}, got {reply:?}", run + 1);
        }
    }
}
