//! Journey files for `mkopo dial --script`, in two YAML shapes read into one [`Journey`].
//!
//! **mkopo's own** (fragments, any dialect):
//!
//! ```yaml
//! description: a new subscriber registers     # optional
//! msisdn: "255712000101"                      # optional: the positional MSISDN overrides it
//! dialect: hubtel                             # optional: --dialect overrides it
//! steps:
//!   - expect: "Welcome to Mkopo loans."       # the first step without send/choose: the dial screen
//!   - send: "1"                               # typed as is ("98", "0", "00" are just inputs)
//!     expect: "You are registered."           # a fragment, or a list of fragments, of the screen
//!   - choose: "Main menu"                     # picks the option whose label contains this
//!     expect: ["Mkopo", "1. Borrow"]
//!     end: false                              # optional: CON (false) or END (true)
//!   - dial: true                              # hang up and dial again (a new session)
//!     retry: 20s                              # optional: a later mismatch dials again from here
//!                                             # until 20 s have passed (money lands late)
//! ```
//!
//! **dialoguss's** (<https://github.com/nndi-oss/dialoguss>): top-level `url`, `dial`, `phoneNumber`,
//! `sessions: [{id, phoneNumber, description, steps: [{userInput, expect, componentId}]}]` and
//! `components`; every `expect` is the whole screen, compared exactly as dialoguss compares it
//! (see [`super::dialoguss`]).

use anyhow::{bail, Context};
use serde::Deserialize;

use super::{Dialect, Screen};

/// A script, whatever its shape: where to dial, and what to type and see.
#[derive(Debug, Clone)]
pub struct Journey {
    pub url: Option<String>,
    pub code: Option<String>,
    pub dialect: Option<Dialect>,
    pub sessions: Vec<Session>,
}

/// One subscriber's run of steps (a dialoguss session, or a whole mkopo script).
#[derive(Debug, Clone)]
pub struct Session {
    /// How failures name it: the dialoguss `id`/`description`, or the mkopo `description`.
    pub name: String,
    /// The dialoguss session id, used as the prefix of each fresh session id.
    pub id: Option<String>,
    pub msisdn: Option<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone)]
pub struct Step {
    /// The number failures report: the step's `step` field, else its 1-based position.
    pub number: String,
    pub action: Action,
    pub expect: Expect,
    /// On a dial: how long a later mismatch in this session restarts it from here instead of failing.
    pub retry: Option<std::time::Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Dial (again): a fresh session.
    Dial,
    /// Type this and send it.
    Send(String),
    /// Send the number of the option whose label contains this.
    Choose(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// mkopo: each fragment appears in the screen; `end` (if given) says CON or END.
    Fragments { all: Vec<String>, end: Option<bool> },
    /// dialoguss: the whole screen after its one `CON `/`END ` prefix is removed, byte for byte.
    Screen(String),
}

impl Expect {
    /// Whether `screen` meets the expectation.
    pub fn matches(&self, screen: &Screen) -> bool {
        match self {
            Expect::Fragments { all, end } => {
                let text = screen.text.replace("\r\n", "\n");
                all.iter().all(|f| text.contains(f.replace("\r\n", "\n").as_str()))
                    && end.is_none_or(|e| e == screen.end)
            }
            // dialoguss's `result != expect`: no trimming, no line-end folding, CON and END alike.
            Expect::Screen(whole) => *whole == screen.text,
        }
    }

    /// The expectation as a failure message shows it.
    pub fn describe(&self) -> String {
        match self {
            Expect::Fragments { all, end } => {
                let mut parts: Vec<String> = all.iter().map(|f| format!("{f:?}")).collect();
                if let Some(end) = end {
                    parts.push(if *end { "an END screen".into() } else { "a CON screen".into() });
                }
                format!("the screen to contain {}", parts.join(" and "))
            }
            Expect::Screen(whole) if whole.is_empty() => {
                "an empty screen (the step has no `expect`, and dialoguss compares with the empty text)".into()
            }
            Expect::Screen(whole) => {
                let mut told = format!("the screen to read:\n{}", indent(whole));
                // The two ways a hand-written dialoguss file misses a screen it otherwise has right.
                if whole.ends_with('\n') {
                    told.push_str("\n  (the expectation ends in a newline, as a YAML `|` block does: use `|-`)");
                }
                if whole.starts_with("CON ") || whole.starts_with("END ") {
                    told.push_str(
                        "\n  (dialoguss removes the reply's CON/END prefix: leave it out of the expectation)",
                    );
                }
                told
            }
        }
    }

