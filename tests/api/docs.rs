//! The documentation stays true to the repository: no tracked file points at documents outside it, and
//! every curl example of `README.md` and `docs/**/*.md` runs against a live gateway.
//!
//! # How the curl examples are found and run (the convention `docs/README.md` states for writers)
//!
//! - An example is a fenced ```` ```sh ```` / ```` ```bash ```` block with a `curl` command in it (a
//!   shell function that calls curl counts). Blocks without one (`cargo`, `kubectl`, ...) are prose.
//! - Each block runs as one `bash` script, in document order; all blocks of one file share one gateway,
//!   so an example may rely on what an earlier one in the same file did, starting from a fresh gateway
//!   on the embedded local defaults (what `cargo run` serves, in memory).
//! - `http://127.0.0.1:8080` and `localhost:8080` become the test gateway's address.
//! - A line `[NAME=value ...] cargo run` (nothing after `run`) in an example block is where the reader
//!   (re)starts the gateway: it is not run; that block and the file's later examples run against a fresh
//!   gateway started with those variables on top of the local defaults.
//! - `cargo run -- <command>` runs the built binary with `<command>` (with `MKOPO_SERVER__PORT` set, so
//!   the admin commands find the test gateway as they find `cargo run`'s).
//! - Every HTTP answer must be 2xx, unless the curl command's own line ends in a comment `# HTTP nnn`:
//!   then exactly that status.
//! - A block whose first line is `# not run: <reason>` is skipped; the reason is required, and such
//!   blocks are kept few.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mkopo::config::{load_from, ConfigSource, Environment};

use crate::helpers::TestApp;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The outside paths no tracked file may name, assembled so that this file does not name them itself.
fn outside_paths() -> [String; 2] {
    [["..", "/shared"].concat(), ["/work", "/shared"].concat()]
}

