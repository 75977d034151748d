//! Conditional reads and the response cache, both keyed by the data version.
//!
//! A read that depends on the stored data (a list page, an aggregate, coverage, the model, the
//! divisions) is labelled with a weak `ETag` made of the data version (read first, one indexed
//! row), the request (path, query, `Accept`) and what the caller may see (`Visibility`). So:
//!
//! - `If-None-Match` with that tag is answered 304 without running the read's query;
//! - the answer itself is kept in a cache bounded in bytes (`PERFEVAL_CACHE_MB`) under the same
//!   tag. Every committed write moves the version, so an answer made before a write is never
//!   looked up again once the write is acknowledged, by this process or any other on the same
//!   database: each reads the version from the database, so none depends on hearing about the
//!   write in time. No two visibilities share a tag, so a cached answer never crosses them.
//!
//! `Cache-Control`: anonymous answers hold only published records and may be kept by a browser or
//! a shared proxy, which must revalidate (`public, no-cache`); an authenticated answer may be kept
//! only by the caller's own browser (`private, no-cache`). `Vary` names what else the answer
//! depends on.
use actix_web::{
    http::{header, StatusCode},
    HttpRequest, HttpResponse,
};
use sha2::{Digest, Sha256};

use crate::{
    auth::Actor,
    cache::Entry,
    db::{self, data_version::Versions, Connection},
    domain::access::Visibility,
    error::ApiError,
};

/// `Cache-Control` of an answer anyone may see.
const PUBLIC: &str = "public, no-cache";
/// `Cache-Control` of an answer for one caller.
const PRIVATE: &str = "private, no-cache";
/// What else an answer depends on, beside its URL.
const VARY: &str = "Authorization, Accept, Accept-Encoding";

/// The label of one read at the current data version.
pub struct Validator {
    etag: String,
    anonymous: bool,
    versions: Versions,
}

impl Validator {
    /// Reads the data version and labels the request with it.
    pub async fn read(req: &HttpRequest, actor: &Actor, conn: &mut Connection) -> Result<Self, ApiError> {
        let versions = db::data_version::current(conn).await?;
        Ok(Self::at(versions, req, actor))
    }

    fn at(versions: Versions, req: &HttpRequest, actor: &Actor) -> Self {
        let visibility = actor.principal.visibility();
        let mut hash = Sha256::new();
        for part in [
            req.path(),
            req.query_string(),
            req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or(""),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        match &visibility {
            Visibility::All => hash.update(b"all"),
            Visibility::Published => hash.update(b"published"),
            Visibility::PublishedOrUnder(prefix) => {
                hash.update(b"under:");
                hash.update(prefix.as_bytes());
            }
        }
        let digest = hash.finalize();
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            etag: format!("W/\"{}-{hex}\"", versions.data),
            anonymous: visibility == Visibility::Published,
            versions,
        }
    }

    /// Whether the request's `If-None-Match` names this answer (weak comparison, `*` too).
    pub fn matches(&self, req: &HttpRequest) -> bool {
        req.headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|tags| names(tags, &self.etag))
    }

    /// 304 Not Modified, with the validator and caching headers and no body.
    pub fn not_modified(&self) -> HttpResponse {
        let mut response = HttpResponse::NotModified().finish();
        self.label(&mut response);
        response
    }

    /// Adds `ETag`, `Cache-Control` and `Vary` to an answer.
    pub fn label(&self, response: &mut HttpResponse) {
        let headers = response.headers_mut();
        headers.insert(header::ETAG, header::HeaderValue::from_str(&self.etag).expect("an ETag is ASCII"));
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static(if self.anonymous { PUBLIC } else { PRIVATE }),
        );
        headers.insert(header::VARY, header::HeaderValue::from_static(VARY));
    }
}

/// Whether an `If-None-Match` value names `etag` (weak comparison, `*` too).
pub fn names(tags: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(etag);
    tags.split(',').any(|tag| tag.trim() == "*" || opaque(tag) == ours)
}

/// Answers a read through its validator: 304 when `If-None-Match` names the current answer, the
/// kept answer when there is one (`cached` is false for reads not worth keeping, such as streamed
/// exports), else `compute`'s (given the versions read), labelled and, when it succeeded,
/// kept. Concurrent misses of one answer compute it once: the others wait and take it from the
/// cache.
pub async fn answer<F, Fut>(
    req: &HttpRequest,
    actor: &Actor,
    state: &crate::state::AppState,
    route: &'static str,
    cached: bool,
    compute: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(Versions) -> Fut,
    Fut: std::future::Future<Output = Result<HttpResponse, ApiError>>,
{
    let validator = {
        let mut conn = state.pool.get().await?;
        Validator::read(req, actor, &mut conn).await?
    };
    if validator.matches(req) {
        crate::metrics::cache_lookup(route, "not_modified");
        return Ok(validator.not_modified());
    }
    let kept = |result: &'static str| {
        let mut response = state.response_cache.get(&validator.etag)?;
        crate::metrics::cache_lookup(route, result);
        validator.label(&mut response);
        Some(response)
    };
    let mut flight = None;
    if cached {
        if let Some(response) = kept("hit") {
            return Ok(response);
        }
        flight = state.response_cache.flight(&validator.etag).await;
        if let Some(response) = kept("coalesced") {
            return Ok(response);
        }
        crate::metrics::cache_lookup(route, "miss");
    }
    let response = compute(validator.versions).await?;
    if !cached || response.status() != StatusCode::OK {
        let mut response = response;
        validator.label(&mut response);
        return Ok(response);
    }
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
    let content_disposition = response.headers().get(header::CONTENT_DISPOSITION).cloned();
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("reading an answer to keep it: {e}")))?;
    let entry = Entry::new(status, content_type, content_disposition, body);
    let mut sent = entry.response();
    validator.label(&mut sent);
    state.response_cache.put(validator.etag.clone(), entry);
    drop(flight);
    Ok(sent)
}
