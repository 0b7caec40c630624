//! Building the whole service from settings. `main` and the tests call the same [`Application::build`];
//! tests pass port 0 and read the bound port back.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::config::{LmsMode, Settings};
use crate::domain::clock::Clock;
use crate::lms::{LmsClient, LmsClientConfig};
use crate::routes;
use crate::sandbox::lms::SandboxLms;
use crate::store::{self, SharedStore};
use crate::telemetry::RequestSpan;

/// Shared by every handler.
pub struct AppState {
    pub store: SharedStore,
    pub lms: LmsClient,
}

pub struct Application {
    port: u16,
    host: String,
    server: Server,
    lms: LmsClient,
    sandbox_lms: Option<SandboxLms>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| format!("cannot listen on {}:{}", settings.server.host, settings.server.port))?;
        let port = listener.local_addr().context("reading the bound address")?.port();
        let host = settings.server.host.clone();

        let store = store::connect(&settings.redis).await.context("connecting the session store")?;

        let (sandbox_lms, auth_base, api_base) = match settings.lms.mode {
            LmsMode::Sandbox => {
                let sandbox =
                    SandboxLms::new(&settings.sandbox.lms).map_err(|e| anyhow::anyhow!("sandbox LMS settings: {e}"))?;
                let base = format!("http://{}:{port}/sandbox/lms", connect_host(&host));
                (Some(sandbox), base.clone(), base)
            }
            LmsMode::Http => (None, settings.lms.auth_base_url.clone(), settings.lms.api_base_url.clone()),
        };
        let lms = LmsClient::new(LmsClientConfig::from_settings(&settings.lms, auth_base, api_base), Clock::system())
            .context("building the LMS client")?;
        spawn_token_rotation(&lms, settings.lms.token_rotation_interval);

        let state = web::Data::new(AppState { store, lms: lms.clone() });
        let sandbox = sandbox_lms.clone();
        let mut server = HttpServer::new(move || {
            let app = App::new()
                .wrap(TracingLogger::<RequestSpan>::new())
                .app_data(state.clone())
                .configure(routes::health::configure);
            match &sandbox {
                Some(lms) => app.service(crate::sandbox::lms::scope("/sandbox/lms", lms.clone())),
                None => app,
            }
        })
        .listen(listener)
        .context("starting the HTTP server")?
        .shutdown_timeout(settings.server.shutdown_timeout.as_secs().max(1));
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        Ok(Self { port, host, server: server.run(), lms, sandbox_lms })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The base URL clients on this machine use to reach the server.
    pub fn base_url(&self) -> String {
        format!("http://{}:{}", connect_host(&self.host), self.port)
    }

    pub fn lms(&self) -> &LmsClient {
        &self.lms
    }

    /// The in-process sandbox LMS when `lms.mode = sandbox` (tests drive its clock and faults).
    pub fn sandbox_lms(&self) -> Option<&SandboxLms> {
        self.sandbox_lms.as_ref()
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// A wildcard bind address is not something to connect to; loopback is.
fn connect_host(host: &str) -> &str {
    match host {
        "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        other => other,
    }
}

fn spawn_token_rotation(lms: &LmsClient, every: Duration) {
    if every.is_zero() {
        return;
    }
    let tokens = lms.tokens().clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(error) = tokens.rotate().await {
                tracing::warn!(%error, "scheduled LMS token rotation failed; proactive refresh still applies");
            }
        }
    });
}
