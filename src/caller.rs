//! The caller of a request, and what is kept per caller between requests: resolved tokens and
//! request allowances. Below the application state and the middleware (`auth`), which use them.
use std::{
    collections::HashMap,
    future::{ready, Ready},
    sync::Mutex,
    time::{Duration, Instant},
};

use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest};

use crate::{
    db::tokens::TokenHolder,
    domain::access::{Denied, Principal, Role},
    error::ApiError,
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

    pub fn from_holder(holder: &TokenHolder) -> Self {
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

    pub fn get(&self, hash: &[u8]) -> Option<Actor> {
        let entries = self.entries.lock().expect("token cache lock");
        entries.get(hash).filter(|(_, at)| at.elapsed() < TOKEN_CACHE_TTL).map(|(actor, _)| actor.clone())
    }

    pub fn put(&self, hash: Vec<u8>, actor: Actor) {
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
