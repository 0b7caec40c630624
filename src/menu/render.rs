//! Turning the current node into screen text within the septet budget (docs/ussd.md): error line, body,
//! numbered options; lists are paged with the More key, rows numbered across pages so a number always
//! means the same row. Input screens that honour Back show it. The last resort for a screen that still
//! does not fit drops whole lines.

use super::engine::{Screen, State};
use super::model::{NavKey, Node};
use super::Menu;
use crate::ussd::{fits, transliterate, ScreenBudget};

impl Menu {
    /// The current screen of `state`.
    pub fn render(&self, state: &State, budget: ScreenBudget) -> Screen {
        let lang = state.lang.as_str();
        let format = |id: &str| self.catalog.format(lang, id, &state.slots, None);
        let mut head = Vec::new();
        if let Some(error) = &state.error {
            head.push(format(error));
        }
        let (lines, end) = match self.file.nodes.get(&state.node) {
            Some(Node::Menu { text, options, .. }) => {
                head.push(format(text));
                for (i, o) in options.iter().enumerate() {
                    head.push(format!("{}. {}", i + 1, format(&o.label)));
                }
                if !state.history.is_empty() {
                    head.push(self.nav_line(lang, "nav-back", &self.nav.back, state));
                }
                (head, false)
            }
            Some(Node::List { text, .. }) => {
                head.push(format(text));
                let page = self.list_page(state, &head, budget);
                head.extend(page.rows);
                if page.more {
                    head.push(self.nav_line(lang, "nav-more", &self.nav.more, state));
                }
                head.push(self.nav_line(lang, "nav-back", &self.nav.back, state));
                (head, false)
            }
            Some(Node::Input { text, nav, .. }) => {
                head.push(format(text));
                // An input that honours Back says so, or a subscriber never learns that 0 is not data here.
                if nav.contains(&NavKey::Back) && !state.history.is_empty() {
                    head.push(self.nav_line(lang, "nav-back", &self.nav.back, state));
                }
                (head, false)
            }
            Some(Node::End { text }) => {
                head.push(format(text));
                (head, true)
            }
            Some(Node::Task { .. }) | None => (vec![format("msg-error")], true),
        };
        let (text, truncated) = fit(lines, budget);
        Screen { text, end, node: state.node.clone(), truncated }
    }

    /// Whether the current list screen has a page after this one.
    pub(super) fn render_list_has_more(&self, state: &State, budget: ScreenBudget) -> bool {
        let Some(Node::List { text, .. }) = self.file.nodes.get(&state.node) else { return false };
        let mut head = Vec::new();
        if let Some(error) = &state.error {
            head.push(self.catalog.format(&state.lang, error, &state.slots, None));
        }
        head.push(self.catalog.format(&state.lang, text, &state.slots, None));
        self.list_page(state, &head, budget).more
    }

    fn nav_line(&self, lang: &str, id: &str, key: &str, state: &State) -> String {
        format!("{key}. {}", self.catalog.format(lang, id, &state.slots, None))
    }

    /// Every row of the current list (items, then static options), numbered from 1.
    fn list_rows(&self, state: &State) -> Vec<String> {
        let Some(Node::List { items, item, options, .. }) = self.file.nodes.get(&state.node) else {
            return Vec::new();
        };
        let lang = state.lang.as_str();
        let rows = state.slots.list(items);
        let mut out: Vec<String> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| self.catalog.format(lang, item, &state.slots, Some((row, i + 1))))
            .collect();
        let base = out.len();
        out.extend(
            options
                .iter()
                .enumerate()
                .map(|(i, o)| format!("{}. {}", base + i + 1, self.catalog.format(lang, &o.label, &state.slots, None))),
        );
        out
    }

    /// Greedy paging from the first row: each page takes as many rows as fit beside the header and the
    /// nav lines (at least one row, so a list always advances).
    fn list_page(&self, state: &State, head: &[String], budget: ScreenBudget) -> Page {
        let rows = self.list_rows(state);
        let back = self.nav_line(&state.lang, "nav-back", &self.nav.back, state);
        let more = self.nav_line(&state.lang, "nav-more", &self.nav.more, state);
        let mut start = 0;
        let mut page = 0;
        loop {
            let mut end = start;
            while end < rows.len() {
                let last = end + 1 == rows.len();
                let mut candidate: Vec<&str> = head.iter().map(String::as_str).collect();
                candidate.extend(rows[start..=end].iter().map(String::as_str));
                if !last {
                    candidate.push(&more);
                }
                candidate.push(&back);
                if end > start && !fits(&transliterate(&candidate.join("\n")), budget) {
                    break;
                }
                end += 1;
            }
            let more_after = end < rows.len();
            if page == state.page || !more_after {
                return Page { rows: rows[start..end].to_vec(), more: more_after };
            }
            start = end;
            page += 1;
        }
    }
}

struct Page {
    rows: Vec<String>,
    more: bool,
}

/// Joins `lines`, transliterated; drops lines from the end (keeping the first) until the text fits.
fn fit(mut lines: Vec<String>, budget: ScreenBudget) -> (String, bool) {
    let mut truncated = false;
    loop {
        let text = transliterate(&lines.join("\n")).into_owned();
        if fits(&text, budget) || lines.len() <= 1 {
            return (text, truncated);
        }
        lines.pop();
        truncated = true;
    }
}
