//! The aggregator callbacks (docs/ussd.md): `POST /ussd/{africastalking,beem,hubtel}` (plus
//! `/{path_token}` when one is configured; AT also by `GET` under `accept_get`) and Africa's Talking's
//! `/events`. Each hop: authenticate, parse, take the request's lease (reading the session), derive (duplicate? notification?), run
//! one menu turn under the hop deadline, store state and the cached reply, render. Once a body has parsed,
//! every failure is a 200 `END` screen, never a 5xx (R4).

mod turn;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures::FutureExt;
use secrecy::ExposeSecret;
use tracing::Instrument;

use crate::config::UssdSettings;
use crate::domain::netguard::TrustedProxies;
use crate::journeys::Journeys;
use crate::menu::Menu;
use crate::metrics::Metrics;
use crate::session::{SessionKey, Sessions};
use crate::ussd::guard::{AccessSettings, Guard, GuardInput};
use crate::ussd::{parse_africastalking_event, Dialect, DialectCfg, Inbound, ScreenBudget, ServiceCode, UssdReply};

/// One enabled dialect: its parsing settings and its access guard.
pub struct DialectRoute {
    pub cfg: DialectCfg,
    pub guard: Guard,
}

/// Everything the USSD routes share.
pub struct UssdGateway {
    pub menu: Arc<Menu>,
    pub journeys: Journeys,
    pub sessions: Sessions,
    pub settings: Arc<UssdSettings>,
    pub dialects: BTreeMap<&'static str, (Dialect, DialectRoute)>,
    pub metrics: Metrics,
}

const ALL: [Dialect; 3] = [Dialect::AfricasTalking, Dialect::Beem, Dialect::Hubtel];

impl UssdGateway {
    /// The enabled dialects with their guards; every configuration problem at once.
    pub fn dialect_routes(
        settings: &UssdSettings,
        proxies: &TrustedProxies,
    ) -> Result<BTreeMap<&'static str, (Dialect, DialectRoute)>, Vec<String>> {
        let mut routes = BTreeMap::new();
        let mut problems = Vec::new();
        for dialect in ALL {
            let Some(d) = settings.dialects.get(dialect.name()) else { continue };
            problems.extend(d.misplaced_keys(dialect.name()));
            if !d.enabled {
                continue;
            }
            let access = AccessSettings {
                path_token: d.path_token.clone(),
                ip_allow: d.ip_allow.clone(),
                basic_auth: d.basic_auth.clone(),
            };
            let guard = match Guard::new(&access, proxies) {
                Ok(g) => g,
                Err(e) => {
                    problems.extend(e.problems.iter().map(|p| format!("ussd.dialects.{}.{p}", dialect.name())));
                    continue;
                }
            };
            let cc = if d.country_code.is_empty() { &settings.country_code } else { &d.country_code };
            let mut cfg = DialectCfg::new(cc, settings.path_mac_key.expose_secret().as_bytes().to_vec());
            cfg.base_codes = d.base_codes.iter().filter_map(|c| ServiceCode::parse(c)).collect();
            cfg.max_body_bytes = settings.max_body_bytes;
            // The dialect-only switches (docs/ussd.md); set under another dialect they are refused above.
            match dialect {
                Dialect::AfricasTalking => {
                    cfg.at_accept_get = d.accept_get.unwrap_or(false);
                    cfg.at_hop_metadata = d.hop_metadata.unwrap_or(false);
                }
                Dialect::Beem => cfg.beem_request_id_echo = d.request_id_echo.unwrap_or(true),
                Dialect::Hubtel => cfg.hubtel_accept_camel_case = d.accept_camel_case.unwrap_or(true),
            }
            routes.insert(dialect.name(), (dialect, DialectRoute { cfg, guard }));
        }
        if problems.is_empty() {
            Ok(routes)
        } else {
            Err(problems)
        }
    }

    /// The screen budget for the subscriber's operator (`ussd.screen.operators.<network>`).
    fn budget(&self, network: Option<&str>) -> ScreenBudget {
        let screen = &self.settings.screen;
        let gsm7 = network.and_then(|n| screen.operators.get(n)).copied().unwrap_or(screen.budget);
        ScreenBudget { gsm7, ucs2: screen.ucs2_budget }
    }
}

