//! Which phone numbers we may act on. docs/money.md: a number is *usable* when, after the typed
//! forms are normalised (`0712…`, `+254…`, spaces, dashes), it matches the deployment's pattern. Masked
//! values such as C2B's `2547*****149` never are: a star is not a digit, so they fail before the pattern.

use regex::Regex;

use crate::domain::Msisdn;

/// Kenya: Safaricom and the other operators' mobile ranges, `2547…` and `2541…`.
pub const KE_PATTERN: &str = r"^254(7|1)[0-9]{8}$";
pub const KE_COUNTRY_CODE: &str = "254";

#[derive(Debug, Clone)]
pub struct UsableMsisdn {
    pattern: Regex,
    country_code: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    #[error("usable_msisdn_pattern is not a valid regular expression")]
    Regex(#[from] regex::Error),
    #[error("usable_msisdn_pattern must be anchored with ^ and $ so that it matches the whole number")]
    Unanchored,
    #[error("country_code {0:?} must be 1 to 3 digits")]
    CountryCode(String),
}

impl UsableMsisdn {
    pub fn new(pattern: &str, country_code: &str) -> Result<Self, PatternError> {
        // An unanchored pattern would accept any number that merely contains a Kenyan one.
        if !(pattern.starts_with('^') && pattern.ends_with('$')) {
            return Err(PatternError::Unanchored);
        }
        if !(1..=3).contains(&country_code.len()) || !country_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PatternError::CountryCode(country_code.to_owned()));
        }
        Ok(Self { pattern: Regex::new(pattern)?, country_code: country_code.to_owned() })
    }

    /// The Kenyan default (`^254(7|1)[0-9]{8}$`, country code 254).
    pub fn kenya() -> Self {
        Self {
            pattern: Regex::new(KE_PATTERN).expect("the Kenyan pattern compiles"),
            country_code: KE_COUNTRY_CODE.into(),
        }
    }

    /// The normalised number if `raw` is a usable MSISDN, else `None`.
    pub fn parse(&self, raw: &str) -> Option<Msisdn> {
        let msisdn = Msisdn::parse(raw, &self.country_code).ok()?;
        self.pattern.is_match(msisdn.as_str()).then_some(msisdn)
    }
}

impl Default for UsableMsisdn {
    fn default() -> Self {
        Self::kenya()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_kenyan_forms_normalise_to_usable_numbers() {
        let usable = UsableMsisdn::kenya();
        for raw in ["0712345678", "+254712345678", "254712345678", "0712 345 678", "+254 712-345-678", "0112345678"] {
            let expected = if raw.starts_with("011") { "254112345678" } else { "254712345678" };
            assert_eq!(usable.parse(raw).map(|m| m.as_str().to_owned()).as_deref(), Some(expected), "{raw}");
        }
    }

    #[test]
    fn masked_foreign_and_junk_numbers_are_not_usable() {
        let usable = UsableMsisdn::kenya();
        for raw in
            ["2547*****149", "255712345678", "0212345678", "25471234567", "2547123456789", "HELLO", "", "L0000123455"]
        {
            assert_eq!(usable.parse(raw), None, "{raw}");
        }
    }

    #[test]
    fn a_configured_pattern_must_be_anchored_and_valid() {
        assert!(matches!(UsableMsisdn::new("254(7|1)[0-9]{8}", "254"), Err(PatternError::Unanchored)));
        assert!(matches!(UsableMsisdn::new("^254(7|1[0-9]{8}$", "254"), Err(PatternError::Regex(_))));
        assert!(matches!(UsableMsisdn::new(KE_PATTERN, "+254"), Err(PatternError::CountryCode(_))));
        let tz = UsableMsisdn::new("^255[67][0-9]{8}$", "255").unwrap();
        assert_eq!(tz.parse("0712345678").unwrap().as_str(), "255712345678");
    }
}
