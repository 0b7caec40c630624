//! Prometheus metrics: one [`Metrics`] per application, handed to every part that counts something
//! (USSD hops, the LMS client, callbacks, the disbursement saga), and the scrape-time gauges (inbox,
//! timers, sagas, operators' lists, live sessions) read from the stores by [`scrape`] when
//! `GET /metrics` is asked.
//!
//! A registry per application, not a global one, so the many apps a test process builds never mix
//! their numbers. Label values are bounded by construction: dialect names, menu node ids, LMS endpoint
//! templates, provider names from config and fixed verdict words; never an MSISDN, a reference or a
//! concrete path.

mod lending;
mod scrape;

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

pub use scrape::{scrape, ScrapeSources};

/// The `outcome` label of `mkopo_ussd_hops_total`.
pub const HOP_OUTCOMES: [&str; 8] = ["ok", "replay", "notice", "timeout", "error", "stale", "refused", "invalid"];
/// The `verdict` label of `mkopo_callbacks_total`.
pub const CALLBACK_VERDICTS: [&str; 5] = ["accepted", "duplicate", "refused", "invalid", "unavailable"];

/// Latency buckets in seconds: sub-millisecond hops up to the aggregator deadline and past it.
const LATENCY_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

type Latency = Family<HopLabels, Histogram, fn() -> Histogram>;
type LmsLatency = Family<LmsLabels, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HopLabels {
    pub dialect: &'static str,
    /// The menu node shown, or the system message (`msg-timeout`, `msg-error`, ...), or `replay`.
    pub screen: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HopOutcomeLabels {
    pub dialect: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LmsLabels {
    /// The route template, e.g. `GET /v1/loans/external/{id}`.
    pub endpoint: &'static str,
    /// The HTTP status, or `timeout` / `transport` when no answer came.
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallbackLabels {
    pub provider: String,
    pub verdict: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabels {
    pub phase: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListLabels {
    pub list: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// Every metric of one application. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    hop_seconds: Latency,
    hops: Family<HopOutcomeLabels, Counter>,
    screens_truncated: Family<HopLabels, Counter>,
    lms_seconds: LmsLatency,
    lms_errors: Family<LmsLabels, Counter>,
    token_refreshes: Family<OutcomeLabels, Counter>,
    callbacks: Family<CallbackLabels, Counter>,
    sagas_finished: Family<PhaseLabels, Counter>,
    lending: lending::Lending,
    gauges: scrape::Gauges,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("mkopo");
        let hop_seconds = Latency::new_with_constructor(latency_histogram as fn() -> Histogram);
        let hops = Family::default();
        let screens_truncated = Family::default();
        let lms_seconds = LmsLatency::new_with_constructor(latency_histogram as fn() -> Histogram);
        let lms_errors = Family::default();
        let token_refreshes = Family::default();
        let callbacks = Family::default();
        let sagas_finished = Family::default();
        registry.register(
            "ussd_hop_duration_seconds",
            "Time from receiving a USSD hop to having its reply, by dialect and screen shown",
            hop_seconds.clone(),
        );
        registry.register(
            "ussd_hops",
            "USSD hops answered, by dialect and outcome (ok, replay, notice, timeout, error, stale, refused)",
            hops.clone(),
        );
        registry.register(
            "ussd_screens_truncated",
            "Screens the renderer had to cut to fit the operator's budget (fix the menu text)",
            screens_truncated.clone(),
        );
        registry.register(
            "lms_request_duration_seconds",
            "LMS HTTP attempts, by endpoint template and HTTP status (or timeout/transport)",
            lms_seconds.clone(),
        );
        registry.register(
            "lms_errors",
            "LMS attempts that failed, by endpoint template and code (HTTP status, timeout, transport)",
            lms_errors.clone(),
        );
        registry.register(
            "lms_token_refreshes",
            "LMS bearer tokens fetched, by outcome (ok, error)",
            token_refreshes.clone(),
        );
        registry.register(
            "callbacks",
            "Wallet callbacks received, by provider and verdict (accepted, duplicate, refused, invalid, unavailable)",
            callbacks.clone(),
        );
        registry.register(
            "sagas_finished",
            "Disbursement sagas that reached a terminal phase, by phase",
            sagas_finished.clone(),
        );
        registry.register("build", "The running build", Info::new(BuildLabels { version: env!("CARGO_PKG_VERSION") }));
        let lending = lending::Lending::register(&mut registry);
        let gauges = scrape::Gauges::register(&mut registry);
        Self(Arc::new(Inner {
            registry,
            hop_seconds,
            hops,
            screens_truncated,
            lms_seconds,
            lms_errors,
            token_refreshes,
            callbacks,
            sagas_finished,
            lending,
            gauges,
        }))
    }

    /// Creates the zero series operators alert on, so `rate()` has something to read before the first
    /// event: every hop outcome of each enabled dialect, every callback verdict of each provider, both
    /// token refresh outcomes and every terminal saga phase.
    pub fn prime<'a>(
        &self,
        dialects: impl IntoIterator<Item = &'static str>,
        providers: impl IntoIterator<Item = &'a str>,
    ) {
        for dialect in dialects {
            for outcome in HOP_OUTCOMES {
                self.0.hops.get_or_create(&HopOutcomeLabels { dialect, outcome }).inc_by(0);
            }
        }
        for provider in providers {
            for verdict in CALLBACK_VERDICTS {
                self.0.callbacks.get_or_create(&CallbackLabels { provider: provider.to_owned(), verdict }).inc_by(0);
            }
        }
        for outcome in ["ok", "error"] {
            self.0.token_refreshes.get_or_create(&OutcomeLabels { outcome }).inc_by(0);
        }
        for phase in crate::momo::saga::Phase::ALL.into_iter().filter(|p| p.is_terminal()) {
            self.0.sagas_finished.get_or_create(&PhaseLabels { phase: phase.name() }).inc_by(0);
        }
    }

    /// One answered USSD hop.
    pub fn hop(&self, dialect: &'static str, screen: impl Into<String>, outcome: &'static str, elapsed: Duration) {
        let labels = HopLabels { dialect, screen: screen.into() };
        self.0.hop_seconds.get_or_create(&labels).observe(elapsed.as_secs_f64());
        self.hop_outcome(dialect, outcome);
    }

    /// A hop answered without a screen (a notification acknowledged, a request refused).
    pub fn hop_outcome(&self, dialect: &'static str, outcome: &'static str) {
        self.0.hops.get_or_create(&HopOutcomeLabels { dialect, outcome }).inc();
    }

    pub fn screen_truncated(&self, dialect: &'static str, screen: &str) {
        self.0.screens_truncated.get_or_create(&HopLabels { dialect, screen: screen.to_owned() }).inc();
    }

    /// One LMS HTTP attempt; `code` is the status or `timeout` / `transport`.
    pub fn lms_attempt(&self, endpoint: &'static str, code: &str, ok: bool, elapsed: Duration) {
        let labels = LmsLabels { endpoint, code: code.to_owned() };
        self.0.lms_seconds.get_or_create(&labels).observe(elapsed.as_secs_f64());
        if !ok {
            self.0.lms_errors.get_or_create(&labels).inc();
        }
    }

    pub fn token_refresh(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        self.0.token_refreshes.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    pub fn callback(&self, provider: &str, verdict: &'static str) {
        self.0.callbacks.get_or_create(&CallbackLabels { provider: provider.to_owned(), verdict }).inc();
    }

    pub fn saga_finished(&self, phase: &'static str) {
        self.0.sagas_finished.get_or_create(&PhaseLabels { phase }).inc();
    }

    fn gauges(&self) -> &scrape::Gauges {
        &self.0.gauges
    }

    /// The registry in Prometheus text format (0.0.4).
    pub fn encode(&self) -> String {
        let mut text = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.0.registry);
        text
    }
}

/// The `Content-Type` of [`Metrics::encode`].
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_are_encoded_with_their_labels() {
        let metrics = Metrics::new();
        metrics.hop("beem", "home", "ok", Duration::from_millis(3));
        metrics.hop_outcome("beem", "notice");
        metrics.lms_attempt("GET /v1/loan-products", "503", false, Duration::from_millis(40));
        metrics.callback("sandbox", "duplicate");
        metrics.token_refresh(true);
        let text = metrics.encode();
        assert!(text.contains(r#"mkopo_ussd_hop_duration_seconds_bucket{dialect="beem",screen="home",le="0.005"} 1"#));
        assert!(text.contains(r#"mkopo_ussd_hop_duration_seconds_bucket{dialect="beem",screen="home",le="0.0025"} 0"#));
        assert!(text.contains(r#"mkopo_ussd_hops_total{dialect="beem",outcome="ok"} 1"#));
        assert!(text.contains(r#"mkopo_ussd_hops_total{dialect="beem",outcome="notice"} 1"#));
        assert!(text.contains(r#"mkopo_lms_errors_total{endpoint="GET /v1/loan-products",code="503"} 1"#));
        assert!(text.contains(r#"mkopo_callbacks_total{provider="sandbox",verdict="duplicate"} 1"#));
        assert!(text.contains(r#"mkopo_lms_token_refreshes_total{outcome="ok"} 1"#));
        assert!(text.contains("mkopo_build_info{version="));
    }

    #[test]
    fn a_successful_lms_attempt_is_timed_but_not_an_error() {
        let metrics = Metrics::new();
        metrics.lms_attempt("GET /v1/loan-products", "200", true, Duration::from_millis(2));
        let text = metrics.encode();
        assert!(
            text.contains(r#"mkopo_lms_request_duration_seconds_count{endpoint="GET /v1/loan-products",code="200"} 1"#)
        );
        assert!(!text.contains("mkopo_lms_errors_total{"));
    }

    #[test]
    fn primed_series_exist_at_zero_before_any_event() {
        let metrics = Metrics::new();
        metrics.prime(["hubtel"], ["halopesa"]);
        let text = metrics.encode();
        for outcome in HOP_OUTCOMES {
            assert!(text.contains(&format!("mkopo_ussd_hops_total{{dialect=\"hubtel\",outcome=\"{outcome}\"}} 0")));
        }
        for verdict in CALLBACK_VERDICTS {
            assert!(text.contains(&format!("mkopo_callbacks_total{{provider=\"halopesa\",verdict=\"{verdict}\"}} 0")));
        }
        assert!(text.contains(r#"mkopo_lms_token_refreshes_total{outcome="error"} 0"#));
        assert!(text.contains(r#"mkopo_sagas_finished_total{phase="rollback_blocked"} 0"#));
    }

    #[test]
    fn two_applications_keep_separate_numbers() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.callback("sandbox", "accepted");
        assert!(a.encode().contains(r#"mkopo_callbacks_total{provider="sandbox",verdict="accepted"} 1"#));
        assert!(!b.encode().contains(r#"provider="sandbox""#));
    }
}
