//! Resume as data: whether a broken-off session is offered "Continue" on the next dial.
//!
//! The menu marks the screens worth coming back to (`resume = true` in `menus/menu.toml`); the whole
//! policy is [`mark_change`], one function of the node a session is on, so the hop code only carries out
//! what it returns. The subscriber's mark (`sub:{msisdn}:resume`, one per subscriber) names the session
//! and the service code it was dialled on ([`dialled_code`]): an offer is made on the same code only.
//!
//! Across aggregators: a session key includes the dialect, but the mark does not, so a journey broken off
//! on `*150*88#` through Africa's Talking is offered when the subscriber dials `*150*88#` again and the
//! telco routes it through Beem or Hubtel — the subscriber dialled the same short code and cannot know
//! which aggregator carried it. A resumed journey keeps its first session as [`State::origin`], and its
//! effects (a borrow, a repay prompt) are keyed by that session, so whichever aggregator carries the
//! resumed session, an effect already claimed is followed, never run again. A dial of another code
//! neither sees the mark nor clears it. Beem sends no service code: its sessions use the dialect's first
//! `base_codes` entry, and without one they match only other sessions without a code.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{SessionKey, Sessions};
use crate::domain::Msisdn;
use crate::menu::{MenuFile, State};
use crate::store::StoreError;
use crate::ussd::ServiceCode;

/// Where a broken-off session can be found again. While a session is live the mark only names its
/// record (written once per session rather than a copy of the state every hop); an end notification,
/// which deletes the record (R9), leaves a copy of the state instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeMark {
    /// The service code the session was dialled on.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The session's key: where a live session is read, and whose effect keys a resumed journey keeps.
    #[serde(rename = "k")]
    pub session: String,
    /// The state, when the provider ended the session and its record is gone.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<State>,
}

impl ResumeMark {
    /// Whether this mark is offered on a dial of `code`.
    pub fn offered_on(&self, code: Option<&str>) -> bool {
        self.code.as_deref() == code
    }
}

/// When the mark is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// After one of our turns; the node is `None` when our reply ended the session.
    Hop,
    /// The provider ended the session (hang-up, timeout, AT's end notice); `completed` is AT's `Success`.
    ProviderEnd { completed: bool },
}

/// What to do with the subscriber's resume mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkChange {
    /// Point the mark at this live session.
    Point,
    /// Replace it with a copy of this session's state (its record is about to go).
    Snapshot,
    /// Delete it.
    Clear,
    /// Leave it as it is.
    Keep,
}

/// The resume policy. `node` is where the session is (or was, when the provider ended it); `marked`
/// says a mark exists that this session must replace or clear, `own` that it already points here.
pub fn mark_change(menu: &MenuFile, node: Option<&str>, moment: Moment, marked: bool, own: bool) -> MarkChange {
    let worth = node.is_some_and(|n| menu.resumable(n));
    match moment {
        // The subscriber is answering the offer: the mark must survive until they choose.
        Moment::Hop if node == Some(menu.resume.as_str()) => MarkChange::Keep,
        Moment::Hop if worth && own => MarkChange::Keep,
        Moment::Hop if worth => MarkChange::Point,
        Moment::ProviderEnd { completed: false } if worth => MarkChange::Snapshot,
        // Anywhere else (a screen read, a finished journey, home) nothing is worth an offer.
        _ if marked => MarkChange::Clear,
        _ => MarkChange::Keep,
    }
}

/// The code a session was dialled on, for its mark: the request's code without a deep-dial suffix (the
/// dialect's base code it starts with), else — Beem sends none — the dialect's first base code.
pub fn dialled_code(request: Option<&ServiceCode>, base_codes: &[ServiceCode]) -> Option<String> {
    match request {
        Some(code) => {
            let base = base_codes.iter().find(|base| base.suffix_of(code.as_str()).is_some());
            Some(base.unwrap_or(code).as_str().to_owned())
        }
        None => base_codes.first().map(|c| c.as_str().to_owned()),
    }
}

impl Sessions {
    /// The state a mark leads to when it is offered on `code` and still within the window, ready to
    /// continue: its [`State::origin`] names the session the journey began in.
    pub async fn resumable(
        &self,
        mark: &ResumeMark,
        now: i64,
        code: Option<&str>,
    ) -> Result<Option<State>, StoreError> {
        if !mark.offered_on(code) {
            return Ok(None);
        }
        let state = match &mark.snapshot {
            // A snapshot lives for the window only (its TTL).
            Some(state) => Some(state.clone()),
            None => {
                let record = self.load(&SessionKey(mark.session.clone())).await?;
                let window = self.resume_window.as_secs() as i64;
                record.filter(|r| now - r.at <= window).and_then(|r| r.state)
            }
        };
        Ok(state.map(|mut state| {
            state.origin = state.origin.or_else(|| Some(mark.session.clone()));
            state
        }))
    }

