//! The store primitives the USSD hop is built on (a per-hop lease read together with the record, and
//! an overwrite that never creates), alike in Redis and in memory.

use std::time::Duration;

use mkopo::store::{MemoryStore, RedisStore, Store};

const LONG: Duration = Duration::from_secs(30);

async fn redis() -> RedisStore {
    let prefix = format!("mkopo-test-{}", uuid::Uuid::new_v4());
    RedisStore::connect(&crate::store::redis_url(), &prefix, Duration::from_secs(2)).await.unwrap()
}

async fn set_xx_only_overwrites(store: &dyn Store) {
    assert!(!store.set_xx("xx", b"first", LONG).await.unwrap(), "an absent key is not created");
    assert_eq!(store.get("xx").await.unwrap(), None);
    store.set("xx", b"first", LONG).await.unwrap();
    assert!(store.set_xx("xx", b"second", LONG).await.unwrap());
    assert_eq!(store.get("xx").await.unwrap().as_deref(), Some(&b"second"[..]));
    store.delete("xx").await.unwrap();
    assert!(!store.set_xx("xx", b"third", LONG).await.unwrap(), "a deleted key stays deleted");
}

async fn a_lease_comes_with_the_values_either_way(store: &dyn Store) {
    store.set("doc", b"body", LONG).await.unwrap();
    let (holder, values) = store.lease_and_get_many("lease", "t1", LONG, &["doc", "absent"]).await.unwrap();
    assert_eq!(holder, None, "taken by this call");
    assert_eq!(values, vec![Some(b"body".to_vec()), None]);
    let (holder, values) = store.lease_and_get_many("lease", "t2", LONG, &["doc"]).await.unwrap();
    assert_eq!(holder.as_deref(), Some(&b"t1"[..]), "held by the first");
    assert_eq!(values, vec![Some(b"body".to_vec())], "read even so, for a duplicate to replay from");
}

/// A record in the old hash format reads as absent rather than failing the hop.
async fn another_kind_of_value_reads_as_absent(store: &dyn Store) {
    assert_eq!(store.save_versioned("old", 0, b"hash", LONG).await.unwrap(), Some(1));
    let (_, values) = store.lease_and_get_many("lease-old", "t", LONG, &["old"]).await.unwrap();
    assert_eq!(values, vec![None]);
}

#[tokio::test]
async fn redis_and_memory_overwrite_only_with_set_xx() {
    set_xx_only_overwrites(&redis().await).await;
    set_xx_only_overwrites(&MemoryStore::new("t")).await;
}

#[tokio::test]
async fn redis_and_memory_read_the_values_with_the_lease() {
    a_lease_comes_with_the_values_either_way(&redis().await).await;
    a_lease_comes_with_the_values_either_way(&MemoryStore::new("t")).await;
}

#[tokio::test]
async fn redis_and_memory_read_an_old_hash_record_as_absent() {
    another_kind_of_value_reads_as_absent(&redis().await).await;
    another_kind_of_value_reads_as_absent(&MemoryStore::new("t")).await;
}
