//! One hop under the session lock: load, derive against the hop memo, replay or acknowledge or run one
//! menu turn (tasks bounded by the hop deadline), then store state and the cached reply with a
//! compare-and-set so a notification that deleted the session meanwhile wins (R9). What happens to the
//! subscriber's resume mark is decided by [`resume::mark_change`]; this file only carries it out.

use std::time::{Duration, Instant};

use super::{DialectRoute, UssdGateway};
use crate::journeys::Ctx;
use crate::menu::{Screen, State, Turn};
use crate::session::resume::{self, MarkChange, Moment};
use crate::session::{SessionKey, SessionRecord, Subscriber};
use crate::store::StoreError;
use crate::ussd::{Derived, Dialect, EndReason, HopMemo, Inbound, UssdEvent, UssdReply, UssdRequest};

pub(super) enum Outcome {
    Reply { hop: u32, reply: UssdReply, shown: Shown },
    Ack { hop: u32 },
}

/// What a reply showed, for the hop metrics.
pub(super) struct Shown {
    /// The menu node or system message id; `replay` for a cached reply sent again.
    pub screen: String,
    pub replayed: bool,
    pub truncated: bool,
}

impl Shown {
    pub(super) fn system(id: &str) -> Self {
        Self { screen: id.to_owned(), replayed: false, truncated: false }
    }

    /// The hop outcome label: system messages name what went wrong, anything else was served.
    pub(super) fn outcome(&self) -> &'static str {
        match self.screen.as_str() {
            _ if self.replayed => "replay",
            "msg-timeout" | "msg-slow" => "timeout",
            "msg-error" => "error",
            "msg-expired" | "msg-ended" | "msg-unsupported" => "stale",
            _ => "ok",
        }
    }
}

/// What identifies one hop while it holds the session lock.
#[derive(Clone, Copy)]
struct Hop<'a> {
    dialect: Dialect,
    route: &'a DialectRoute,
    inbound: &'a Inbound,
    key: &'a SessionKey,
    token: &'a str,
    started: Instant,
    deadline: Instant,
}

/// Tasks one turn may chain before the menu is considered broken (a task looping to a task).
const MAX_TASKS: usize = 12;

