//! Exact money on the wire.
//!
//! Amounts cross every boundary as `rust_decimal::Decimal`. The LMS sends JSON numbers that upstream holds
//! as doubles; serde_json's `arbitrary_precision` feature hands us the number's exact text, and this module
//! turns that text into a `Decimal` without ever going through `f64`. If `arbitrary_precision` were ever
//! switched off, serde would call `visit_f64` and this module fails loudly instead of losing precision.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserializer, Serializer};

/// serde_json's private key for a number carried as text under `arbitrary_precision`.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Parses decimal text as a JSON number or string may spell it: `10000`, `5000.0`, `1e3`, `-1.5E-2`.
pub fn parse_decimal(text: &str) -> Result<Decimal, rust_decimal::Error> {
    let text = text.trim();
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str(text)
    }
}

/// Renders a decimal as a JSON number token: plain digits, never an exponent, scale kept as received.
pub fn to_number(value: &Decimal) -> serde_json::Number {
    // `Decimal`'s Display never uses an exponent, so the text is always a valid JSON number.
    serde_json::Number::from_str(&value.to_string()).expect("a Decimal always renders as a JSON number")
}

struct DecimalVisitor;

impl<'de> Visitor<'de> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an exact decimal amount as a JSON number or string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        Err(E::custom(format!(
            "amount {v} arrived as a binary float; serde_json's arbitrary_precision feature must be on"
        )))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_decimal(v).map_err(|e| E::custom(format!("invalid amount {v:?}: {e}")))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Decimal, A::Error> {
        match map.next_key::<String>()? {
            Some(key) if key == NUMBER_TOKEN => {
                let text: String = map.next_value()?;
                self.visit_str(&text)
            }
            _ => Err(de::Error::custom("expected a number, found an object")),
        }
    }
}

/// `#[serde(with = "crate::domain::money::number")]` for a required `Decimal` field.
pub mod number {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&to_number(value), s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }
}

/// `#[serde(default, with = "crate::domain::money::option")]` for an optional `Decimal` field; `null` is `None`.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => serde::Serialize::serialize(&to_number(v), s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        struct OptionVisitor;
        impl<'de> Visitor<'de> for OptionVisitor {
            type Value = Option<Decimal>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an exact decimal amount or null")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                number::deserialize(d).map(Some)
            }
        }
        d.deserialize_option(OptionVisitor)
    }
}

/// `#[serde(default, with = "crate::domain::money::zero_default")]`: absent or `null` reads as 0.
pub mod zero_default {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        number::serialize(value, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        option::deserialize(d).map(Option::unwrap_or_default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Wire {
        #[serde(with = "number")]
        amount: Decimal,
        #[serde(default, with = "option")]
        maybe: Option<Decimal>,
    }

    fn parse(json: &str) -> Wire {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn huge_amounts_parse_exactly() {
        let w = parse(r#"{"amount": 12345678901234567.89}"#);
        assert_eq!(w.amount, Decimal::from_str("12345678901234567.89").unwrap());
    }

    #[test]
    fn integral_and_fractional_spellings_compare_equal() {
        assert_eq!(parse(r#"{"amount": 5000.0}"#).amount, parse(r#"{"amount": 5000}"#).amount);
    }

    #[test]
    fn amounts_survive_a_round_trip_unchanged() {
        for (input, output) in
            [("5038.5", "5038.5"), ("0.1", "0.1"), ("1e3", "1000"), ("12000.50", "12000.50"), ("-2.5E-1", "-0.25")]
        {
            let w = parse(&format!(r#"{{"amount": {input}}}"#));
            let back = serde_json::to_string(&w).unwrap();
            assert_eq!(back, format!(r#"{{"amount":{output},"maybe":null}}"#), "for {input}");
        }
    }

    #[test]
    fn amounts_may_arrive_as_strings() {
        assert_eq!(parse(r#"{"amount": "11100.00"}"#).amount, Decimal::new(1110000, 2));
    }

    #[test]
    fn null_and_missing_optional_amounts_are_none() {
        assert_eq!(parse(r#"{"amount": 1, "maybe": null}"#).maybe, None);
        assert_eq!(parse(r#"{"amount": 1}"#).maybe, None);
        assert_eq!(parse(r#"{"amount": 1, "maybe": 0.30}"#).maybe, Some(Decimal::new(30, 2)));
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let err = serde_json::from_str::<Wire>(r#"{"amount": "ten"}"#).unwrap_err();
        assert!(err.to_string().contains("invalid amount"), "{err}");
        let err = serde_json::from_str::<Wire>(r#"{"amount": {"x": 1}}"#).unwrap_err();
        assert!(err.to_string().contains("expected a number"), "{err}");
    }

    #[test]
    fn a_binary_float_is_refused_loudly() {
        let err =
            number::deserialize(serde::de::value::F64Deserializer::<serde::de::value::Error>::new(0.1)).unwrap_err();
        assert!(err.to_string().contains("binary float"), "{err}");
    }
}
