//! Liveness and readiness probes, and the Prometheus metrics.
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{db, error::ApiError, metrics::Endpoint, state::AppState};

/// Probe answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` (alive) or `ready` (database reachable and migrated)
    #[schema(example = "ready")]
    pub status: &'static str,
    /// The database's newest migration (readiness only)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration: Option<String>,
    /// Each read replica's state (readiness only, with `PERFEVAL_REPLICA_URLS`); the primary
    /// alone decides readiness, and a replica not `ok` only sends its reads to the primary
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<Vec<crate::replicas::ReplicaHealth>>,
}

/// Liveness: the process answers.
#[utoipa::path(tag = "health", responses((status = 200, description = "Alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok", migration: None, replicas: None })
}

/// Readiness: the database is reachable and its migrations are current.
///
/// With read replicas, the answer also shows each one's state (`ok`, `lagging` or `down`) and
/// lag; a replica that is not `ok` does not make the service unready, its reads go to the primary.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Database unreachable or not migrated", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.get().await?;
    let applied = db::applied_migration_version(&mut conn)
        .await
        .map_err(|e| ApiError::Unavailable(format!("reading migrations: {e}")))?;
    if applied.as_deref() != Some(state.expected_migration.as_str()) {
        return Err(ApiError::Unavailable(format!(
            "database migration {applied:?}, expected {}",
            state.expected_migration
        )));
    }
    let replicas = state.reads.replicas().report();
    Ok(HttpResponse::Ok().json(Health { status: "ready", migration: applied, replicas }))
}

/// Prometheus metrics of this instance.
///
/// The text exposition format 0.0.4: requests and their latency by route template, method and
/// status class; database statement latency; each worker's connection pool; rate-limited and
/// unavailable answers; batch and import records by outcome; webhook attempts; reads by the
/// server that answered them, and each read replica's health and lag. Open to anyone,
/// like the probes (it names no record, caller or path, only route templates). With
/// `PERFEVAL_METRICS_LISTEN` set it is served on that address instead, and here answers 404.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Every series of this instance", content_type = "text/plain; version=0.0.4", body = String),
        (status = 404, description = "Served on the address of PERFEVAL_METRICS_LISTEN instead", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
pub async fn metrics(endpoint: web::Data<Endpoint>) -> Result<HttpResponse, ApiError> {
    if !endpoint.served_here() {
        return Err(ApiError::not_found("/metrics is served on the address of PERFEVAL_METRICS_LISTEN"));
    }
    Ok(HttpResponse::Ok().content_type(crate::metrics::CONTENT_TYPE).body(endpoint.render()))
}

/// The OpenAPI 3.1 document of this API.
///
/// The same document as `openapi/openapi.json` in the repository.
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object))
)]
#[get("/openapi.json")]
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(state.openapi_json.clone())
}
