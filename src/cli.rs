//! The command line: `mkopo` (= `mkopo serve`), the standalone sandboxes, `mkopo check-config`, the
//! operators' money commands (`mkopo suspense list|retry <id>`, `mkopo recon`), which call the
//! gateway's admin API so they work whatever store backs it, and `mkopo dial`, a phone in the terminal
//! ([`crate::phone::terminal`]).

use std::net::TcpListener;

use actix_web::{App, HttpServer};
use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{self, Settings};
use crate::sandbox::lms::{self as sandbox_lms, SandboxLms};
use crate::startup::Application;
use crate::telemetry;
use secrecy::ExposeSecret;

#[derive(Debug, Parser)]
#[command(name = "mkopo", version, about = "USSD and mobile-money gateway for a loan-management API")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (the default). Settings come from config/ and MKOPO_* variables.
    Serve,
    /// Run only the sandbox LMS, as a separate process for tests and tools.
    SandboxLms {
        #[arg(long, default_value_t = 8090)]
        port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
    },
    /// Run only the sandbox wallet (generic contract), delivering callbacks to `--callback-url`.
    SandboxWallet {
        #[arg(long, default_value_t = 8091)]
        port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        #[arg(long, default_value = "http://127.0.0.1:8080/v1/callbacks/sandbox")]
        callback_url: String,
    },
    /// Load and validate the settings, print a summary without secrets, and exit.
    CheckConfig,
    /// Load and check the menus (targets, reachability, translations, screen lengths); exit 1 on problems.
    CheckMenus {
        /// Print the menu as a Mermaid flowchart instead.
        #[arg(long)]
        graph: bool,
        /// A menus directory to check instead of `ussd.menus_dir` (menu.toml and <lang>.ftl).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
    /// Money that could not be posted: list it, or re-drive one item (via the admin API).
    Suspense {
        #[command(subcommand)]
        action: SuspenseAction,
        #[command(flatten)]
        admin: AdminTarget,
    },
    /// Payouts whose outcome is unknown past the poll limit, and blocked rollbacks.
    Recon {
        #[command(flatten)]
        admin: AdminTarget,
    },
    /// Dial the gateway as a phone would through an aggregator: interactively, or replaying a script.
    Dial(crate::phone::terminal::DialArgs),
}

#[derive(Debug, Subcommand)]
pub enum SuspenseAction {
    /// List the payments in suspense: why each could not be posted, its amount, payer and age.
    List,
    /// Re-drive one payment (after fixing the cause): refused parts are posted again with their original
    /// idempotency keys, a payment that found no loan is allocated afresh.
    Retry {
        /// The event id from `mkopo suspense list`, e.g. `event:sandbox:HP5N8R2T4V`.
        id: String,
    },
}

/// Where the admin API is; defaults come from the settings (this machine's gateway, `admin.token`).
#[derive(Debug, clap::Args)]
pub struct AdminTarget {
    /// The gateway's base URL; without it, this machine's gateway at `server.port`.
    #[arg(long, global = true)]
    url: Option<String>,
    /// The admin bearer token; without it, `admin.token` from the settings (`MKOPO_ADMIN__TOKEN`).
    #[arg(long, global = true)]
    token: Option<String>,
    /// Print the admin API's JSON answer as it is, for scripts.
    #[arg(long, global = true)]
    json: bool,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = match cli.command.unwrap_or(Command::Serve) {
        // A client: no logging, and the settings only when it needs this machine's gateway.
        Command::Dial(args) => {
            return crate::phone::terminal::run(args, || Ok(local_base(&config::load_for_tools()?))).await
        }
        command => command,
    };
    // The tools need none of production's settings: they load without the production checks.
    let tool =
        matches!(command, Command::CheckMenus { .. } | Command::SandboxLms { .. } | Command::SandboxWallet { .. });
    let settings = if tool { config::load_for_tools()? } else { config::load()? };
    // Held to the end of the command, so the lines queued at shutdown are written out.
    let _log = telemetry::init(&settings.telemetry);
    match command {
        Command::Dial(args) => crate::phone::terminal::run(args, || Ok(local_base(&settings))).await,
        Command::Serve => serve(settings).await,
        Command::SandboxLms { port, host } => sandbox(settings, &host, port).await,
        Command::SandboxWallet { port, host, callback_url } => {
            sandbox_wallet(settings, &host, port, callback_url).await
        }
        Command::CheckConfig => {
            println!("{}", summary(&settings));
            Ok(())
        }
        Command::CheckMenus { graph, dir } => check_menus(&settings, dir.as_deref(), graph),
        Command::Suspense { action: SuspenseAction::List, admin } => {
            let body = admin_call(&settings, &admin, "GET", "/admin/suspense").await?;
            admin.print(&body, crate::cli_admin::suspense_list)
        }
        Command::Suspense { action: SuspenseAction::Retry { id }, admin } => {
            let path = format!("/admin/suspense/{}/retry", percent_encoding::utf8_percent_encode(&id, SEGMENT));
            let body = admin_call(&settings, &admin, "POST", &path).await?;
            admin.print(&body, crate::cli_admin::retried)
        }
        Command::Recon { admin } => {
            let body = admin_call(&settings, &admin, "GET", "/admin/reconciliation").await?;
            admin.print(&body, crate::cli_admin::recon_list)
        }
    }
}

