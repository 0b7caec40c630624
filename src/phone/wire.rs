//! The aggregators' wire shapes, seen from the aggregator (docs/ussd.md): what each
//! one posts for a first hop, a later input and an end-of-session notice, and how each reply reads.
//!
//! - Africa's Talking: a form; `text` is every input of the session joined with `*`; replies are
//!   `CON …` / `END …` plain text; notices go to `<route>/events`.
//! - Beem: JSON `initiate` / `continue` / `terminate`; `payload.response` is the latest input only and
//!   `payload.request_id` echoes the id of the screen being answered.
//! - Hubtel: JSON with `Type` `Initiation` / `Response` / `Release` / `Timeout` and a `Sequence` that
//!   grows by one per message.

use serde_json::{json, Value};

use super::{clip, Dialect, Phone, PhoneError, Screen};

pub const FORM: &str = "application/x-www-form-urlencoded";
pub const JSON: &str = "application/json";

/// The operator / network each dialect reports (Halotel in Tanzania for AT, Vodacom for Beem, MTN Ghana).
const AT_NETWORK: &str = "64009";
const BEEM_OPERATOR: &str = "vodacom";
const HUBTEL_OPERATOR: &str = "mtn";

impl Phone {
    /// An Africa's Talking hop of this session with the given `text` path.
    pub fn at_form(&self, text: &str) -> String {
        form(&[
            ("sessionId", self.session_id.as_str()),
            ("serviceCode", self.code.as_str()),
            ("phoneNumber", &format!("+{}", self.msisdn)),
            ("networkCode", AT_NETWORK),
            ("text", text),
        ])
    }

    /// A Beem message of this session.
    pub fn beem_json(&self, command: &str, request_id: u64, response: &str) -> String {
        json!({
            "command": command, "msisdn": self.msisdn, "session_id": self.session_id, "operator": BEEM_OPERATOR,
            "payload": { "request_id": request_id, "response": response }
        })
        .to_string()
    }

    /// A Hubtel message of this session.
    pub fn hubtel_json(&self, kind: &str, sequence: u64, message: &str) -> String {
        json!({
            "Sequence": sequence, "Type": kind, "Message": message, "ServiceCode": code_digits(&self.code),
            "Operator": HUBTEL_OPERATOR, "ClientState": "", "Mobile": self.msisdn, "SessionId": self.session_id
        })
        .to_string()
    }

    pub(super) fn begin_body(&mut self) -> (&'static str, String) {
        match self.dialect {
            Dialect::AfricasTalking => (FORM, self.at_form("")),
            Dialect::Beem => {
                let body = json!({
                    "command": "initiate", "msisdn": self.msisdn, "session_id": self.session_id,
                    "operator": BEEM_OPERATOR, "payload": { "request_id": 0, "response": 0 }
                });
                (JSON, body.to_string())
            }
            Dialect::Hubtel => {
                self.counter = 1;
                (JSON, self.hubtel_json("Initiation", 1, &self.code))
            }
        }
    }

    pub(super) fn continue_body(&mut self, input: &str) -> (&'static str, String) {
        match self.dialect {
            Dialect::AfricasTalking => {
                self.path.push(input.to_owned());
                (FORM, self.at_form(&self.path.join("*")))
            }
            Dialect::Beem => (JSON, self.beem_json("continue", self.counter, input)),
            Dialect::Hubtel => {
                self.counter += 1;
                (JSON, self.hubtel_json("Response", self.counter, input))
            }
        }
    }

    /// The URL suffix, content type and body of an end-of-session notice (see [`Phone::notice`]).
    pub(super) fn notice_body(&mut self, kind: &str) -> (&'static str, &'static str, String) {
        match self.dialect {
            Dialect::AfricasTalking => {
                let hops = (self.path.len() + 1).to_string();
                let last = format!("{} {}", self.screen.kind(), self.screen.text);
                let body = form(&[
                    ("date", "2024-05-14 09:21:07"),
                    ("sessionId", self.session_id.as_str()),
                    ("serviceCode", self.code.as_str()),
                    ("networkCode", AT_NETWORK),
                    ("phoneNumber", &format!("+{}", self.msisdn)),
                    ("status", kind),
                    ("cost", "TZS 0.00"),
                    ("durationInMillis", "21400"),
                    ("hopsCount", &hops),
                    ("input", &self.path.join("*")),
                    ("lastAppResponse", &last),
                ]);
                ("/events", FORM, body)
            }
            Dialect::Beem => {
                let body = json!({
                    "command": "terminate", "msisdn": self.msisdn, "session_id": self.session_id,
                    "operator": BEEM_OPERATOR, "payload": {}
                });
                ("", JSON, body.to_string())
            }
            Dialect::Hubtel => {
                self.counter += 1;
                ("", JSON, self.hubtel_json(kind, self.counter, ""))
            }
        }
    }