    /// Points the subscriber's mark at the live session `key` (lives as long as a session can).
    pub async fn mark_resumable(
        &self,
        msisdn: &Msisdn,
        key: &SessionKey,
        code: Option<&str>,
    ) -> Result<(), StoreError> {
        if self.resume_window.is_zero() {
            return Ok(());
        }
        let mark = ResumeMark { code: code.map(str::to_owned), session: key.0.clone(), snapshot: None };
        self.put_mark(msisdn, &mark, self.ttl).await
    }

    /// Keeps a copy of a session's state for the resume window: its record is about to be deleted.
    pub async fn keep_snapshot(
        &self,
        msisdn: &Msisdn,
        key: &SessionKey,
        code: Option<&str>,
        state: &State,
    ) -> Result<(), StoreError> {
        if self.resume_window.is_zero() {
            return Ok(());
        }
        let mark = ResumeMark { code: code.map(str::to_owned), session: key.0.clone(), snapshot: Some(state.clone()) };
        self.put_mark(msisdn, &mark, self.resume_window).await
    }

    async fn put_mark(&self, msisdn: &Msisdn, mark: &ResumeMark, ttl: Duration) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(mark).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        self.store.set(&format!("sub:{}:resume", msisdn.as_str()), &bytes, ttl).await
    }

    pub async fn clear_snapshot(&self, msisdn: &Msisdn) -> Result<(), StoreError> {
        self.store.delete(&format!("sub:{}:resume", msisdn.as_str())).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn menu() -> MenuFile {
        toml::from_str(
            r#"
start = "s"
home = "main"
resume = "offer"
[nodes.s]
kind = "end"
text = "x"
[nodes.main]
kind = "menu"
text = "x"
options = [{ label = "x", goto = "confirm" }]
[nodes.offer]
kind = "menu"
text = "x"
options = [{ label = "x", goto = "main" }]
[nodes.confirm]
kind = "menu"
text = "x"
options = [{ label = "x", goto = "main" }]
resume = true
[nodes.balance]
kind = "list"
text = "x"
items = "loans"
item = "x"
"#,
        )
        .unwrap()
    }

    #[test]
    fn only_a_screen_marked_resume_leaves_a_mark_and_anywhere_else_clears_it() {
        let m = menu();
        let hop = Moment::Hop;
        assert_eq!(mark_change(&m, Some("confirm"), hop, false, false), MarkChange::Point);
        assert_eq!(mark_change(&m, Some("confirm"), hop, true, true), MarkChange::Keep, "written once");
        assert_eq!(mark_change(&m, Some("balance"), hop, true, true), MarkChange::Clear);
        assert_eq!(mark_change(&m, Some("balance"), hop, false, false), MarkChange::Keep, "nothing to clear");
        assert_eq!(mark_change(&m, Some("main"), hop, true, false), MarkChange::Clear, "an older mark goes");
        assert_eq!(mark_change(&m, None, hop, true, true), MarkChange::Clear, "a finished journey");
        assert_eq!(mark_change(&m, Some("offer"), hop, true, false), MarkChange::Keep, "answering the offer");
    }

    #[test]
    fn a_provider_end_keeps_a_copy_only_where_the_menu_says_it_is_worth_it() {
        let m = menu();
        let broken = Moment::ProviderEnd { completed: false };
        assert_eq!(mark_change(&m, Some("confirm"), broken, true, true), MarkChange::Snapshot);
        assert_eq!(mark_change(&m, Some("balance"), broken, true, false), MarkChange::Clear);
        assert_eq!(mark_change(&m, Some("balance"), broken, false, false), MarkChange::Keep);
        let done = Moment::ProviderEnd { completed: true };
        assert_eq!(mark_change(&m, Some("confirm"), done, true, true), MarkChange::Clear);
    }

    #[test]
    fn the_dialled_code_drops_a_deep_dial_suffix_and_falls_back_to_the_dialects_base_code() {
        let code = |s: &str| ServiceCode::parse(s).unwrap();
        let bases = [code("*150*88#")];
        assert_eq!(dialled_code(Some(&code("*150*88*2#")), &bases).as_deref(), Some("150*88"));
        assert_eq!(dialled_code(Some(&code("*150*88#")), &[]).as_deref(), Some("150*88"));
        assert_eq!(dialled_code(Some(&code("*713*20#")), &bases).as_deref(), Some("713*20"));
        assert_eq!(dialled_code(None, &bases).as_deref(), Some("150*88"), "Beem sends no code");
        assert_eq!(dialled_code(None, &[]), None);
    }

    #[test]
    fn a_mark_is_offered_on_its_own_service_code_only() {
        let mark = ResumeMark { code: Some("150*88".into()), session: "ussd:beem:1:a".into(), snapshot: None };
        assert!(mark.offered_on(Some("150*88")));
        assert!(!mark.offered_on(Some("713*20")));
        assert!(!mark.offered_on(None));
    }
}
