//! `GET /api/v1/evaluations/{id}/findings`
use actix_web::{get, web, HttpResponse};

use super::{check_record, not_found, parse_id, validate::CheckResult};
use crate::{auth::Actor, db::evaluations, domain::rules::has_errors, error::ApiError, state::AppState};

/// The consistency findings of the stored record, checked now, cross-year rules included.
#[utoipa::path(
    tag = "evaluations",
    params(("id" = i64, Path, description = "记录编号")),
    responses(
        (status = 200, description = "The findings", body = CheckResult),
        (status = 404, description = "No such record", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/evaluations/{id}/findings")]
pub async fn get_findings(
    path: web::Path<String>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let mut conn = state.pool.get().await?;
    let stored = evaluations::fetch(&mut conn, id).await?.ok_or_else(|| not_found(id))?;
    actor.check(actor.principal.may_read(&stored.record.region_code, &stored.meta.status), Some(id))?;
    let (findings, assessment) = check_record(&mut conn, &stored.record, &actor.principal).await?;
    Ok(HttpResponse::Ok().json(CheckResult { submittable: !has_errors(&findings), findings, assessment }))
}
