//! Logging in one place: readable lines locally, one JSON object per line in production, `RUST_LOG`
//! overriding the configured filter. Nothing here ever formats a token, a password or raw USSD input;
//! [`redact_digits`] masks phone-number-like digit runs in text that came from outside.

use std::sync::OnceLock;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;

use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};

use crate::config::{LogFormat, TelemetrySettings};
use crate::domain::msisdn::mask_digits;

const QUIET_MIDDLEWARE: &str = "tracing_actix_web::middleware=off";

/// Keeps the log writer's thread running; dropping it (at the end of `main`) writes out what is queued.
#[must_use = "dropping the guard stops the log writer: keep it until the process ends"]
pub struct LogGuard {
    _worker: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Installs the global subscriber once; later calls (tests building many apps) are no-ops.
///
/// Lines are formatted on the calling thread and written by a writer thread that drains its queue in
/// batches (one `write` for many lines): a line-buffered stdout cost a syscall per line on the
/// USSD workers, a fifth of a hop at `info`. Nothing is dropped: a full queue makes callers wait.
pub fn init(settings: &TelemetrySettings) -> LogGuard {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    let mut guard = None;
    INSTALLED.get_or_init(|| {
        let filter = EnvFilter::try_from_default_env()
            .or_else(|_| EnvFilter::try_new(&settings.filter))
            .unwrap_or_else(|_| EnvFilter::new("info"))
            // The middleware logs every handler error's Debug text, which can quote a response body
            // holding an MSISDN (the LMS's "Customer with externalId ... does not exist"). The root span
            // already logs the status of every failed request, so its own lines are switched off.
            .add_directive(QUIET_MIDDLEWARE.parse().expect("a valid directive"));
        let (writer, worker) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(false)
            .thread_name("mkopo-log")
            .finish(std::io::BufWriter::new(std::io::stdout()));
        guard = Some(worker);
        let registry = tracing_subscriber::registry().with(filter);
        let installed = match settings.format {
            LogFormat::Json => {
                // Every span from the request's root down (`http` with its request id, `ussd`, `lms`), so
                // a line can be tied to its request and subscriber session without repeating fields.
                let layer = fmt::layer().json().with_current_span(false).with_span_list(true);
                registry.with(layer.with_writer(writer)).try_init()
            }
            LogFormat::Pretty => {
                // Colours only for a person at a terminal: piped into a file or a collector, escape codes
                // are noise in every line.
                let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
                registry.with(fmt::layer().with_target(false).with_ansi(ansi).with_writer(writer)).try_init()
            }
        };
        // Another subscriber may already be installed (a test harness); keeping it is fine.
        let _ = installed;
    });
    LogGuard { _worker: guard }
}

/// Masks every run of 9 or more digits, the shape of an MSISDN, in free text from outside parties.
pub fn redact_digits(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 9 {
            out.push_str(&mask_digits(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The root span of every HTTP request. It names the matched route pattern, never the concrete path or
/// query, because those can carry MSISDNs (`/v1/customers/external/2557...`).
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let span = tracing::info_span!(
            "http",
            method = %request.method(),
            route = tracing::field::Empty,
            request_id = %uuid::Uuid::new_v4(),
            status = tracing::field::Empty,
        );
        // Matching the route pattern walks the router again: only for a span someone will see.
        if !span.is_disabled() {
            span.record("route", request.match_pattern().as_deref().unwrap_or("unmatched"));
        }
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        let status = match outcome {
            Ok(response) => response.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        span.record("status", status);
        span.in_scope(|| {
            if status >= 500 {
                tracing::warn!(status, "request failed");
            } else {
                tracing::debug!(status, "request done");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_digit_runs_are_masked_and_short_ones_kept() {
        assert_eq!(
            redact_digits("Customer 255712345678 owes 11100 since 2026-05-25"),
            "Customer 25571****678 owes 11100 since 2026-05-25"
        );
        assert_eq!(redact_digits("id 42"), "id 42");
        assert_eq!(redact_digits("255712345678"), "25571****678");
    }
}
