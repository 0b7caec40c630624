//! Just enough W3C WebDriver for the browser test, over reqwest: Debian's Chromium driven by its
//! ChromeDriver, headless, with a fresh profile. [`Browser::launch`] installs both packages when they
//! are missing (as root, with apt; one installer at a time) and fails the test when it cannot.
//!
//! Every wait polls with a deadline; a failed wait or command panics with the page's visible text.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const INSTALL_LOCK: &str = "/tmp/mkopo-browser-install.lock";
/// The key under which WebDriver returns an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const POLL: Duration = Duration::from_millis(100);

/// Installs `chromium` and `chromium-driver` with apt unless both binaries are there.
pub fn ensure_installed() {
    let present = || Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if present() {
        return;
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    assert!(
        root && Path::new("/usr/bin/apt-get").exists(),
        "the browser test needs {CHROMIUM} and {CHROMEDRIVER}: install Debian's packages \
         (`sudo apt-get install chromium chromium-driver`); this test installs them itself only as root with apt"
    );
    let lock = std::fs::File::create(INSTALL_LOCK).expect("creating the install lock file");
    lock.lock().expect("taking the install lock");
    if !present() {
        eprintln!("browser test: installing chromium and chromium-driver with apt-get (once per machine)...");
        apt(&["update", "-qq"]);
        apt(&["install", "-y", "-qq", "chromium", "chromium-driver"]);
    }
    assert!(present(), "apt-get installed chromium and chromium-driver, yet {CHROMIUM} or {CHROMEDRIVER} is missing");
}

fn apt(args: &[&str]) {
    let out = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .output()
        .expect("apt-get runs");
    assert!(
        out.status.success(),
        "`apt-get {}` failed ({}), so the browser test cannot run:\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// ChromeDriver in a process group of its own (Chromium joins it) and the profile directory; dropping
/// it kills the group and removes the profile, whether the test passed or panicked.
struct Driver {
    child: Child,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One headless browser session.
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`.
    session: String,
    _driver: Driver,
}

pub struct Element(String);

impl Browser {
    pub async fn launch() -> Browser {
        ensure_installed();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let profile = std::env::temp_dir().join(format!("mkopo-chromium-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&profile).unwrap();
        let mut command = Command::new(CHROMEDRIVER);
        command.arg(format!("--port={port}")).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        // A group of its own, so the Drop guard can kill ChromeDriver and every Chromium it started.
        let child = command.process_group(0).spawn().expect("chromedriver starts");
        let driver = Driver { child, profile };
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let root = format!("http://127.0.0.1:{port}");

        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = match http.get(format!("{root}/status")).send().await {
                Ok(r) => r.json::<Value>().await.is_ok_and(|v| v["value"]["ready"] == json!(true)),
                Err(_) => false,
            };
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not become ready on port {port}");
            tokio::time::sleep(POLL).await;
        }

        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--window-size=1280,1000",
            &format!("--user-data-dir={}", driver.profile.display()),
        ];
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args }
        }}});
        let created: Value = http
            .post(format!("{root}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .unwrap();
        let id = created["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no browser session: {created}"));
        Browser { http, session: format!("{root}/session/{id}"), _driver: driver }
    }

    /// One WebDriver command; `Err` carries the driver's error value.
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let ok = response.status().is_success();
        let value: Value = response.json().await.map_err(|e| e.to_string())?;
        if ok {
            Ok(value["value"].clone())
        } else {
            Err(value["value"].to_string())
        }
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Result<Value, String> {
        self.command(reqwest::Method::GET, path, None).await
    }

    /// Fails the test, showing the page's visible text.
    pub async fn fail(&self, what: &str) -> ! {
        let text = self.visible_text().await;
        panic!("{what}\n----- the page reads -----\n{text}\n--------------------------");
    }

    pub async fn visible_text(&self) -> String {
        match self.post("/execute/sync", json!({ "script": "return document.body.innerText", "args": [] })).await {
            Ok(Value::String(text)) => text,
            other => format!("(cannot read the page: {other:?})"),
        }
    }

    pub async fn goto(&self, url: &str) {
        if let Err(e) = self.post("/url", json!({ "url": url })).await {
            self.fail(&format!("cannot open {url}: {e}")).await;
        }
    }

    async fn try_find(&self, css: &str) -> Result<Element, String> {
        let found = self.post("/element", json!({ "using": "css selector", "value": css })).await?;
        found[ELEMENT].as_str().map(|id| Element(id.to_owned())).ok_or_else(|| format!("no element id in {found}"))
    }

    async fn try_text(&self, css: &str) -> Result<String, String> {
        let element = self.try_find(css).await?;
        let text = self.get(&format!("/element/{}/text", element.0)).await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// Waits up to `secs` for `css` to exist.
    pub async fn find(&self, css: &str, secs: u64) -> Element {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            match self.try_find(css).await {
                Ok(element) => return element,
                Err(e) if Instant::now() >= deadline => {
                    self.fail(&format!("no element {css} after {secs}s: {e}")).await
                }
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css, 10).await;
        if let Err(e) = self.post(&format!("/element/{}/click", element.0), json!({})).await {
            self.fail(&format!("cannot click {css}: {e}")).await;
        }
    }

    /// Clears the field and types `text` into it, key by key.
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css, 10).await;
        let typed = async {
            self.post(&format!("/element/{}/clear", element.0), json!({})).await?;
            self.post(&format!("/element/{}/value", element.0), json!({ "text": text })).await
        };
        if let Err(e) = typed.await {
            self.fail(&format!("cannot type into {css}: {e}")).await;
        }
    }

    /// The text of `css` once `accept` likes it; waits up to `secs`.
    pub async fn wait_text(&self, css: &str, secs: u64, what: &str, accept: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let last = match self.try_text(css).await {
                Ok(text) if accept(&text) => return text,
                Ok(text) => text,
                Err(e) => format!("(no element: {e})"),
            };
            if Instant::now() >= deadline {
                self.fail(&format!("waited {secs}s for {css} to show {what}; it showed {last:?}")).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Ends the session (ChromeDriver closes Chromium); the driver process goes when `self` drops.
    pub async fn quit(self) {
        let _ = self.command(reqwest::Method::DELETE, "", None).await;
    }
}