/// Path-segment escaping for an event id (it holds `:`).
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b':');

impl AdminTarget {
    /// The answer as JSON (`--json`) or as lines for a person.
    fn print(&self, body: &serde_json::Value, human: fn(&serde_json::Value) -> String) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(body)?);
        } else {
            print!("{}", human(body));
        }
        Ok(())
    }
}

/// Calls the admin API and returns its JSON answer; a non-2xx answer is an error naming its message.
async fn admin_call(
    settings: &Settings,
    target: &AdminTarget,
    method: &str,
    path: &str,
) -> anyhow::Result<serde_json::Value> {
    let base = target.url.clone().unwrap_or_else(|| local_base(settings));
    let token = target.token.clone().unwrap_or_else(|| settings.admin.token.expose_secret().to_owned());
    let client = reqwest::Client::new();
    let request = match method {
        "POST" => client.post(format!("{base}{path}")),
        _ => client.get(format!("{base}{path}")),
    };
    let response =
        request.bearer_auth(token).send().await.with_context(|| format!("cannot reach the admin API at {base}"))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        let message = body["message"].as_str().unwrap_or("no message");
        anyhow::bail!("the admin API answered {status} ({}): {message}", body["code"].as_str().unwrap_or("?"));
    }
    Ok(body)
}

/// This machine's gateway, from the settings: `http://127.0.0.1:{server.port}` for a wildcard host.
fn local_base(settings: &Settings) -> String {
    let host = match settings.server.host.as_str() {
        "0.0.0.0" | "::" => "127.0.0.1",
        other => other,
    };
    format!("http://{host}:{}", settings.server.port)
}

async fn sandbox_wallet(settings: Settings, host: &str, port: u16, callback_url: String) -> anyhow::Result<()> {
    warn_if_production(&settings, "sandbox wallet");
    let wallet = crate::sandbox::wallet::SandboxWallet::new(&settings.sandbox.wallet, callback_url)
        .map_err(|e| anyhow::anyhow!("sandbox wallet settings: {e}"))?;
    let listener = TcpListener::bind((host, port)).with_context(|| format!("cannot listen on {host}:{port}"))?;
    let addr = listener.local_addr()?;
    println!("sandbox wallet listening on http://{addr}");
    HttpServer::new(move || App::new().service(crate::sandbox::wallet::scope("", wallet.clone())))
        .listen(listener)?
        .run()
        .await
        .context("the sandbox wallet stopped with an error")
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let banner = Banner::of(&settings);
    let app = Application::build(settings).await?;
    banner.show(&app.base_url(), app.port(), app.sandbox_lms().is_some());
    app.run_until_stopped().await.context("the HTTP server stopped with an error")
}

/// What `mkopo serve` says when it listens: where it binds (and how to reach it from this machine), the
/// USSD routes, the simulator and `mkopo dial` where they apply. Readable lines on a terminal; one JSON
/// log line (nothing else on stdout) when the logs are JSON, so a log shipper never sees plain text.
struct Banner {
    environment: &'static str,
    host: String,
    json: bool,
    lms: String,
    ussd: Vec<String>,
    simulator: bool,
}

impl Banner {
    fn of(s: &Settings) -> Self {
        let ussd = s
            .ussd
            .dialects
            .iter()
            .filter(|(_, d)| d.enabled)
            .map(|(name, d)| {
                let token = d.path_token.as_ref().is_some_and(|t| !t.expose_secret().is_empty());
                format!("/ussd/{name}{}", if token { "/{path_token}" } else { "" })
            })
            .collect();
        Self {
            environment: s.environment.as_str(),
            host: s.server.host.clone(),
            json: s.telemetry.format == config::LogFormat::Json,
            lms: format!(
                "{} ({} API generation)",
                format!("{:?}", s.lms.mode).to_lowercase(),
                s.lms.generation.as_str()
            ),
            ussd,
            simulator: s.simulator.enabled && s.environment != config::Environment::Production,
        }
    }

