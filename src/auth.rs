//! Authentication and request-rate limits, applied to every request by one middleware.
//!
//! The middleware resolves the bearer token (401 when it is malformed, unknown or revoked),
//! records the caller's name on the request's log span, spends one unit of the caller's rate
//! (429 with `Retry-After` when none is left) and leaves the [`Actor`] in the request for the
//! handlers, which apply the role rules of [`crate::domain::access`].
use std::net::{IpAddr, SocketAddr};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    web, HttpMessage, ResponseError,
};

pub use crate::caller::{Actor, RateLimiter, TokenCache, TOKEN_CACHE_TTL};
use crate::{db::tokens, domain::access::Role, error::ApiError, state::AppState};

/// The middleware: resolve the caller, log it, spend its rate, hand it to the handlers. Every
/// answer carries the request's id (`X-Request-Id`, the `request_id` of its log lines), and
/// API answers a content security policy that allows nothing to run.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let request_id = req.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string());
    let api = req.path().starts_with("/api/v1/");
    let mut response = match req.app_data::<web::Data<AppState>>().cloned().filter(|_| api) {
        // Probes and the docs need no caller.
        None => next.call(req).await?.map_into_left_body(),
        Some(state) => match admit(&req, &state).await {
            Ok(actor) => {
                req.extensions_mut().insert(actor);
                next.call(req).await?.map_into_left_body()
            }
            Err(error) => req.into_response(error.error_response()).map_into_right_body(),
        },
    };
    let headers = response.headers_mut();
    if let Some(id) = request_id.and_then(|id| header::HeaderValue::from_str(&id).ok()) {
        headers.insert(header::HeaderName::from_static("x-request-id"), id);
    }
    if api {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
        // A conditional read says what may be kept (`routes::conditional`); anything else, nothing.
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
        }
    }
    Ok(response)
}

/// The caller, once its token is resolved and its rate allows another request.
async fn admit(req: &ServiceRequest, state: &AppState) -> Result<Actor, ApiError> {
    let actor = resolve(req, state).await.inspect_err(|error| {
        if matches!(error, ApiError::Unauthorized(_)) {
            tracing::warn!(target: "perfeval::audit", audit = "authentication_failed", "authentication failed");
        }
    })?;
    if let Some(span) = req.extensions().get::<tracing_actix_web::RootSpan>() {
        span.record("actor", actor.name.as_str());
    }
    let key = match actor.principal.role {
        Role::Anonymous => {
            let forwarded = req.headers().get_all(X_FORWARDED_FOR).filter_map(|v| v.to_str().ok());
            let address = client_address(req.peer_addr().map(|a| a.ip()), forwarded, &state.settings.trusted_proxies);
            format!("address {}", address.map(|ip| ip.to_string()).unwrap_or_default())
        }
        _ => format!("token {}", actor.name),
    };
    if let Err(retry_after) = state.rate_limiter.spend(&key) {
        tracing::warn!(target: "perfeval::audit", audit = "rate_limited", actor = %actor.name, "rate limited");
        return Err(ApiError::TooManyRequests { retry_after });
    }
    Ok(actor)
}

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The address an anonymous caller is told apart by: the TCP peer's, unless the peer is a trusted
/// proxy (`PERFEVAL_TRUSTED_PROXIES`); then the rightmost `X-Forwarded-For` address (over every
/// such header, in order) that is not itself a trusted proxy. Each proxy appends the address it
/// was called from, so that one is the first address no trusted proxy vouches for, and a client
/// cannot choose it by sending a header of its own. An entry that is not an address there (or no
/// entry at all) leaves the peer's address.
pub fn client_address<'a>(
    peer: Option<IpAddr>,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer.map(|ip| ip.to_canonical());
    if trusted.is_empty() || !peer.is_some_and(|ip| trusted.contains(&ip)) {
        return peer;
    }
    let entries: Vec<&str> = forwarded.flat_map(|value| value.split(',')).map(str::trim).collect();
    for entry in entries.into_iter().rev() {
        match forwarded_ip(entry) {
            Some(ip) if trusted.contains(&ip) => continue,
            Some(ip) => return Some(ip),
            None => break,
        }
    }
    peer
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim_matches('"');
    let ip = entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))?;
    Some(ip.to_canonical())
}

