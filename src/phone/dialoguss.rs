//! dialoguss's script format (<https://github.com/nndi-oss/dialoguss>), read the way its Go runner
//! (`cmd/dialoguss.go`) reads it, so a file that passes here passes there:
//!
//! ```yaml
//! url: http://localhost:7654/ussd/africastalking
//! dial: "*1234#"
//! phoneNumber: "265888123456"          # the default; a session's phoneNumber overrides it
//! sessions:
//!   - id: balance                      # reused (with a fresh suffix) as the session id
//!     description: "Zikani checks his balance"
//!     steps:
//!       - componentId: menus/welcome   # the first step is the dial: its userInput is not typed
//!       - userInput: "2"
//!         expect: |-
//!           Your balance is
//!           MK 500
//! components:                          # expectations shared by several steps
//!   - namespace: menus
//!     component:
//!       - id: welcome
//!         expect: "Welcome"
//! ```
//!
//! - Every step is checked, the dial too. The reply loses one leading `CON ` / `END ` and must then
//!   equal the expectation exactly: a YAML `|` block ends in a newline no reply has (use `|-`), and an
//!   expectation that keeps `END ` never matches. A step with no expectation expects an empty screen.
//! - A step's own non-empty `expect` wins; otherwise `componentId` (`namespace/id`, or `id` in the
//!   `default` namespace) supplies it, and an unknown one is an error before anything is dialled.
//!   Namespaces and ids are letters first, then letters, digits, `_` or `-`, as dialoguss requires.
//!   The component list is read under `component` (and `items`).
//! - The older `text` key for inputs is read as `userInput`; unknown keys are ignored, as YAML
//!   unmarshalling in Go ignores them.

use std::collections::HashMap;

use anyhow::bail;
use serde::Deserialize;

use super::script::{Action, Expect, Journey, Session, Step};

#[derive(Debug, Deserialize)]
pub(super) struct DialogussFile {
    url: Option<String>,
    dial: Option<String>,
    #[serde(rename = "phoneNumber")]
    phone_number: Option<String>,
    sessions: Vec<DialogussSession>,
    #[serde(default)]
    components: Vec<ComponentNamespace>,
}

#[derive(Debug, Deserialize)]
struct DialogussSession {
    id: Option<String>,
    #[serde(rename = "phoneNumber")]
    phone_number: Option<String>,
    description: Option<String>,
    #[serde(default)]
    steps: Vec<DialogussStep>,
}

#[derive(Debug, Deserialize)]
struct DialogussStep {
    step: Option<String>,
    #[serde(rename = "userInput", alias = "text")]
    user_input: Option<String>,
    expect: Option<String>,
    #[serde(rename = "componentId", alias = "componentid", alias = "componentID")]
    component_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ComponentNamespace {
    namespace: String,
    #[serde(default, alias = "items")]
    component: Vec<Component>,
}

#[derive(Debug, Deserialize)]
struct Component {
    id: String,
    #[serde(default)]
    expect: String,
}

/// dialoguss's rule for namespaces and component ids: `^[A-Za-z]+[A-Za-z0-9_-]*$`.
fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// namespace → id → expectation; a later namespace entry of the same name adds to (and overrides) it.
fn component_store(list: &[ComponentNamespace]) -> anyhow::Result<HashMap<&str, HashMap<&str, &str>>> {
    let mut store: HashMap<&str, HashMap<&str, &str>> = HashMap::new();
    for ns in list {
        anyhow::ensure!(
            valid_name(&ns.namespace),
            "component namespace {:?}: letters first, then letters, digits, `_` or `-`",
            ns.namespace
        );
        let components = store.entry(ns.namespace.as_str()).or_default();
        for c in &ns.component {
            anyhow::ensure!(
                valid_name(&c.id),
                "component id {:?}: letters first, then letters, digits, `_` or `-`",
                c.id
            );
            components.insert(c.id.as_str(), c.expect.as_str());
        }
    }
    Ok(store)
}

pub(super) fn journey(file: DialogussFile) -> anyhow::Result<Journey> {
    anyhow::ensure!(!file.sessions.is_empty(), "the script has no sessions");
    let components = component_store(&file.components)?;
    let mut sessions = Vec::new();
    for (s, session) in file.sessions.iter().enumerate() {
        let name = match (&session.id, &session.description) {
            (Some(id), Some(d)) => format!("session {id} ({d})"),
            (Some(id), None) => format!("session {id}"),
            (None, Some(d)) => format!("session {} ({d})", s + 1),
            (None, None) => format!("session {}", s + 1),
        };
        anyhow::ensure!(!session.steps.is_empty(), "{name} has no steps");
        let mut steps = Vec::new();
        for (i, step) in session.steps.iter().enumerate() {
            let number = step.step.clone().unwrap_or_else(|| (i + 1).to_string());
            // As in dialoguss, the first step is the dial: its input (if any) is not typed.
            let action = if i == 0 { Action::Dial } else { Action::Send(step.user_input.clone().unwrap_or_default()) };
            let own = step.expect.as_deref().unwrap_or_default();
            let expected = match step.component_id.as_deref().filter(|id| own.is_empty() && !id.is_empty()) {
                None => own,
                Some(path) => {
                    let (ns, id) = path.split_once('/').unwrap_or(("default", path));
                    let found = components.get(ns).and_then(|c| c.get(id));
                    match found {
                        Some(expect) => expect,
                        None => bail!("{name}, step {number}: no component {ns}/{id} under `components`"),
                    }
                }
            };
            steps.push(Step { number, action, expect: Expect::Screen(expected.to_owned()), retry: None });
        }
        let msisdn = session.phone_number.clone().or_else(|| file.phone_number.clone());
        sessions.push(Session { name, id: session.id.clone(), msisdn, steps });
    }
    Ok(Journey { url: file.url, code: file.dial, dialect: None, sessions })
}

#[cfg(test)]
mod tests {
    use super::super::script::parse;
    use super::*;
    use crate::phone::Screen;

