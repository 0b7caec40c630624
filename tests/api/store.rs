//! The session store against a real Redis (random key prefix per test) and its in-memory twin.

use std::sync::Arc;
use std::time::Duration;

use mkopo::config::Settings;
use mkopo::store::{self, MemoryStore, RedisStore, SharedStore, Store};

pub fn redis_url() -> String {
    std::env::var("MKOPO_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

async fn redis() -> RedisStore {
    redis_with_prefix().await.0
}

/// A store and its prefix, for tests that look at the raw keys.
async fn redis_with_prefix() -> (RedisStore, String) {
    let prefix = format!("mkopo-test-{}", uuid::Uuid::new_v4());
    let store = RedisStore::connect(&redis_url(), &prefix, Duration::from_secs(2))
        .await
        .expect("the test suite needs Redis (scripts/test starts one)");
    (store, prefix)
}

async fn raw_redis() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url()).unwrap().get_multiplexed_async_connection().await.unwrap()
}

async fn pttl(conn: &mut redis::aio::MultiplexedConnection, key: &str) -> i64 {
    redis::cmd("PTTL").arg(key).query_async(conn).await.unwrap()
}

async fn round_trip(store: &dyn Store) {
    store.ping().await.unwrap();
    assert_eq!(store.get("a").await.unwrap(), None);
    store.set("a", b"one", Duration::from_secs(30)).await.unwrap();
    assert_eq!(store.get("a").await.unwrap().as_deref(), Some(&b"one"[..]));
    store.set("a", b"two", Duration::from_secs(30)).await.unwrap();
    assert_eq!(store.get("a").await.unwrap().as_deref(), Some(&b"two"[..]));
    store.delete("a").await.unwrap();
    assert_eq!(store.get("a").await.unwrap(), None);
}

async fn expiry(store: &dyn Store) {
    store.set("short", b"x", Duration::from_millis(150)).await.unwrap();
    assert!(store.get("short").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(store.get("short").await.unwrap(), None, "every write carries a TTL");
}

#[tokio::test]
async fn redis_stores_reads_overwrites_and_deletes() {
    round_trip(&redis().await).await;
}

#[tokio::test]
async fn redis_entries_expire() {
    expiry(&redis().await).await;
}

#[tokio::test]
async fn memory_behaves_like_redis() {
    let memory = MemoryStore::new("t");
    round_trip(&memory).await;
    expiry(&memory).await;
}

#[tokio::test]
async fn redis_keys_carry_the_configured_prefix() {
    let prefix = format!("mkopo-test-{}", uuid::Uuid::new_v4());
    let store = RedisStore::connect(&redis_url(), &prefix, Duration::from_secs(2)).await.unwrap();
    store.set("session:1", b"v", Duration::from_secs(30)).await.unwrap();
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL").arg(format!("{prefix}:session:1")).query_async(&mut conn).await.unwrap();
    assert!(ttl > 0 && ttl <= 30_000, "ttl {ttl}");
}

#[tokio::test]
async fn the_store_is_redis_when_a_url_is_configured_and_memory_otherwise() {
    let mut settings = Settings::local_defaults().redis;
    assert_eq!(store::connect(&settings).await.unwrap().kind(), "memory");
    settings.url = Some(redis_url().into());
    let chosen = store::connect(&settings).await.unwrap();
    assert_eq!((chosen.kind(), chosen.durable()), ("redis", true));
}

#[tokio::test]
async fn an_unreachable_redis_is_a_clear_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", closed.local_addr().unwrap());
    drop(closed);
    let error = RedisStore::connect(&url, "p", Duration::from_millis(500)).await.err().expect("no redis there");
    assert!(error.to_string().contains("session store"), "{error}");
}

const LONG: Duration = Duration::from_secs(30);