    /// Whether nothing is checked.
    pub fn is_empty(&self) -> bool {
        matches!(self, Expect::Fragments { all, end: None } if all.is_empty())
    }
}

pub(super) fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

/// Reads a script in either shape; errors name the problem (and, for YAML, where it is).
pub fn parse(yaml: &str) -> anyhow::Result<Journey> {
    let value: serde_norway::Value = serde_norway::from_str(yaml).context("the script is not valid YAML")?;
    let has = |key: &str| value.as_mapping().is_some_and(|m| m.contains_key(key));
    if has("sessions") {
        super::dialoguss::journey(serde_norway::from_str(yaml).context("not a dialoguss script")?)
    } else if has("steps") {
        mkopo(serde_norway::from_str(yaml).context("not an mkopo script")?)
    } else {
        bail!("a script needs `steps` (mkopo's format) or `sessions` (dialoguss's format) at the top level")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MkopoFile {
    description: Option<String>,
    msisdn: Option<String>,
    dialect: Option<Dialect>,
    url: Option<String>,
    code: Option<String>,
    steps: Vec<MkopoStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MkopoStep {
    send: Option<String>,
    choose: Option<String>,
    #[serde(default)]
    dial: bool,
    expect: Option<OneOrMany>,
    end: Option<bool>,
    retry: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

fn mkopo(file: MkopoFile) -> anyhow::Result<Journey> {
    anyhow::ensure!(!file.steps.is_empty(), "the script has no steps");
    let mut steps = Vec::new();
    for (i, step) in file.steps.into_iter().enumerate() {
        let n = i + 1;
        let action = match (step.send, step.choose, step.dial) {
            (Some(input), None, false) => Action::Send(input),
            (None, Some(label), false) => Action::Choose(label),
            (None, None, true) => Action::Dial,
            (None, None, false) if n == 1 => Action::Dial,
            (None, None, false) => bail!("step {n}: say what to do: `send`, `choose` or `dial: true`"),
            _ => bail!("step {n}: only one of `send`, `choose` and `dial` per step"),
        };
        let retry = match step.retry {
            Some(_) if action != Action::Dial => bail!("step {n}: `retry` belongs on a dial"),
            Some(d) => Some(humantime::parse_duration(&d).with_context(|| format!("step {n}: `retry: {d}`"))?),
            None => None,
        };
        if n == 1 && action != Action::Dial {
            // The journey always starts by dialling; an unchecked dial comes first.
            steps.push(Step { number: "0".into(), action: Action::Dial, expect: nothing(), retry: None });
        }
        let all = match step.expect {
            None => Vec::new(),
            Some(OneOrMany::One(f)) => vec![f],
            Some(OneOrMany::Many(all)) => all,
        };
        steps.push(Step { number: n.to_string(), action, expect: Expect::Fragments { all, end: step.end }, retry });
    }
    let name = file.description.unwrap_or_else(|| "the script".to_owned());
    Ok(Journey {
        url: file.url,
        code: file.code,
        dialect: file.dialect,
        sessions: vec![Session { name, id: None, msisdn: file.msisdn, steps }],
    })
}

fn nothing() -> Expect {
    Expect::Fragments { all: Vec::new(), end: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(text: &str, end: bool) -> Screen {
        Screen { text: text.into(), end }
    }

    #[test]
    fn an_mkopo_script_starts_with_the_dial_and_matches_fragments() {
        let j = parse("msisdn: '0712000001'\nsteps:\n  - expect: Welcome\n  - send: 00\n    expect: [a, b]\n    end: true\n  - dial: true\n").unwrap();
        let steps = &j.sessions[0].steps;
        assert_eq!(j.sessions[0].msisdn.as_deref(), Some("0712000001"));
        assert_eq!(
            steps.iter().map(|s| s.action.clone()).collect::<Vec<_>>(),
            [Action::Dial, Action::Send("00".into()), Action::Dial]
        );
        assert!(steps[1].expect.matches(&screen("x a b", true)));
        assert!(!steps[1].expect.matches(&screen("x a b", false)), "END was asked for");
        assert!(!steps[1].expect.matches(&screen("x a", true)));
        let j = parse("steps:\n  - send: '1'\n  - dial: true\n    retry: 2s\n").unwrap();
        assert_eq!(j.sessions[0].steps[0].action, Action::Dial, "an unchecked dial comes first");
        assert_eq!(j.sessions[0].steps[2].retry, Some(std::time::Duration::from_secs(2)));
    }

    #[test]
    fn an_mkopo_script_refuses_typos_and_ambiguous_steps() {
        assert!(format!("{:#}", parse("steps:\n  - sned: '1'\n").unwrap_err()).contains("sned"));
        assert!(parse("steps:\n  - expect: a\n  - expect: b\n").unwrap_err().to_string().contains("step 2"));
        assert!(parse("steps:\n  - send: '1'\n    choose: x\n").is_err());
        assert!(parse("steps:\n  - send: '1'\n    retry: 2s\n").unwrap_err().to_string().contains("dial"));
        assert!(parse("steps:\n  - dial: true\n    retry: soon\n").is_err());
        assert!(parse("dialect: nokia\nsteps:\n  - expect: a\n").is_err());
        assert!(parse("hello: 1\n").unwrap_err().to_string().contains("`steps`"));
    }
}
