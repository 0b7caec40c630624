//! A phone for tests: [`mkopo::phone::Phone`] aimed at a [`TestApp`], dialling through one aggregator's
//! wire format and walking a session by option labels (`choose("Borrow")`) or raw inputs
//! (`send("5000")`), as a subscriber would. A hop that does not produce a screen fails the test.

use std::ops::{Deref, DerefMut};

pub use mkopo::phone::{Screen, FORM, JSON};

use crate::helpers::TestApp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    AfricasTalking,
    Beem,
    Hubtel,
}

pub const ALL: [Via; 3] = [Via::AfricasTalking, Via::Beem, Via::Hubtel];

impl Via {
    pub fn route(self) -> &'static str {
        self.dialect().route()
    }

    pub fn dialect(self) -> mkopo::phone::Dialect {
        match self {
            Via::AfricasTalking => mkopo::phone::Dialect::AfricasTalking,
            Via::Beem => mkopo::phone::Dialect::Beem,
            Via::Hubtel => mkopo::phone::Dialect::Hubtel,
        }
    }

    /// A subscriber number in this aggregator's country (Hubtel is Ghanaian).
    pub fn msisdn(self, n: u32) -> String {
        match self {
            Via::Hubtel => format!("23324{n:07}"),
            _ => format!("25571{n:07}"),
        }
    }
}

/// The library's phone plus the aggregator it stands for; `msisdn`, `session_id`, `screen` and `raw`
/// are the library phone's.
pub struct Phone {
    pub via: Via,
    inner: mkopo::phone::Phone,
}

impl Deref for Phone {
    type Target = mkopo::phone::Phone;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl DerefMut for Phone {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

impl Phone {
    /// Dials the service code and reads the first screen.
    pub async fn dial(app: &TestApp, via: Via, msisdn: &str) -> Phone {
        let mut phone = Phone::unseen(app, via, msisdn);
        phone.begin().await;
        phone
    }

    /// A phone with a fresh session id the gateway has not seen yet: nothing is sent.
    pub fn unseen(app: &TestApp, via: Via, msisdn: &str) -> Phone {
        let inner = mkopo::phone::Phone::new(format!("{}/ussd/{}", app.base, via.route()), via.dialect(), msisdn);
        // Hubtel dials its Ghanaian code; the others the default *150*88#.
        let inner = if via == Via::Hubtel { inner.with_code("*713*20#") } else { inner };
        Phone { via, inner }
    }

    /// Dials `code` instead of the aggregator's usual one (the same short code routed another way).
    pub async fn dial_code(app: &TestApp, via: Via, msisdn: &str, code: &str) -> Phone {
        let mut phone = Phone::unseen(app, via, msisdn);
        phone.inner = phone.inner.with_code(code);
        phone.begin().await;
        phone
    }

    /// Calls the route behind a secret path token: `/ussd/<dialect>/<token>`.
    pub fn with_token(self, token: &str) -> Phone {
        Phone { via: self.via, inner: self.inner.with_token(token) }
    }

    /// Sends this session's first hop and reads the first screen.
    pub async fn begin(&mut self) -> &Screen {
        let via = self.via;
        self.inner.begin().await.unwrap_or_else(|e| panic!("{via:?}: {e}"))
    }

    /// Types `input` and sends it.
    pub async fn send(&mut self, input: &str) -> &Screen {
        assert!(!self.screen.end, "the session has ended:\n{}", self.screen.text);
        let via = self.via;
        self.inner.send(input).await.unwrap_or_else(|e| panic!("{via:?}: {e}"))
    }

    /// Picks the option whose label contains `label` on the current screen.
    pub async fn choose(&mut self, label: &str) -> &Screen {
        let n = self.screen.option(label).unwrap_or_else(|| panic!("no option {label:?} on:\n{}", self.screen.text));
        self.send(&n).await
    }

    /// Walks `steps`: digits-only steps (and the nav keys) are typed, anything else is an option label.
    pub async fn walk(&mut self, steps: &[&str]) -> &Screen {
        for step in steps {
            if step.bytes().all(|b| b.is_ascii_digit() || b == b',') {
                self.send(step).await;
            } else {
                self.choose(step).await;
            }
        }
        &self.inner.screen
    }

    /// Sends the last request again, byte for byte, and returns the raw answer.
    pub async fn resend(&self) -> (u16, String) {
        self.inner.resend().await.expect("a request was sent and answered")
    }

    /// The provider's end-of-session notice for this session, and the raw answer: AT `/events` with
    /// `status` = `kind`, Beem `terminate` (`kind` unused), Hubtel `Type` = `kind` (`Release`, `Timeout`).
    pub async fn notice(&mut self, kind: &str) -> (u16, String) {
        self.inner.notice(kind).await.expect("the notice is answered")
    }

    /// Sends a raw provider message for this session (notifications, odd bodies).
    pub async fn post_raw(&self, url_suffix: &str, ct: &str, body: String) -> (u16, String) {
        self.inner.post_raw(url_suffix, ct, body).await.expect("the gateway answers")
    }
}
