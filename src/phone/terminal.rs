//! `mkopo dial`: a phone in the terminal. Interactively it shows each screen in a handset frame, reads
//! a line from stdin and sends it (paging keys like `98`, `0`, `00` are just inputs) until the gateway
//! says `END` or stdin closes. With `--script FILE` it replays a journey ([`super::script`]) and fails on
//! the first screen that does not match, naming the step, the expectation and the screen.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use super::script::{self, Action, Journey, Step};
use super::{normalize_msisdn, Dialect, Phone, PhoneError, Screen, DEFAULT_CODE};

/// `mkopo dial [MSISDN] [--dialect D] [--url URL] [--code CODE] [--script FILE]`.
#[derive(Debug, clap::Args)]
pub struct DialArgs {
    /// The subscriber's number in international digits (255712345678); overrides a script's numbers.
    pub msisdn: Option<String>,
    /// The aggregator to speak as [default: the script's, the one a route URL names, else africastalking].
    #[arg(long, value_enum)]
    pub dialect: Option<Dialect>,
    /// The gateway's base URL, or a full route URL (…/ussd/DIALECT[/TOKEN])
    /// [default: the script's `url`, else this machine's gateway from the settings].
    #[arg(long)]
    pub url: Option<String>,
    /// The code dialled [default: the script's, else *150*88#].
    #[arg(long)]
    pub code: Option<String>,
    /// Replay a journey file (mkopo or dialoguss YAML) instead of reading stdin; exit 1 on a mismatch.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// With --script: show every screen, not just the outcome.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Runs the command; `local_gateway` gives this machine's gateway URL when neither the flag nor a
/// script names one (it reads the settings, so it is only called then).
pub async fn run(args: DialArgs, local_gateway: impl FnOnce() -> anyhow::Result<String>) -> anyhow::Result<()> {
    let journey = match &args.script {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            Some(script::parse(&text).with_context(|| format!("{}", path.display()))?)
        }
        None => None,
    };
    let file = journey.as_ref();
    let url = match args.url.clone().or_else(|| file.and_then(|j| j.url.clone())) {
        Some(url) => url,
        None => local_gateway()?,
    };
    let (endpoint, dialect) = endpoint(&url, args.dialect.or_else(|| file.and_then(|j| j.dialect)))?;
    let code = args.code.clone().or_else(|| file.and_then(|j| j.code.clone())).unwrap_or_else(|| DEFAULT_CODE.into());
    let phone = |msisdn: &str| Phone::new(endpoint.clone(), dialect, msisdn).with_code(&code);
    let mut out = std::io::stdout().lock();
    match journey {
        Some(journey) => replay(&journey, &args, phone, &mut out).await,
        None => {
            let raw = args.msisdn.as_deref().context("give the subscriber's number: mkopo dial 255712345678")?;
            let mut phone = phone(&normalize_msisdn(raw)?);
            let stdin = tokio::io::BufReader::new(tokio::io::stdin());
            let echo = !std::io::stdin().is_terminal();
            interactive(&mut phone, stdin, &mut out, echo).await
        }
    }
}

/// The route URL and dialect: a base URL gets `/ussd/<dialect>`; a URL with `/ussd/<name>` in its path
/// is used as is, and names the dialect unless one is given (a different one is refused).
pub fn endpoint(url: &str, dialect: Option<Dialect>) -> anyhow::Result<(String, Dialect)> {
    let url = url.trim();
    let parsed = reqwest::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    anyhow::ensure!(matches!(parsed.scheme(), "http" | "https"), "the URL must start with http:// or https://");
    let segments: Vec<&str> = parsed.path_segments().map(|s| s.collect()).unwrap_or_default();
    let Some(i) = segments.iter().position(|s| *s == "ussd") else {
        let dialect = dialect.unwrap_or(Dialect::AfricasTalking);
        return Ok((format!("{}/ussd/{}", url.trim_end_matches('/'), dialect.route()), dialect));
    };
    let named = segments.get(i + 1).and_then(|s| Dialect::from_route(s));
    match (named, dialect) {
        (Some(named), Some(asked)) if named != asked => {
            bail!("the URL is the {} route but the dialect asked for is {}", named.route(), asked.route())
        }
        (Some(named), _) => Ok((url.to_owned(), named)),
        (None, _) => bail!("the URL has /ussd/ but no dialect after it (africastalking, beem or hubtel)"),
    }
}

