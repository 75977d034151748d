//! The response cache: answers kept by their validator (`routes::conditional` makes the keys
//! from the data version, the request and the caller's visibility), bounded in bytes
//! (`PERFEVAL_CACHE_MB`), the least recently used dropped first. It knows nothing of what the
//! keys mean: an answer is found again only under the exact validator it was kept with.
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use actix_web::{
    http::{header, StatusCode},
    web, HttpResponse,
};

/// One kept answer: what is needed to send it again.
pub struct Entry {
    status: StatusCode,
    content_type: Option<header::HeaderValue>,
    content_disposition: Option<header::HeaderValue>,
    body: web::Bytes,
    last_used: u64,
}

impl Entry {
    pub fn new(
        status: StatusCode,
        content_type: Option<header::HeaderValue>,
        content_disposition: Option<header::HeaderValue>,
        body: web::Bytes,
    ) -> Self {
        Self { status, content_type, content_disposition, body, last_used: 0 }
    }

    /// The answer again, as it was sent.
    pub fn response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(value) = &self.content_type {
            response.insert_header((header::CONTENT_TYPE, value.clone()));
        }
        if let Some(value) = &self.content_disposition {
            response.insert_header((header::CONTENT_DISPOSITION, value.clone()));
        }
        response.body(self.body.clone())
    }

    fn size(&self, key: &str) -> usize {
        key.len() + self.body.len() + 128
    }
}

/// Answers kept by their validator, at most `capacity` bytes; the least recently used go first.
pub struct ResponseCache {
    capacity: usize,
    clock: AtomicU64,
    inner: Mutex<Inner>,
    /// The keys being computed now, each with the lock its computer holds (see `flight`).
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The right to compute the answer of one key: while it is held, other requests for the key wait
/// in `ResponseCache::flight` instead of computing the same answer again.
pub struct Flight<'a> {
    cache: &'a ResponseCache,
    key: String,
    lock: Arc<tokio::sync::Mutex<()>>,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut flights = self.cache.flights.lock().expect("the flight lock is never poisoned");
        self.guard.take();
        // The table's handle and this one: nobody else waits, so the key leaves the table.
        if Arc::strong_count(&self.lock) == 2 {
            flights.remove(&self.key);
        }
    }
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    bytes: usize,
}

impl ResponseCache {
    /// A cache of `capacity` bytes; 0 keeps nothing.
    pub fn new(capacity: usize) -> Self {
        Self { capacity, clock: AtomicU64::new(0), inner: Mutex::new(Inner::default()), flights: Mutex::default() }
    }

    /// Waits until no other request computes `key`'s answer, then holds that right until the
    /// returned flight is dropped: concurrent misses of one key compute it once, and the others
    /// find it kept (a cache stampede becomes one query). `None` when the cache keeps nothing.
    pub async fn flight(&self, key: &str) -> Option<Flight<'_>> {
        if self.capacity == 0 {
            return None;
        }
        let lock = {
            let mut flights = self.flights.lock().expect("the flight lock is never poisoned");
            flights.entry(key.to_owned()).or_default().clone()
        };
        let guard = lock.clone().lock_owned().await;
        Some(Flight { cache: self, key: key.to_owned(), lock, guard: Some(guard) })
    }

    pub fn get(&self, key: &str) -> Option<HttpResponse> {
        if self.capacity == 0 {
            return None;
        }
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut inner = self.inner.lock().expect("the cache lock is never poisoned");
        let entry = inner.entries.get_mut(key)?;
        entry.last_used = now;
        Some(entry.response())
    }

    pub fn put(&self, key: String, mut entry: Entry) {
        let size = entry.size(&key);
        entry.last_used = self.clock.fetch_add(1, Ordering::Relaxed);
        // One answer may take at most an eighth of the cache, so a few huge ones cannot push out
        // every dashboard's.
        if self.capacity == 0 || size > self.capacity / 8 {
            return;
        }
        let mut inner = self.inner.lock().expect("the cache lock is never poisoned");
        if let Some(old) = inner.entries.remove(&key) {
            inner.bytes -= old.size(&key);
        }
        while inner.bytes + size > self.capacity {
            let Some(oldest) = inner.entries.iter().min_by_key(|(_, e)| e.last_used).map(|(k, _)| k.clone()) else {
                break;
            };
            if let Some(old) = inner.entries.remove(&oldest) {
                inner.bytes -= old.size(&oldest);
            }
        }
        inner.bytes += size;
        inner.entries.insert(key, entry);
    }

    /// Bytes and answers kept now.
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.inner.lock().expect("the cache lock is never poisoned");
        (inner.bytes, inner.entries.len())
    }
}