impl UssdGateway {
    pub(super) async fn process(
        &self,
        dialect: Dialect,
        route: &DialectRoute,
        inbound: &Inbound,
        started: Instant,
    ) -> Outcome {
        let budget = self.settings.hop_budget;
        let deadline = started + budget.saturating_sub(self.settings.render_reserve);
        let key = SessionKey::new(dialect, &inbound.msisdn, &inbound.session_id);
        // One turn per session at a time; a duplicate waits for the original's reply and replays it. The
        // lock and the read travel together, as do the save and the unlock: two round trips per hop.
        let (token, loaded) = loop {
            match self.sessions.lock_and_load(&key, budget).await {
                Ok(Some(taken)) => break taken,
                Ok(None) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
                Ok(None) => return self.system(None, "msg-timeout"),
                Err(error) => {
                    tracing::error!(%error, dialect = dialect.name(), "session store unavailable");
                    return self.system(None, "msg-error");
                }
            }
        };
        let mut unlocked = false;
        let hop = Hop { dialect, route, inbound, key: &key, token: &token, started, deadline };
        let outcome = match self.locked(&hop, loaded, &mut unlocked).await {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::error!(%error, dialect = dialect.name(), session_id = %inbound.session_id, "USSD hop failed");
                self.system(None, "msg-error")
            }
        };
        if !unlocked {
            if let Err(error) = self.sessions.unlock(&key, &token).await {
                tracing::warn!(%error, "could not release a session lock; it expires by itself");
            }
        }
        outcome
    }

    async fn locked(
        &self,
        hop: &Hop<'_>,
        loaded: Option<(u64, SessionRecord)>,
        unlocked: &mut bool,
    ) -> Result<Outcome, StoreError> {
        let Hop { dialect, route, inbound, key, token, started, deadline } = *hop;
        let (version, mut record) = loaded.unwrap_or_default();
        let derived = dialect.derive(inbound, record.memo.as_ref(), &route.cfg);
        let next_hop = record.memo.as_ref().map_or(1, |m| m.hop + 1);
        let lang = record.state.as_ref().map(|s| s.lang.clone());
        let (hop, reply, shown, flag) = match derived {
            Derived::Fresh { request, fingerprint } => {
                let subscriber = match request.event {
                    UssdEvent::Begin => Some(self.sessions.subscriber(&request.msisdn).await?),
                    _ => None,
                };
                // The code is fixed by the first hop; later hops of some dialects do not repeat it.
                if request.event == UssdEvent::Begin {
                    record.code = resume::dialled_code(request.service_code.as_ref(), &route.cfg.base_codes);
                }
                let code = record.code.clone();
                let (state, screen) =
                    self.turn(key, &request, record.state.take(), subscriber.as_ref(), code.as_deref(), deadline).await;
                let crate::menu::Screen { text, end, node, truncated } = screen;
                let shown = Shown { screen: node, replayed: false, truncated };
                let reply = UssdReply { text, end };
                let memo = HopMemo {
                    hop: request.hop,
                    fingerprint,
                    reply: reply.clone(),
                    last_sent_id: request.hop,
                    ended: reply.end,
                };
                let state = if reply.end { None } else { state };
                let mut next = SessionRecord { memo: Some(memo), state, ..record };
                // A mark left on this code is this session's to replace or clear; another code's is not.
                next.marked |= subscriber.is_some_and(|s| s.resume.is_some_and(|m| m.offered_on(code.as_deref())));
                self.remember(key, &request, version, next, token).await?;
                *unlocked = true;
                (request.hop, reply, shown, "fresh")
            }
            Derived::Duplicate | Derived::Conflict => match record.memo {
                Some(memo) => {
                    let flag = if matches!(derived, Derived::Duplicate) { "duplicate" } else { "path_conflict" };
                    let shown = Shown { screen: "replay".to_owned(), replayed: true, truncated: false };
                    (memo.hop, memo.reply, shown, flag)
                }
                None => return Ok(self.system(lang.as_deref(), "msg-error")),
            },
            Derived::Notice(request) => {
                let completed = request.event == UssdEvent::Abort(EndReason::Completed);
                self.ended_by_provider(key, &request.msisdn, Some(record), completed).await?;
                tracing::info!(
                    dialect = dialect.name(), msisdn = %request.msisdn, session_id = %request.session_id,
                    hop = request.hop, event = ?request.event, "USSD session ended by the provider"
                );
                return Ok(Outcome::Ack { hop: request.hop });
            }
            Derived::Expired => {
                let lang = self.sessions.language(&inbound.msisdn).await.ok().flatten();
                return Ok(self.system_at(next_hop, lang.as_deref(), "msg-expired"));
            }
            Derived::Ended => return Ok(self.system_at(next_hop, lang.as_deref(), "msg-ended")),
            Derived::Unsupported => return Ok(self.system_at(next_hop, lang.as_deref(), "msg-unsupported")),
        };
        // R12: what we log of a hop; never the input.
        tracing::info!(
            dialect = dialect.name(), msisdn = %inbound.msisdn, session_id = %inbound.session_id, hop,
            node = %shown.screen, kind = flag, end = reply.end, latency_ms = started.elapsed().as_millis() as u64,
            "USSD hop"
        );
        Ok(Outcome::Reply { hop, reply, shown })
    }

    /// Stores the session after a fresh turn (compare-and-set) and keeps the subscriber's resume mark in
    /// step with the resume policy ([`resume::mark_change`]).
    async fn remember(
        &self,
        key: &SessionKey,
        request: &UssdRequest,
        version: u64,
        mut record: SessionRecord,
        token: &str,
    ) -> Result<(), StoreError> {
        let node = record.state.as_ref().map(|s| s.node.as_str());
        match resume::mark_change(self.menu.file(), node, Moment::Hop, record.marked, record.own) {
            MarkChange::Point => {
                self.sessions.mark_resumable(&request.msisdn, key, record.code.as_deref()).await?;
                (record.marked, record.own) = (true, true);
            }
            MarkChange::Clear => {
                self.sessions.clear_snapshot(&request.msisdn).await?;
                (record.marked, record.own) = (false, false);
            }
            MarkChange::Snapshot | MarkChange::Keep => {}
        }
        record.at = chrono::Utc::now().timestamp();
        if !self.sessions.save_and_unlock(key, version, &record, token).await? {
            tracing::info!(session_id = %request.session_id, "session ended or moved on during the turn; not recreated");
        }
        Ok(())
    }

    /// The provider ended the session (R9): its record goes, and the resume policy decides whether a copy
    /// of its state stays for the resume window.
    pub(super) async fn ended_by_provider(
        &self,
        key: &SessionKey,
        msisdn: &crate::domain::Msisdn,
        record: Option<SessionRecord>,
        completed: bool,
    ) -> Result<(), StoreError> {
        let record = match record {
            Some(r) => Some(r),
            None => self.sessions.load(key).await?.map(|(_, r)| r),
        };
        self.sessions.delete(key).await?;
        let Some(record) = record else { return Ok(()) };
        let state = record.state.as_ref();
        let moment = Moment::ProviderEnd { completed };
        match resume::mark_change(self.menu.file(), state.map(|s| s.node.as_str()), moment, record.marked, record.own) {
            MarkChange::Snapshot => {
                if let Some(state) = state {
                    self.sessions.keep_snapshot(msisdn, key, record.code.as_deref(), state).await?;
                }
            }
            MarkChange::Clear => self.sessions.clear_snapshot(msisdn).await?,
            MarkChange::Point | MarkChange::Keep => {}
        }
        Ok(())
    }

    /// Runs the engine from the request until it shows a screen, running its tasks under the deadline.
    async fn turn(
        &self,
        key: &SessionKey,
        request: &UssdRequest,
        state: Option<State>,
        subscriber: Option<&Subscriber>,
        code: Option<&str>,
        deadline: Instant,
    ) -> (Option<State>, Screen) {
        let budget = self.budget(request.network.as_deref());
        let menu = &self.menu;
        let (state, turn) = match (request.event, state) {
            (UssdEvent::Begin, _) => {
                let lang = subscriber.and_then(|s| s.lang.clone());
                let lang = lang.unwrap_or_else(|| menu.catalog().default_language().to_owned());
                menu.begin(&lang, budget)
            }
            (UssdEvent::Continue, Some(mut state)) => {
                let turn = menu.answer(&mut state, &request.input, budget);
                (state, turn)
            }
            (_, state) => {
                let lang = state.map(|s| s.lang).unwrap_or_else(|| menu.catalog().default_language().to_owned());
                return (None, menu.message_screen(&lang, "msg-expired", &Default::default()));
            }
        };
        let ran = self.run_tasks(key, request, state, turn, (subscriber, code), deadline).await;
        let (state, screen) = match ran {
            (Some(state), screen) => (state, screen),
            ended => return ended,
        };
        // Deep dial (`*150*88*2#`): the suffix may pick one option of the home menu, nothing deeper, so
        // it can never fill an input or confirm an action (spec §2).
        let route = request.input.split('*').next().unwrap_or_default();
        if request.event == UssdEvent::Begin
            && self.settings.deep_dial
            && !route.is_empty()
            && state.node == menu.file().home
        {
            let mut state = state;
            let turn = menu.answer(&mut state, route, budget);
            if state.error.is_none() {
                return self.run_tasks(key, request, state, turn, (subscriber, code), deadline).await;
            }
            state.error = None;
            return (Some(state), screen);
        }
        (Some(state), screen)
    }

    /// Runs the engine's tasks under the deadline until it shows a screen.
    async fn run_tasks(
        &self,
        key: &SessionKey,
        request: &UssdRequest,
        mut state: State,
        mut turn: Turn,
        (subscriber, service_code): (Option<&Subscriber>, Option<&str>),
        deadline: Instant,
    ) -> (Option<State>, Screen) {
        let budget = self.budget(request.network.as_deref());
        let menu = &self.menu;
        for _ in 0..MAX_TASKS {
            let call = match turn {
                Turn::Screen(screen) => return (Some(state), screen),
                Turn::Task(call) => call,
            };
            let task = call.task.name();
            let effect = call.task.is_effect();
            let mut ctx = Ctx { key, msisdn: &request.msisdn, state: &mut state, subscriber, service_code };
            let ran = tokio::time::timeout_at(deadline.into(), self.journeys.run(call, &mut ctx)).await;
            turn = match ran {
                Ok(Ok(result)) => menu.resume(&mut state, result, budget),
                Ok(Err(error)) => {
                    tracing::error!(task, %error, msisdn = %request.msisdn, "USSD task failed");
                    return (None, menu.message_screen(&state.lang, "msg-error", &state.slots));
                }
                // Past the deadline an effect may still complete (and the subscriber hears of it by SMS);
                // a read that overran only means "try again later".
                Err(_) => {
                    tracing::warn!(task, msisdn = %request.msisdn, "USSD hop deadline passed; ending the session");
                    let id = if effect { "msg-timeout" } else { "msg-slow" };
                    return (None, menu.message_screen(&state.lang, id, &state.slots));
                }
            };
        }
        tracing::error!(node = %state.node, "menu chained too many tasks in one turn");
        (None, menu.message_screen(&state.lang, "msg-error", &state.slots))
    }

    fn system(&self, lang: Option<&str>, id: &str) -> Outcome {
        self.system_at(1, lang, id)
    }

    fn system_at(&self, hop: u32, lang: Option<&str>, id: &str) -> Outcome {
        let lang = lang.unwrap_or_else(|| self.menu.catalog().default_language());
        let screen = self.menu.message_screen(lang, id, &Default::default());
        Outcome::Reply { hop, reply: UssdReply::end(screen.text), shown: Shown::system(id) }
    }
}
