//! Our wallet references (docs/money.md): `L` (a loan disbursement, also the LMS loan
//! `externalId`) or `C` (a collection), nine zero-padded digits of a counter, one Luhn check digit.
//! 11 characters, so they fit Daraja's `AccountReference` (≤12) and `TransactionDesc` (≤13).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferenceKind {
    Loan,
    Collection,
}

impl ReferenceKind {
    fn prefix(self) -> char {
        match self {
            ReferenceKind::Loan => 'L',
            ReferenceKind::Collection => 'C',
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the reference counter {0} does not fit nine digits")]
pub struct CounterOverflow(pub u64);

impl Reference {
    /// Builds the reference for counter value `n`.
    pub fn mint(kind: ReferenceKind, n: u64) -> Result<Self, CounterOverflow> {
        if n > 999_999_999 {
            return Err(CounterOverflow(n));
        }
        let digits = format!("{n:09}");
        Ok(Self(format!("{}{digits}{}", kind.prefix(), luhn_check_digit(&digits))))
    }

    /// Reads a reference as a subscriber may type it: case, spaces and dashes are forgiven; the Luhn
    /// digit is not. Anything else is not one of ours.
    pub fn parse(typed: &str) -> Option<Self> {
        let cleaned: String =
            typed.chars().filter(|c| !matches!(c, ' ' | '-')).collect::<String>().to_ascii_uppercase();
        let bytes = cleaned.as_bytes();
        if bytes.len() != 11 || !matches!(bytes[0], b'L' | b'C') || !bytes[1..].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let (digits, check) = cleaned[1..].split_at(9);
        (luhn_check_digit(digits).to_string() == check).then_some(Self(cleaned))
    }

    /// Whether `typed` has the shape of a reference (`L`/`C` and ten digits), whatever its check digit:
    /// a well-formed reference we do not hold is "not found", not "invalid".
    pub fn well_formed(typed: &str) -> bool {
        let cleaned: String = typed.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let bytes = cleaned.as_bytes();
        bytes.len() == 11 && matches!(bytes[0], b'L' | b'C' | b'l' | b'c') && bytes[1..].iter().all(u8::is_ascii_digit)
    }

    pub fn kind(&self) -> ReferenceKind {
        if self.0.starts_with('L') {
            ReferenceKind::Loan
        } else {
            ReferenceKind::Collection
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({})", self.0)
    }
}

/// The Luhn digit that makes `digits` + digit valid.
fn luhn_check_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

impl serde::Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <String as serde::Deserialize>::deserialize(d)?;
        Reference::parse(&raw).ok_or_else(|| serde::de::Error::custom(format!("{raw:?} is not an mkopo reference")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_examples_are_minted_exactly() {
        assert_eq!(Reference::mint(ReferenceKind::Loan, 123_455 / 10).unwrap().as_str(), "L0000123455");
        assert_eq!(Reference::mint(ReferenceKind::Collection, 17).unwrap().as_str(), "C0000000174");
    }

    #[test]
    fn typed_references_are_forgiven_case_spaces_and_dashes_but_not_a_bad_check_digit() {
        assert_eq!(Reference::parse(" l000-012 3455 ").unwrap().as_str(), "L0000123455");
        assert_eq!(Reference::parse("L0000123456"), None);
        assert_eq!(Reference::parse("HELLO"), None);
        assert_eq!(Reference::parse("X0000123455"), None);
        assert_eq!(Reference::parse("0712345678"), None);
    }

    #[test]
    fn minted_references_parse_back_and_know_their_kind() {
        for n in [0, 1, 9, 10, 99_999, 999_999_999] {
            let r = Reference::mint(ReferenceKind::Collection, n).unwrap();
            assert_eq!(Reference::parse(r.as_str()).as_ref(), Some(&r));
            assert_eq!(r.kind(), ReferenceKind::Collection);
        }
        assert!(Reference::mint(ReferenceKind::Loan, 1_000_000_000).is_err());
    }
}