/// The interactive loop: screen, line, screen… until `END` or end of input.
pub async fn interactive<R, W>(phone: &mut Phone, mut input: R, out: &mut W, echo: bool) -> anyhow::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: Write,
{
    writeln!(
        out,
        "Dialling {} as +{} ({}, {})",
        phone.code,
        phone.msisdn,
        phone.dialect.route(),
        phone.shown_endpoint()
    )?;
    let mut screen = phone.begin().await?.clone();
    loop {
        write!(out, "{}", handset(&screen))?;
        if screen.end {
            writeln!(out, "Session ended.")?;
            return Ok(());
        }
        write!(out, "> ")?;
        out.flush()?;
        let mut line = String::new();
        if input.read_line(&mut line).await.context("cannot read stdin")? == 0 {
            writeln!(out, "\nHung up.")?;
            return Ok(());
        }
        let typed = line.trim_end_matches(['\n', '\r']);
        if echo {
            writeln!(out, "{typed}")?;
        }
        screen = phone.send(typed).await?.clone();
    }
}

const WIDTH: usize = 30;

/// How long a retrying script waits before dialling again.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// A screen in a handset frame, wrapped at 30 columns, its kind (CON/END) on the bottom edge.
pub fn handset(screen: &Screen) -> String {
    let mut rows = Vec::new();
    for line in screen.text.lines() {
        wrap(line, &mut rows);
    }
    let bar = "─".repeat(WIDTH + 2);
    let mut framed = format!("┌{bar}┐\n");
    for row in rows {
        let pad = WIDTH.saturating_sub(row.chars().count());
        framed.push_str(&format!("│ {row}{} │\n", " ".repeat(pad)));
    }
    let tail = format!("[{}]─", screen.kind());
    framed.push_str(&format!("└{}{tail}┘\n", "─".repeat(WIDTH + 2 - tail.chars().count())));
    framed
}

/// Word-wraps `line` into rows of at most [`WIDTH`] characters (longer words are cut).
fn wrap(line: &str, rows: &mut Vec<String>) {
    let mut row = String::new();
    for word in line.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        let used = row.chars().count();
        if used > 0 && used + 1 + word.len() > WIDTH {
            rows.push(std::mem::take(&mut row));
        }
        while word.len() > WIDTH {
            rows.push(word.drain(..WIDTH).collect());
        }
        if !row.is_empty() {
            row.push(' ');
        }
        row.extend(word);
    }
    rows.push(row);
}

