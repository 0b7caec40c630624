//! Lenient JSON typing (R7): text fields take a string or a number (kept as its literal text, never via a
//! float: the crate enables `arbitrary_precision`), numeric hints take a number or a digit string.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::DialectError;

/// A string or a number as text; `null` or absent is `None`; anything else is a type error.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err(serde::de::Error::custom("expected a string or a number")),
    }
}

/// A non-negative integer or a digit string; anything unparseable is treated as absent.
pub(crate) fn hint<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s.trim_ascii().parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    })
}

/// Keeps the raw JSON value (for fields echoed verbatim).
pub(crate) fn raw<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Option::<Value>::deserialize(d)
}

/// Parses a JSON body into `T`; the error keeps only the position, never serde's message (it can quote
/// the input).
pub(crate) fn from_slice<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, DialectError> {
    serde_json::from_slice(body).map_err(|e| DialectError::Json { line: e.line(), column: e.column() })
}

pub(crate) fn non_empty(v: Option<String>, field: &'static str) -> Result<String, DialectError> {
    v.filter(|s| !s.trim_ascii().is_empty()).ok_or(DialectError::MissingField(field))
}