/// Tracked files, or every file but `target/` and dot-directories outside a git checkout.
fn repository_files() -> Vec<PathBuf> {
    let listed = Command::new("git").args(["ls-files", "-z"]).current_dir(ROOT).output();
    if let Some(output) = listed.ok().filter(|o| o.status.success()) {
        return output
            .stdout
            .split(|&b| b == 0)
            .filter(|name| !name.is_empty())
            .map(|name| Path::new(ROOT).join(String::from_utf8_lossy(name).as_ref()))
            .collect();
    }
    let mut files = Vec::new();
    let mut dirs = vec![PathBuf::from(ROOT)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    dirs.push(path);
                }
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn no_tracked_file_points_outside_the_repository() {
    let files = repository_files();
    assert!(files.len() > 50, "found only {} files", files.len());
    let needles = outside_paths();
    let mut offenders = Vec::new();
    for path in files {
        let Ok(bytes) = std::fs::read(&path) else { continue }; // deleted in the worktree, not yet committed
        if bytes.contains(&0) {
            continue; // binary
        }
        let text = String::from_utf8_lossy(&bytes);
        for (n, line) in text.lines().enumerate() {
            if needles.iter().any(|needle| line.contains(needle.as_str())) {
                let shown = path.strip_prefix(ROOT).unwrap_or(&path).display().to_string();
                offenders.push(format!("{shown}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "these lines point outside the repository:\n{}", offenders.join("\n"));
}

/// One fenced shell block of a Markdown file.
#[derive(Debug)]
struct Block {
    file: String,
    /// 1-based line of the opening fence.
    line: usize,
    text: String,
}

/// The ```sh / ```bash blocks of `markdown`, their content unindented by the fence's own indentation.
fn shell_blocks(file: &str, markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, usize, bool, Vec<String>)> = None;
    for (n, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match open.as_mut() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let language = info.split_whitespace().next().unwrap_or("");
                    let shell = matches!(language, "sh" | "bash" | "shell");
                    open = Some((n + 1, indent, shell, Vec::new()));
                }
            }
            Some((start, fence_indent, shell, lines)) => {
                if trimmed.starts_with("```") {
                    if *shell {
                        blocks.push(Block { file: file.to_owned(), line: *start, text: lines.join("\n") });
                    }
                    open = None;
                } else {
                    let cut = line.len().min(*fence_indent);
                    let cut = if line[..cut].trim().is_empty() { cut } else { 0 };
                    lines.push(line[cut..].to_owned());
                }
            }
        }
    }
    assert!(open.is_none(), "{file}: a code fence is never closed");
    blocks
}

/// Physical lines joined where one ends in a backslash.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        match line.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(line);
                lines.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// The command of a line without a trailing ` # comment` (good enough for the docs' own lines: a `#`
/// inside quotes is preceded by a quote or a letter, never by a space and followed by a space).
fn command_part(line: &str) -> &str {
    match line.find(" # ").or_else(|| line.trim_start().starts_with('#').then_some(0)) {
        Some(at) => &line[..at],
        None => line.strip_suffix(" #").unwrap_or(line),
    }
}

fn calls_curl(line: &str) -> bool {
    let command = command_part(line);
    let bytes = command.as_bytes();
    command.match_indices("curl ").any(|(at, _)| at == 0 || b" \t;{(|&".contains(&bytes[at - 1]))
}

/// `NAME=value` words in front of a bare `cargo run` (the reader starting the gateway), or `None`.
fn gateway_start(line: &str) -> Option<Vec<(String, String)>> {
    let words: Vec<&str> = command_part(line).split_whitespace().collect();
    let at = words.iter().position(|w| *w == "cargo")?;
    if words[at + 1..] != ["run"] && words[at + 1..] != ["run", "--release"] {
        return None;
    }
    let mut vars = Vec::new();
    for word in &words[..at] {
        let (name, value) = word.split_once('=')?;
        let value = value.trim_matches(|c| c == '\'' || c == '"');
        vars.push((name.to_owned(), value.to_owned()));
    }
    Some(vars)
}

/// The status a curl line asks for with a trailing `# HTTP nnn`.
fn expected_status(line: &str) -> Option<u16> {
    let comment = &line[line.find(" # ")? + 3..];
    let rest = comment.trim_start().strip_prefix("HTTP ")?;
    rest.get(..3)?.parse().ok()
}

/// What one block means for the test.
enum Plan {
    NotRun { reason: String },
    Prose,
    Run { restart: Option<Vec<(String, String)>>, script: String },
}

fn plan(block: &Block) -> Plan {
    if let Some(first) = block.text.lines().find(|l| !l.trim().is_empty()) {
        if let Some(reason) = first.trim().strip_prefix("# not run:") {
            return Plan::NotRun { reason: reason.trim().to_owned() };
        }
    }
    let lines = logical_lines(&block.text);
    if !lines.iter().any(|l| calls_curl(l)) {
        return Plan::Prose;
    }
    let mut restart = None;
    let mut script = Vec::new();
    for line in lines {
        let trimmed = line.trim_start();
        if let Some(vars) = gateway_start(trimmed) {
            restart = Some(vars);
            script.push(format!(": started by the test: {}", command_part(trimmed).trim()));
        } else if let Some(rest) = trimmed.strip_prefix("cargo run -- ") {
            script.push(format!("\"$DOC_MKOPO_BIN\" {rest}"));
        } else if trimmed.starts_with("curl ") {
            match expected_status(trimmed) {
                Some(status) => script.push(format!("DOC_EXPECT={status} {trimmed}")),
                None => script.push(trimmed.to_owned()),
            }
        } else {
            script.push(line);
        }
    }
    Plan::Run { restart, script: script.join("\n") }
}

/// Runs before every example: curl answers as usual and its status is checked.
const PRELUDE: &str = r#"set -eo pipefail
curl() {
  local out code want
  out=$(mktemp)
  if ! code=$(command curl -sS --max-time 20 -o "$out" -w '%{http_code}' "$@"); then
    cat "$out"; rm -f "$out"; echo "curl could not complete: curl $*" >&2; return 1
  fi
  cat "$out"; rm -f "$out"
  echo "$code" >> "$DOC_STATUSES"
  want="${DOC_EXPECT:-2xx}"
  if [[ $want == 2xx && $code == 2?? ]] || [[ $code == "$want" ]]; then return 0; fi
  echo >&2; echo "HTTP $code where the docs expect $want: curl $*" >&2; return 1
}
"#;

/// Rewrites the documented address to the test gateway's.
fn aimed_at(script: &str, port: u16) -> String {
    let here = format!("127.0.0.1:{port}");
    script
        .replace("http://localhost:8080", &format!("http://{here}"))
        .replace("localhost:8080", &here)
        .replace("127.0.0.1:8080", &here)
}

/// Runs one block's script against the gateway on `port`; `Err` holds everything it printed.
async fn run_script(block: &Block, script: &str, port: u16) -> Result<usize, String> {
    let statuses = std::env::temp_dir().join(format!("mkopo-doc-{}", uuid::Uuid::new_v4()));
    let full = format!("{PRELUDE}\n{}\n", aimed_at(script, port));
    let (file, statuses_path) = (statuses.clone(), statuses.display().to_string());
    let output = tokio::task::spawn_blocking(move || {
        let mut command = Command::new("bash");
        command.arg("-c").arg(&full).current_dir(ROOT);
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("MKOPO_") || name == "RUST_LOG") {
            command.env_remove(name);
        }
        command
            .env("DOC_MKOPO_BIN", env!("CARGO_BIN_EXE_mkopo"))
            .env("MKOPO_SERVER__PORT", port.to_string())
            .env("DOC_STATUSES", &statuses_path)
            .output()
            .expect("bash runs")
    })
    .await
    .unwrap();
    let answers = std::fs::read_to_string(&file).unwrap_or_default().lines().count();
    let _ = std::fs::remove_file(&file);
    let printed = format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let at = format!("{}:{}", block.file, block.line);
    if !output.status.success() {
        return Err(format!("{at}: the example failed ({})\n--- script\n{script}\n{printed}", output.status));
    }
    if answers == 0 {
        return Err(format!("{at}: the example made no HTTP request\n--- script\n{script}\n{printed}"));
    }
    Ok(answers)
}

/// The settings `[vars] cargo run` starts the gateway with, on a free port.
fn started_with(vars: &[(String, String)]) -> mkopo::config::Settings {
    let mut source = ConfigSource::embedded(Environment::Local);
    for (name, value) in vars {
        source = source.with_env(name, value);
    }
    let env: HashMap<_, _> = vars.iter().cloned().collect();
    load_from(&source).unwrap_or_else(|e| panic!("the documented variables {env:?} do not load: {e}"))
}

async fn gateway(vars: &[(String, String)]) -> TestApp {
    let settings = started_with(vars);
    TestApp::spawn_with(move |s| {
        *s = settings;
        s.server.port = 0;
        s.server.workers = 2;
    })
    .await
}

fn port_of(app: &TestApp) -> u16 {
    app.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("the base URL ends in a port")
}

/// What the examples of one file did.
#[derive(Default)]
struct Tally {
    examples: usize,
    answers: usize,
    not_run: Vec<String>,
}

/// Runs every example of one Markdown file in order, against a fresh gateway.
async fn run_file(relative: &str) -> Tally {
    let markdown = std::fs::read_to_string(Path::new(ROOT).join(relative)).unwrap();
    let mut tally = Tally::default();
    let mut app: Option<TestApp> = None;
    let mut failures = Vec::new();
    for block in shell_blocks(relative, &markdown) {
        match plan(&block) {
            Plan::Prose => {}
            Plan::NotRun { reason } => {
                assert!(
                    reason.split_whitespace().count() >= 3,
                    "{relative}:{}: `# not run:` needs a reason a reader understands",
                    block.line
                );
                tally.not_run.push(format!("{relative}:{}: {reason}", block.line));
            }
            Plan::Run { restart, script } => {
                if let Some(vars) = restart {
                    if let Some(old) = app.take() {
                        old.stop().await;
                    }
                    app = Some(gateway(&vars).await);
                }
                if app.is_none() {
                    app = Some(gateway(&[]).await);
                }
                let port = port_of(app.as_ref().unwrap());
                tally.examples += 1;
                match run_script(&block, &script, port).await {
                    Ok(answers) => tally.answers += answers,
                    Err(failure) => failures.push(failure),
                }
            }
        }
    }
    if let Some(app) = app {
        app.stop().await;
    }
    assert!(failures.is_empty(), "{} example(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
    tally
}

/// The Markdown files under `docs/`, relative to the repository root, sorted.
fn doc_files() -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![Path::new(ROOT).join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path.strip_prefix(ROOT).unwrap().display().to_string());
            }
        }
    }
    files.sort();
    files
}

