//! A phone on the aggregator's side of the wire: it dials a running gateway the way Africa's Talking,
//! Beem or Hubtel would (docs/ussd.md) and reads back each screen as a handset shows it.
//!
//! [`Phone`] is the library half of `mkopo dial` and of the test suite's phone: a fresh session id per
//! dial, [`Phone::begin`] / [`Phone::dial`] for the first hop, [`Phone::send`] for every later input,
//! [`Phone::screen`] for what the subscriber sees. The wire shapes live in [`wire`]; [`script`] reads
//! journey files (mkopo's own and dialoguss's) and [`terminal`] drives both from the command line.
//!
//! Nothing here logs: inputs (which can be PINs) travel only in request bodies.

pub mod dialoguss;
pub mod script;
pub mod terminal;
pub mod wire;

use std::time::Duration;

pub use wire::{FORM, JSON};

/// The aggregator whose wire format the phone speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Africa's Talking: a form with the whole input path in `text`, `CON `/`END ` replies.
    #[value(name = "africastalking", alias = "at")]
    #[serde(alias = "at")]
    AfricasTalking,
    /// Beem Africa: JSON, the latest input only, `request_id` echoed.
    Beem,
    /// Hubtel: JSON with a growing `Sequence`.
    Hubtel,
}

impl Dialect {
    pub const ALL: [Dialect; 3] = [Dialect::AfricasTalking, Dialect::Beem, Dialect::Hubtel];

    /// The gateway route segment: `/ussd/<route>`.
    pub fn route(self) -> &'static str {
        match self {
            Dialect::AfricasTalking => "africastalking",
            Dialect::Beem => "beem",
            Dialect::Hubtel => "hubtel",
        }
    }

    pub fn from_route(route: &str) -> Option<Dialect> {
        Dialect::ALL.into_iter().find(|d| d.route().eq_ignore_ascii_case(route))
    }
}

/// What the handset shows: the text, and whether the session ended with it (`END`) or waits (`CON`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Screen {
    pub text: String,
    pub end: bool,
}

impl Screen {
    /// The number of the first option line whose label contains `label`.
    pub fn option(&self, label: &str) -> Option<String> {
        self.text.lines().find_map(|line| {
            let (n, rest) = line.split_once(". ")?;
            (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && rest.contains(label)).then(|| n.to_owned())
        })
    }

    /// `CON` or `END`, as Africa's Talking would prefix it.
    pub fn kind(&self) -> &'static str {
        if self.end {
            "END"
        } else {
            "CON"
        }
    }
}

/// Why a hop did not produce a screen. Messages name the problem, never an input.
#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    #[error("cannot reach the gateway at {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the gateway answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("not a {dialect} reply ({reason}): {body}")]
    Malformed { dialect: &'static str, reason: &'static str, body: String },
    #[error("the session has ended; dial again")]
    Ended,
    #[error("no option {0:?} on this screen")]
    NoOption(String),
    #[error("nothing has been sent yet")]
    NothingSent,
    #[error("{0}")]
    BadNumber(&'static str),
}

/// A subscriber's phone talking to one gateway route in one dialect.
pub struct Phone {
    pub dialect: Dialect,
    /// The subscriber number as sent (international digits; AT gets a `+` in front).
    pub msisdn: String,
    pub session_id: String,
    /// The dialled code, e.g. `*150*88#`.
    pub code: String,
    endpoint: String,
    client: reqwest::Client,
    /// Basic-auth credentials for a route that wants them (user, password); never printed.
    basic_auth: Option<(String, String)>,
    /// AT: every input of this session (the `text` path).
    path: Vec<String>,
    /// Beem: the `request_id` of the last screen; Hubtel: the last `Sequence` sent.
    counter: u64,
    last_body: Option<(&'static str, String)>,
    /// The current screen.
    pub screen: Screen,
    /// The body of the last answer, exactly as received.
    pub raw: String,
}

/// The code dialled unless told otherwise.
pub const DEFAULT_CODE: &str = "*150*88#";

impl Phone {
    /// A phone aimed at a full route URL (`http://host:port/ussd/<dialect>`), with a session id the
    /// gateway has not seen yet. Nothing is sent.
    pub fn new(endpoint: impl Into<String>, dialect: Dialect, msisdn: &str) -> Phone {
        Phone {
            dialect,
            msisdn: msisdn.to_owned(),
            session_id: new_session_id(),
            code: DEFAULT_CODE.to_owned(),
            endpoint: endpoint.into(),
            client: client(Duration::from_secs(30)),
            basic_auth: None,
            path: Vec::new(),
            counter: 0,
            last_body: None,
            screen: Screen::default(),
            raw: String::new(),
        }
    }

    /// Dials `code` (`*150*88#`) instead of the default.
    pub fn with_code(mut self, code: &str) -> Phone {
        code.trim().clone_into(&mut self.code);
        self
    }

    /// Gives up on a hop after `timeout` (default 30 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Phone {
        self.client = client(timeout);
        self
    }

    /// Calls the route behind a secret path token: `<endpoint>/<token>`.
    pub fn with_token(mut self, token: &str) -> Phone {
        self.endpoint = format!("{}/{token}", self.endpoint);
        self
    }

    /// Sends `Authorization: Basic` with every hop, for a route guarded by basic auth.
    pub fn with_basic_auth(mut self, username: &str, password: &str) -> Phone {
        self.basic_auth = Some((username.to_owned(), password.to_owned()));
        self
    }

    /// Uses `id` as the next session id (it must be new to the gateway).
    pub fn with_session_id(mut self, id: String) -> Phone {
        self.session_id = id;
        self
    }

