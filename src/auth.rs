//! Authentication and request-rate limits, applied to every request by one middleware.
//!
//! The middleware resolves the bearer token (401 when it is malformed, unknown or revoked),
//! records the caller's name on the request's log span, spends one unit of the caller's rate
//! (429 with `Retry-After` when none is left) and leaves the [`Actor`] in the request for the
//! handlers, which apply the role rules of [`crate::domain::access`].
use std::{
    collections::HashMap,
    future::{ready, Ready},
    sync::Mutex,
    time::{Duration, Instant},
};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    web, FromRequest, HttpMessage, HttpRequest, ResponseError,
};

use crate::{
    db::tokens::{self, TokenHolder},
    domain::access::{Denied, Principal, Role},
    error::ApiError,
    startup::AppState,
};

/// Who is making a request: the holder of the bearer token, or `anonymous` without one. Its
/// name is recorded in transitions, revisions and every log line of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub principal: Principal,
}

impl Actor {
    pub fn anonymous() -> Self {
        Self { name: "anonymous".to_owned(), principal: Principal::anonymous() }
    }

    fn from_holder(holder: &TokenHolder) -> Self {
        let role = Role::parse(&holder.role).unwrap_or(Role::Anonymous);
        Self { name: holder.name.clone(), principal: Principal { role, scope: holder.region_code.clone() } }
    }

    /// Turns a refusal into the answer: 401, 404 (as if the record did not exist) or 403.
    /// Every refusal is logged for the audit trail.
    pub fn deny(&self, denied: Denied, record_id: Option<i64>) -> ApiError {
        let reason = match &denied {
            Denied::NeedsToken => "no token",
            Denied::Hidden => "outside scope",
            Denied::Forbidden(_) => "forbidden",
        };
        tracing::warn!(
            target: "perfeval::audit",
            audit = "authorization_failed",
            actor = %self.name,
            role = self.principal.role.as_str(),
            record_id,
            reason,
            "authorization failed"
        );
        match denied {
            Denied::NeedsToken => {
                ApiError::Unauthorized("this needs a bearer token (Authorization: Bearer …)".to_owned())
            }
            Denied::Hidden => match record_id {
                Some(id) => ApiError::not_found(format!("no evaluation {id}")),
                None => ApiError::not_found("no such resource"),
            },
            Denied::Forbidden(why) => ApiError::Forbidden(why),
        }
    }

    /// `check`'s refusal as the answer, for `?` in handlers.
    pub fn check(&self, check: Result<(), Denied>, record_id: Option<i64>) -> Result<(), ApiError> {
        check.map_err(|denied| self.deny(denied, record_id))
    }
}

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(req.extensions().get::<Actor>().cloned().unwrap_or_else(Actor::anonymous)))
    }
}

/// Resolved tokens, kept briefly so a request costs no token query. A token revoked through
/// the API is forgotten at once; one revoked from the command line of another process stops
/// working within [`TOKEN_CACHE_TTL`].
pub struct TokenCache {
    entries: Mutex<HashMap<Vec<u8>, (Actor, Instant)>>,
}

pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);
const TOKEN_CACHE_MAX: usize = 10_000;

impl TokenCache {
    pub fn new() -> Self {
        Self { entries: Mutex::new(HashMap::new()) }
    }

    fn get(&self, hash: &[u8]) -> Option<Actor> {
        let entries = self.entries.lock().expect("token cache lock");
        entries.get(hash).filter(|(_, at)| at.elapsed() < TOKEN_CACHE_TTL).map(|(actor, _)| actor.clone())
    }

    fn put(&self, hash: Vec<u8>, actor: Actor) {
        let mut entries = self.entries.lock().expect("token cache lock");
        if entries.len() >= TOKEN_CACHE_MAX {
            entries.retain(|_, (_, at)| at.elapsed() < TOKEN_CACHE_TTL);
        }
        entries.insert(hash, (actor, Instant::now()));
    }

    /// Forgets every token of `name` (after a revocation).
    pub fn forget(&self, name: &str) {
        self.entries.lock().expect("token cache lock").retain(|_, (actor, _)| actor.name != name);
    }
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new()
    }
}

/// A token bucket per caller: `rate` requests a second on average, bursts up to `rate`.
/// Callers are told apart by token name, and anonymous ones by their address.
pub struct RateLimiter {
    rate: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

const RATE_LIMITER_MAX_KEYS: usize = 100_000;

impl RateLimiter {
    /// `rate` = 0 disables the limit.
    pub fn new(rate: u32) -> Self {
        Self { rate: f64::from(rate), buckets: Mutex::new(HashMap::new()) }
    }

    /// Spends one request of `key`'s allowance; `Err(seconds)` to wait when none is left.
    pub fn spend(&self, key: &str) -> Result<(), u64> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        if buckets.len() >= RATE_LIMITER_MAX_KEYS {
            let rate = self.rate;
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < rate);
        }
        let (tokens, at) = buckets.entry(key.to_owned()).or_insert((self.rate, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.rate);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

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
        headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
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
        Role::Anonymous => format!("address {}", req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default()),
        _ => format!("token {}", actor.name),
    };
    if let Err(retry_after) = state.rate_limiter.spend(&key) {
        tracing::warn!(target: "perfeval::audit", audit = "rate_limited", actor = %actor.name, "rate limited");
        return Err(ApiError::TooManyRequests { retry_after });
    }
    Ok(actor)
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
}
