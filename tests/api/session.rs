//! USSD session records on a real Redis: compare-and-set saves, a notification's delete winning over a
//! late turn, per-subscriber language and resume snapshots with their TTLs, effect claims.

use std::sync::Arc;
use std::time::Duration;

use mkopo::domain::Msisdn;
use mkopo::menu::State;
use mkopo::session::{SessionKey, SessionRecord, Sessions};
use mkopo::store::RedisStore;
use mkopo::ussd::{Dialect, UssdReply, UssdSessionId};

async fn sessions(resume_window: Duration) -> Sessions {
    sessions_with_prefix(resume_window).await.0
}

async fn sessions_with_prefix(resume_window: Duration) -> (Sessions, String) {
    let prefix = format!("mkopo-test-{}", uuid::Uuid::new_v4());
    let store = RedisStore::connect(&crate::store::redis_url(), &prefix, Duration::from_secs(2)).await.unwrap();
    (Sessions::new(Arc::new(store), Duration::from_secs(300), resume_window), prefix)
}

fn key() -> (Msisdn, SessionKey) {
    let msisdn = Msisdn::parse("255712345678", "255").unwrap();
    let id = UssdSessionId::parse(&uuid::Uuid::new_v4().to_string()).unwrap();
    let key = SessionKey::new(Dialect::Beem, &msisdn, &id);
    (msisdn, key)
}

fn state(node: &str) -> State {
    State {
        node: node.into(),
        lang: "sw".into(),
        slots: Default::default(),
        page: 0,
        history: vec!["main".into()],
        error: None,
        origin: None,
    }
}

#[tokio::test]
async fn a_session_record_round_trips_and_a_first_write_only_creates() {
    let s = sessions(Duration::from_secs(60)).await;
    let (_, key) = key();
    assert!(s.load(&key).await.unwrap().is_none());
    assert!(!s.save(&key, true, &SessionRecord::default()).await.unwrap(), "a later write never creates");
    let record = SessionRecord { state: Some(state("main")), ..SessionRecord::default() };
    assert!(s.save(&key, false, &record).await.unwrap());
    assert_eq!(s.load(&key).await.unwrap().as_ref(), Some(&record));
    assert!(!s.save(&key, false, &record).await.unwrap(), "a second first write loses");
    assert!(s.save(&key, true, &record).await.unwrap());
}

#[tokio::test]
async fn a_turn_finishing_after_an_end_notification_does_not_recreate_the_session() {
    let s = sessions(Duration::from_secs(60)).await;
    let (_, key) = key();
    let record = SessionRecord { state: Some(state("borrow-amount")), ..SessionRecord::default() };
    assert!(s.save(&key, false, &record).await.unwrap());
    s.delete(&key).await.unwrap();
    assert!(!s.save(&key, true, &record).await.unwrap());
    assert!(s.load(&key).await.unwrap().is_none());
}

#[tokio::test]
async fn language_and_resume_mark_are_read_in_one_go_and_a_kept_snapshot_expires_with_its_window() {
    let s = sessions(Duration::from_millis(300)).await;
    let (msisdn, key) = key();
    let fresh = s.subscriber(&msisdn).await.unwrap();
    assert_eq!((fresh.lang, fresh.resume), (None, None));
    s.set_language(&msisdn, "sw").await.unwrap();
    s.keep_snapshot(&msisdn, &key, Some("150*88"), &state("repay-how")).await.unwrap();
    let known = s.subscriber(&msisdn).await.unwrap();
    assert_eq!(known.lang.as_deref(), Some("sw"));
    let mark = known.resume.expect("a resume mark");
    let now = chrono::Utc::now().timestamp();
    let resumed = s.resumable(&mark, now, Some("150*88")).await.unwrap().expect("offered on its own code");
    assert_eq!(resumed.node, "repay-how");
    assert_eq!(resumed.origin.as_deref(), Some(key.as_str()), "its effects keep the first session's keys");
    assert_eq!(s.resumable(&mark, now, Some("713*20")).await.unwrap(), None, "another service code");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(s.subscriber(&msisdn).await.unwrap().resume.is_none(), "gone after the window");
}

#[tokio::test]
async fn a_resume_pointer_leads_to_a_live_session_only_within_the_window() {
    let s = sessions(Duration::from_secs(60)).await;
    let (msisdn, key) = key();
    let now = chrono::Utc::now().timestamp();
    let record = SessionRecord { state: Some(state("borrow-amount")), at: now, ..SessionRecord::default() };
    assert!(s.save(&key, false, &record).await.unwrap());
    s.mark_resumable(&msisdn, &key, None).await.unwrap();
    let mark = s.subscriber(&msisdn).await.unwrap().resume.expect("a pointer");
    let node = |st: Option<State>| st.map(|st| st.node);
    assert_eq!(node(s.resumable(&mark, now + 30, None).await.unwrap()).as_deref(), Some("borrow-amount"));
    assert_eq!(s.resumable(&mark, now + 61, None).await.unwrap(), None, "past the window");
    s.delete(&key).await.unwrap();
    assert_eq!(s.resumable(&mark, now, None).await.unwrap(), None, "the session is gone");
}