/// The dialect a static route serves. Each enabled dialect's `/ussd/<name>` is a plain path, matched by
/// string comparison; the `{dialect}` pattern (token routes, disabled dialects) costs a regex match,
/// about a per cent of a hop.
#[derive(Clone, Copy)]
struct Named(&'static str);

/// The dialect path segment: the static route's name, or the pattern's `{dialect}`.
fn dialect_segment(req: &HttpRequest) -> &str {
    req.app_data::<Named>().map(|n| n.0).or_else(|| req.match_info().get("dialect")).unwrap_or_default()
}

pub fn configure(cfg: &mut web::ServiceConfig, gateway: Arc<UssdGateway>) {
    let limit = gateway.settings.max_body_bytes + 1024;
    let enabled: Vec<&'static str> = gateway.dialects.keys().copied().collect();
    cfg.app_data(web::Data::from(gateway))
        .app_data(web::PayloadConfig::new(limit))
        .service(web::resource("/ussd/africastalking/events").route(web::post().to(at_events)))
        .service(web::resource("/ussd/africastalking/{token}/events").route(web::post().to(at_events)));
    for name in enabled {
        cfg.service(
            web::resource(format!("/ussd/{name}"))
                .app_data(Named(name))
                .route(web::post().to(hop))
                .route(web::get().to(hop_get)),
        );
    }
    cfg.service(web::resource("/ussd/{dialect}").route(web::post().to(hop)).route(web::get().to(hop_get)))
        .service(web::resource("/ussd/{dialect}/{token}").route(web::post().to(hop)).route(web::get().to(hop_get)));
}

fn guard_input<'a>(req: &'a HttpRequest, token: Option<&'a str>, forwarded_for: Option<&'a str>) -> GuardInput<'a> {
    GuardInput {
        path_token: token,
        peer: req.peer_addr().map(|a| a.ip()),
        forwarded_for,
        authorization: req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()),
    }
}

fn empty(status: u16) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST)).finish()
}

/// The body's content type. A GET's body is its query string, form-encoded by definition (only AT's
/// `accept_get` lets a GET through to the parser).
fn content_type(req: &HttpRequest) -> Option<&str> {
    if req.method() == actix_web::http::Method::GET {
        return Some("application/x-www-form-urlencoded");
    }
    req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
}

/// Authenticates the route and parses the body, or answers with the R4 status and an empty body.
fn admit<'g>(
    gateway: &'g UssdGateway,
    req: &HttpRequest,
    dialect_name: &str,
    token: Option<&str>,
    body: &[u8],
    events: bool,
) -> Result<(Dialect, &'g DialectRoute, Inbound), Box<HttpResponse>> {
    let Some((dialect, route)) = gateway.dialects.get(dialect_name) else { return Err(Box::new(empty(404))) };
    let forwarded_for = super::forwarded_for(req);
    if let Err(refusal) = route.guard.check(&guard_input(req, token, forwarded_for.as_deref())) {
        tracing::warn!(dialect = dialect.name(), %refusal, "USSD callback refused");
        gateway.metrics.hop_outcome(dialect.name(), "refused");
        let mut response = empty(refusal.status());
        if let Some(challenge) = refusal.challenge() {
            if let Ok(value) = header::HeaderValue::from_str(challenge) {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
            }
        }
        return Err(Box::new(response));
    }
    let parsed = if events {
        parse_africastalking_event(body, content_type(req), &route.cfg)
    } else {
        dialect.parse(body, content_type(req), &route.cfg)
    };
    match parsed {
        Ok(inbound) => Ok((*dialect, route, inbound)),
        // The message names the problem (field, limit), never the input, so integrators can fix their side.
        Err(error) => {
            tracing::info!(dialect = dialect.name(), %error, "USSD body refused");
            gateway.metrics.hop_outcome(dialect.name(), "invalid");
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
            Err(Box::new(HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(error.to_string())))
        }
    }
}

/// A body actix could not read (over the payload limit): 413 like the parser's own limit.
fn unreadable(error: &actix_web::Error) -> HttpResponse {
    tracing::info!(%error, "USSD body unreadable");
    HttpResponse::PayloadTooLarge()
        .content_type("text/plain; charset=utf-8")
        .body("the body is over the configured limit")
}

