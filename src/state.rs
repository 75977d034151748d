//! What every handler reaches: the application state each HTTP worker holds. Below the routes,
//! the middleware and the server that builds it.
use std::sync::Arc;

use actix_web::web;

use crate::{
    caller::{RateLimiter, TokenCache},
    config::Settings,
    db::Pool,
};

/// What every handler can reach. Each HTTP worker has its own, with its own pool; the rest is
/// shared by all workers.
pub struct AppState {
    pub pool: Pool,
    /// The read replicas' pools of this worker, and their health (`crate::replicas`).
    pub reads: crate::replicas::Reads,
    pub settings: Arc<Settings>,
    /// The newest embedded migration; `/readyz` compares the database with it.
    pub expected_migration: String,
    /// The OpenAPI document, serialised once.
    pub openapi_json: web::Bytes,
    /// Recently resolved bearer tokens.
    pub token_cache: Arc<TokenCache>,
    /// Each caller's request allowance.
    pub rate_limiter: Arc<RateLimiter>,
    /// Wakes this instance's webhook deliverer (a new endpoint, a replay).
    pub webhook_wake: Arc<tokio::sync::Notify>,
    /// Answers of reads, kept by their data-version validator (`routes::conditional`).
    pub response_cache: Arc<crate::cache::ResponseCache>,
    /// Counts derived from the data, kept for one data version (the aggregate row cap's).
    pub version_memo: Arc<crate::cache::VersionMemo>,
    /// The division names, held for one regions version (aggregates name their groups from it).
    pub region_names: Arc<crate::db::regions::Names>,
}
