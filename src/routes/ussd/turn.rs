//! One hop under its lease (per request, see [`crate::session::Sessions::lease_and_load`]): load, derive against the hop memo, replay or acknowledge or run one
//! menu turn (tasks bounded by the hop deadline), then store state and the cached reply with a
//! `SET XX` so a notification that deleted the session meanwhile wins (R9). Three Redis commands per
//! hop when no resume mark moves. What happens to the
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

/// What identifies one hop while it holds its lease.
#[derive(Clone, Copy)]
struct Hop<'a> {
    dialect: Dialect,
    route: &'a DialectRoute,
    inbound: &'a Inbound,
    key: &'a SessionKey,
    /// This hop's lease token, written into the record it stores.
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
        let fingerprint = hop_fingerprint(inbound);
        let token = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let mut lease = fingerprint.clone();
        // One run per request: the hop takes a lease keyed by the request itself, reading the record and
        // the subscriber's facts in the same round trip. A duplicate finds the lease taken and waits
        // until the record's memo shows the original's reply, then replays it.
        let (loaded, subscriber) = loop {
            match self.sessions.lease_and_load(&key, (&lease, &token), budget, &inbound.msisdn).await {
                Ok((None, record, subscriber)) => break (record, subscriber),
                // Ending twice does no harm (the delete and the mark's move are idempotent).
                Ok((Some(_), record, subscriber)) if is_notice(inbound) => break (record, subscriber),
                Ok((Some(_), Some(record), _)) if self.answered(dialect, route, inbound, &record) => {
                    return self.replay(record);
                }
                // The lease's holder has stored its turn and this is not its duplicate: the same bytes
                // again, which some dialects send for a new turn (Beem without the request_id echo).
                // It gets a lease of its own, keyed by the hop it follows.
                Ok((Some(holder), Some(record), _)) if record.lease.as_deref() == Some(holder.as_str()) => {
                    lease = format!("{fingerprint}.{}", record.memo.as_ref().map_or(0, |m| m.hop));
                }
                Ok((Some(_), ..)) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
                Ok((Some(_), ..)) => return self.system(None, "msg-timeout"),
                Err(error) => {
                    tracing::error!(%error, dialect = dialect.name(), "session store unavailable");
                    return self.system(None, "msg-error");
                }
            }
        };
        let hop = Hop { dialect, route, inbound, key: &key, token: &token, started, deadline };
        match self.locked(&hop, loaded, subscriber).await {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::error!(%error, dialect = dialect.name(), session_id = %inbound.session_id, "USSD hop failed");
                if let Err(error) = self.sessions.drop_lease(&key, &lease).await {
                    tracing::warn!(%error, "could not drop a hop lease; it expires by itself");
                }
                self.system(None, "msg-error")
            }
        }
    }

    /// Whether the stored memo already answers this request (it is a duplicate of a finished hop).
    fn answered(&self, dialect: Dialect, route: &DialectRoute, inbound: &Inbound, record: &SessionRecord) -> bool {
        record.memo.is_some()
            && matches!(
                dialect.derive(inbound, record.memo.as_ref(), &route.cfg),
                Derived::Duplicate | Derived::Conflict
            )
    }

    fn replay(&self, record: SessionRecord) -> Outcome {
        let Some(memo) = record.memo else { return self.system(None, "msg-error") };
        let shown = Shown { screen: "replay".to_owned(), replayed: true, truncated: false };
        Outcome::Reply { hop: memo.hop, reply: memo.reply, shown }
    }

    async fn locked(
        &self,
        hop: &Hop<'_>,
        loaded: Option<SessionRecord>,
        subscriber: Subscriber,
    ) -> Result<Outcome, StoreError> {
        let Hop { dialect, route, inbound, key, token, started, deadline } = *hop;
        let existing = loaded.is_some();
        let mut record = loaded.unwrap_or_default();
        let derived = dialect.derive(inbound, record.memo.as_ref(), &route.cfg);
        let next_hop = record.memo.as_ref().map_or(1, |m| m.hop + 1);
        let lang = record.state.as_ref().map(|s| s.lang.clone());
        let (hop, reply, shown, flag) = match derived {
            Derived::Fresh { request, fingerprint } => {
                // The facts came with the record; only a first hop uses them.
                let subscriber = (request.event == UssdEvent::Begin).then_some(subscriber);
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
                let mut next = SessionRecord { memo: Some(memo), state, lease: Some(token.to_owned()), ..record };
                // A mark left on this code is this session's to replace or clear; another code's is not.
                next.marked |= subscriber.is_some_and(|s| s.resume.is_some_and(|m| m.offered_on(code.as_deref())));
                self.remember(key, &request, existing, next).await?;
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
                return Ok(self.system_at(next_hop, subscriber.lang.as_deref(), "msg-expired"));
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
        existing: bool,
        mut record: SessionRecord,
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
        if !self.sessions.save(key, existing, &record).await? {
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
            None => self.sessions.load(key).await?,
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
        // it can never fill an input or confirm an action (docs/ussd.md).
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

/// End notices and unsupported requests: nothing to replay, and running them twice is harmless.
fn is_notice(inbound: &Inbound) -> bool {
    use crate::ussd::Signal;
    matches!(inbound.signal, Signal::AtEnd(_) | Signal::Released | Signal::Timeout | Signal::Unsupported)
}

/// What tells one request from another of the same session, for its lease: the session and what the
/// provider said (input, hints). A provider's retry of a request carries the same; the next hop does
/// not. Hashed, so no input reaches a key.
fn hop_fingerprint(inbound: &Inbound) -> String {
    use sha2::{Digest, Sha256};
    let raw = match &inbound.signal {
        crate::ussd::Signal::AtPath(text) => format!("p{}", text.0),
        crate::ussd::Signal::Begin { input, hint } => format!("b{hint:?}{}", input.0),
        crate::ussd::Signal::Continue { input, hint } => format!("c{hint:?}{}", input.0),
        other => format!("{other:?}"),
    };
    let digest = Sha256::digest(format!("{}\n{raw}", inbound.session_id.as_str()).as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}