/// The caller named by the `Authorization` header; anonymous without one.
async fn resolve(req: &ServiceRequest, state: &AppState) -> Result<Actor, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else { return Ok(Actor::anonymous()) };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".to_owned()))?;
    let hash = tokens::hash(token);
    if let Some(actor) = state.token_cache.get(&hash) {
        return Ok(actor);
    }
    let mut conn = state.pool.get().await?;
    match tokens::resolve_hash(&mut conn, &hash).await? {
        Some(holder) => {
            let actor = Actor::from_holder(&holder);
            state.token_cache.put(hash, actor.clone());
            Ok(actor)
        }
        None => Err(ApiError::Unauthorized("unknown or revoked token".to_owned())),
    }
}

/// The root span of every request: tracing-actix-web's fields (request id, method, route,
/// status) plus the caller's name, filled in once the token is resolved.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        tracing_actix_web::root_span!(request, actor = tracing::field::Empty)
    }

    fn on_request_end<B: MessageBody>(span: tracing::Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_allows_a_burst_then_names_the_wait() {
        let limiter = RateLimiter::new(3);
        for _ in 0..3 {
            assert_eq!(limiter.spend("token a"), Ok(()));
        }
        assert_eq!(limiter.spend("token a"), Err(1));
        assert_eq!(limiter.spend("token b"), Ok(()), "each caller has its own allowance");
        assert_eq!(RateLimiter::new(0).spend("token a"), Ok(()), "0 disables the limit");
    }

    #[test]
    fn anonymous_callers_behind_a_trusted_proxy_are_told_apart_by_the_forwarded_address() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let proxy = ip("10.0.0.5");
        let trusted = [proxy, ip("10.0.0.6")];
        let address = |peer: &str, headers: &[&str], trusted: &[IpAddr]| {
            client_address(Some(ip(peer)), headers.iter().copied(), trusted)
        };
        // No trusted proxy, or a peer that is none: the peer, whatever the header says.
        assert_eq!(address("10.0.0.5", &["203.0.113.9"], &[]), Some(proxy));
        assert_eq!(address("198.51.100.1", &["203.0.113.9"], &trusted), Some(ip("198.51.100.1")));
        // Through a trusted proxy: the rightmost address no trusted proxy vouches for.
        assert_eq!(address("10.0.0.5", &["203.0.113.9"], &trusted), Some(ip("203.0.113.9")));
        assert_eq!(address("10.0.0.5", &["198.51.100.7, 203.0.113.9"], &trusted), Some(ip("203.0.113.9")));
        assert_eq!(
            address("10.0.0.5", &["198.51.100.7", "203.0.113.9, 10.0.0.6"], &trusted),
            Some(ip("203.0.113.9")),
            "several headers read as one list, trusted hops skipped"
        );
        assert_eq!(address("10.0.0.5", &["203.0.113.9:4711"], &trusted), Some(ip("203.0.113.9")));
        assert_eq!(address("10.0.0.5", &["[2001:db8::1]:4711"], &trusted), Some(ip("2001:db8::1")));
        assert_eq!(address("::ffff:10.0.0.5", &["::ffff:203.0.113.9"], &trusted), Some(ip("203.0.113.9")));
        // Nothing usable: the peer.
        assert_eq!(address("10.0.0.5", &[], &trusted), Some(proxy));
        assert_eq!(address("10.0.0.5", &["unknown"], &trusted), Some(proxy));
        assert_eq!(address("10.0.0.5", &["10.0.0.6"], &trusted), Some(proxy), "only trusted hops");
        assert_eq!(client_address(None, ["203.0.113.9"].into_iter(), &trusted), None);
    }
}
