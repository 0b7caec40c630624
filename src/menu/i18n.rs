//! Subscriber-visible words, one Fluent file per language (`menus/<lang>.ftl`). Variables come from the
//! session's slots. Every amount and date is formatted by one rule ([`Formats`]) before Fluent sees it:
//! `{ $amount }` and `{ MONEY($amount) }` both read `TZS 1,000`, and `{ MONEY($min, $max) }` is a range
//! with the currency once (`TZS 1,000-50,000`, one amount when both are equal). A product shows as the
//! language's `product-<id>` message when there is one, else as the LMS's name. Counts arrive as
//! numbers so that plural forms (`{ $count -> [one] … *[other] … }`) work. Unicode isolation marks are
//! off: they would cost septets and turn a GSM-7 screen into UCS-2.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::types::FluentType;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use rust_decimal::Decimal;
use unic_langid::LanguageIdentifier;

use super::value::{Formats, Item, Slots, Value};

/// Message id of a product's name in a language: `product-<LMS product id>`.
pub fn product_message(id: &str) -> String {
    format!("{PRODUCT_PREFIX}{id}")
}

pub const PRODUCT_PREFIX: &str = "product-";

/// Shown for a loan whose product the LMS did not name.
pub const UNNAMED_PRODUCT: &str = "product-unnamed";

/// An amount as a Fluent value: shown already formatted, and still exact for `MONEY($min, $max)`.
#[derive(Debug, Clone, PartialEq)]
struct Money {
    amount: Decimal,
    shown: String,
}

impl FluentType for Money {
    fn duplicate(&self) -> Box<dyn FluentType + Send> {
        Box::new(self.clone())
    }

    fn as_string(&self, _: &intl_memoizer::IntlLangMemoizer) -> Cow<'static, str> {
        Cow::Owned(self.shown.clone())
    }

    fn as_string_threadsafe(&self, _: &intl_memoizer::concurrent::IntlLangMemoizer) -> Cow<'static, str> {
        Cow::Owned(self.shown.clone())
    }
}

fn money_of(value: &FluentValue<'_>) -> Option<Decimal> {
    match value {
        FluentValue::Custom(custom) => custom.as_any().downcast_ref::<Money>().map(|m| m.amount),
        _ => None,
    }
}

/// `MONEY($amount)` or `MONEY($min, $max)`. Anything else shows `{MONEY}`, which the menu check reports
/// (Fluent would show an error value as nothing, and a screen would silently lose its amount).
fn money_function(
    formats: Formats,
) -> impl for<'a> Fn(&[FluentValue<'a>], &FluentArgs) -> FluentValue<'a> + Send + Sync {
    move |positional, _named| {
        let shown = match positional {
            [one] => money_of(one).map(|a| formats.money(a)),
            [min, max] => money_of(min).zip(money_of(max)).map(|(min, max)| formats.range(min, max)),
            _ => None,
        };
        FluentValue::from(shown.unwrap_or_else(|| "{MONEY}".to_owned()))
    }
}

/// The loaded message files. The first language is the default.
pub struct Catalog {
    order: Vec<String>,
    bundles: BTreeMap<String, FluentBundle<FluentResource>>,
    ids: BTreeMap<String, BTreeSet<String>>,
    /// The variables each message uses, per language: only those are converted when formatting (a
    /// screen costs microseconds, not one conversion of every slot per message).
    vars: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    formats: Formats,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("languages", &self.order).finish()
    }
}

