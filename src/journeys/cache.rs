//! The per-process cache of subscribers' active loans, filled by the first hop's prefetch and read by
//! the balance, repay and payments screens.
//!
//! A mutex over a map rather than moka: every session writes it once and reads it once, and moka's
//! per-write bookkeeping (channels, housekeeping) showed as several per cent of a hop's CPU in profiles
//! of the load run. Entries live for a fixed time; the map never holds more than `capacity` entries
//! (expired ones are swept first, then the oldest go).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct TtlCache<V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<String, (Instant, Arc<V>)>>,
}

impl<V> TtlCache<V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { ttl, capacity: capacity.max(1), entries: Mutex::new(HashMap::new()) }
    }

    /// The live entry for `key`, if any.
    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, value)| value.clone())
    }

    pub fn insert(&self, key: &str, value: Arc<V>) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                // Still full of live entries: drop the oldest tenth in one sweep, so a full cache does
                // not pay a full scan on every insert.
                let mut ages: Vec<Instant> = entries.values().map(|(at, _)| *at).collect();
                ages.sort_unstable();
                let cut = ages[(ages.len() / 10).min(ages.len() - 1)];
                entries.retain(|_, (at, _)| *at > cut);
            }
        }
        entries.insert(key.to_owned(), (Instant::now(), value));
    }

    pub fn remove(&self, key: &str) {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_served_until_its_time_is_up_and_after_a_removal_never() {
        let cache = TtlCache::new(Duration::from_millis(60), 10);
        cache.insert("a", Arc::new(1));
        assert_eq!(cache.get("a").as_deref(), Some(&1));
        assert_eq!(cache.get("b"), None);
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(cache.get("a"), None, "expired");
        cache.insert("a", Arc::new(2));
        cache.remove("a");
        assert_eq!(cache.get("a"), None);
    }

    #[test]
    fn a_full_cache_sweeps_expired_entries_first_then_the_oldest() {
        let cache = TtlCache::new(Duration::from_millis(50), 20);
        for n in 0..20 {
            cache.insert(&format!("old{n}"), Arc::new(n));
        }
        std::thread::sleep(Duration::from_millis(70));
        cache.insert("new", Arc::new(99));
        assert_eq!(cache.len(), 1, "the expired twenty went");

        let cache = TtlCache::new(Duration::from_secs(60), 20);
        for n in 0..20 {
            cache.insert(&format!("k{n}"), Arc::new(n));
            std::thread::sleep(Duration::from_millis(1));
        }
        cache.insert("k20", Arc::new(20));
        assert!(cache.len() <= 20, "never over capacity: {}", cache.len());
        assert_eq!(cache.get("k0"), None, "the oldest went");
        assert_eq!(cache.get("k19").as_deref(), Some(&19));
        assert_eq!(cache.get("k20").as_deref(), Some(&20));
        cache.insert("k19", Arc::new(190));
        assert_eq!(cache.get("k19").as_deref(), Some(&190), "replacing a key needs no room");
    }
}
