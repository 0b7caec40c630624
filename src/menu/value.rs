//! The values a journey carries between screens (slots) and how they are shown. Amounts stay `Decimal`
//! and reach the message files already formatted by one rule ([`Formats`]): Fluent's own numbers are
//! `f64`, which money never passes through. Counts (for plural forms) are the only numbers handed to
//! Fluent. Product names carry the LMS product id, so each language can name them (`product-<id>`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One slot value. Lists hold the rows a task fetched (products, loans, payments).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    #[serde(rename = "t")]
    Text(String),
    #[serde(rename = "a")]
    Amount(#[serde(with = "crate::domain::money::number")] Decimal),
    #[serde(rename = "n")]
    Count(u32),
    #[serde(rename = "d")]
    Date(NaiveDate),
    #[serde(rename = "f")]
    Flag(bool),
    #[serde(rename = "l")]
    List(Vec<Item>),
    /// A loan product: its LMS id and the LMS's name, shown as the language's `product-<id>` when the
    /// message file has one, else as the LMS's name.
    #[serde(rename = "p")]
    Product(String, String),
}

/// One row of a list: its fields by name (no nested lists).
pub type Item = BTreeMap<String, Value>;

/// Named values of one session. A dotted name (`loan.outstanding`) reads a field of an item slot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Slots(BTreeMap<String, Value>);

