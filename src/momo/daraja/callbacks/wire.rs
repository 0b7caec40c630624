//! Reading Daraja's loosely typed JSON without losing exactness. Values arrive as strings or numbers
//! (`"TransAmount":"10"`, `"Value":1.00`, `"ResultCode":0`); with serde_json's `arbitrary_precision` a
//! number keeps its source text, so every scalar is read as text and parsed from there, never via f64.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::CallbackError;
use crate::domain::money::parse_decimal;
use crate::momo::Money;

/// A scalar as text: strings trimmed, numbers as their exact source text; `None` for anything else.
pub(super) fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Like [`text`], but an empty string counts as absent (Daraja sends `""` for "not applicable").
pub(super) fn filled(value: Option<&Value>) -> Option<String> {
    value.and_then(text).filter(|s| !s.is_empty())
}

/// The body as a JSON object.
pub(super) fn object(body: &[u8]) -> Result<Map<String, Value>, CallbackError> {
    match serde_json::from_slice::<Value>(body).map_err(CallbackError::json)? {
        Value::Object(map) => Ok(map),
        _ => Err(CallbackError::Malformed("the body is not a JSON object".into())),
    }
}

/// A positive exact amount in `currency`, from a string or number.
pub(super) fn money(raw: &str, field: &'static str, currency: &str) -> Result<Money, CallbackError> {
    let invalid = |detail: &str| CallbackError::Invalid { field, detail: detail.to_owned() };
    let amount: Decimal = parse_decimal(raw).map_err(|_| invalid("not a decimal amount"))?;
    if amount <= Decimal::ZERO {
        return Err(invalid("not a positive amount"));
    }
    Ok(Money::new(amount, currency))
}

/// A `[{"Key": …, "Value": …}]` (or `Name`/`Value`) list, looked up by name, never by position.
/// Daraja sends a single entry as a bare object instead of a one-element array, and may omit `Value`.
#[derive(Debug, Default)]
pub(super) struct Named(Vec<(String, Option<Value>)>);

impl Named {
    pub fn read(list: Option<&Value>, name_field: &str) -> Self {
        let entries: Vec<&Value> = match list {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(item @ Value::Object(_)) => vec![item],
            _ => Vec::new(),
        };
        Self(
            entries
                .into_iter()
                .filter_map(|entry| {
                    let name = entry.get(name_field).and_then(text)?;
                    Some((name, entry.get("Value").filter(|v| !v.is_null()).cloned()))
                })
                .collect(),
        )
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(n, _)| n == name).and_then(|(_, v)| filled(v.as_ref()))
    }

    /// Every entry as text, for keeping alongside the parsed result.
    pub fn entries(&self) -> Vec<(String, Option<String>)> {
        self.0.iter().map(|(n, v)| (n.clone(), v.as_ref().and_then(text))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_exact_source_text() {
        let v: Value = serde_json::from_str(r#"[1.00, 20191219102115, 254708374149, 0.1, "  x "]"#).unwrap();
        let texts: Vec<_> = v.as_array().unwrap().iter().map(|v| text(v).unwrap()).collect();
        assert_eq!(texts, ["1.00", "20191219102115", "254708374149", "0.1", "x"]);
    }

    #[test]
    fn named_lists_accept_an_array_a_bare_object_and_missing_values() {
        let v: Value =
            serde_json::from_str(r#"[{"Name":"Amount","Value":1.00},{"Name":"Balance"},{"Name":"X","Value":null}]"#)
                .unwrap();
        let named = Named::read(Some(&v), "Name");
        assert_eq!(named.text("Amount").as_deref(), Some("1.00"));
        assert_eq!(named.text("Balance"), None);
        assert_eq!(named.text("Missing"), None);
        let single: Value = serde_json::from_str(r#"{"Key":"QueueTimeoutURL","Value":"https://x"}"#).unwrap();
        assert_eq!(Named::read(Some(&single), "Key").text("QueueTimeoutURL").as_deref(), Some("https://x"));
        assert!(Named::read(Some(&Value::Null), "Key").entries().is_empty());
    }

    #[test]
    fn amounts_must_be_positive_decimals() {
        assert_eq!(money("1.00", "Amount", "KES").unwrap().amount, Decimal::new(100, 2));
        assert!(matches!(money("0", "Amount", "KES"), Err(CallbackError::Invalid { field: "Amount", .. })));
        assert!(matches!(money("-5", "Amount", "KES"), Err(CallbackError::Invalid { .. })));
        assert!(matches!(money("ten", "Amount", "KES"), Err(CallbackError::Invalid { .. })));
    }
}
