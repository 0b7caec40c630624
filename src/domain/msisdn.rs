//! Subscriber numbers. An `Msisdn` is always international digits without `+` (e.g. `255712345678`),
//! which is also the subscriber's customer `externalId` in the LMS. Its `Display` and `Debug` mask the
//! middle digits so a number can never reach a log line whole; `as_str` gives the full value for the wire.

use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MsisdnError {
    #[error("a phone number must contain only digits, optionally after a leading '+'")]
    NotDigits,
    #[error("a phone number must have 8 to 15 digits after normalisation, found {0}")]
    BadLength(usize),
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Msisdn(String);

impl Msisdn {
    /// Normalises `+255712345678`, `255712345678`, `0712345678` and `712345678` (the last two using
    /// `country_code`) to international digits. Spaces and dashes are tolerated.
    pub fn parse(raw: &str, country_code: &str) -> Result<Self, MsisdnError> {
        let cleaned: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = cleaned.strip_prefix('+').unwrap_or(&cleaned);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MsisdnError::NotDigits);
        }
        let international = if let Some(national) = digits.strip_prefix("00") {
            national.to_owned()
        } else if let Some(national) = digits.strip_prefix('0') {
            format!("{country_code}{national}")
        } else if digits.len() == 9 {
            format!("{country_code}{digits}")
        } else {
            digits.to_owned()
        };
        if !(8..=15).contains(&international.len()) {
            return Err(MsisdnError::BadLength(international.len()));
        }
        Ok(Self(international))
    }

    /// The full number, for the wire (LMS externalId, wallet requests). Never pass this to a log macro.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The masked form used in logs: country and operator prefix, then stars, then the last three digits.
    pub fn masked(&self) -> String {
        mask_digits(&self.0)
    }
}

/// Masks the middle of a digit string: keeps up to 5 leading and 3 trailing digits.
pub fn mask_digits(digits: &str) -> String {
    let n = digits.len();
    let keep_head = 5.min(n.saturating_sub(4));
    let keep_tail = 3.min(n.saturating_sub(keep_head + 1));
    let stars = n - keep_head - keep_tail;
    format!("{}{}{}", &digits[..keep_head], "*".repeat(stars), &digits[n - keep_tail..])
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Msisdn({})", self.masked())
    }
}

/// Stored and wire form: the full international digits (never use this for logs; `Display` masks).
impl serde::Serialize for Msisdn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Msisdn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Msisdn::international(&raw).map_err(serde::de::Error::custom)
    }
}

impl Msisdn {
    /// Accepts only the normalised form (international digits, no `+`), as stored by mkopo itself.
    pub fn international(raw: &str) -> Result<Self, MsisdnError> {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MsisdnError::NotDigits);
        }
        if !(8..=15).contains(&raw.len()) {
            return Err(MsisdnError::BadLength(raw.len()));
        }
        Ok(Self(raw.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_spelling_normalises_to_international_digits() {
        for raw in ["+255712345678", "255712345678", "0712345678", "712345678", "00255712345678", "+255 712-345-678"] {
            assert_eq!(Msisdn::parse(raw, "255").unwrap().as_str(), "255712345678", "{raw}");
        }
    }

    #[test]
    fn display_and_debug_mask_the_middle_digits() {
        let m = Msisdn::parse("255712345678", "255").unwrap();
        assert_eq!(m.to_string(), "25571****678");
        assert_eq!(format!("{m:?}"), "Msisdn(25571****678)");
        assert!(!format!("{m} {m:?}").contains("2345"));
    }

    #[test]
    fn junk_is_refused_with_a_reason() {
        assert_eq!(Msisdn::parse("", "255"), Err(MsisdnError::NotDigits));
        assert_eq!(Msisdn::parse("25571234abcd", "255"), Err(MsisdnError::NotDigits));
        assert_eq!(Msisdn::parse("1234", "255"), Err(MsisdnError::BadLength(4)));
        assert_eq!(Msisdn::parse("1234567890123456", "255"), Err(MsisdnError::BadLength(16)));
    }

    #[test]
    fn short_strings_still_mask_something() {
        assert_eq!(mask_digits("123456789"), "12345*789");
        assert_eq!(mask_digits("12"), "*2");
    }
}
