//! Building the whole service from settings. `main` and the tests call the same [`Application::build`];
//! tests pass port 0 and read the bound port back.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use std::collections::BTreeMap;
use std::sync::Arc;

use secrecy::ExposeSecret;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{LmsMode, ReadinessSettings, Settings};
use crate::domain::clock::Clock;
use crate::domain::netguard::{AllowList, TrustedProxies};
use crate::health::Liveness;
use crate::lms::{LmsClient, LmsClientConfig};
use crate::metrics::Metrics;
use crate::momo::daraja::callbacks::CallbackRules;
use crate::momo::daraja::client::DarajaClient;
use crate::momo::daraja::wallet::DarajaWallet;
use crate::momo::generic::GenericWalletClient;
use crate::momo::service::MoneyService;
use crate::momo::store::{MemoryMoneyStore, RedisMoneyStore, SharedMoneyStore};
use crate::momo::tasks;
use crate::momo::wallet::WalletApi;
use crate::routes::{self, admin::Admin, callbacks::CallbackWallet, callbacks::Callbacks, daraja::DarajaCallbacks};
use crate::sandbox::lms::SandboxLms;
use crate::sandbox::wallet::SandboxWallet;
use crate::store::{self, SharedStore};
use crate::telemetry::RequestSpan;

/// Shared by every handler.
pub struct AppState {
    pub store: SharedStore,
    pub lms: LmsClient,
    /// The background tasks' heartbeats, for `/readyz`.
    pub liveness: Liveness,
    pub readiness: ReadinessSettings,
}

pub struct Application {
    port: u16,
    host: String,
    server: Server,
    lms: LmsClient,
    money: MoneyService,
    sandbox_lms: Option<SandboxLms>,
    sandbox_wallet: Option<SandboxWallet>,
    shutdown: watch::Sender<bool>,
    background: Vec<JoinHandle<()>>,
    shutdown_timeout: Duration,
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
        let metrics = Metrics::new();
        let mut lms_config = LmsClientConfig::from_settings(&settings.lms, auth_base, api_base);
        lms_config.metrics = metrics.clone();
        let lms = LmsClient::new(lms_config, Clock::system()).context("building the LMS client")?;
        spawn_token_rotation(&lms, settings.lms.token_rotation_interval);

        let base = format!("http://{}:{port}", connect_host(&host));
        let money = build_money(&settings, &lms, &base, &metrics).await?;
        let sandbox_wallet = if settings.wallets.uses_sandbox() {
            let callback_url = format!("{base}/v1/callbacks/sandbox");
            Some(
                SandboxWallet::new(&settings.sandbox.wallet, callback_url)
                    .map_err(|e| anyhow::anyhow!("sandbox wallet settings: {e}"))?,
            )
        } else {
            None
        };
        let callbacks = Arc::new(Callbacks { wallets: callback_wallets(&settings)?, money: money.clone() });
        let admin = Arc::new(Admin { token: settings.admin.token.clone(), money: money.clone() });
        let (proxies_key, _) = settings.trusted_proxies();
        if proxies_key != "server.trusted_proxies" {
            tracing::warn!(
                "ussd.trusted_proxies has moved to server.trusted_proxies; it is still read, please rename it"
            );
        }
        let proxies = settings.parsed_trusted_proxies().map_err(|bad| anyhow::anyhow!(bad.join("; ")))?;
        let daraja = match &settings.wallets.daraja {
            Some(d) => Some(Arc::new(DarajaCallbacks {
                path_token: d.path_token.clone(),
                allowed: AllowList::parse("wallets.daraja.allowed_ips", &d.allowed_ips)
                    .map_err(|bad| anyhow::anyhow!(bad.join("; ")))?,
                proxies: proxies.clone(),
                rules: CallbackRules::from_settings(d).map_err(|e| anyhow::anyhow!("wallets.daraja: {e}"))?,
                money: money.clone(),
            })),
            None => None,
        };

