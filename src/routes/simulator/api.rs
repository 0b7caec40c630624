//! The page's JSON API under `/simulator/api`. Every refusal is a `{code, message}` body; messages name
//! the problem, never a number or an input, and logs carry only masked numbers.
//!
//! | Route | Body / query | Answers |
//! |---|---|---|
//! | `GET /config` | — | the enabled dialects with their default codes, a default number |
//! | `POST /dial` | `{"dialect", "msisdn", "code"?}` | `{"call", "dialect", "msisdn", "code", "screen": {"text", "end"}}` |
//! | `POST /send` | `{"call", "input"}` | the same, with the next screen |
//! | `POST /hangup` | `{"call"}` | `{"call", "ended": true}`; a live session gets the provider's hang-up notice |
//! | `GET /loans` | `?msisdn=…&dialect=…` | [`LoansView`](super::loans::LoansView) |

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{calls, loans};
use crate::config::DialectSettings;
use crate::domain::Msisdn;
use crate::phone::{wire::code_digits, Dialect, Phone, PhoneError, DEFAULT_CODE};
use crate::routes::json_error;
use crate::routes::ussd::UssdGateway;
use crate::startup::AppState;

/// The number the page offers first.
pub const DEFAULT_MSISDN: &str = "255712345678";
/// The longest reply the page may send (a USSD message is at most 182 characters).
const MAX_INPUT: usize = 160;
/// Where the sandbox wallet is mounted (its hooks list transactions and approve collections).
const WALLET: &str = "/sandbox/wallet";

/// A refused request: its status and the stable `{code, message}` body.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Refusal { status, code, message: message.into() }
    }

    fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Refusal::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        json_error(self.status, self.code, self.message.clone())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DialRequest {
    dialect: String,
    msisdn: String,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendRequest {
    call: String,
    input: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallRequest {
    call: String,
}

#[derive(Deserialize)]
struct LoansQuery {
    msisdn: String,
    #[serde(default)]
    dialect: Option<String>,
}

#[derive(Serialize)]
struct CallView<'a> {
    call: &'a str,
    dialect: &'static str,
    msisdn: &'a str,
    code: &'a str,
    screen: ScreenView<'a>,
}

#[derive(Serialize)]
struct ScreenView<'a> {
    text: &'a str,
    end: bool,
}

fn call_view<'a>(call: &'a str, phone: &'a Phone) -> CallView<'a> {
    CallView {
        call,
        dialect: phone.dialect.route(),
        msisdn: &phone.msisdn,
        code: &phone.code,
        screen: ScreenView { text: &phone.screen.text, end: phone.screen.end },
    }
}

/// `GET /simulator/api/config`.
pub async fn config(gateway: web::Data<UssdGateway>) -> HttpResponse {
    let dialects: Vec<_> = enabled(&gateway)
        .map(|(dialect, settings)| json!({ "name": dialect.route(), "label": label(dialect), "code": default_code(settings) }))
        .collect();
    HttpResponse::Ok().json(json!({ "dialects": dialects, "msisdn": DEFAULT_MSISDN, "wallet": WALLET }))
}

/// `POST /simulator/api/dial`: a new call, and its first screen.
pub async fn dial(
    req: HttpRequest,
    gateway: web::Data<UssdGateway>,
    body: web::Bytes,
) -> Result<HttpResponse, Refusal> {
    let ask: DialRequest = parse_body(&body)?;
    let (dialect, settings) = find_dialect(&gateway, &ask.dialect)?;
    let msisdn = parse_msisdn(&ask.msisdn, country_code(&gateway, settings))?;
    let code = match ask.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => parse_code(code)?,
        None => default_code(settings),
    };
    let pass = calls::Pass {
        path_token: settings.path_token.as_ref().map(|t| t.expose_secret()),
        basic_auth: settings.basic_auth.as_ref().map(|b| (b.username.as_str(), b.password.expose_secret())),
    };
    let phone = calls::phone(req.app_config().local_addr(), dialect, &pass, msisdn.as_str(), &code);
    tracing::info!(dialect = dialect.route(), %msisdn, "simulator: dialling");
    let (id, line) = calls::open(phone).await;
    let mut phone = line.lock().await;
    if let Err(error) = phone.begin().await {
        calls::forget(&id).await;
        return Err(hop_failed(dialect, error));
    }
    Ok(HttpResponse::Ok().json(call_view(&id, &phone)))
}

/// `POST /simulator/api/send`: one reply on a live call, and the next screen.
pub async fn send(body: web::Bytes) -> Result<HttpResponse, Refusal> {
    let ask: SendRequest = parse_body(&body)?;
    if ask.input.is_empty() || ask.input.chars().count() > MAX_INPUT || ask.input.chars().any(char::is_control) {
        return Err(Refusal::bad(
            "bad_input",
            format!("a reply is 1 to {MAX_INPUT} characters without control characters"),
        ));
    }
    let line = find_call(&ask.call).await?;
    let mut phone = line.lock().await;
    let dialect = phone.dialect;
    phone.send(&ask.input).await.map_err(|error| hop_failed(dialect, error))?;
    Ok(HttpResponse::Ok().json(call_view(&ask.call, &phone)))
}

/// `POST /simulator/api/hangup`: the End key. A session still waiting for a reply gets the provider's
/// hang-up notice; the call is forgotten either way (hanging up twice is fine).
pub async fn hang_up(body: web::Bytes) -> Result<HttpResponse, Refusal> {
    let ask: CallRequest = parse_body(&body)?;
    if let Some(line) = calls::find(&ask.call).await {
        let mut phone = line.lock().await;
        if !phone.screen.end {
            let kind = calls::hang_up_notice(phone.dialect);
            // Best effort, as an aggregator's notice is; the error could quote a reply, so it is not logged.
            if phone.notice(kind).await.is_err() {
                tracing::info!(dialect = phone.dialect.route(), "simulator: the hang-up notice failed");
            }
        }
        calls::forget(&ask.call).await;
    }
    Ok(HttpResponse::Ok().json(json!({ "call": ask.call, "ended": true })))
}

