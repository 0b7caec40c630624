//! A phone for tests: dials a running gateway through one aggregator's wire format and walks a session
//! by option labels (`choose("Borrow")`) or raw inputs (`send("5000")`), as a subscriber would.

use serde_json::{json, Value};

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
        match self {
            Via::AfricasTalking => "africastalking",
            Via::Beem => "beem",
            Via::Hubtel => "hubtel",
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    pub text: String,
    pub end: bool,
}

impl Screen {
    /// The number of the first option line whose label contains `label`.
    pub fn option(&self, label: &str) -> Option<String> {
        self.text.lines().find_map(|line| {
            let (n, rest) = line.split_once(". ")?;
            (n.bytes().all(|b| b.is_ascii_digit()) && rest.contains(label)).then(|| n.to_owned())
        })
    }
}

pub struct Phone {
    pub via: Via,
    pub msisdn: String,
    pub session_id: String,
    url: String,
    client: reqwest::Client,
    /// AT: every input so far (the `text` path).
    path: Vec<String>,
    /// Beem: the `request_id` of the last screen; Hubtel: the last `Sequence` sent.
    counter: u64,
    last_body: Option<(String, Vec<u8>)>,
    pub screen: Screen,
    /// The body of the last answer, exactly as received.
    pub raw: String,
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
        Phone {
            via,
            msisdn: msisdn.to_owned(),
            session_id: format!("sess-{}", uuid::Uuid::new_v4().simple()),
            url: format!("{}/ussd/{}", app.base, via.route()),
            client: reqwest::Client::new(),
            path: Vec::new(),
            counter: 0,
            last_body: None,
            screen: Screen { text: String::new(), end: false },
            raw: String::new(),
        }
    }

    /// Calls the route behind a secret path token: `/ussd/<dialect>/<token>`.
    pub fn with_token(mut self, token: &str) -> Phone {
        self.url = format!("{}/{token}", self.url);
        self
    }

    /// Sends this session's first hop and reads the first screen.
    pub async fn begin(&mut self) -> &Screen {
        let (ct, body) = self.begin_body();
        self.post(ct, body).await;
        &self.screen
    }

    /// Types `input` and sends it.
    pub async fn send(&mut self, input: &str) -> &Screen {
        assert!(!self.screen.end, "the session has ended:\n{}", self.screen.text);
        let (ct, body) = self.continue_body(input);
        self.post(ct, body).await;
        &self.screen
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
        &self.screen
    }

    /// Sends the last request again, byte for byte, and returns the raw answer.
    pub async fn resend(&self) -> (u16, String) {
        let (ct, body) = self.last_body.clone().expect("a request was sent");
        let response = self.client.post(&self.url).header("content-type", ct).body(body).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// The provider's end-of-session notice for this session, and the raw answer: AT `/events` with
    /// `status` = `kind`, Beem `terminate` (`kind` unused), Hubtel `Type` = `kind` (`Release`, `Timeout`).
    pub async fn notice(&mut self, kind: &str) -> (u16, String) {
        match self.via {
            Via::AfricasTalking => {
                let hops = (self.path.len() + 1).to_string();
                let last = format!("{} {}", if self.screen.end { "END" } else { "CON" }, self.screen.text);
                let body = form(&[
                    ("date", "2024-05-14 09:21:07"),
                    ("sessionId", self.session_id.as_str()),
                    ("serviceCode", "*150*88#"),
                    ("networkCode", "64009"),
                    ("phoneNumber", &format!("+{}", self.msisdn)),
                    ("status", kind),
                    ("cost", "TZS 0.00"),
                    ("durationInMillis", "21400"),
                    ("hopsCount", &hops),
                    ("input", &self.path.join("*")),
                    ("lastAppResponse", &last),
                ]);
                self.post_raw("/events", FORM, body).await
            }
            Via::Beem => {
                let body = json!({
                    "command": "terminate", "msisdn": self.msisdn, "session_id": self.session_id,
                    "operator": "vodacom", "payload": {}
                });
                self.post_raw("", JSON, body.to_string()).await
            }
            Via::Hubtel => {
                self.counter += 1;
                let body = self.hubtel_json(kind, self.counter, "");
                self.post_raw("", JSON, body).await
            }
        }
    }

    /// Sends a raw provider message for this session (notifications, odd bodies).
    pub async fn post_raw(&self, url_suffix: &str, ct: &str, body: String) -> (u16, String) {
        let response = self
            .client
            .post(format!("{}{url_suffix}", self.url))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub fn at_form(&self, text: &str) -> String {
        form(&[
            ("sessionId", self.session_id.as_str()),
            ("serviceCode", "*150*88#"),
            ("phoneNumber", &format!("+{}", self.msisdn)),
            ("networkCode", "64009"),
            ("text", text),
        ])
    }

    pub fn beem_json(&self, command: &str, request_id: u64, response: &str) -> String {
        json!({
            "command": command, "msisdn": self.msisdn, "session_id": self.session_id, "operator": "vodacom",
            "payload": { "request_id": request_id, "response": response }
        })
        .to_string()
    }

    pub fn hubtel_json(&self, kind: &str, sequence: u64, message: &str) -> String {
        json!({
            "Sequence": sequence, "Type": kind, "Message": message, "ServiceCode": "713*20", "Operator": "mtn",
            "ClientState": "", "Mobile": self.msisdn, "SessionId": self.session_id
        })
        .to_string()
    }

    fn begin_body(&mut self) -> (&'static str, String) {
        match self.via {
            Via::AfricasTalking => (FORM, self.at_form("")),
            Via::Beem => {
                let body = json!({
                    "command": "initiate", "msisdn": self.msisdn, "session_id": self.session_id,
                    "operator": "vodacom", "payload": { "request_id": 0, "response": 0 }
                });
                (JSON, body.to_string())
            }
            Via::Hubtel => {
                self.counter = 1;
                (JSON, self.hubtel_json("Initiation", 1, "*713*20#"))
            }
        }
    }

    fn continue_body(&mut self, input: &str) -> (&'static str, String) {
        match self.via {
            Via::AfricasTalking => {
                self.path.push(input.to_owned());
                (FORM, self.at_form(&self.path.join("*")))
            }
            Via::Beem => (JSON, self.beem_json("continue", self.counter, input)),
            Via::Hubtel => {
                self.counter += 1;
                (JSON, self.hubtel_json("Response", self.counter, input))
            }
        }
    }

    async fn post(&mut self, ct: &'static str, body: String) {
        self.last_body = Some((ct.to_owned(), body.clone().into_bytes()));
        let response = self.client.post(&self.url).header("content-type", ct).body(body).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "{:?} answered {status}: {text}", self.via);
        self.screen = self.parse(&text);
        self.raw = text;
    }

    fn parse(&mut self, body: &str) -> Screen {
        match self.via {
            Via::AfricasTalking => {
                if let Some(text) = body.strip_prefix("CON ") {
                    Screen { text: text.to_owned(), end: false }
                } else if let Some(text) = body.strip_prefix("END ") {
                    Screen { text: text.to_owned(), end: true }
                } else {
                    panic!("not an AT screen: {body:?}")
                }
            }
            Via::Beem => {
                let v: Value = serde_json::from_str(body).unwrap();
                assert_eq!(v["msisdn"], self.msisdn.as_str(), "Beem replies echo the msisdn");
                assert_eq!(v["session_id"], self.session_id.as_str(), "Beem replies echo the session id");
                self.counter = v["payload"]["request_id"].as_u64().expect("request_id");
                Screen { text: v["payload"]["request"].as_str().unwrap().to_owned(), end: v["command"] == "terminate" }
            }
            Via::Hubtel => {
                let v: Value = serde_json::from_str(body).unwrap();
                Screen { text: v["Message"].as_str().unwrap().to_owned(), end: v["Type"] == "Release" }
            }
        }
    }
}

pub const FORM: &str = "application/x-www-form-urlencoded";
pub const JSON: &str = "application/json";

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}
