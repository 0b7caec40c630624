//! A connection that stops answering without being closed (the peer vanished behind a partition, a
//! failover moved the address) is given up and replaced, instead of timing out forever.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mkopo::store::{RedisOptions, RedisStore, Store, StoreError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::ThrowawayRedis;

/// A TCP proxy in front of Redis that can go silent on every connection it already carries, while new
/// connections pass through.
struct SilentProxy {
    url: String,
    accepted: Arc<AtomicU64>,
    silent_below: Arc<AtomicU64>,
}

impl SilentProxy {
    async fn start(redis_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let (accepted, silent_below) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (count, silent) = (accepted.clone(), silent_below.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let id = count.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(("127.0.0.1", redis_port)).await else { continue };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pump(client_read, server_write, id, silent.clone()));
                tokio::spawn(pump(server_read, client_write, id, silent.clone()));
            }
        });
        Self { url, accepted, silent_below }
    }

    /// Every connection open now stops forwarding, and stays open.
    fn silence_open_connections(&self) {
        self.silent_below.store(self.accepted.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    id: u64,
    silent_below: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n @ 1..) = from.read(&mut buf).await {
        while id < silent_below.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn a_connection_that_only_times_out_is_replaced_within_the_wedge_bound() {
    let redis = ThrowawayRedis::start_with(false).await;
    let proxy = SilentProxy::start(redis.port).await;
    let options = RedisOptions { timeout: Duration::from_millis(300), reconnect_max_delay: Duration::from_millis(100) };
    let store = RedisStore::connect_with(&proxy.url, "wedged", options).await.unwrap();
    store.set("k", b"v", Duration::from_secs(30)).await.unwrap();

    proxy.silence_open_connections();
    let started = Instant::now();
    let mut timeouts = 0;
    loop {
        match store.get("k").await {
            Ok(value) => {
                assert_eq!(value.as_deref(), Some(&b"v"[..]));
                break;
            }
            Err(StoreError::Timeout(_)) => timeouts += 1,
            Err(StoreError::Unavailable(_)) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
        assert!(started.elapsed() < Duration::from_secs(5), "still timing out after {:?}", started.elapsed());
    }
    eprintln!("a silent connection was replaced {:?} after it went silent ({timeouts} timeouts)", started.elapsed());
    assert!(timeouts >= 1, "the old connection was really silent");
    assert!(started.elapsed() >= options.wedged_after(), "not given up before the bound");
}