impl Slots {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        self.0.insert(name.into(), value);
    }

    /// Stores an item's fields under `prefix.field`, replacing any earlier item stored there.
    pub fn set_item(&mut self, prefix: &str, item: &Item) {
        let dotted = format!("{prefix}.");
        self.0.retain(|k, _| !k.starts_with(&dotted));
        for (field, value) in item {
            self.0.insert(format!("{prefix}.{field}"), value.clone());
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    pub fn remove(&mut self, name: &str) {
        self.0.remove(name);
    }

    pub fn amount(&self, name: &str) -> Option<Decimal> {
        match self.get(name)? {
            Value::Amount(a) => Some(*a),
            _ => None,
        }
    }

    pub fn date(&self, name: &str) -> Option<chrono::NaiveDate> {
        match self.get(name)? {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn list(&self, name: &str) -> &[Item] {
        match self.get(name) {
            Some(Value::List(items)) => items,
            _ => &[],
        }
    }

    pub fn merge(&mut self, other: Slots) {
        self.0.extend(other.0);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter()
    }
}

impl FromIterator<(String, Value)> for Slots {
    fn from_iter<T: IntoIterator<Item = (String, Value)>>(iter: T) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// How every amount and date on every screen is shown (`ussd.currency`, `ussd.show_currency`,
/// `ussd.date_format`): one rule, applied where a slot becomes a message variable, so no message can
/// show money another way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formats {
    pub currency: String,
    /// Put the currency before every amount (`TZS 1,000`); off shows the bare number (`1,000`).
    pub show_currency: bool,
    /// A chrono `strftime` pattern, checked when the settings load.
    pub date_format: String,
}

impl Default for Formats {
    fn default() -> Self {
        Self { currency: "TZS".into(), show_currency: true, date_format: DEFAULT_DATE_FORMAT.into() }
    }
}

/// Day/month/year: short, unambiguous on both sides of the region, and the same in every language.
pub const DEFAULT_DATE_FORMAT: &str = "%d/%m/%Y";

impl Formats {
    /// `TZS 12,000` (or `12,000` without the currency).
    pub fn money(&self, amount: Decimal) -> String {
        self.with_currency(format_amount(amount))
    }

    /// A range with the currency once: `TZS 1,000-50,000`; equal bounds are one amount, `TZS 50,000`.
    pub fn range(&self, min: Decimal, max: Decimal) -> String {
        if min == max {
            return self.money(min);
        }
        self.with_currency(format!("{}-{}", format_amount(min), format_amount(max)))
    }

    pub fn date(&self, date: NaiveDate) -> String {
        date.format(&self.date_format).to_string()
    }

    fn with_currency(&self, number: String) -> String {
        if self.show_currency && !self.currency.is_empty() {
            format!("{} {number}", self.currency)
        } else {
            number
        }
    }
}

/// Whether `pattern` is a date pattern chrono can always format (an unknown `%` specifier would panic
/// at the first screen showing a date).
pub fn date_format_is_valid(pattern: &str) -> bool {
    !pattern.trim().is_empty()
        && chrono::format::StrftimeItems::new(pattern).all(|item| !matches!(item, chrono::format::Item::Error))
}

/// `12000` → `12,000`; `5038.5` → `5,038.50`. Whole amounts show no decimals (TZS, KES, GHS on USSD).
pub fn format_amount(amount: Decimal) -> String {
    let normal = amount.normalize();
    let negative = normal.is_sign_negative() && !normal.is_zero();
    let abs = normal.abs();
    let whole = abs.trunc();
    let frac = abs - whole;
    let digits = whole.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&grouped);
    if !frac.is_zero() {
        let cents = (frac.round_dp(2) * Decimal::from(100)).trunc();
        out.push_str(&format!(".{:02}", cents));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn amounts_are_grouped_by_thousands_and_keep_cents_only_when_there_are_some() {
        assert_eq!(format_amount(d("0")), "0");
        assert_eq!(format_amount(d("999")), "999");
        assert_eq!(format_amount(d("1000")), "1,000");
        assert_eq!(format_amount(d("12000.00")), "12,000");
        assert_eq!(format_amount(d("1500000")), "1,500,000");
        assert_eq!(format_amount(d("5038.5")), "5,038.50");
        assert_eq!(format_amount(d("0.1")), "0.10");
        assert_eq!(format_amount(d("-2500")), "-2,500");
    }

    #[test]
    fn money_carries_the_currency_once_and_a_range_of_one_amount_shows_it_once() {
        let f = Formats::default();
        assert_eq!(f.money(d("12000")), "TZS 12,000");
        assert_eq!(f.range(d("1000"), d("50000")), "TZS 1,000-50,000");
        assert_eq!(f.range(d("50000"), d("50000")), "TZS 50,000");
        let bare = Formats { show_currency: false, ..Formats::default() };
        assert_eq!(bare.money(d("12000")), "12,000");
        assert_eq!(bare.range(d("1000"), d("50000")), "1,000-50,000");
    }

    #[test]
    fn dates_show_day_month_year_unless_configured_otherwise() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert_eq!(Formats::default().date(day), "02/12/2026");
        let iso = Formats { date_format: "%Y-%m-%d".into(), ..Formats::default() };
        assert_eq!(iso.date(day), "2026-12-02");
        assert!(date_format_is_valid("%d.%m.%y"));
        assert!(!date_format_is_valid("%d/%Q"), "an unknown specifier");
        assert!(!date_format_is_valid(" "));
    }

    #[test]
    fn an_item_stored_in_a_slot_is_read_by_dotted_names_and_replaces_the_previous_item() {
        let mut slots = Slots::new();
        let first: Item = [("id".to_owned(), Value::Text("1".into())), ("min".to_owned(), Value::Amount(d("1000")))]
            .into_iter()
            .collect();
        let second: Item = [("id".to_owned(), Value::Text("2".into()))].into_iter().collect();
        slots.set_item("product", &first);
        assert_eq!(slots.amount("product.min"), Some(d("1000")));
        slots.set_item("product", &second);
        assert_eq!(slots.text("product.id"), Some("2"));
        assert_eq!(slots.get("product.min"), None);
    }

    #[test]
    fn slots_round_trip_through_json_with_exact_amounts() {
        let mut slots = Slots::new();
        slots.set("amount", Value::Amount(d("5038.50")));
        slots.set("due", Value::Date(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()));
        let json = serde_json::to_string(&slots).unwrap();
        assert!(json.contains("5038.50"), "{json}");
        assert_eq!(serde_json::from_str::<Slots>(&json).unwrap(), slots);
    }
}
