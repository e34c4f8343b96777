//! Sharing of exchanger (and PTR) lookups across the domains of one run.
//!
//! A few exchangers serve millions of domains, so their A and AAAA answers are asked once and
//! shared. The sharing is ours, not hickory's (whose cache is off): a map from (name, type) to
//! a cell that the first asker fills while later askers wait on it, so concurrent domains
//! never send the same query twice. The map is bounded: past `capacity` entries one is dropped
//! by the CLOCK rule (second chance: the oldest entry goes unless it was used since it was last
//! considered, in which case it moves to the back), so memory stays flat on long runs while the
//! few exchangers that serve many domains stay in; a dropped name is simply asked again. Answers are kept for the run only, whatever their TTL says: a run is a
//! snapshot. Failed answers that may be transient (SERVFAIL, timeout) are purged before the
//! second pass so that pass asks again.

use super::dns::{Answer, Dns, QType};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::OnceCell;

type Key = (Box<str>, QType);

/// Entry id (to tell a re-inserted key from its evicted predecessor), the shared cell, and
/// whether the entry was used since the clock hand last passed it.
type Slot = (u64, Arc<OnceCell<Answer>>, bool);

struct Inner {
    map: HashMap<Key, Slot>,
    order: VecDeque<(Key, u64)>,
    next_id: u64,
}

/// Bounded, in-flight-deduplicating lookup cache.
pub struct LookupCache {
    inner: Mutex<Inner>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

/// Counters of the shared lookups (defined with the schema: written in the run metadata).
pub use mxinfer_record::CacheStats;

impl LookupCache {
    pub fn new(capacity: usize) -> Self {
        LookupCache {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                order: VecDeque::new(),
                next_id: 0,
            }),
            capacity: capacity.max(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    /// The answer for (`name`, `q`), asking `dns` only if no one has asked yet.
    pub async fn get(&self, dns: &dyn Dns, name: &str, q: QType) -> Answer {
        let cell = {
            let mut inner = self.inner.lock().expect("cache lock");
            let key: Key = (name.into(), q);
            if let Some((_, c, used)) = inner.map.get_mut(&key) {
                self.hits.fetch_add(1, Ordering::Relaxed);
                *used = true;
                c.clone()
            } else {
                self.misses.fetch_add(1, Ordering::Relaxed);
                let id = inner.next_id;
                inner.next_id += 1;
                let c = Arc::new(OnceCell::new());
                inner.map.insert(key.clone(), (id, c.clone(), false));
                inner.order.push_back((key, id));
                self.evict(&mut inner);
                c
            }
        };
        cell.get_or_init(|| dns.query(name, q)).await.clone()
    }

    /// Drops entries until the map is within its capacity (CLOCK / second chance).
    fn evict(&self, inner: &mut Inner) {
        while inner.map.len() > self.capacity {
            let Some((old, old_id)) = inner.order.pop_front() else {
                break;
            };
            match inner.map.get_mut(&old) {
                Some((i, _, used)) if *i == old_id && *used => {
                    *used = false;
                    inner.order.push_back((old, old_id));
                }
                Some((i, _, _)) if *i == old_id => {
                    inner.map.remove(&old);
                    self.evictions.fetch_add(1, Ordering::Relaxed);
                }
                _ => {} // a stale position of a key already evicted
            }
        }
    }

    /// Drops the answers that failed transiently, so they are asked again.
    pub fn purge_transient(&self) {
        let mut inner = self.inner.lock().expect("cache lock");
        inner
            .map
            .retain(|_, (_, c, _)| c.get().is_none_or(|a| !a.status.is_transient()));
        let Inner { map, order, .. } = &mut *inner;
        order.retain(|(k, id)| map.get(k).is_some_and(|(i, _, _)| i == id));
    }

    pub fn stats(&self) -> CacheStats {
        let inner = self.inner.lock().expect("cache lock");
        CacheStats {
            capacity: self.capacity,
            entries: inner.map.len(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::BoxFuture;
    use mxinfer_record::LookupStatus;
    use std::sync::atomic::AtomicUsize;

    /// Counts queries and answers after a short sleep, so concurrent askers overlap.
    struct Counting {
        n: AtomicUsize,
        status: LookupStatus,
    }

    impl Dns for Counting {
        fn query<'a>(&'a self, _name: &'a str, _q: QType) -> BoxFuture<'a, Answer> {
            Box::pin(async move {
                self.n.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Answer::failed(self.status, "x")
            })
        }
        fn queries_sent(&self) -> u64 {
            self.n.load(Ordering::SeqCst) as u64
        }
    }

    #[tokio::test]
    async fn concurrent_askers_share_one_query() {
        let dns = Counting {
            n: AtomicUsize::new(0),
            status: LookupStatus::Nodata,
        };
        let cache = LookupCache::new(10);
        let futs = (0..50).map(|_| cache.get(&dns, "mx.example", QType::A));
        let out = futures::future::join_all(futs).await;
        assert_eq!(out.len(), 50);
        assert_eq!(dns.n.load(Ordering::SeqCst), 1);
        let s = cache.stats();
        assert_eq!((s.hits, s.misses), (49, 1));
    }

    #[tokio::test]
    async fn capacity_bounds_entries() {
        let dns = Counting {
            n: AtomicUsize::new(0),
            status: LookupStatus::Nodata,
        };
        let cache = LookupCache::new(3);
        for i in 0..10 {
            cache.get(&dns, &format!("mx{i}.example"), QType::A).await;
        }
        let s = cache.stats();
        assert_eq!(s.entries, 3);
        assert_eq!(s.evictions, 7);
        // The newest are kept.
        cache.get(&dns, "mx9.example", QType::A).await;
        assert_eq!(dns.n.load(Ordering::SeqCst), 10);
        cache.get(&dns, "mx0.example", QType::A).await;
        assert_eq!(dns.n.load(Ordering::SeqCst), 11);
    }

    #[tokio::test]
    async fn entries_in_use_get_a_second_chance() {
        let dns = Counting {
            n: AtomicUsize::new(0),
            status: LookupStatus::Nodata,
        };
        let cache = LookupCache::new(3);
        cache.get(&dns, "popular.example", QType::A).await;
        for i in 0..20 {
            // The popular exchanger is asked between every new one.
            cache.get(&dns, "popular.example", QType::A).await;
            cache.get(&dns, &format!("mx{i}.example"), QType::A).await;
        }
        // Asked once for popular.example and once per one-off name: it was never evicted.
        assert_eq!(dns.n.load(Ordering::SeqCst), 21);
        assert_eq!(cache.stats().entries, 3);
    }

    #[tokio::test]
    async fn transient_failures_are_purged() {
        let dns = Counting {
            n: AtomicUsize::new(0),
            status: LookupStatus::Timeout,
        };
        let cache = LookupCache::new(10);
        cache.get(&dns, "slow.example", QType::A).await;
        cache.get(&dns, "slow.example", QType::A).await;
        assert_eq!(dns.n.load(Ordering::SeqCst), 1);
        cache.purge_transient();
        assert_eq!(cache.stats().entries, 0);
        cache.get(&dns, "slow.example", QType::A).await;
        assert_eq!(dns.n.load(Ordering::SeqCst), 2);
    }
}