    fn show(&self, base: &str, port: u16, sandbox_lms: bool) {
        let bind =
            if self.host.contains(':') { format!("[{}]:{port}", self.host) } else { format!("{}:{port}", self.host) };
        let routes = self.ussd.join(" ");
        if self.json {
            tracing::info!(
                bind,
                base,
                environment = self.environment,
                lms = self.lms,
                ussd = routes,
                simulator = self.simulator,
                "mkopo listening on {bind} ({base} from this machine)"
            );
            return;
        }
        println!("mkopo listening on {bind} ({base} from this machine; {}, LMS: {})", self.environment, self.lms);
        println!("  health:      curl {base}/healthz   readiness: curl {base}/readyz");
        if !self.ussd.is_empty() {
            println!("  USSD:        POST {routes}");
            println!("  dial:        mkopo dial   (a phone in this terminal, through {})", self.ussd[0]);
        }
        if self.simulator {
            println!("  simulator:   {base}/simulator   (a phone in the browser)");
        }
        if sandbox_lms {
            println!("  sandbox LMS: {base}/sandbox/lms/v1  (partner credentials in config/base.toml [sandbox.lms])");
            println!("  try:         curl -u partner@sandbox.local:sandbox {base}/sandbox/lms/v1/auth/token");
        }
    }
}

async fn sandbox(settings: Settings, host: &str, port: u16) -> anyhow::Result<()> {
    warn_if_production(&settings, "sandbox LMS");
    let lms = SandboxLms::new(&settings.sandbox.lms).map_err(|e| anyhow::anyhow!("sandbox LMS settings: {e}"))?;
    let listener = TcpListener::bind((host, port)).with_context(|| format!("cannot listen on {host}:{port}"))?;
    let addr = listener.local_addr()?;
    println!("sandbox LMS listening on http://{addr}/v1");
    HttpServer::new(move || App::new().service(sandbox_lms::scope("", lms.clone())))
        .listen(listener)?
        .run()
        .await
        .context("the sandbox LMS stopped with an error")
}

/// A standalone sandbox under production settings is allowed (it is a separate process nobody points a
/// production gateway at by accident: the gateway refuses `lms.mode = sandbox` there), but said loudly.
fn warn_if_production(settings: &Settings, what: &str) {
    if settings.environment == config::Environment::Production {
        eprintln!("warning: running the {what} under MKOPO_ENVIRONMENT=production; it holds test data in memory only");
    }
}

/// `mkopo check-menus [--graph] [--dir DIR]`: the boot's menu checks, for reviews and CI.
fn check_menus(settings: &Settings, dir: Option<&std::path::Path>, graph: bool) -> anyhow::Result<()> {
    let u = &settings.ussd;
    let configured = (!u.menus_dir.trim().is_empty()).then(|| std::path::Path::new(u.menus_dir.trim()));
    let dir = dir.or(configured);
    let budget = u.screen.strictest();
    let menu = crate::menu::Menu::load(dir, &u.languages, u.nav.clone(), u.formats(), budget)?;
    if graph {
        print!("{}", crate::menu::mermaid(&menu));
    } else {
        let source = dir.map_or_else(|| "built-in menus".to_owned(), |d| d.display().to_string());
        println!(
            "menus OK ({source}): {} nodes, languages {}, every screen within {} septets",
            menu.file().nodes.len(),
            menu.catalog().languages().join(", "),
            budget.gsm7
        );
        for missing in menu.untranslated_products(&settings.lms.product_ids) {
            println!("warning: {missing}");
        }
    }
    Ok(())
}

fn summary(s: &Settings) -> String {
    let url_set = s.redis.url.as_ref().is_some_and(|u| !u.expose_secret().trim().is_empty());
    let redis = if url_set { "redis (url set)" } else { "in-memory (not durable)" };
    format!(
        "environment: {}\nlisten: {}:{}\nstore: {redis}\nlms: {:?} generation={} auth={:?} api={:?} partner={:?}\n\
         products: {:?}",
        s.environment.as_str(),
        s.server.host,
        s.server.port,
        s.lms.mode,
        s.lms.generation.as_str(),
        s.lms.auth_base_url,
        s.lms.api_base_url,
        s.lms.partner_email,
        s.lms.product_ids,
    )
}
