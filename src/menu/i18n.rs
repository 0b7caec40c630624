//! Subscriber-visible words, one Fluent file per language (`menus/<lang>.ftl`). Variables come from the
//! session's slots; amounts and dates arrive already formatted as text, counts as numbers so that plural
//! forms (`{ $count -> [one] … *[other] … }`) work. Unicode isolation marks are off: they would cost
//! septets and turn a GSM-7 screen into UCS-2.

use std::collections::{BTreeMap, BTreeSet};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

use super::value::{format_amount, format_date, Item, Slots, Value};

/// The loaded message files. The first language is the default.
pub struct Catalog {
    order: Vec<String>,
    bundles: BTreeMap<String, FluentBundle<FluentResource>>,
    ids: BTreeMap<String, BTreeSet<String>>,
    /// The variables each message uses, per language: only those are converted when formatting (a
    /// screen costs microseconds, not one conversion of every slot per message).
    vars: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("languages", &self.order).finish()
    }
}

impl Catalog {
    /// Parses `(language code, ftl source)` pairs; every syntax error of every file is reported.
    pub fn load(sources: &[(String, String)]) -> Result<Self, Vec<String>> {
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
            Ok(Self { order, bundles, ids, vars })
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

    /// Formats message `id` in `lang` with the session's slots and, for a list row, the row's fields.
    /// A missing message falls back to the default language, then to its id, so a subscriber never
    /// sees an empty screen (the loader has already refused menus with missing messages).
    pub fn format(&self, lang: &str, id: &str, slots: &Slots, row: Option<(&Item, usize)>) -> String {
        let lang = self.resolve(lang);
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
                Some((item, _)) if item.contains_key(name.as_str()) => args.set(name.clone(), to_fluent(&item[name])),
                _ => {
                    if let Some(value) = slot(slots, name) {
                        args.set(name.clone(), to_fluent(value));
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

fn to_fluent(value: &Value) -> FluentValue<'static> {
    match value {
        Value::Text(t) => FluentValue::from(t.clone()),
        Value::Amount(a) => FluentValue::from(format_amount(*a)),
        Value::Count(n) => FluentValue::from(*n),
        Value::Date(d) => FluentValue::from(format_date(*d)),
        Value::Flag(f) => FluentValue::from(if *f { "yes" } else { "no" }),
        Value::List(items) => FluentValue::from(items.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn catalog() -> Catalog {
        Catalog::load(&[
            (
                "en".into(),
                "hello = Owed { $loan_outstanding } ({ $count ->\n [one] one loan\n *[other] { $count } loans\n})\nrow = { $n }. { $name }\n".into(),
            ),
            ("sw".into(), "hello = Deni { $loan_outstanding }\n".into()),
        ])
        .unwrap()
    }

    #[test]
    fn slots_become_variables_with_formatted_amounts_and_plural_counts() {
        let mut slots = Slots::new();
        slots.set("loan.outstanding", Value::Amount(rust_decimal::Decimal::from_str("11100").unwrap()));
        slots.set("count", Value::Count(1));
        assert_eq!(catalog().format("en", "hello", &slots, None), "Owed 11,100 (one loan)");
        slots.set("count", Value::Count(3));
        assert_eq!(catalog().format("en", "hello", &slots, None), "Owed 11,100 (3 loans)");
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
        let err = Catalog::load(&[("en".into(), "broken = {".into())]).unwrap_err();
        assert!(err[0].starts_with("en.ftl: syntax error"), "{err:?}");
    }
}
