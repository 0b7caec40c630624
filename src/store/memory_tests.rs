//! The in-memory store's own tests (the shared behaviour against Redis lives in tests/api/store.rs).

use std::sync::Arc;

use super::*;

const LONG: Duration = Duration::from_secs(30);
const SHORT: Duration = Duration::from_millis(50);

async fn past(ttl: Duration) {
    tokio::time::sleep(ttl * 3).await;
}

#[tokio::test]
async fn set_nx_writes_only_when_the_key_is_absent() {
    let store = MemoryStore::new("t");
    assert!(store.set_nx("k", b"first", LONG).await.unwrap());
    assert!(!store.set_nx("k", b"second", LONG).await.unwrap());
    assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"first"[..]));
}

#[tokio::test]
async fn set_nx_writes_again_once_the_previous_value_expired() {
    let store = MemoryStore::new("t");
    assert!(store.set_nx("k", b"first", SHORT).await.unwrap());
    past(SHORT).await;
    assert_eq!(store.get("k").await.unwrap(), None);
    assert!(store.set_nx("k", b"second", LONG).await.unwrap());
    assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"second"[..]));
}

#[tokio::test]
async fn incr_counts_from_one_and_reads_back_as_decimal_text() {
    let store = MemoryStore::new("t");
    assert_eq!(store.incr("n", LONG).await.unwrap(), 1);
    assert_eq!(store.incr("n", LONG).await.unwrap(), 2);
    assert_eq!(store.incr("n", LONG).await.unwrap(), 3);
    assert_eq!(store.get("n").await.unwrap().as_deref(), Some(&b"3"[..]));
}