    /// The route URL hops are posted to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The route URL with a `user:password@` password masked, for printing.
    pub fn shown_endpoint(&self) -> String {
        redacted(&self.endpoint)
    }

    /// The current screen.
    pub fn screen(&self) -> &Screen {
        &self.screen
    }

    /// Hangs up (locally) and dials again: a fresh session id, then the first screen.
    pub async fn dial(&mut self) -> Result<&Screen, PhoneError> {
        self.reset(new_session_id());
        self.begin().await
    }

    /// Forgets the session locally and takes `session_id` for the next [`Phone::begin`].
    pub fn reset(&mut self, session_id: String) {
        self.session_id = session_id;
        self.path.clear();
        self.counter = 0;
        self.last_body = None;
        self.screen = Screen::default();
        self.raw.clear();
    }

    /// Sends this session's first hop and reads the first screen.
    pub async fn begin(&mut self) -> Result<&Screen, PhoneError> {
        let (content_type, body) = self.begin_body();
        self.exchange(content_type, body).await
    }

    /// Types `input` and sends it; an ended session refuses.
    pub async fn send(&mut self, input: &str) -> Result<&Screen, PhoneError> {
        if self.screen.end {
            return Err(PhoneError::Ended);
        }
        let (content_type, body) = self.continue_body(input);
        self.exchange(content_type, body).await
    }

    /// Picks the option whose label contains `label` on the current screen.
    pub async fn choose(&mut self, label: &str) -> Result<&Screen, PhoneError> {
        let n = self.screen.option(label).ok_or_else(|| PhoneError::NoOption(label.to_owned()))?;
        self.send(&n).await
    }

    /// Sends the last request again, byte for byte, and returns the raw answer.
    pub async fn resend(&self) -> Result<(u16, String), PhoneError> {
        let (content_type, body) = self.last_body.clone().ok_or(PhoneError::NothingSent)?;
        self.post(&self.endpoint, content_type, body).await
    }

    /// The provider's end-of-session notice for this session, and the raw answer: AT `/events` with
    /// `status` = `kind`, Beem `terminate` (`kind` unused), Hubtel `Type` = `kind` (`Release`, `Timeout`).
    pub async fn notice(&mut self, kind: &str) -> Result<(u16, String), PhoneError> {
        let (suffix, content_type, body) = self.notice_body(kind);
        self.post_raw(suffix, content_type, body).await
    }

    /// Sends a raw provider message for this session to `<endpoint><url_suffix>`.
    pub async fn post_raw(
        &self,
        url_suffix: &str,
        content_type: &str,
        body: String,
    ) -> Result<(u16, String), PhoneError> {
        self.post(&format!("{}{url_suffix}", self.endpoint), content_type, body).await
    }

    async fn exchange(&mut self, content_type: &'static str, body: String) -> Result<&Screen, PhoneError> {
        self.last_body = Some((content_type, body.clone()));
        let (status, text) = self.post(&self.endpoint, content_type, body).await?;
        if status != 200 {
            return Err(PhoneError::Status { status, body: clip(&text) });
        }
        self.screen = self.decode(&text)?;
        self.raw = text;
        Ok(&self.screen)
    }

    async fn post(&self, url: &str, content_type: &str, body: String) -> Result<(u16, String), PhoneError> {
        let unreachable = |source| PhoneError::Unreachable { url: redacted(url), source };
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .header(reqwest::header::ACCEPT, "application/json, text/plain")
            .body(body);
        if let Some((username, password)) = &self.basic_auth {
            request = request.basic_auth(username, Some(password));
        }
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(unreachable)?;
        Ok((status, text))
    }
}

/// A subscriber number as the CLI accepts it: digits with an optional `+`, spaces and dashes ignored,
/// 8 to 15 digits; a national number starting with 0 is left to the gateway's country code.
/// `url` with the password of its `user:password@` part (reqwest sends it as basic auth) masked.
fn redacted(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

pub fn normalize_msisdn(raw: &str) -> Result<String, PhoneError> {
    let cleaned: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = cleaned.strip_prefix('+').unwrap_or(&cleaned);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PhoneError::BadNumber("the phone number must be digits, e.g. 255712345678"));
    }
    if !(8..=15).contains(&digits.len()) {
        return Err(PhoneError::BadNumber("the phone number must have 8 to 15 digits, e.g. 255712345678"));
    }
    Ok(digits.to_owned())
}

fn new_session_id() -> String {
    format!("sess-{}", uuid::Uuid::new_v4().simple())
}

fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).build().unwrap_or_default()
}

/// At most 300 characters of a body, for error messages.
fn clip(body: &str) -> String {
    match body.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &body[..i]),
        None => body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_password_is_masked_for_printing() {
        let phone = Phone::new("http://ops:s3cret@127.0.0.1:8080/ussd/beem", Dialect::Beem, "255712345678");
        assert_eq!(phone.shown_endpoint(), "http://ops:****@127.0.0.1:8080/ussd/beem");
        assert_eq!(redacted("http://127.0.0.1:8080/ussd/beem"), "http://127.0.0.1:8080/ussd/beem");
        assert_eq!(redacted("not a url"), "not a url");
    }

    #[tokio::test]
    async fn an_unreachable_gateway_is_named_without_the_password() {
        // Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
        let mut phone = Phone::new("http://ops:s3cret@127.0.0.1:9/ussd/beem", Dialect::Beem, "255712345678");
        let error = phone.begin().await.expect_err("nothing listens on port 9");
        let text = error.to_string();
        assert!(text.contains("127.0.0.1:9") && !text.contains("s3cret"), "{text}");
    }
}