/// `GET /simulator/api/loans?msisdn=…[&dialect=…]`: the LMS's view of the subscriber; the dialect picks
/// the country code a national number is read with.
pub async fn loans(
    req: HttpRequest,
    state: web::Data<AppState>,
    gateway: web::Data<UssdGateway>,
) -> Result<HttpResponse, Refusal> {
    let query = web::Query::<LoansQuery>::from_query(req.query_string())
        .map_err(|_| Refusal::bad("bad_request", "the query needs `msisdn` (and may name a `dialect`)"))?;
    let country_code = match query.dialect.as_deref() {
        Some(name) => country_code(&gateway, find_dialect(&gateway, name)?.1),
        None => gateway.settings.country_code.as_str(),
    };
    let msisdn = parse_msisdn(&query.msisdn, country_code)?;
    match loans::read(&state.lms, &msisdn).await {
        Ok(view) => Ok(HttpResponse::Ok().json(view)),
        Err(error) => {
            tracing::warn!(%msisdn, %error, "simulator: reading the subscriber's loans failed");
            Err(Refusal::new(StatusCode::BAD_GATEWAY, "lms_unavailable", format!("the LMS did not answer: {error}")))
        }
    }
}

fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(body).map_err(|error| Refusal::bad("bad_request", format!("not the expected JSON: {error}")))
}

/// The enabled dialects, in route order, with their settings.
fn enabled(gateway: &UssdGateway) -> impl Iterator<Item = (Dialect, &DialectSettings)> {
    gateway.dialects.keys().filter_map(|name| {
        let dialect = Dialect::from_route(name)?;
        Some((dialect, gateway.settings.dialects.get(*name)?))
    })
}

fn find_dialect<'g>(gateway: &'g UssdGateway, name: &str) -> Result<(Dialect, &'g DialectSettings), Refusal> {
    enabled(gateway).find(|(d, _)| d.route() == name.trim()).ok_or_else(|| {
        let names: Vec<_> = enabled(gateway).map(|(d, _)| d.route()).collect();
        Refusal::bad("unknown_dialect", format!("the dialect must be one of the enabled ones: {}", names.join(", ")))
    })
}

fn country_code<'g>(gateway: &'g UssdGateway, settings: &'g DialectSettings) -> &'g str {
    if settings.country_code.is_empty() {
        &gateway.settings.country_code
    } else {
        &settings.country_code
    }
}

fn parse_msisdn(raw: &str, country_code: &str) -> Result<Msisdn, Refusal> {
    Msisdn::parse(raw, country_code).map_err(|error| Refusal::bad("bad_msisdn", error.to_string()))
}

/// `*150*88#`, `150*88` → `*150*88#`: digits in `*`-separated groups.
fn parse_code(raw: &str) -> Result<String, Refusal> {
    let digits = code_digits(raw);
    let valid = digits.len() <= 40
        && !digits.is_empty()
        && digits.split('*').all(|group| !group.is_empty() && group.bytes().all(|b| b.is_ascii_digit()));
    if valid {
        Ok(format!("*{digits}#"))
    } else {
        Err(Refusal::bad("bad_code", "a short code is digits in groups separated by `*`, e.g. *150*88#"))
    }
}

/// The dialect's first base code, else the terminal phone's default.
fn default_code(settings: &DialectSettings) -> String {
    settings.base_codes.first().and_then(|c| parse_code(c).ok()).unwrap_or_else(|| DEFAULT_CODE.to_owned())
}

fn label(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::AfricasTalking => "Africa's Talking",
        Dialect::Beem => "Beem",
        Dialect::Hubtel => "Hubtel",
    }
}

async fn find_call(id: &str) -> Result<calls::Line, Refusal> {
    calls::find(id).await.ok_or_else(|| {
        Refusal::new(StatusCode::NOT_FOUND, "unknown_call", "no such call (it ended or was idle too long); dial again")
    })
}

/// A hop that produced no screen.
fn hop_failed(dialect: Dialect, error: PhoneError) -> Refusal {
    let (status, code) = match &error {
        PhoneError::Ended => (StatusCode::CONFLICT, "session_ended"),
        PhoneError::Unreachable { .. } => (StatusCode::BAD_GATEWAY, "gateway_unreachable"),
        PhoneError::Status { .. } => (StatusCode::BAD_GATEWAY, "gateway_refused"),
        PhoneError::Malformed { .. } => (StatusCode::BAD_GATEWAY, "bad_reply"),
        PhoneError::NoOption(_) | PhoneError::NothingSent | PhoneError::BadNumber(_) => {
            (StatusCode::BAD_REQUEST, "bad_request")
        }
    };
    tracing::info!(dialect = dialect.route(), code, "simulator: a hop failed");
    Refusal::new(status, code, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_codes_are_digit_groups_with_or_without_their_star_and_hash() {
        assert_eq!(parse_code("*150*88#").unwrap(), "*150*88#");
        assert_eq!(parse_code(" 713*20 ").unwrap(), "*713*20#");
        for bad in ["", "*#", "*150**88#", "*15a#", "*150*88#1#", &format!("*{}#", "1".repeat(41))] {
            assert_eq!(parse_code(bad).unwrap_err().code, "bad_code", "{bad:?}");
        }
    }
}
