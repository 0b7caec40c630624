//! Screen length in GSM 03.38 septets (R5). Basic-table characters count 1, extension-table characters 2;
//! any other character switches the whole screen to UCS-2, counted in UTF-16 code units.

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenCount {
    pub encoding: Encoding,
    /// Septets for GSM-7, UTF-16 code units for UCS-2.
    pub units: usize,
}

/// `ussd.screen.budget` [160] and `ussd.screen.ucs2_budget` [80].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenBudget {
    pub gsm7: usize,
    pub ucs2: usize,
}

impl Default for ScreenBudget {
    fn default() -> Self {
        Self { gsm7: 160, ucs2: 80 }
    }
}

const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const EXTENSION: &str = "^{}\\[]~|€\u{0c}";

/// Septets of each ASCII character (0 = no GSM-7 form): screens are mostly ASCII, and a table lookup
/// is much cheaper than searching the alphabet strings for every character.
const ASCII: [u8; 128] = ascii_table();

const fn ascii_table() -> [u8; 128] {
    let mut table = [0u8; 128];
    let basic = BASIC.as_bytes();
    let mut i = 0;
    while i < basic.len() {
        if basic[i] < 128 {
            table[basic[i] as usize] = 1;
        }
        i += 1;
    }
    let ext = EXTENSION.as_bytes();
    let mut i = 0;
    while i < ext.len() {
        if ext[i] < 128 {
            table[ext[i] as usize] = 2;
        }
        i += 1;
    }
    table
}

/// Septets one character takes in GSM-7, `None` if it has no GSM-7 form.
pub fn septets(c: char) -> Option<usize> {
    if c.is_ascii() {
        return match ASCII[c as usize] {
            0 => None,
            n => Some(n as usize),
        };
    }
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Counts `text` as it would be sent (no transliteration; call [`transliterate`] first).
pub fn count(text: &str) -> ScreenCount {
    text.chars().try_fold(0, |n, c| septets(c).map(|s| n + s)).map_or_else(
        || ScreenCount { encoding: Encoding::Ucs2, units: text.encode_utf16().count() },
        |units| ScreenCount { encoding: Encoding::Gsm7, units },
    )
}

/// Whether `text` fits the budget of the encoding it needs.
pub fn fits(text: &str, budget: ScreenBudget) -> bool {
    let c = count(text);
    c.units
        <= match c.encoding {
            Encoding::Gsm7 => budget.gsm7,
            Encoding::Ucs2 => budget.ucs2,
        }
}

/// Typographic quotes, dashes, ellipsis and Unicode spaces to their GSM-7 equivalents (R5).
pub fn transliterate(text: &str) -> Cow<'_, str> {
    let needs = |c: char| {
        matches!(c, '‘' | '’' | '‚' | '′' | '`' | '“' | '”' | '„' | '″' | '–' | '—' | '−' | '…')
            || (c.is_whitespace() && !matches!(c, ' ' | '\n' | '\r' | '\u{0c}' | '\t'))
    };
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '‘' | '’' | '‚' | '′' | '`' => out.push('\''),
            '“' | '”' | '„' | '″' => out.push('"'),
            '–' | '—' | '−' => out.push('-'),
            '…' => out.push_str("..."),
            c if needs(c) => out.push(' '),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gsm(n: usize) -> ScreenCount {
        ScreenCount { encoding: Encoding::Gsm7, units: n }
    }

    #[test]
    fn a_plain_word_counts_one_septet_per_letter() {
        assert_eq!(count("Karibu"), gsm(6));
    }

    #[test]
    fn braces_count_two_septets_each() {
        assert_eq!(count("{x}"), gsm(5));
    }

    #[test]
    fn the_euro_sign_counts_two_septets() {
        assert_eq!(count("€5"), gsm(3));
    }

    #[test]
    fn every_extension_character_counts_two() {
        assert_eq!(count("^{}\\[]~|€\u{0c}"), gsm(20));
    }

    #[test]
    fn a_curly_apostrophe_is_transliterated_and_stays_gsm() {
        let t = transliterate("ng’ombe");
        assert_eq!(t, "ng'ombe");
        assert_eq!(count(&t), gsm(7));
    }

    #[test]
    fn a_diaeresis_outside_the_table_switches_to_ucs2() {
        assert_eq!(count("naïve"), ScreenCount { encoding: Encoding::Ucs2, units: 5 });
        assert!(fits("naïve", ScreenBudget::default()));
    }

    #[test]
    fn an_emoji_counts_two_utf16_units() {
        assert_eq!(count("a😀"), ScreenCount { encoding: Encoding::Ucs2, units: 3 });
    }

    #[test]
    fn greek_capitals_and_line_breaks_are_basic() {
        assert_eq!(count("ΔΦ\n\r@£"), gsm(6));
    }

    #[test]
    fn the_budget_edge_is_inclusive() {
        let b = ScreenBudget::default();
        assert!(fits(&"a".repeat(160), b));
        assert!(!fits(&"a".repeat(161), b));
        assert!(!fits(&"{".repeat(81), b));
        assert!(fits(&"ï".repeat(80), b));
        assert!(!fits(&"ï".repeat(81), b));
        assert!(fits("ab", ScreenBudget { gsm7: 2, ucs2: 1 }));
    }

    #[test]
    fn dashes_ellipsis_and_odd_spaces_are_transliterated() {
        assert_eq!(transliterate("a–b—c…\u{a0}“x”"), "a-b-c... \"x\"");
        assert!(matches!(transliterate("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn an_empty_screen_counts_zero() {
        assert_eq!(count(""), gsm(0));
    }
}