        let ussd = Arc::new(build_ussd(&settings, &proxies, store.clone(), &lms, &money, &metrics)?);
        let providers = settings.wallets.generic.keys().map(String::as_str);
        let providers = providers.chain(settings.wallets.daraja.as_ref().map(|_| "daraja"));
        metrics.prime(ussd.dialects.values().map(|(d, _)| d.name()), providers);
        metrics.prime_products(&settings.lms.product_ids);
        let liveness = Liveness::default();
        let scrape = settings.metrics.enabled.then(|| {
            Arc::new(routes::metrics::MetricsRoute {
                metrics: metrics.clone(),
                money: money.clone(),
                sessions: ussd.sessions.clone(),
                liveness: liveness.clone(),
                token: settings.metrics.token.clone(),
            })
        });
        let state = web::Data::new(AppState {
            store,
            lms: lms.clone(),
            liveness: liveness.clone(),
            readiness: settings.readiness.clone(),
        });
        let sandbox = sandbox_lms.clone();
        let wallet = sandbox_wallet.clone();
        let simulator = settings.simulator.enabled;
        let mut server = HttpServer::new(move || {
            let callbacks = callbacks.clone();
            let admin = admin.clone();
            let daraja = daraja.clone();
            let ussd = ussd.clone();
            let scrape = scrape.clone();
            let mut app = App::new()
                .wrap(TracingLogger::<RequestSpan>::new())
                .app_data(state.clone())
                // The router tries resources in order, and each `{pattern}` it passes costs a regex
                // match: the USSD hops, the hottest route, come first.
                .configure(move |cfg| routes::ussd::configure(cfg, ussd))
                .configure(routes::health::configure)
                .configure(move |cfg| routes::callbacks::configure(cfg, callbacks))
                .configure(move |cfg| routes::admin::configure(cfg, admin));
            if let Some(daraja) = daraja {
                app = app.configure(move |cfg| routes::daraja::configure(cfg, daraja));
            }
            if let Some(scrape) = scrape {
                app = app.configure(move |cfg| routes::metrics::configure(cfg, scrape));
            }
            if simulator {
                app = app.configure(routes::simulator::configure);
            }
            if let Some(lms) = &sandbox {
                app = app.service(crate::sandbox::lms::scope("/sandbox/lms", lms.clone()));
            }
            if let Some(wallet) = &wallet {
                app = app.service(crate::sandbox::wallet::scope("/sandbox/wallet", wallet.clone()));
            }
            app
        })
        .listen(listener)
        .context("starting the HTTP server")?
        .shutdown_timeout(settings.server.shutdown_timeout.as_secs().max(1));
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let (shutdown, stop) = watch::channel(false);
        let background = tasks::spawn(&money, &liveness, settings.readiness.worker_stall_margin, stop);
        Ok(Self {
            port,
            host,
            server: server.run(),
            lms,
            money,
            sandbox_lms,
            sandbox_wallet,
            shutdown,
            background,
            shutdown_timeout: settings.server.shutdown_timeout,
        })
    }

    /// The money machinery (store, workers' LMS client, wallet) this application runs.
    pub fn money(&self) -> &MoneyService {
        &self.money
    }

    /// The in-process sandbox wallet when the default wallet is the local sandbox.
    pub fn sandbox_wallet(&self) -> Option<&SandboxWallet> {
        self.sandbox_wallet.as_ref()
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

    /// Serves until the server is stopped (SIGTERM, SIGINT or a handle), then stops the workers: each
    /// finishes the entry in hand; anything unacknowledged stays pending in Redis for the next start.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        let _ = self.shutdown.send(true);
        let wait = futures::future::join_all(self.background);
        if tokio::time::timeout(self.shutdown_timeout, wait).await.is_err() {
            tracing::warn!("background workers did not stop in time; their entries will be reclaimed");
        }
        served
    }
}

