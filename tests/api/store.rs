//! The session store against a real Redis (random key prefix per test) and its in-memory twin.

use std::time::Duration;

use mkopo::config::Settings;
use mkopo::store::{self, MemoryStore, RedisStore, Store};

pub fn redis_url() -> String {
    std::env::var("MKOPO_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

async fn redis() -> RedisStore {
    let prefix = format!("mkopo-test-{}", uuid::Uuid::new_v4());
    RedisStore::connect(&redis_url(), &prefix, Duration::from_secs(2))
        .await
        .expect("the test suite needs Redis (scripts/test starts one)")
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