async fn set_nx_writes_only_once(store: &dyn Store) {
    assert!(store.set_nx("nx", b"first", LONG).await.unwrap());
    assert!(!store.set_nx("nx", b"second", LONG).await.unwrap());
    assert_eq!(store.get("nx").await.unwrap().as_deref(), Some(&b"first"[..]));
    store.set_nx("nx-short", b"x", Duration::from_millis(100)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(store.set_nx("nx-short", b"again", LONG).await.unwrap(), "an expired key is absent");
}

async fn incr_counts_within_a_fixed_window(store: &dyn Store) {
    let window = Duration::from_millis(400);
    assert_eq!(store.incr("tries", window).await.unwrap(), 1);
    assert_eq!(store.incr("tries", window).await.unwrap(), 2);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(store.incr("tries", window).await.unwrap(), 3);
    tokio::time::sleep(Duration::from_millis(250)).await;
    // 500 ms after the first increment: gone, although the last one was only 250 ms ago.
    assert_eq!(store.get("tries").await.unwrap(), None);
    assert_eq!(store.incr("tries", window).await.unwrap(), 1);
}

async fn versioned_documents_compare_and_set(store: &dyn Store) {
    assert_eq!(store.load_versioned("doc").await.unwrap(), None);
    assert_eq!(store.save_versioned("doc", 1, b"nothing to update", LONG).await.unwrap(), None);
    assert_eq!(store.save_versioned("doc", 0, b"a", LONG).await.unwrap(), Some(1));
    assert_eq!(store.save_versioned("doc", 0, b"again", LONG).await.unwrap(), None, "0 means absent");
    assert_eq!(store.save_versioned("doc", 1, b"b", LONG).await.unwrap(), Some(2));
    assert_eq!(store.save_versioned("doc", 1, b"stale", LONG).await.unwrap(), None);
    assert_eq!(store.load_versioned("doc").await.unwrap(), Some((2, b"b".to_vec())));
}

async fn a_deleted_document_conflicts(store: &dyn Store) {
    assert_eq!(store.save_versioned("ended", 0, b"a", LONG).await.unwrap(), Some(1));
    store.delete("ended").await.unwrap();
    assert_eq!(store.load_versioned("ended").await.unwrap(), None);
    assert_eq!(store.save_versioned("ended", 1, b"late write", LONG).await.unwrap(), None);
    assert_eq!(store.load_versioned("ended").await.unwrap(), None, "the conflict did not recreate it");
}

async fn versioned_documents_expire(store: &dyn Store) {
    store.save_versioned("brief", 0, b"a", Duration::from_millis(150)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(store.load_versioned("brief").await.unwrap(), None);
    assert_eq!(store.save_versioned("brief", 1, b"b", LONG).await.unwrap(), None);
}

async fn locks_are_token_guarded(store: &dyn Store) {
    let token = store.lock("lock", LONG).await.unwrap().expect("a free lock is granted");
    assert_eq!(store.lock("lock", LONG).await.unwrap(), None, "held by someone else");
    store.unlock("lock", "somebody-elses-token").await.unwrap();
    assert_eq!(store.lock("lock", LONG).await.unwrap(), None, "the wrong token released nothing");
    assert_eq!(store.get("lock").await.unwrap(), Some(token.clone().into_bytes()));
    store.unlock("lock", &token).await.unwrap();
    assert!(store.lock("lock", LONG).await.unwrap().is_some(), "released by its holder");
}

async fn an_expired_lock_is_not_released_by_its_old_holder(store: &dyn Store) {
    let old = store.lock("lease", Duration::from_millis(100)).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let new = store.lock("lease", LONG).await.unwrap().expect("an expired lock is free");
    assert_ne!(old, new);
    store.unlock("lease", &old).await.unwrap();
    assert_eq!(store.get("lease").await.unwrap(), Some(new.into_bytes()));
}

/// 20 writers load the same version, wait for each other, then all try to save it.
async fn concurrent_saves_have_one_winner(store: SharedStore) {
    store.save_versioned("race", 0, b"start", LONG).await.unwrap();
    let all_loaded = Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (store, all_loaded) = (store.clone(), all_loaded.clone());
            tokio::spawn(async move {
                let (version, _) = store.load_versioned("race").await.unwrap().unwrap();
                all_loaded.wait().await;
                store.save_versioned("race", version, format!("writer {i}").as_bytes(), LONG).await.unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    assert_eq!(outcomes.iter().flatten().collect::<Vec<_>>(), vec![&2], "{outcomes:?}");
    let (version, body) = store.load_versioned("race").await.unwrap().unwrap();
    assert_eq!(version, 2);
    assert!(body.starts_with(b"writer "), "{body:?}");
}

/// 20 writers each retry load+save until their own byte is in; none may overwrite another's.
async fn retrying_writers_lose_no_update(store: SharedStore) {
    let tasks: Vec<_> = (0..20u8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                loop {
                    let (version, mut body) = store.load_versioned("tally").await.unwrap().unwrap_or_default();
                    body.push(i);
                    if store.save_versioned("tally", version, &body, LONG).await.unwrap().is_some() {
                        return;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let (version, mut body) = store.load_versioned("tally").await.unwrap().unwrap();
    body.sort_unstable();
    assert_eq!((version, body), (20, (0..20).collect::<Vec<u8>>()));
}

#[tokio::test]
async fn redis_set_nx_writes_only_when_the_key_is_absent() {
    set_nx_writes_only_once(&redis().await).await;
}

#[tokio::test]
async fn redis_incr_counts_within_a_window_that_later_increments_do_not_extend() {
    incr_counts_within_a_fixed_window(&redis().await).await;
}

#[tokio::test]
async fn redis_incr_sets_the_ttl_once_as_pttl_shows() {
    let (store, prefix) = redis_with_prefix().await;
    let mut conn = raw_redis().await;
    let key = format!("{prefix}:pin-tries");
    assert_eq!(store.incr("pin-tries", Duration::from_secs(10)).await.unwrap(), 1);
    let first = pttl(&mut conn, &key).await;
    assert!(first > 9_000 && first <= 10_000, "pttl after creation {first}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(store.incr("pin-tries", Duration::from_secs(60)).await.unwrap(), 2);
    let later = pttl(&mut conn, &key).await;
    assert!(later > 0 && later <= first - 400, "pttl after the second increment {later} (first {first})");
}

#[tokio::test]
async fn redis_versioned_documents_compare_and_set() {
    versioned_documents_compare_and_set(&redis().await).await;
}

#[tokio::test]
async fn redis_save_versioned_conflicts_after_the_document_was_deleted() {
    a_deleted_document_conflicts(&redis().await).await;
}

#[tokio::test]
async fn redis_versioned_documents_expire() {
    versioned_documents_expire(&redis().await).await;
}

#[tokio::test]
async fn redis_versioned_documents_are_prefixed_hashes_whose_ttl_each_save_resets() {
    let (store, prefix) = redis_with_prefix().await;
    let mut conn = raw_redis().await;
    let key = format!("{prefix}:session");
    store.save_versioned("session", 0, b"a", Duration::from_secs(5)).await.unwrap();
    let kind: String = redis::cmd("TYPE").arg(&key).query_async(&mut conn).await.unwrap();
    assert_eq!(kind, "hash");
    store.save_versioned("session", 1, b"b", Duration::from_secs(60)).await.unwrap();
    let ttl = pttl(&mut conn, &key).await;
    assert!(ttl > 55_000 && ttl <= 60_000, "pttl {ttl}");
    let fields: (u64, Vec<u8>) = redis::cmd("HMGET").arg(&key).arg("v").arg("d").query_async(&mut conn).await.unwrap();
    assert_eq!(fields, (2, b"b".to_vec()));
}

#[tokio::test]
async fn redis_locks_release_only_with_their_token() {
    locks_are_token_guarded(&redis().await).await;
}

#[tokio::test]
async fn redis_an_expired_lock_retaken_by_someone_else_is_not_released_by_its_old_holder() {
    an_expired_lock_is_not_released_by_its_old_holder(&redis().await).await;
}

#[tokio::test]
async fn redis_new_writes_carry_the_prefix_and_a_ttl() {
    let (store, prefix) = redis_with_prefix().await;
    let mut conn = raw_redis().await;
    store.set_nx("nx", b"v", LONG).await.unwrap();
    store.lock("lock", LONG).await.unwrap().unwrap();
    for key in ["nx", "lock"] {
        let ttl = pttl(&mut conn, &format!("{prefix}:{key}")).await;
        assert!(ttl > 25_000 && ttl <= 30_000, "{key}: pttl {ttl}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_concurrent_saves_of_one_version_have_exactly_one_winner() {
    concurrent_saves_have_one_winner(Arc::new(redis().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_retrying_writers_lose_no_update() {
    retrying_writers_lose_no_update(Arc::new(redis().await)).await;
}

/// Counts what starts with the prefix, leaves out the excepted suffix, other prefixes and expired keys.
async fn keys_are_counted_by_prefix(store: &dyn Store) {
    let ttl = Duration::from_secs(30);
    assert_eq!(store.count_prefix("ussd:", ":lock").await.unwrap(), 0);
    for n in 0..1200 {
        store.set(&format!("ussd:beem:2557{n:08}:s{n}"), b"x", ttl).await.unwrap();
    }
    store.set("ussd:beem:255700000001:s1:lock", b"t", ttl).await.unwrap();
    store.set("sub:255700000001:lang", b"sw", ttl).await.unwrap();
    store.set("ussd:beem:255700000009:gone", b"x", Duration::from_millis(100)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.count_prefix("ussd:", ":lock").await.unwrap(), 1200, "more than one SCAN page");
    assert_eq!(store.count_prefix("ussd:", "").await.unwrap(), 1201, "locks too without an exception");
    assert_eq!(store.count_prefix("sub:", "").await.unwrap(), 1);
}

#[tokio::test]
async fn redis_counts_keys_by_prefix_across_scan_pages() {
    keys_are_counted_by_prefix(&redis().await).await;
}

#[tokio::test]
async fn redis_counting_matches_the_prefix_literally_even_with_glob_characters() {
    let prefix = format!("mkopo-test-[*?]-{}", uuid::Uuid::new_v4());
    let store = RedisStore::connect(&redis_url(), &prefix, Duration::from_secs(2)).await.unwrap();
    store.set("ussd:a", b"x", Duration::from_secs(30)).await.unwrap();
    // Unescaped, `[*?]` would be a character class matching this sibling's `?`.
    let sibling = RedisStore::connect(&redis_url(), &prefix.replace("[*?]", "?"), Duration::from_secs(2)).await;
    sibling.unwrap().set("ussd:b", b"x", Duration::from_secs(30)).await.unwrap();
    assert_eq!(store.count_prefix("ussd:", "").await.unwrap(), 1, "the sibling prefix is not matched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_primitives_behave_like_redis() {
    keys_are_counted_by_prefix(&MemoryStore::new("c")).await;
    let memory = MemoryStore::new("t");
    set_nx_writes_only_once(&memory).await;
    incr_counts_within_a_fixed_window(&memory).await;
    versioned_documents_compare_and_set(&memory).await;
    a_deleted_document_conflicts(&memory).await;
    versioned_documents_expire(&memory).await;
    locks_are_token_guarded(&memory).await;
    an_expired_lock_is_not_released_by_its_old_holder(&memory).await;
    concurrent_saves_have_one_winner(Arc::new(MemoryStore::new("t"))).await;
    retrying_writers_lose_no_update(Arc::new(MemoryStore::new("t"))).await;
}

#[tokio::test]
async fn redis_save_and_unlock_survives_a_flushed_script_cache() {
    let store = redis().await;
    let ttl = Duration::from_secs(30);
    let token = store.lock("doc:lock", ttl).await.unwrap().unwrap();
    // A restarted Redis forgets every script: the pipeline by SHA gets NOSCRIPT and resends the text.
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query_async(&mut raw_redis().await).await.unwrap();
    assert_eq!(store.save_and_unlock("doc", 0, b"one", ttl, "doc:lock", &token).await.unwrap(), Some(1));
    assert!(store.lock("doc:lock", ttl).await.unwrap().is_some(), "the lock was released");
    let token = store.lock("doc:lock2", ttl).await.unwrap().unwrap();
    assert_eq!(store.save_and_unlock("doc", 1, b"two", ttl, "doc:lock2", &token).await.unwrap(), Some(2));
    assert_eq!(store.save_and_unlock("doc", 1, b"old", ttl, "doc:lock2", &token).await.unwrap(), None, "CAS holds");
    assert_eq!(store.load_versioned("doc").await.unwrap(), Some((2, b"two".to_vec())));
}

/// A TCP server that answers every connection as a Redis in protected mode does, then hangs up.
async fn protected_mode_redis() -> String {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket
                .write_all(b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.\r\n")
                .await;
            let _ = socket.shutdown().await;
        }
    });
    format!("redis://127.0.0.1:{port}")
}

#[tokio::test]
async fn a_redis_in_protected_mode_is_reported_as_such_not_as_a_timeout() {
    let url = protected_mode_redis().await;
    let started = std::time::Instant::now();
    let error = match RedisStore::connect(&url, "mkopo-test", Duration::from_secs(2)).await {
        Ok(store) => store.ping().await.unwrap_err(),
        Err(e) => e,
    };
    let shown = error.to_string();
    assert!(shown.contains("protected mode"), "the operator is told what Redis said: {shown}");
    assert!(started.elapsed() < Duration::from_secs(2), "answered at once, not after the timeout");
}
