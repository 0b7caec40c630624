//! The menu engine: menus as data (`menus/menu.toml`), words per language (`menus/<lang>.ftl`), and a
//! pure engine that moves a session [`State`] from screen to screen and hands [`TaskCall`]s to the
//! handler. [`Menu::load`] checks everything (targets, reachability, translations, screen lengths)
//! before a subscriber dials in; `mkopo check-menus` runs the same checks for reviews and CI.

pub(crate) mod check;
mod engine;
mod i18n;
pub mod model;
mod render;
pub mod value;

use std::path::Path;

pub use check::{mermaid, sample_slots};
pub use engine::{Screen, Secret, State, TaskCall, TaskResult, Turn};
pub use i18n::{product_message, Catalog};
pub use model::{MenuFile, Node, Task};
pub use value::{date_format_is_valid, format_amount, Formats, Item, Slots, Value, DEFAULT_DATE_FORMAT};

use crate::ussd::ScreenBudget;

/// The menus compiled into the binary, used when `menus.dir` is empty.
pub const EMBEDDED_MENU: &str = include_str!("../../menus/menu.toml");
pub const EMBEDDED_LANGUAGES: [(&str, &str); 2] =
    [("en", include_str!("../../menus/en.ftl")), ("sw", include_str!("../../menus/sw.ftl"))];

/// `ussd.nav.*`: the keys for More, Back and Home (R6).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct NavKeys {
    pub more: String,
    pub back: String,
    pub home: String,
}

impl Default for NavKeys {
    fn default() -> Self {
        Self { more: "98".into(), back: "0".into(), home: "00".into() }
    }
}

/// A loaded and checked menu with its languages.
#[derive(Debug)]
pub struct Menu {
    file: MenuFile,
    catalog: Catalog,
    nav: NavKeys,
}

#[derive(Debug, thiserror::Error)]
pub enum MenuError {
    /// The cause is in the message and not a `source`, so an `{:#}` chain does not print it twice.
    #[error("cannot read {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("the menu has {} problem(s):\n  - {}", .0.len(), .0.join("\n  - "))]
    Invalid(Vec<String>),
}

impl Menu {
    /// Builds and checks a menu from sources. `languages` is `(code, ftl)`, the default first.
    pub fn from_sources(
        menu: &str,
        languages: &[(String, String)],
        nav: NavKeys,
        formats: Formats,
        budget: ScreenBudget,
    ) -> Result<Self, MenuError> {
        let file: MenuFile =
            toml::from_str(menu).map_err(|e| MenuError::Invalid(vec![format!("menu.toml: {}", e.message())]))?;
        let catalog = Catalog::load(languages, formats).map_err(MenuError::Invalid)?;
        let menu = Self { file, catalog, nav };
        let problems = check::check(&menu, budget);
        if problems.is_empty() {
            Ok(menu)
        } else {
            Err(MenuError::Invalid(problems))
        }
    }

    /// The embedded menus, or `dir/menu.toml` with `dir/<lang>.ftl` for each of `languages`.
    pub fn load(
        dir: Option<&Path>,
        languages: &[String],
        nav: NavKeys,
        formats: Formats,
        budget: ScreenBudget,
    ) -> Result<Self, MenuError> {
        let Some(dir) = dir else {
            let langs: Vec<(String, String)> = EMBEDDED_LANGUAGES
                .iter()
                .filter(|(code, _)| languages.is_empty() || languages.iter().any(|l| l == code))
                .map(|(c, s)| ((*c).to_owned(), (*s).to_owned()))
                .collect();
            return Self::from_sources(EMBEDDED_MENU, &langs, nav, formats, budget);
        };
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|cause| MenuError::Read { path: path.display().to_string(), cause })
        };
        let menu = read("menu.toml")?;
        let mut langs = Vec::new();
        for code in languages {
            langs.push((code.clone(), read(&format!("{code}.ftl"))?));
        }
        Self::from_sources(&menu, &langs, nav, formats, budget)
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn file(&self) -> &MenuFile {
        &self.file
    }

    pub fn nav(&self) -> &NavKeys {
        &self.nav
    }

    /// The offered products (`lms.product_ids`) a language has no `product-<id>` name for: there the
    /// subscriber reads the LMS's own name. Not a fault (the screen still works), so reported, not refused.
    pub fn untranslated_products(&self, product_ids: &[String]) -> Vec<String> {
        let mut missing = Vec::new();
        for lang in self.catalog.languages() {
            for id in product_ids {
                let message = product_message(id);
                if !self.catalog.has(lang, &message) {
                    missing.push(format!(
                        "product {id} has no name in {lang}.ftl (`{message}`): the LMS's name is shown instead"
                    ));
                }
            }
        }
        missing
    }
}

#[cfg(test)]
mod screens_tests;
#[cfg(test)]
mod tests;