/// Loads and checks the menus, and assembles the USSD routes' shared state.
fn build_ussd(
    settings: &Settings,
    proxies: &TrustedProxies,
    store: SharedStore,
    lms: &LmsClient,
    money: &MoneyService,
    metrics: &Metrics,
) -> anyhow::Result<routes::ussd::UssdGateway> {
    let u = &settings.ussd;
    let budget = u.screen.strictest();
    let dir = (!u.menus_dir.trim().is_empty()).then(|| std::path::Path::new(u.menus_dir.trim()));
    let menu =
        crate::menu::Menu::load(dir, &u.languages, u.nav.clone(), u.formats(), budget).context("loading the menus")?;
    for missing in menu.untranslated_products(&settings.lms.product_ids) {
        tracing::warn!("{missing}");
    }
    let sessions = crate::session::Sessions::new(store, u.session_ttl, u.resume_window);
    let settings_arc = Arc::new(u.clone());
    let journeys = crate::journeys::Journeys::new(lms.clone(), money.clone(), sessions.clone(), settings_arc.clone());
    let dialects = routes::ussd::UssdGateway::dialect_routes(u, proxies)
        .map_err(|problems| anyhow::anyhow!("USSD dialect settings: {}", problems.join("; ")))?;
    Ok(routes::ussd::UssdGateway {
        menu: Arc::new(menu),
        journeys,
        sessions,
        settings: settings_arc,
        dialects,
        metrics: metrics.clone(),
    })
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

async fn build_money(
    settings: &Settings,
    lms: &LmsClient,
    base: &str,
    metrics: &Metrics,
) -> anyhow::Result<MoneyService> {
    let redis_url = settings.redis.url.as_ref().map(|u| u.expose_secret().trim().to_owned()).filter(|u| !u.is_empty());
    let store: SharedMoneyStore = match redis_url {
        Some(url) => Arc::new(
            RedisMoneyStore::connect_with(
                &url,
                &settings.redis.key_prefix,
                crate::store::RedisOptions::from_settings(&settings.redis),
            )
            .await
            .context("connecting the money store (Redis)")?,
        ),
        None => {
            tracing::warn!("money store is in memory: callbacks, payouts and repayments are NOT durable (local only)");
            Arc::new(MemoryMoneyStore::new())
        }
    };
    let name = settings.wallets.default.clone();
    let wallet: Arc<dyn WalletApi> = match (&settings.wallets.daraja, name.as_str()) {
        (Some(daraja), "daraja") => Arc::new(DarajaWallet::new(
            DarajaClient::new(daraja, Clock::system()).map_err(|e| anyhow::anyhow!("wallets.daraja: {e}"))?,
            store.clone(),
        )),
        _ => {
            let mut wallet_settings =
                settings.wallets.generic.get(&name).cloned().context("wallets.default names no wallet")?;
            if settings.wallets.uses_sandbox() {
                wallet_settings.base_url = format!("{base}/sandbox/wallet");
            }
            Arc::new(GenericWalletClient::new(name, &wallet_settings).context("building the wallet client")?)
        }
    };
    Ok(MoneyService {
        store,
        lms: lms.for_workers(),
        wallet,
        settings: Arc::new(settings.money.clone()),
        clock: Clock::system(),
        metrics: metrics.clone(),
    })
}

fn callback_wallets(settings: &Settings) -> anyhow::Result<BTreeMap<String, CallbackWallet>> {
    settings
        .wallets
        .generic
        .iter()
        .map(|(name, wallet)| {
            let secrets =
                wallet.secrets().map_err(|e| anyhow::anyhow!("wallets.generic.{name}.webhook_secrets: {e}"))?;
            Ok((
                name.clone(),
                CallbackWallet {
                    secrets,
                    tolerance_secs: wallet.tolerance_secs(),
                    country_code: wallet.country_code.clone(),
                },
            ))
        })
        .collect()
}
