//! Extractors for the wallet serving a request: [`Api`] admits only `Authorization: Bearer <api_key>`
//!, answering `401 unauthorized` otherwise; [`Wallet`] is the unauthenticated twin for the
//! sandbox hooks.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest};

use super::errors::WalletError;
use super::state::SandboxWallet;

/// The wallet serving this request, without authentication (sandbox hooks).
pub(crate) struct Wallet(pub SandboxWallet);

impl FromRequest for Wallet {
    type Error = WalletError;
    type Future = Ready<Result<Self, WalletError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(instance(req).map(Wallet))
    }
}

/// The wallet serving this request, once the bearer key checked out.
pub(crate) struct Api(pub SandboxWallet);

impl FromRequest for Api {
    type Error = WalletError;
    type Future = Ready<Result<Self, WalletError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(instance(req).and_then(|wallet| {
            check_bearer(req, &wallet.config().api_key)?;
            Ok(Api(wallet))
        }))
    }
}

fn instance(req: &HttpRequest) -> Result<SandboxWallet, WalletError> {
    req.app_data::<SandboxWallet>()
        .cloned()
        .ok_or_else(|| WalletError::internal("sandbox wallet state is not registered on this scope"))
}

fn check_bearer(req: &HttpRequest, api_key: &str) -> Result<(), WalletError> {
    let value = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| WalletError::unauthorized("missing Authorization: Bearer <api key>"))?;
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| WalletError::unauthorized("the Authorization scheme must be Bearer"))?;
    if crate::domain::constant_time::eq(token.as_bytes(), api_key.as_bytes()) {
        Ok(())
    } else {
        Err(WalletError::unauthorized("invalid API key"))
    }
}
