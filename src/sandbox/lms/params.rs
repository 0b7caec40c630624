//! Reading requests: query strings, path segments, JSON bodies and the loan key (`/loans/external/{ext}`
//! or `/loans/{id}`). Every failure becomes `invalid_argument`, never a panic or actix's plain-text 400.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;

use super::errors::{ApiError, FieldError};

/// The decoded query string, in order.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(req: &HttpRequest) -> Result<Self, ApiError> {
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(|q| Query(q.into_inner()))
            .map_err(|e| ApiError::invalid_field("query", e.to_string()))
    }

    /// The last value given for `name` (a repeated parameter overrides the earlier one).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// The fully percent-decoded path parameter `name`.
pub(crate) fn path_param(req: &HttpRequest, name: &str) -> Result<String, ApiError> {
    // actix leaves `%2F`, `%25` and `%2B` encoded in match_info so that one more full decode is exact.
    let raw =
        req.match_info().get(name).ok_or_else(|| ApiError::internal(format!("route has no {{{name}}} segment")))?;
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ApiError::invalid_field(name, "must be UTF-8 once percent-decoded"))
}

/// Parses an LMS id path segment: decimal digits only.
pub(crate) fn numeric_id(field: &str, raw: &str) -> Result<u64, ApiError> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid_field(field, format!("{raw:?} is not a numeric id")));
    }
    raw.parse().map_err(|_| ApiError::invalid_field(field, format!("{raw:?} is out of range")))
}

/// How a loan route names its loan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LoanKey {
    External(String),
    Id(String),
}

impl std::fmt::Display for LoanKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoanKey::External(ext) => write!(f, "Loan with externalId {ext}"),
            LoanKey::Id(id) => write!(f, "Loan with id {id}"),
        }
    }
}

impl FromRequest for LoanKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = if req.match_info().get("ext").is_some() {
            path_param(req, "ext").map(LoanKey::External)
        } else {
            path_param(req, "id").map(LoanKey::Id)
        };
        ready(key)
    }
}

/// Parses a JSON request body into `T`. An empty body reads as `{}` so optional bodies work; malformed
/// JSON and type mismatches become `invalid_argument` on field `body`.
pub(crate) fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    serde_json::from_slice(bytes).map_err(|e| {
        let error = if e.is_data() { e.to_string() } else { format!("malformed JSON: {e}") };
        ApiError::invalid_field("body", error)
    })
}

/// Collects field problems so one response can list them all.
#[derive(Default)]
pub(crate) struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: &str, error: impl Into<String>) {
        self.0.push(FieldError::new(field, error));
    }

    /// The value, or a `required` problem when it is absent.
    pub fn require<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.add(field, "required");
        }
        value
    }

    /// A string that must be present and non-empty.
    pub fn require_text(&mut self, field: &str, value: Option<String>) -> Option<String> {
        match value {
            Some(text) if !text.is_empty() => Some(text),
            _ => {
                self.add(field, "required");
                None
            }
        }
    }

    /// `Err(invalid_argument)` if anything was recorded.
    pub fn check(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self.0))
        }
    }
}

/// Message of the impossible case where `Problems::check` passed yet a required value is absent.
pub(crate) const VANISHED: &str = "a required value vanished after validation";