/// Replays every session of `journey`; the first mismatch is the error.
async fn replay<W: Write>(
    journey: &Journey,
    args: &DialArgs,
    phone: impl Fn(&str) -> Phone,
    out: &mut W,
) -> anyhow::Result<()> {
    let script = args.script.as_ref().map_or_else(String::new, |p| p.display().to_string());
    let mut total = 0;
    for session in &journey.sessions {
        let raw = args.msisdn.as_deref().or(session.msisdn.as_deref()).with_context(|| {
            format!("{}: no phone number; give one (mkopo dial 255712345678 --script …) or set `msisdn`", session.name)
        })?;
        let mut phone = phone(&normalize_msisdn(raw).with_context(|| session.name.clone())?);
        writeln!(out, "{script}: {} as +{} via {}", session.name, phone.msisdn, phone.dialect.route())?;
        // The dial to go back to on a mismatch, and until when (a step's `retry`).
        let mut anchor: Option<(usize, Instant)> = None;
        let mut i = 0;
        while let Some(step) = session.steps.get(i) {
            if step.action == Action::Dial && anchor.is_none_or(|(at, _)| at != i) {
                anchor = step.retry.map(|wait| (i, Instant::now() + wait));
            }
            let retry = anchor.filter(|(_, until)| Instant::now() < *until);
            let here = || format!("{script}: {}, step {}{}", session.name, step.number, doing(step));
            let mismatch = match hop(&mut phone, session.id.as_deref(), step).await {
                Ok(()) => {
                    if args.verbose {
                        write!(out, "{}", handset(&phone.screen))?;
                    }
                    !step.expect.matches(&phone.screen)
                }
                // An early END or a missing option while the money is still on its way: try again.
                Err(PhoneError::Ended | PhoneError::NoOption(_)) if retry.is_some() => true,
                Err(error @ (PhoneError::Ended | PhoneError::NoOption(_))) => {
                    let (kind, text) = (phone.screen.kind(), script::indent(&phone.screen.text));
                    bail!("{}: {error}; the screen ({kind}) was:\n{text}", here())
                }
                Err(error) => return Err(anyhow::Error::new(error).context(here())),
            };
            if mismatch {
                if let Some((at, until)) = retry {
                    tokio::time::sleep(RETRY_PAUSE.min(until.saturating_duration_since(Instant::now()))).await;
                    i = at;
                    continue;
                }
                bail!(
                    "{}: expected {}\nbut the screen ({}) was:\n{}",
                    here(),
                    step.expect.describe(),
                    phone.screen.kind(),
                    script::indent(&phone.screen.text)
                );
            }
            i += 1;
        }
        total += session.steps.len();
        writeln!(out, "  ok: {} steps", session.steps.len())?;
    }
    let sessions = journey.sessions.len();
    let plural = if sessions == 1 { "" } else { "s" };
    writeln!(out, "{script}: passed ({sessions} session{plural}, {total} steps)")?;
    Ok(())
}

async fn hop(phone: &mut Phone, id: Option<&str>, step: &Step) -> Result<(), PhoneError> {
    let screen = match &step.action {
        Action::Dial => match id {
            // A dialoguss session id, kept recognisable but new to the gateway on every run.
            Some(id) => {
                phone.reset(format!("{id}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]));
                phone.begin().await
            }
            None => phone.dial().await,
        },
        Action::Send(input) => phone.send(input).await,
        Action::Choose(label) => phone.choose(label).await,
    };
    screen.map(|_| ())
}

/// What a step does, as failures name it.
fn doing(step: &Step) -> String {
    match &step.action {
        Action::Dial => " (dial)".into(),
        Action::Send(input) => format!(" (send {input:?})"),
        Action::Choose(label) => format!(" (choose {label:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_gets_the_dialect_route_and_a_route_url_names_its_dialect() {
        let at = Dialect::AfricasTalking;
        assert_eq!(endpoint("http://h:1/", None).unwrap(), ("http://h:1/ussd/africastalking".into(), at));
        assert_eq!(endpoint("http://h:1", Some(Dialect::Beem)).unwrap().0, "http://h:1/ussd/beem");
        assert_eq!(endpoint("https://h/ussd/hubtel/tok", None).unwrap().1, Dialect::Hubtel);
        assert!(endpoint("http://h/ussd/hubtel", Some(Dialect::Beem)).is_err());
        assert!(endpoint("h:1", None).is_err());
        assert!(endpoint("ftp://h", None).is_err());
    }

    #[test]
    fn the_handset_wraps_long_lines_and_shows_the_kind() {
        let text = "Welcome to Mkopo loans. Accept the terms to register.\n1. Accept";
        let framed = handset(&Screen { text: text.into(), end: false });
        assert!(framed.contains("│ Welcome to Mkopo loans. Accept │\n│ the terms to register.         │"), "{framed}");
        assert!(framed.contains("│ 1. Accept"), "{framed}");
        assert!(framed.trim_end().ends_with("[CON]─┘"), "{framed}");
        let lines: Vec<usize> = framed.lines().map(|l| l.chars().count()).collect();
        assert!(lines.iter().all(|n| *n == lines[0]), "a straight frame: {framed}");
        assert!(handset(&Screen { text: "x".repeat(70), end: true }).contains("[END]"));
    }
}