impl Catalog {
    /// Parses `(language code, ftl source)` pairs; every syntax error of every file is reported.
    pub fn load(sources: &[(String, String)], formats: Formats) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let mut order = Vec::new();
        let mut bundles = BTreeMap::new();
        let mut ids = BTreeMap::new();
        let mut vars = BTreeMap::new();
        for (code, source) in sources {
            let langid: LanguageIdentifier = match code.parse() {
                Ok(l) => l,
                Err(_) => {
                    problems.push(format!("`{code}` is not a language code"));
                    continue;
                }
            };
            let resource = match FluentResource::try_new(source.clone()) {
                Ok(r) => r,
                Err((r, errors)) => {
                    for e in errors {
                        problems.push(format!("{code}.ftl: syntax error at byte {}: {}", e.pos.start, e.kind));
                    }
                    r
                }
            };
            let mut names = BTreeSet::new();
            let mut used = BTreeMap::new();
            for entry in resource.entries() {
                if let fluent_syntax::ast::Entry::Message(m) = entry {
                    names.insert(m.id.name.to_owned());
                    let mut found = Vec::new();
                    if let Some(pattern) = &m.value {
                        pattern_vars(pattern, &mut found);
                    }
                    found.sort();
                    found.dedup();
                    used.insert(m.id.name.to_owned(), found);
                }
            }
            vars.insert(code.clone(), used);
            let mut bundle = FluentBundle::new_concurrent(vec![langid]);
            bundle.set_use_isolating(false);
            bundle.add_function("MONEY", money_function(formats.clone())).expect("MONEY is registered once");
            if let Err(errors) = bundle.add_resource(resource) {
                for e in errors {
                    problems.push(format!("{code}.ftl: {e}"));
                }
            }
            order.push(code.clone());
            ids.insert(code.clone(), names);
            bundles.insert(code.clone(), bundle);
        }
        if order.is_empty() {
            problems.push("no language files".to_owned());
        }
        if problems.is_empty() {
            Ok(Self { order, bundles, ids, vars, formats })
        } else {
            Err(problems)
        }
    }

    pub fn languages(&self) -> &[String] {
        &self.order
    }

    pub fn default_language(&self) -> &str {
        &self.order[0]
    }

    /// `lang` if loaded, else the default.
    pub fn resolve<'a>(&'a self, lang: &'a str) -> &'a str {
        if self.bundles.contains_key(lang) {
            lang
        } else {
            self.default_language()
        }
    }

    pub fn has(&self, lang: &str, id: &str) -> bool {
        self.ids.get(lang).is_some_and(|ids| ids.contains(id))
    }

    pub fn ids(&self, lang: &str) -> impl Iterator<Item = &String> {
        self.ids.get(lang).into_iter().flatten()
    }

    pub fn formats(&self) -> &Formats {
        &self.formats
    }

    /// Formats message `id` in `lang` with the session's slots and, for a list row, the row's fields.
    /// A missing message falls back to the default language, then to its id, so a subscriber never
    /// sees an empty screen (the loader has already refused menus with missing messages).
    pub fn format(&self, lang: &str, id: &str, slots: &Slots, row: Option<(&Item, usize)>) -> String {
        let lang = self.resolve(lang);
        // Products are named in the session's language, even when the message itself falls back.
        let session_lang = lang;
        let (lang, bundle, message) = match self.bundles[lang].get_message(id) {
            Some(m) => (lang, &self.bundles[lang], m),
            None => {
                let fallback = self.default_language();
                match self.bundles[fallback].get_message(id) {
                    Some(m) => (fallback, &self.bundles[fallback], m),
                    None => return id.to_owned(),
                }
            }
        };
        let Some(pattern) = message.value() else {
            return id.to_owned();
        };
        let mut args = FluentArgs::new();
        let names = self.vars.get(lang).and_then(|v| v.get(id)).map(Vec::as_slice).unwrap_or_default();
        for name in names {
            match row {
                Some((_, n)) if name == "n" => args.set("n", FluentValue::from(n)),
                Some((item, _)) if item.contains_key(name.as_str()) => {
                    args.set(name.clone(), self.to_fluent(session_lang, &item[name]))
                }
                _ => {
                    if let Some(value) = slot(slots, name) {
                        args.set(name.clone(), self.to_fluent(session_lang, value));
                    }
                }
            }
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&args), &mut errors).into_owned();
        if !errors.is_empty() {
            tracing::warn!(message = id, lang, errors = errors.len(), "message formatted with missing variables");
        }
        text
    }
}

/// A Fluent variable's slot: `repay_min` is itself, `loan_next_amount` is `loan.next_amount`.
fn slot<'s>(slots: &'s Slots, name: &str) -> Option<&'s Value> {
    slots.get(name).or_else(|| {
        let (head, tail) = name.split_once('_')?;
        slots.get(&format!("{head}.{tail}"))
    })
}

fn pattern_vars(pattern: &fluent_syntax::ast::Pattern<&str>, out: &mut Vec<String>) {
    use fluent_syntax::ast::PatternElement;
    for element in &pattern.elements {
        if let PatternElement::Placeable { expression } = element {
            expression_vars(expression, out);
        }
    }
}

fn expression_vars(expression: &fluent_syntax::ast::Expression<&str>, out: &mut Vec<String>) {
    use fluent_syntax::ast::Expression;
    match expression {
        Expression::Select { selector, variants } => {
            inline_vars(selector, out);
            for variant in variants {
                pattern_vars(&variant.value, out);
            }
        }
        Expression::Inline(inline) => inline_vars(inline, out),
    }
}

fn inline_vars(inline: &fluent_syntax::ast::InlineExpression<&str>, out: &mut Vec<String>) {
    use fluent_syntax::ast::InlineExpression;
    match inline {
        InlineExpression::VariableReference { id } => out.push(id.name.to_owned()),
        InlineExpression::Placeable { expression } => expression_vars(expression, out),
        InlineExpression::FunctionReference { arguments, .. } => {
            for arg in &arguments.positional {
                inline_vars(arg, out);
            }
            for arg in &arguments.named {
                inline_vars(&arg.value, out);
            }
        }
        _ => {}
    }
}