#[tokio::test]
async fn an_effect_is_claimed_once_and_its_result_is_found_by_a_retry() {
    let s = sessions(Duration::from_secs(60)).await;
    let (_, key) = key();
    let effect = key.effect("borrow-do");
    assert_eq!(s.claim_effect(&effect).await.unwrap(), Ok(()));
    s.record_effect(&effect, b"L0000000042").await.unwrap();
    assert_eq!(s.claim_effect(&effect).await.unwrap(), Err(b"L0000000042".to_vec()));
}

#[tokio::test]
async fn a_live_session_at_its_largest_screen_takes_well_under_two_kilobytes_in_redis() {
    let (s, prefix) = sessions_with_prefix(Duration::from_secs(60)).await;
    let (_, key) = key();
    let big = borrow_confirmation_state();
    let memo = mkopo::ussd::HopMemo {
        hop: 4,
        fingerprint: mkopo::ussd::Fingerprint::AtPath { len: 9, mac: [7; 32] },
        reply: UssdReply::con("x".repeat(160)),
        last_sent_id: 4,
        ended: false,
    };
    let record = SessionRecord { memo: Some(memo), state: Some(big), ..SessionRecord::default() };
    let bytes = serde_json::to_vec(&record).unwrap().len();
    assert!(s.save(&key, false, &record).await.unwrap());
    assert!(bytes < 2048, "the widest session record serialises to {bytes} bytes");
    let mut conn =
        redis::Client::open(crate::store::redis_url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let used: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(format!("{prefix}:{}", key.as_str()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(used > 0 && used <= 2048, "Redis holds the widest live session in {used} bytes");
}

/// The state at the borrow confirmation, reached through the real menu with the sandbox's three
/// products and four presets: the largest state any shipped journey holds.
fn borrow_confirmation_state() -> State {
    use mkopo::menu::{Formats, Item, Menu, NavKeys, TaskResult, Turn, Value};
    let budget = mkopo::ussd::ScreenBudget::default();
    let menu = Menu::load(None, &[], NavKeys::default(), Formats::default(), budget).unwrap();
    let amount = |n: i64| Value::Amount(n.into());
    let product = |id: &str, name: &str, min: i64, max: i64| -> Item {
        [
            ("id".to_owned(), Value::Text(id.into())),
            ("name".to_owned(), Value::Text(name.into())),
            ("min".to_owned(), amount(min)),
            ("max".to_owned(), amount(max)),
        ]
        .into_iter()
        .collect()
    };
    let (mut st, _) = menu.begin("en", budget);
    let registered =
        TaskResult::outcome("registered").with("currency", Value::Text("TZS".into())).with("repay_min", amount(100));
    menu.resume(&mut st, registered, budget);
    menu.answer(&mut st, "1", budget);
    let products = vec![
        product("1", "Halotel 7-Day Loan", 1_000, 50_000),
        product("2", "Halotel 30-Day Loan", 5_000, 50_000),
        product("3", "Halotel 3-Month Loan", 50_000, 50_000),
    ];
    menu.resume(&mut st, TaskResult::outcome("eligible").with("products", Value::List(products)), budget);
    menu.answer(&mut st, "1", budget);
    let presets: Vec<Item> = [1_000, 10_000, 20_000, 50_000]
        .iter()
        .map(|a| [("amount".to_owned(), amount(*a))].into_iter().collect())
        .collect();
    menu.resume(&mut st, TaskResult::outcome("ok").with("amounts", Value::List(presets)), budget);
    menu.answer(&mut st, "4", budget);
    let quote = TaskResult::outcome("ok")
        .with("amount", amount(50_000))
        .with("charges", amount(5_500))
        .with("total", amount(55_500))
        .with("due", Value::Date(chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()));
    let turn = menu.resume(&mut st, quote, budget);
    assert!(matches!(turn, Turn::Screen(ref s) if s.node == "borrow-confirm"), "{turn:?}");
    st
}

#[tokio::test]
async fn a_hop_lease_is_per_request_and_reads_the_record_and_the_subscriber_facts_with_it() {
    let s = sessions(Duration::from_secs(60)).await;
    let (msisdn, key) = key();
    s.set_language(&msisdn, "sw").await.unwrap();
    let ttl = Duration::from_secs(4);
    let (holder, record, facts) = s.lease_and_load(&key, ("hop-1", "t1"), ttl, &msisdn).await.unwrap();
    assert!(holder.is_none() && record.is_none(), "a new session has no record");
    assert_eq!(facts.lang.as_deref(), Some("sw"));
    let record = SessionRecord { state: Some(state("main")), ..SessionRecord::default() };
    assert!(s.save(&key, false, &record).await.unwrap());
    let (holder, loaded, _) = s.lease_and_load(&key, ("hop-1", "t2"), ttl, &msisdn).await.unwrap();
    assert_eq!(holder.as_deref(), Some("t1"), "a duplicate finds the request's lease taken, and by whom");
    assert_eq!(loaded.as_ref(), Some(&record), "and reads the record to replay from");
    let (holder, _, _) = s.lease_and_load(&key, ("hop-2", "t3"), ttl, &msisdn).await.unwrap();
    assert!(holder.is_none(), "the next request of the session does not wait for a release");
    s.drop_lease(&key, "hop-1").await.unwrap();
    assert!(
        s.lease_and_load(&key, ("hop-1", "t4"), ttl, &msisdn).await.unwrap().0.is_none(),
        "a dropped lease is free"
    );
}