    fn screen(text: &str, end: bool) -> Screen {
        Screen { text: text.into(), end }
    }

    #[test]
    fn a_dialoguss_script_reads_as_its_tool_does() {
        let yaml = "url: http://localhost:7654\ndial: \"*1234*1234#\"\nphoneNumber: 265888123456\ntimeout: 5\nsessions:\n  - id: 12345678910\n    description: Zikani\n    steps:\n      - expect: \"What is your name?\"\n      - userInput: \"Zikani\"\n        expect: |-\n          Welcome, Zikani\n          1. Balance\n      - text: 2\n        expect: \"Your balance is: MK 500\"\n";
        let j = parse(yaml).unwrap();
        assert_eq!((j.url.as_deref(), j.code.as_deref()), (Some("http://localhost:7654"), Some("*1234*1234#")));
        let s = &j.sessions[0];
        assert_eq!((s.id.as_deref(), s.msisdn.as_deref()), (Some("12345678910"), Some("265888123456")));
        assert_eq!(s.steps[0].action, Action::Dial);
        assert_eq!(s.steps[2].action, Action::Send("2".into()));
        assert!(s.steps[1].expect.matches(&screen("Welcome, Zikani\n1. Balance", false)));
        assert!(s.steps[2].expect.matches(&screen("Your balance is: MK 500", true)), "CON or END alike");
        assert!(!s.steps[0].expect.matches(&screen("What is your name? Now", false)), "the whole screen");
    }

    #[test]
    fn the_screen_must_equal_the_expectation_exactly() {
        let exact = Expect::Screen("Welcome, Zikani\n1. Balance".into());
        assert!(exact.matches(&screen("Welcome, Zikani\n1. Balance", false)));
        for differs in
            ["Welcome, Zikani  \n1. Balance", "Welcome, Zikani\n1. Balance\n", "Welcome, Zikani\r\n1. Balance"]
        {
            assert!(!exact.matches(&screen(differs, false)), "{differs:?}");
        }
        // A `|` block keeps its newline, and a kept prefix is text the reply no longer has.
        let block = parse("sessions:\n  - steps:\n      - expect: |\n          Welcome\n").unwrap();
        assert!(!block.sessions[0].steps[0].expect.matches(&screen("Welcome", false)));
        assert!(!Expect::Screen("END Bye".into()).matches(&screen("Bye", true)));
        assert!(Expect::Screen("END Bye".into()).matches(&screen("END Bye", true)), "a reply reading END END Bye");
    }

    #[test]
    fn a_step_without_an_expectation_expects_an_empty_screen() {
        let j = parse("sessions:\n  - steps:\n      - userInput: ''\n      - userInput: '1'\n").unwrap();
        let steps = &j.sessions[0].steps;
        assert!(steps.iter().all(|s| s.expect == Expect::Screen(String::new())));
        assert!(!steps[0].expect.matches(&screen("Welcome", false)) && steps[0].expect.matches(&screen("", true)));
    }

    #[test]
    fn components_supply_the_expectation_a_step_does_not_give() {
        let yaml = "sessions:\n  - id: a\n    steps:\n      - componentId: default/splash\n      - userInput: '1'\n        componentId: home\n      - userInput: '2'\n        componentId: menus/balance\n        expect: Own words\ncomponents:\n  - namespace: default\n    component:\n      - id: splash\n        expect: Welcome\n      - id: home\n        expect: Hello\n  - namespace: menus\n    items:\n      - id: balance\n        expect: Balance\n";
        let j = parse(yaml).unwrap();
        let expects: Vec<&Expect> = j.sessions[0].steps.iter().map(|s| &s.expect).collect();
        assert_eq!(
            expects,
            [&Expect::Screen("Welcome".into()), &Expect::Screen("Hello".into()), &Expect::Screen("Own words".into())]
        );
        let missing = parse(&yaml.replace("componentId: home", "componentId: nope")).unwrap_err().to_string();
        assert!(missing.contains("session a, step 2: no component default/nope"), "{missing}");
        let bad_id = parse(&yaml.replace("id: splash", "id: 1splash")).unwrap_err().to_string();
        assert!(bad_id.contains("component id \"1splash\""), "{bad_id}");
        assert!(parse(&yaml.replace("namespace: menus", "namespace: my/menus")).is_err());
    }
}
