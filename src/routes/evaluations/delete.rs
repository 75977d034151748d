//! `DELETE /api/v1/evaluations/{id}`
use actix_web::{delete, web, HttpRequest, HttpResponse};

use super::not_found;
use super::{if_match, parse_id};
use crate::{auth::Actor, db::evaluations, error::ApiError, state::AppState};

/// Delete a draft.
///
/// Needs `If-Match` with the ETag last read.
#[utoipa::path(
    tag = "evaluations",
    params(
        ("id" = i64, Path, description = "记录编号"),
        ("If-Match" = String, Header, description = "The ETag last read"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such record", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Only drafts can be deleted", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The record changed since it was read", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/evaluations/{id}")]
pub async fn delete_evaluation(
    req: HttpRequest,
    path: web::Path<String>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    // Writes need a token: an anonymous caller learns that first, not whether the record exists.
    actor.check(actor.principal.require_token(), Some(id))?;
    let mut conn = state.pool.get().await?;
    let (region_code, status) = evaluations::locate(&mut conn, id).await?.ok_or_else(|| not_found(id))?;
    actor.check(actor.principal.may_edit(&region_code, Some(&status)), Some(id))?;
    let expected = if_match(&req)?;
    evaluations::delete(&mut conn, id, expected.as_deref(), &actor.name).await?;
    tracing::info!(target: "perfeval::audit", audit = "deleted", record_id = id, actor = %actor.name, "evaluation deleted");
    Ok(HttpResponse::NoContent().finish())
}