async fn hop(gateway: web::Data<UssdGateway>, req: HttpRequest, body: Result<Bytes, actix_web::Error>) -> HttpResponse {
    let started = Instant::now();
    let name = dialect_segment(&req);
    let body = match body {
        Ok(body) => body,
        Err(error) => {
            if let Some((dialect, _)) = gateway.dialects.get(name) {
                gateway.metrics.hop_outcome(dialect.name(), "invalid");
            }
            return unreadable(&error);
        }
    };
    let (dialect, route, inbound) = match admit(&gateway, &req, name, req.match_info().get("token"), &body, false) {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    // Every line this hop logs (LMS calls, tasks, store errors) carries these fields; the number is
    // masked by its Display, the input is never a field.
    let span = tracing::info_span!(
        "ussd",
        dialect = dialect.name(),
        msisdn = %inbound.msisdn,
        session_id = %inbound.session_id,
    );
    let turn = std::panic::AssertUnwindSafe(gateway.process(dialect, route, &inbound, started)).catch_unwind();
    let outcome = turn.instrument(span).await;
    let outcome = outcome.unwrap_or_else(|_| {
        tracing::error!(dialect = dialect.name(), "a USSD turn panicked; answering with the error screen");
        let lang = gateway.menu.catalog().default_language();
        let screen = gateway.menu.message_screen(lang, "msg-error", &Default::default());
        turn::Outcome::Reply { hop: 1, reply: UssdReply::end(screen.text), shown: turn::Shown::system("msg-error") }
    });
    let mut metadata = None;
    let (content, bytes) = match outcome {
        turn::Outcome::Reply { hop, reply, shown } => {
            let rendered = dialect.render(&inbound, hop, &reply);
            // AT's hop metadata names the node shown; a replay does not know its node and goes without.
            if route.cfg.at_hop_metadata && !shown.replayed {
                metadata = crate::ussd::dialect::at_hop_metadata(&shown.screen)
                    .and_then(|node| header::HeaderValue::from_str(node).ok());
            }
            if shown.truncated {
                gateway.metrics.screen_truncated(dialect.name(), &shown.screen);
            }
            let outcome = shown.outcome();
            gateway.metrics.hop(dialect.name(), shown.screen, outcome, started.elapsed());
            rendered
        }
        turn::Outcome::Ack { hop } => {
            gateway.metrics.hop_outcome(dialect.name(), "notice");
            dialect.ack(&inbound, hop)
        }
    };
    let mut response = HttpResponse::Ok();
    if let Some(value) = metadata {
        response.insert_header((crate::ussd::dialect::AT_HOP_METADATA_HEADER, value));
    }
    response.content_type(content).body(bytes)
}

/// `GET /ussd/africastalking?sessionId=…` when `africastalking.accept_get` is on (some emulators send only
/// GET): the query string is the hop's form body and the hop runs exactly as a POST. Otherwise, and on
/// the other dialects, 405 with `Allow: POST`, as actix answers for a method no route takes.
async fn hop_get(gateway: web::Data<UssdGateway>, req: HttpRequest) -> HttpResponse {
    let name = dialect_segment(&req);
    if !gateway.dialects.get(name).is_some_and(|(_, route)| route.cfg.at_accept_get) {
        return HttpResponse::MethodNotAllowed().insert_header((header::ALLOW, "POST")).finish();
    }
    let query = Bytes::copy_from_slice(req.query_string().as_bytes());
    hop(gateway, req, Ok(query)).await
}

/// Africa's Talking end-of-session notification: forget the session, acknowledge (R9). Never a turn.
async fn at_events(
    gateway: web::Data<UssdGateway>,
    req: HttpRequest,
    body: Result<Bytes, actix_web::Error>,
) -> HttpResponse {
    let body = match body {
        Ok(body) => body,
        Err(error) => return unreadable(&error),
    };
    let (dialect, _, inbound) =
        match admit(&gateway, &req, "africastalking", req.match_info().get("token"), &body, true) {
            Ok(admitted) => admitted,
            Err(response) => return *response,
        };
    let key = SessionKey::new(dialect, &inbound.msisdn, &inbound.session_id);
    if let crate::ussd::Signal::AtEnd(notice) = &inbound.signal {
        tracing::info!(
            dialect = dialect.name(),
            msisdn = %inbound.msisdn,
            session_id = %inbound.session_id,
            reason = ?notice.reason,
            status_known = notice.status_known,
            hops = notice.hops_count,
            duration_ms = notice.duration_ms,
            "USSD session ended"
        );
    }
    let completed =
        matches!(&inbound.signal, crate::ussd::Signal::AtEnd(n) if n.reason == crate::ussd::EndReason::Completed);
    if let Err(error) = gateway.ended_by_provider(&key, &inbound.msisdn, None, completed).await {
        tracing::warn!(%error, "could not delete an ended USSD session; its TTL will");
    }
    gateway.metrics.hop_outcome(dialect.name(), "notice");
    let (content, bytes) = dialect.ack(&inbound, 0);
    HttpResponse::Ok().content_type(content).body(bytes)
}