    /// Reads a `200` reply into a screen (Beem: also takes the `request_id` to echo next).
    pub(super) fn decode(&mut self, body: &str) -> Result<Screen, PhoneError> {
        let dialect = self.dialect.route();
        let malformed = |reason| PhoneError::Malformed { dialect, reason, body: clip(body) };
        match self.dialect {
            Dialect::AfricasTalking => {
                if let Some(text) = body.strip_prefix("CON ") {
                    Ok(Screen { text: text.to_owned(), end: false })
                } else if let Some(text) = body.strip_prefix("END ") {
                    Ok(Screen { text: text.to_owned(), end: true })
                } else {
                    Err(malformed("the body starts with neither `CON ` nor `END `"))
                }
            }
            Dialect::Beem => {
                let v: Value = serde_json::from_str(body).map_err(|_| malformed("not JSON"))?;
                if v["msisdn"].as_str() != Some(self.msisdn.as_str()) {
                    return Err(malformed("`msisdn` is not echoed"));
                }
                if v["session_id"].as_str() != Some(self.session_id.as_str()) {
                    return Err(malformed("`session_id` is not echoed"));
                }
                let text = v["payload"]["request"].as_str().ok_or_else(|| malformed("no `payload.request` text"))?;
                self.counter =
                    v["payload"]["request_id"].as_u64().ok_or_else(|| malformed("no `payload.request_id`"))?;
                let end = match v["command"].as_str() {
                    Some("continue") => false,
                    Some("terminate") => true,
                    _ => return Err(malformed("`command` is neither `continue` nor `terminate`")),
                };
                Ok(Screen { text: text.to_owned(), end })
            }
            Dialect::Hubtel => {
                let v: Value = serde_json::from_str(body).map_err(|_| malformed("not JSON"))?;
                let text = v["Message"].as_str().ok_or_else(|| malformed("no `Message` text"))?;
                let end = match v["Type"].as_str() {
                    Some("Response") => false,
                    Some("Release") => true,
                    _ => return Err(malformed("`Type` is neither `Response` nor `Release`")),
                };
                Ok(Screen { text: text.to_owned(), end })
            }
        }
    }
}

/// `*713*20#` → `713*20`, as Hubtel's `ServiceCode` carries it.
pub fn code_digits(code: &str) -> &str {
    let code = code.trim();
    let code = code.strip_prefix('*').unwrap_or(code);
    code.strip_suffix('#').unwrap_or(code)
}

/// A form body, every value percent-encoded (so `+` and `*` travel safely).
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(dialect: Dialect) -> Phone {
        Phone::new("http://127.0.0.1:9/ussd/x", dialect, "255712345678").with_session_id("s1".into())
    }

    #[test]
    fn africas_talking_sends_the_whole_path_and_reads_con_and_end() {
        let mut p = phone(Dialect::AfricasTalking);
        let (ct, first) = p.begin_body();
        assert_eq!(ct, FORM);
        assert!(first.contains("phoneNumber=%2B255712345678") && first.ends_with("&text="), "{first}");
        assert!(first.contains("serviceCode=%2A150%2A88%23"), "{first}");
        p.continue_body("1");
        let (_, third) = p.continue_body("12*5");
        assert!(third.ends_with("&text=1%2A12%2A5"), "{third}");
        assert_eq!(p.decode("CON Hi\n1. A").unwrap(), Screen { text: "Hi\n1. A".into(), end: false });
        assert!(p.decode("END Bye").unwrap().end);
        assert!(matches!(p.decode("Bye"), Err(PhoneError::Malformed { .. })));
    }

    #[test]
    fn beem_echoes_the_request_id_of_the_last_screen() {
        let mut p = phone(Dialect::Beem);
        let (_, first) = p.begin_body();
        let v: Value = serde_json::from_str(&first).unwrap();
        assert_eq!((v["command"].as_str(), v["payload"]["response"].as_u64()), (Some("initiate"), Some(0)));
        let reply = r#"{"msisdn":"255712345678","session_id":"s1","command":"continue","payload":{"request_id":7,"request":"Hi"}}"#;
        assert_eq!(p.decode(reply).unwrap(), Screen { text: "Hi".into(), end: false });
        let (_, next) = p.continue_body("00");
        let v: Value = serde_json::from_str(&next).unwrap();
        assert_eq!((v["payload"]["request_id"].as_u64(), v["payload"]["response"].as_str()), (Some(7), Some("00")));
        let stranger = reply.replace("255712345678", "255700000001");
        assert!(matches!(p.decode(&stranger), Err(PhoneError::Malformed { .. })));
    }

    #[test]
    fn hubtel_counts_its_sequence_and_dials_the_code() {
        let mut p = phone(Dialect::Hubtel).with_code("*713*20#");
        let (_, first) = p.begin_body();
        let v: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(
            (v["Type"].as_str(), v["Message"].as_str(), v["ServiceCode"].as_str()),
            (Some("Initiation"), Some("*713*20#"), Some("713*20"))
        );
        let (_, second) = p.continue_body("1");
        let v: Value = serde_json::from_str(&second).unwrap();
        assert_eq!((v["Sequence"].as_u64(), v["Type"].as_str()), (Some(2), Some("Response")));
        assert!(p.decode(r#"{"Type":"Release","Message":"Bye"}"#).unwrap().end);
        assert!(p.decode(r#"{"Type":"Odd","Message":"Bye"}"#).is_err());
    }

    #[test]
    fn options_are_found_by_label() {
        let s = Screen { text: "Mkopo\n1. Borrow\n2. My balance\n98. More".into(), end: false };
        assert_eq!(s.option("balance").as_deref(), Some("2"));
        assert_eq!(s.option("More").as_deref(), Some("98"));
        assert_eq!(s.option("Repay"), None);
    }
}
