//! `GET /api/v1/evaluations/{id}`
use actix_web::{get, web, HttpResponse};

use super::{not_found, parse_id, record_response, EvaluationView};
use crate::{auth::Actor, db::evaluations, error::ApiError, startup::AppState};

/// Read a whole record, with its ETag for a later conditional write.
#[utoipa::path(
    tag = "evaluations",
    params(("id" = i64, Path, description = "记录编号")),
    responses(
        (status = 200, description = "The record", body = EvaluationView,
            headers(("ETag" = String, description = "The record's revision, for If-Match"))),
        (status = 404, description = "No such record", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/evaluations/{id}")]
pub async fn get_evaluation(
    path: web::Path<String>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let mut conn = state.pool.get().await?;
    let stored = evaluations::fetch(&mut conn, id).await?.ok_or_else(|| not_found(id))?;
    actor.check(actor.principal.may_read(&stored.record.region_code, &stored.meta.status), Some(id))?;
    Ok(record_response(HttpResponse::Ok(), &EvaluationView::new(stored, None)))
}
