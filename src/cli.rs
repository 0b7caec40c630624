//! The command line: `mkopo` (= `mkopo serve`), `mkopo sandbox-lms --port N`, `mkopo check-config`.

use std::net::TcpListener;

use actix_web::{App, HttpServer};
use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{self, Settings};
use crate::sandbox::lms::{self as sandbox_lms, SandboxLms};
use crate::startup::Application;
use crate::telemetry;

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
    /// Load and validate the settings, print a summary without secrets, and exit.
    CheckConfig,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = config::load()?;
    telemetry::init(&settings.telemetry);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::SandboxLms { port, host } => sandbox(settings, &host, port).await,
        Command::CheckConfig => {
            println!("{}", summary(&settings));
            Ok(())
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let environment = settings.environment.as_str();
    let lms_mode = settings.lms.mode;
    let app = Application::build(settings).await?;
    let base = app.base_url();
    tracing::info!(%base, environment, "mkopo is listening");
    println!("mkopo listening on {base} ({environment}, LMS: {lms_mode:?})");
    println!("  health:      curl {base}/healthz   readiness: curl {base}/readyz");
    if app.sandbox_lms().is_some() {
        println!("  sandbox LMS: {base}/sandbox/lms/v1  (partner credentials in config/base.toml [sandbox.lms])");
        println!("  try:         curl -u partner@sandbox.local:sandbox {base}/sandbox/lms/v1/auth/token");
    }
    app.run_until_stopped().await.context("the HTTP server stopped with an error")
}

async fn sandbox(settings: Settings, host: &str, port: u16) -> anyhow::Result<()> {
    anyhow::ensure!(
        settings.environment != config::Environment::Production,
        "the sandbox LMS cannot run in production"
    );
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

fn summary(s: &Settings) -> String {
    let redis = if s.redis.url.is_some() { "redis (url set)" } else { "in-memory (not durable)" };
    format!(
        "environment: {}\nlisten: {}:{}\nstore: {redis}\nlms: {:?} auth={:?} api={:?} partner={:?}\nproducts: {:?}",
        s.environment.as_str(),
        s.server.host,
        s.server.port,
        s.lms.mode,
        s.lms.auth_base_url,
        s.lms.api_base_url,
        s.lms.partner_email,
        s.lms.product_ids,
    )
}