#[tokio::test]
async fn every_curl_example_of_the_readme_runs_against_a_live_gateway() {
    let tally = run_file("README.md").await;
    assert!(tally.examples >= 3 && tally.answers >= 10, "only {} examples, {} answers", tally.examples, tally.answers);
    assert!(tally.not_run.is_empty(), "the README's examples all run: {:?}", tally.not_run);
}

#[tokio::test]
async fn every_curl_example_under_docs_runs_against_a_live_gateway() {
    let mut not_run = Vec::new();
    let mut examples = HashMap::new();
    for file in doc_files() {
        let tally = run_file(&file).await;
        not_run.extend(tally.not_run);
        examples.insert(file, tally.examples);
    }
    for file in ["docs/ussd.md", "docs/money.md", "docs/operations.md"] {
        assert!(examples.get(file).is_some_and(|n| *n >= 1), "{file} has no curl example that runs: {examples:?}");
    }
    assert!(not_run.len() <= 3, "keep the examples that do not run few: {not_run:#?}");
}

#[test]
fn the_example_rules_read_blocks_as_documented() {
    let markdown =
        "text\n  ```sh\n  curl -s http://127.0.0.1:8080/healthz \\\n    -H 'a: b'   # HTTP 404 gone\n  ```\n\
        ```sh\n# not run: needs a real Daraja account\ncurl x\n```\n```sh\nMKOPO_A__B=1 X='y z' cargo run\n\
        cargo run -- suspense list\n```\n```toml\ncurl = 1\n```\n";
    let blocks = shell_blocks("t.md", markdown);
    assert_eq!(blocks.len(), 3);
    assert_eq!(blocks[0].line, 2);
    let Plan::Run { restart: None, script } = plan(&blocks[0]) else { panic!("the first block runs") };
    assert!(script.starts_with("DOC_EXPECT=404 curl -s http://127.0.0.1:8080/healthz "), "{script}");
    assert!(script.ends_with("-H 'a: b'   # HTTP 404 gone"), "{script}");
    assert_eq!(aimed_at(&script, 9).matches("127.0.0.1:9/").count(), 1);
    assert!(matches!(plan(&blocks[1]), Plan::NotRun { reason } if reason == "needs a real Daraja account"));
    assert!(matches!(plan(&blocks[2]), Plan::Prose), "no curl: prose");
    assert_eq!(gateway_start("MKOPO_A__B=1 cargo run   # terminal 1"), Some(vec![("MKOPO_A__B".into(), "1".into())]));
    assert_eq!(gateway_start("cargo run -- dial 255712345678"), None);
    assert!(calls_curl("at() { curl -s http://127.0.0.1:8080/ussd -d x; echo; }"));
    assert!(!calls_curl("# then curl the route"));
    assert!(!calls_curl("cargo run   # curl it later"));
}

/// A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The Markdown outside fenced blocks.
fn prose(markdown: &str) -> String {
    let mut fenced = false;
    let mut out = String::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn every_relative_link_of_the_docs_leads_to_a_file_and_heading_that_exist() {
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let mut pages = vec!["README.md".to_owned()];
    pages.extend(doc_files());
    let headings = |page: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(page).unwrap_or_default();
        prose(&text).lines().filter_map(|l| l.strip_prefix('#')).map(|h| anchor(h.trim_start_matches('#'))).collect()
    };
    let mut broken = Vec::new();
    for page in &pages {
        let here = Path::new(ROOT).join(page);
        let text = prose(&std::fs::read_to_string(&here).unwrap());
        for target in link.captures_iter(&text).map(|c| c[1].to_owned()) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = target.split_once('#').unwrap_or((target.as_str(), ""));
            let file = if path.is_empty() { here.clone() } else { here.parent().unwrap().join(path) };
            if !file.exists() {
                broken.push(format!("{page}: {target} (no such file)"));
            } else if !fragment.is_empty()
                && file.extension().is_some_and(|e| e == "md")
                && !headings(&file).iter().any(|h| h == fragment)
            {
                broken.push(format!("{page}: {target} (no such heading)"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
