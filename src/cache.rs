//! The response cache: answers kept by their validator (`routes::conditional` makes the keys
//! from the data version, the request and the caller's visibility), bounded in bytes
//! (`PERFEVAL_CACHE_MB`), the least recently used dropped first. It knows nothing of what the
//! keys mean: an answer is found again only under the exact validator it was kept with.
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
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
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    bytes: usize,
}

impl ResponseCache {
    /// A cache of `capacity` bytes; 0 keeps nothing.
    pub fn new(capacity: usize) -> Self {
        Self { capacity, clock: AtomicU64::new(0), inner: Mutex::new(Inner::default()) }
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
}
