//! Partner authentication: `GET /v1/auth/token` trades HTTP Basic credentials for a JWT-shaped
//! bearer token, and the [`Api`] extractor admits only issued, unrevoked, unexpired tokens. The signature
//! is a dummy: clients are told not to verify it.

use std::future::{ready, Ready};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::json;

use super::errors::ApiError;
use super::state::SandboxLms;

/// The instance serving this request, without any authentication (test hooks, token issue).
pub(crate) struct Lms(pub SandboxLms);

impl FromRequest for Lms {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(instance(req).map(Lms))
    }
}

/// The instance serving this request, once its bearer token checked out.
pub(crate) struct Api(pub SandboxLms);

impl FromRequest for Api {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(instance(req).and_then(|lms| {
            let token = bearer(req)?;
            lms.check_token(token)?;
            Ok(Api(lms))
        }))
    }
}

fn instance(req: &HttpRequest) -> Result<SandboxLms, ApiError> {
    req.app_data::<SandboxLms>()
        .cloned()
        .ok_or_else(|| ApiError::internal("sandbox lms state is not registered on this scope"))
}

fn authorization<'r>(req: &'r HttpRequest, scheme: &str) -> Option<&'r str> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    authorization(req, "Bearer")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthenticated("missing bearer token"))
}

fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl SandboxLms {
    /// Admits an issued token that has not expired; forgets expired ones on the way.
    pub(crate) fn check_token(&self, token: &str) -> Result<(), ApiError> {
        let now = SystemTime::now();
        self.with_state(|s| match s.tokens.get(token) {
            None => Err(ApiError::unauthenticated("token is unknown or revoked")),
            Some(expires) if now >= *expires => {
                s.tokens.remove(token);
                Err(ApiError::unauthenticated("token has expired"))
            }
            Some(_) => Ok(()),
        })
    }

    /// Mints and records a token valid for the configured TTL from `now`.
    pub(crate) fn issue_token(&self, now: SystemTime) -> String {
        let ttl = self.config().token_ttl;
        // Settings cap the TTL at a century, so this cannot overflow; if it somehow did, the token is born
        // expired rather than the process panicking.
        let expires = now.checked_add(ttl).unwrap_or(now);
        let iat = unix_seconds(now);
        let header = json!({"alg": "RS256", "kid": "sandbox", "typ": "JWT"});
        let payload = json!({
            "iss": "sandbox-lms",
            "sub": self.subject(),
            "iat": iat,
            "exp": iat.saturating_add(ttl.as_secs()),
            "roles": ["ADMIN"],
            // Makes every token distinct even when two are minted within the same second.
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode("sandbox-signature"),
        );
        self.with_state(|s| s.tokens.insert(token.clone(), expires));
        token
    }

    fn credentials_match(&self, req: &HttpRequest) -> bool {
        let Some(encoded) = authorization(req, "Basic") else { return false };
        let Ok(decoded) = STANDARD.decode(encoded) else { return false };
        let Ok(text) = String::from_utf8(decoded) else { return false };
        let config = self.config();
        text.split_once(':')
            .is_some_and(|(user, password)| user == config.partner_email && password == config.partner_password)
    }
}

/// `GET /v1/auth/token`: `200 {"token"}` for the configured Basic credentials, else `401`.
pub(crate) async fn issue(req: HttpRequest, Lms(lms): Lms) -> Result<HttpResponse, ApiError> {
    if !lms.credentials_match(&req) {
        return Err(ApiError::unauthenticated("invalid partner credentials"));
    }
    Ok(HttpResponse::Ok().json(json!({ "token": lms.issue_token(SystemTime::now()) })))
}