#[tokio::test]
async fn incr_keeps_the_window_it_was_created_with() {
    let store = MemoryStore::new("t");
    let window = Duration::from_millis(300);
    assert_eq!(store.incr("n", window).await.unwrap(), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Had this increment extended the TTL, the counter would live until ~500 ms.
    assert_eq!(store.incr("n", window).await.unwrap(), 2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.get("n").await.unwrap(), None, "the window ends 300 ms after the first increment");
    assert_eq!(store.incr("n", window).await.unwrap(), 1, "a new window starts from one");
}

#[tokio::test]
async fn incr_refuses_a_value_that_is_not_a_counter() {
    let store = MemoryStore::new("t");
    store.set("n", b"abc", LONG).await.unwrap();
    assert!(store.incr("n", LONG).await.is_err());
    store.save_versioned("doc", 0, b"{}", LONG).await.unwrap();
    assert!(store.incr("doc", LONG).await.is_err());
}

#[tokio::test]
async fn save_versioned_creates_at_version_one_and_counts_up() {
    let store = MemoryStore::new("t");
    assert_eq!(store.load_versioned("doc").await.unwrap(), None);
    assert_eq!(store.save_versioned("doc", 0, b"a", LONG).await.unwrap(), Some(1));
    assert_eq!(store.load_versioned("doc").await.unwrap(), Some((1, b"a".to_vec())));
    assert_eq!(store.save_versioned("doc", 1, b"b", LONG).await.unwrap(), Some(2));
    assert_eq!(store.load_versioned("doc").await.unwrap(), Some((2, b"b".to_vec())));
}

#[tokio::test]
async fn save_versioned_with_a_stale_version_is_a_conflict_that_changes_nothing() {
    let store = MemoryStore::new("t");
    store.save_versioned("doc", 0, b"a", LONG).await.unwrap();
    store.save_versioned("doc", 1, b"b", LONG).await.unwrap();
    assert_eq!(store.save_versioned("doc", 1, b"stale", LONG).await.unwrap(), None);
    assert_eq!(store.save_versioned("doc", 0, b"create", LONG).await.unwrap(), None);
    assert_eq!(store.save_versioned("doc", 7, b"future", LONG).await.unwrap(), None);
    assert_eq!(store.load_versioned("doc").await.unwrap(), Some((2, b"b".to_vec())));
}

#[tokio::test]
async fn save_versioned_conflicts_once_the_document_was_deleted() {
    let store = MemoryStore::new("t");
    store.save_versioned("doc", 0, b"a", LONG).await.unwrap();
    store.delete("doc").await.unwrap();
    assert_eq!(store.load_versioned("doc").await.unwrap(), None);
    assert_eq!(store.save_versioned("doc", 1, b"b", LONG).await.unwrap(), None);
    assert_eq!(store.load_versioned("doc").await.unwrap(), None, "a conflict must not recreate the key");
}

#[tokio::test]
async fn save_versioned_resets_the_ttl_and_an_expired_document_is_gone() {
    let store = MemoryStore::new("t");
    store.save_versioned("doc", 0, b"a", Duration::from_millis(150)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    store.save_versioned("doc", 1, b"b", Duration::from_millis(150)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(store.load_versioned("doc").await.unwrap(), Some((2, b"b".to_vec())), "the save renewed the TTL");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.load_versioned("doc").await.unwrap(), None);
    assert_eq!(store.save_versioned("doc", 2, b"c", LONG).await.unwrap(), None);
}

#[tokio::test]
async fn plain_and_versioned_values_are_not_mixed_up() {
    let store = MemoryStore::new("t");
    store.set("plain", b"x", LONG).await.unwrap();
    store.save_versioned("doc", 0, b"a", LONG).await.unwrap();
    assert!(store.load_versioned("plain").await.is_err());
    assert!(store.save_versioned("plain", 0, b"a", LONG).await.is_err());
    assert!(store.get("doc").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_of_the_same_version_have_exactly_one_winner() {
    let store = Arc::new(MemoryStore::new("t"));
    store.save_versioned("doc", 0, b"start", LONG).await.unwrap();
    let all_loaded = Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (store, all_loaded) = (store.clone(), all_loaded.clone());
            tokio::spawn(async move {
                let (version, _) = store.load_versioned("doc").await.unwrap().unwrap();
                all_loaded.wait().await;
                store.save_versioned("doc", version, format!("task {i}").as_bytes(), LONG).await.unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let winners: Vec<_> = outcomes.iter().flatten().collect();
    assert_eq!(winners, vec![&2], "{outcomes:?}");
    assert_eq!(store.load_versioned("doc").await.unwrap().unwrap().0, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retrying_writers_lose_no_update() {
    let store = Arc::new(MemoryStore::new("t"));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                loop {
                    let (version, mut body) = store.load_versioned("doc").await.unwrap().unwrap_or_default();
                    body.push(i);
                    if store.save_versioned("doc", version, &body, LONG).await.unwrap().is_some() {
                        return;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let (version, mut body) = store.load_versioned("doc").await.unwrap().unwrap();
    body.sort_unstable();
    assert_eq!((version, body), (20, (0..20).collect::<Vec<u8>>()));
}

#[tokio::test]
async fn a_held_lock_cannot_be_taken_until_it_is_released() {
    let store = MemoryStore::new("t");
    let token = store.lock("l", LONG).await.unwrap().expect("a free lock is granted");
    assert_eq!(store.lock("l", LONG).await.unwrap(), None);
    store.unlock("l", &token).await.unwrap();
    let again = store.lock("l", LONG).await.unwrap().expect("a released lock is granted");
    assert_ne!(again, token, "every acquisition gets a fresh token");
}

#[tokio::test]
async fn unlock_with_the_wrong_token_leaves_the_lock_held() {
    let store = MemoryStore::new("t");
    let token = store.lock("l", LONG).await.unwrap().unwrap();
    store.unlock("l", "not-the-token").await.unwrap();
    assert_eq!(store.get("l").await.unwrap(), Some(token.into_bytes()));
    assert_eq!(store.lock("l", LONG).await.unwrap(), None);
}

#[tokio::test]
async fn an_expired_lock_is_free_and_its_old_holder_cannot_release_the_new_one() {
    let store = MemoryStore::new("t");
    let old = store.lock("l", SHORT).await.unwrap().unwrap();
    past(SHORT).await;
    let new = store.lock("l", LONG).await.unwrap().expect("an expired lock is free");
    store.unlock("l", &old).await.unwrap();
    assert_eq!(store.get("l").await.unwrap(), Some(new.into_bytes()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_lockers_get_exactly_one_lock() {
    let store = Arc::new(MemoryStore::new("t"));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.lock("l", LONG).await.unwrap() })
        })
        .collect();
    let mut granted = 0;
    for task in tasks {
        granted += usize::from(task.await.unwrap().is_some());
    }
    assert_eq!(granted, 1);
}

#[tokio::test]
async fn new_keys_carry_the_prefix_so_stores_do_not_share_them() {
    let (a, b) = (MemoryStore::new("a"), MemoryStore::new("b"));
    assert_eq!(a.key("k"), "a:k");
    assert!(a.set_nx("k", b"x", LONG).await.unwrap());
    assert_eq!(a.incr("n", LONG).await.unwrap(), 1);
    assert!(a.lock("l", LONG).await.unwrap().is_some());
    a.save_versioned("doc", 0, b"x", LONG).await.unwrap();
    assert!(b.set_nx("k", b"x", LONG).await.unwrap());
    assert_eq!(b.incr("n", LONG).await.unwrap(), 1);
    assert!(b.lock("l", LONG).await.unwrap().is_some());
    assert_eq!(b.load_versioned("doc").await.unwrap(), None);
}
