//! The validated scalars of the generic wire (docs/money.md): amount, reference,
//! currency and RFC 3339 times. Each is parsed once at the edge; holding one means it is valid, and
//! serialising it always produces a spelling the contract allows.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::momo::Reference;

/// Reads a JSON string and nothing else (a JSON number is a type error, never coerced). `what` names
/// the field in the error, because serde_json's errors from a `Value` carry no path.
fn wire_string<'de, D: Deserializer<'de>>(d: D, what: &'static str) -> Result<String, D::Error> {
    struct Text(&'static str);
    impl serde::de::Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
    }
    d.deserialize_str(Text(what))
}

/// A wire amount: `^(0|[1-9][0-9]{0,14})(\.[0-9]{1,2})?$`, held as an exact `Decimal`.
///
/// Only the string form is accepted: `11100` as a JSON number, `"1e3"`, `"011.00"` and `"1.234"` are
/// all refused, so no value ever passes through `f64` or gets silently rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WireAmount(Decimal);

/// Largest integer part the pattern allows: fifteen digits.
const MAX_INTEGER_DIGITS: usize = 15;

impl WireAmount {
    /// Parses the exact wire spelling.
    pub fn parse(text: &str) -> Option<Self> {
        let (integer, fraction) = match text.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (text, None),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let integer_ok = integer == "0"
            || (!integer.is_empty()
                && integer.len() <= MAX_INTEGER_DIGITS
                && !integer.starts_with('0')
                && digits(integer));
        let fraction_ok = fraction.is_none_or(|f| (1..=2).contains(&f.len()) && digits(f));
        if !(integer_ok && fraction_ok) {
            return None;
        }
        // The pattern guarantees at most 17 significant digits, well inside Decimal's 28.
        Decimal::from_str(text).ok().map(Self)
    }

    /// Accepts a non-negative amount with at most two decimals and fifteen integer digits; anything
    /// else has no exact wire spelling and is refused rather than rounded.
    pub fn new(amount: Decimal) -> Option<Self> {
        let normalized = amount.normalize();
        let limit = Decimal::from(10_u64.pow(MAX_INTEGER_DIGITS as u32));
        (!normalized.is_sign_negative() && normalized.scale() <= 2 && normalized < limit).then_some(Self(amount))
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

impl fmt::Display for WireAmount {
    /// Always two decimals (`"11100.00"`), the form the gateway sends.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl Serialize for WireAmount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WireAmount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = wire_string(d, "an amount as a decimal string")?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("invalid amount {text:?}")))
    }
}

/// A wallet-side reference: `^[A-Za-z0-9_-]{1,64}$`. Ours (`L…`/`C…`) are a subset; other values are
/// kept so a callback about someone else's reference can still be stored and alerted on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WireReference(String);

impl WireReference {
    pub fn parse(text: &str) -> Option<Self> {
        is_wire_id(text).then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The reference as one of ours, if it is one (valid `L`/`C` prefix and Luhn digit).
    pub fn ours(&self) -> Option<Reference> {
        Reference::parse(&self.0)
    }
}

/// `^[A-Za-z0-9_-]{1,64}$`: wire references and `webhook-id`s share this shape.
pub fn is_wire_id(text: &str) -> bool {
    (1..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

impl From<&Reference> for WireReference {
    fn from(reference: &Reference) -> Self {
        // An mkopo reference is 11 upper-case letters and digits, always a valid wire reference.
        Self(reference.as_str().to_owned())
    }
}

impl fmt::Display for WireReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for WireReference {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for WireReference {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = wire_string(d, "a reference string")?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("invalid reference {text:?}")))
    }
}

/// An ISO 4217 code as the wire spells it: three upper-case ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Currency(String);

impl Currency {
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase())).then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = wire_string(d, "a currency code")?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("invalid currency {text:?}")))
    }
}

/// RFC 3339 times: any offset is read and converted to UTC; we always write UTC with `Z`.
pub mod rfc3339 {
    use super::*;

    pub fn parse(text: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
    }

    pub fn render(time: &DateTime<Utc>) -> String {
        time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    pub fn serialize<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&render(time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = wire_string(d, "an RFC 3339 time")?;
        parse(&text).ok_or_else(|| serde::de::Error::custom(format!("invalid RFC 3339 time {text:?}")))
    }

    /// The same for a nullable field; `null` is `None`.
    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(time: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
            match time {
                Some(t) => s.serialize_str(&render(t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(text) => parse(&text)
                    .map(Some)
                    .ok_or_else(|| serde::de::Error::custom(format!("invalid RFC 3339 time {text:?}"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_amounts_accept_exactly_the_contract_spellings() {
        for (text, exact) in [
            ("0", "0"),
            ("11100.00", "11100.00"),
            ("500", "500"),
            ("0.5", "0.5"),
            ("999999999999999.99", "999999999999999.99"),
        ] {
            assert_eq!(
                WireAmount::parse(text).map(WireAmount::value),
                Some(Decimal::from_str(exact).unwrap()),
                "{text}"
            );
        }
        for bad in
            ["", "1e3", "011.00", "1.234", "1.", ".5", "-1", "+1", " 1", "1,000", "1000000000000000", "0x10", "NaN"]
        {
            assert_eq!(WireAmount::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn wire_amounts_compare_numerically_and_always_render_two_decimals() {
        assert_eq!(WireAmount::parse("500"), WireAmount::parse("500.00"));
        assert_eq!(WireAmount::parse("500").unwrap().to_string(), "500.00");
        assert_eq!(WireAmount::parse("0").unwrap().to_string(), "0.00");
        assert_eq!(WireAmount::parse("11100.5").unwrap().to_string(), "11100.50");
    }

    #[test]
    fn an_amount_without_an_exact_wire_spelling_is_refused_not_rounded() {
        assert!(WireAmount::new(Decimal::new(1234, 3)).is_none());
        assert!(WireAmount::new(Decimal::new(-100, 2)).is_none());
        assert!(WireAmount::new(Decimal::from(10_u64.pow(15))).is_none());
        assert_eq!(WireAmount::new(Decimal::new(12_300, 3)).unwrap().to_string(), "12.30");
    }

    #[test]
    fn a_json_number_is_never_an_amount() {
        assert!(serde_json::from_str::<WireAmount>("11100").is_err());
        assert!(serde_json::from_str::<WireAmount>("11100.00").is_err());
        assert_eq!(serde_json::from_str::<WireAmount>(r#""11100.00""#).unwrap().to_string(), "11100.00");
    }

    #[test]
    fn references_currencies_and_times_follow_the_contract() {
        assert!(WireReference::parse("C0000000174").unwrap().ours().is_some());
        assert!(WireReference::parse("ext_ref-9").unwrap().ours().is_none());
        assert!(WireReference::parse("has space").is_none());
        assert!(WireReference::parse(&"x".repeat(65)).is_none());
        assert!(Currency::parse("TZS").is_some());
        assert!(Currency::parse("tzs").is_none() && Currency::parse("TZSH").is_none());
        let t = rfc3339::parse("2026-05-25T12:13:58+03:00").unwrap();
        assert_eq!(rfc3339::render(&t), "2026-05-25T09:13:58Z");
        assert!(rfc3339::parse("25/05/2026").is_none());
    }
}