impl Catalog {
    /// A slot as a Fluent variable, formatted by the one rule for its kind.
    fn to_fluent(&self, lang: &str, value: &Value) -> FluentValue<'static> {
        match value {
            Value::Text(t) => FluentValue::from(t.clone()),
            Value::Amount(a) => FluentValue::Custom(Box::new(Money { amount: *a, shown: self.formats.money(*a) })),
            Value::Count(n) => FluentValue::from(*n),
            Value::Date(d) => FluentValue::from(self.formats.date(*d)),
            Value::Flag(f) => FluentValue::from(if *f { "yes" } else { "no" }),
            Value::List(items) => FluentValue::from(items.len()),
            Value::Product(id, name) => FluentValue::from(self.product_name(lang, id, name)),
        }
    }

    /// `product-<id>` in `lang`, else the LMS's name, else the language's word for an unnamed loan.
    pub fn product_name(&self, lang: &str, id: &str, lms_name: &str) -> String {
        let own = product_message(id);
        if !id.is_empty() && self.has(lang, &own) {
            return self.plain(lang, &own);
        }
        if !lms_name.trim().is_empty() {
            return lms_name.to_owned();
        }
        self.plain(lang, UNNAMED_PRODUCT)
    }

    /// A message without variables, in `lang` or the default language.
    fn plain(&self, lang: &str, id: &str) -> String {
        self.format(lang, id, &Slots::new(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn catalog() -> Catalog {
        Catalog::load(
            &[
            (
                "en".into(),
                "hello = Owed { $loan_outstanding } ({ $count ->\n [one] one loan\n *[other] { $count } loans\n})\nrow = { $n }. { $name }\n".into(),
            ),
            ("sw".into(), "hello = Deni { $loan_outstanding }\nproduct-1 = Mkopo wa Siku 7\n".into()),
            ],
            Formats::default(),
        )
        .unwrap()
    }

    #[test]
    fn slots_become_variables_with_formatted_amounts_and_plural_counts() {
        let mut slots = Slots::new();
        slots.set("loan.outstanding", Value::Amount(rust_decimal::Decimal::from_str("11100").unwrap()));
        slots.set("count", Value::Count(1));
        assert_eq!(catalog().format("en", "hello", &slots, None), "Owed TZS 11,100 (one loan)");
        slots.set("count", Value::Count(3));
        assert_eq!(catalog().format("en", "hello", &slots, None), "Owed TZS 11,100 (3 loans)");
    }

    #[test]
    fn rows_get_their_number_and_fields() {
        let item: Item = [("name".to_owned(), Value::Text("H7D".into()))].into_iter().collect();
        assert_eq!(catalog().format("en", "row", &Slots::new(), Some((&item, 2))), "2. H7D");
    }

    #[test]
    fn a_missing_message_falls_back_to_the_default_language_and_an_unknown_language_to_the_default() {
        let c = catalog();
        assert_eq!(c.format("sw", "row", &Slots::new(), Some((&Item::new(), 1))), "1. {$name}");
        assert_eq!(c.resolve("fr"), "en");
        assert_eq!(c.format("xx", "nope", &Slots::new(), None), "nope");
    }

    #[test]
    fn syntax_errors_are_reported_by_file() {
        let err = Catalog::load(&[("en".into(), "broken = {".into())], Formats::default()).unwrap_err();
        assert!(err[0].starts_with("en.ftl: syntax error"), "{err:?}");
    }

    #[test]
    fn money_is_one_rule_bare_or_through_the_function_and_a_range_shows_equal_bounds_once() {
        let ftl = "a = { $amount } { MONEY($amount) }\nr = ({ MONEY($min, $max) })\nbad = { MONEY($name) }\n";
        let c = Catalog::load(&[("en".into(), ftl.into())], Formats::default()).unwrap();
        let mut slots = Slots::new();
        slots.set("amount", Value::Amount(rust_decimal::Decimal::from(5000)));
        slots.set("min", Value::Amount(rust_decimal::Decimal::from(1000)));
        slots.set("max", Value::Amount(rust_decimal::Decimal::from(50000)));
        slots.set("name", Value::Text("x".into()));
        assert_eq!(c.format("en", "a", &slots, None), "TZS 5,000 TZS 5,000");
        assert_eq!(c.format("en", "r", &slots, None), "(TZS 1,000-50,000)");
        slots.set("min", Value::Amount(rust_decimal::Decimal::from(50000)));
        assert_eq!(c.format("en", "r", &slots, None), "(TZS 50,000)");
        assert_eq!(c.format("en", "bad", &slots, None), "{MONEY}", "text is not money: the check sees it");
        let bare = Formats { show_currency: false, ..Formats::default() };
        let c = Catalog::load(&[("en".into(), ftl.into())], bare).unwrap();
        assert_eq!(c.format("en", "a", &slots, None), "5,000 5,000");
    }

    #[test]
    fn a_product_is_named_in_the_language_when_it_has_a_name_there_else_by_the_lms() {
        let c = catalog();
        let item: Item =
            [("name".to_owned(), Value::Product("1".into(), "Halotel 7-Day Loan".into()))].into_iter().collect();
        assert_eq!(c.format("sw", "row", &Slots::new(), Some((&item, 1))), "1. Mkopo wa Siku 7");
        assert_eq!(c.format("en", "row", &Slots::new(), Some((&item, 1))), "1. Halotel 7-Day Loan");
        assert_eq!(c.product_name("sw", "9", "Other Loan"), "Other Loan");
    }
}