/// Small counts derived from the stored data (how many years have records, how many divisions a
/// level has under some prefixes), kept for one data version: the first look-up at another
/// version forgets them all. Every write moves the version, so a count is never older than the
/// data it is read with.
#[derive(Default)]
pub struct VersionMemo {
    inner: Mutex<(i64, HashMap<String, u64>)>,
}

/// Counts kept for one version at most; past that, the oldest version's are forgotten anyway.
const MEMO_ENTRIES: usize = 1024;

impl VersionMemo {
    pub fn get(&self, version: i64, key: &str) -> Option<u64> {
        let inner = self.inner.lock().expect("the memo lock is never poisoned");
        (inner.0 == version).then(|| inner.1.get(key).copied()).flatten()
    }

    pub fn put(&self, version: i64, key: String, value: u64) {
        let mut inner = self.inner.lock().expect("the memo lock is never poisoned");
        if inner.0 != version || inner.1.len() >= MEMO_ENTRIES {
            *inner = (version, HashMap::new());
        }
        inner.1.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(bytes: usize) -> Entry {
        Entry {
            status: StatusCode::OK,
            content_type: None,
            content_disposition: None,
            body: web::Bytes::from(vec![b'x'; bytes]),
            last_used: 0,
        }
    }

    #[test]
    fn the_cache_stays_within_its_bytes_and_drops_the_least_recently_used() {
        let cache = ResponseCache::new(16_000);
        for key in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"] {
            cache.put(key.to_owned(), entry(1500));
            cache.get("a");
        }
        let (bytes, entries) = cache.usage();
        assert!(bytes <= 16_000, "{bytes}");
        assert!(entries < 12, "{entries}");
        assert!(cache.get("a").is_some(), "the one read every time stays");
        assert!(cache.get("b").is_none(), "the oldest unread goes first");
        assert!(cache.get("l").is_some(), "the newest stays");
        // An answer over an eighth of the cache is not kept at all.
        cache.put("huge".to_owned(), entry(2001));
        assert!(cache.get("huge").is_none());
        assert!(ResponseCache::new(0).get("a").is_none());
    }

    #[tokio::test]
    async fn one_request_computes_a_key_while_the_others_wait_for_it() {
        let cache = Arc::new(ResponseCache::new(16_000));
        let computed = Arc::new(AtomicU64::new(0));
        let first = cache.flight("k").await.expect("a flight");
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let (cache, computed) = (cache.clone(), computed.clone());
                tokio::spawn(async move {
                    let _flight = cache.flight("k").await;
                    if cache.get("k").is_none() {
                        computed.fetch_add(1, Ordering::SeqCst);
                        cache.put("k".to_owned(), entry(10));
                    }
                })
            })
            .collect();
        tokio::task::yield_now().await;
        // Another key does not wait for this one.
        drop(cache.flight("other").await.expect("a flight"));
        cache.put("k".to_owned(), entry(10));
        drop(first);
        for waiter in waiters {
            waiter.await.unwrap();
        }
        assert_eq!(computed.load(Ordering::SeqCst), 0, "every waiter found the first one's answer");
        assert!(cache.flights.lock().unwrap().is_empty(), "no key stays in the table");
        assert!(ResponseCache::new(0).flight("k").await.is_none());
    }

    #[test]
    fn a_memo_holds_its_counts_for_one_version() {
        let memo = VersionMemo::default();
        memo.put(7, "years".to_owned(), 3);
        assert_eq!(memo.get(7, "years"), Some(3));
        assert_eq!(memo.get(8, "years"), None);
        memo.put(8, "county".to_owned(), 122);
        assert_eq!(memo.get(7, "years"), None, "a newer version forgets the older counts");
        assert_eq!(memo.get(8, "county"), Some(122));
    }
}
