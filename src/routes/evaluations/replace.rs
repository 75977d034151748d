//! `PUT /api/v1/evaluations/{id}`
use actix_web::{put, web, HttpRequest, HttpResponse};

use super::{
    check_record, derived, if_match, not_found, parse_id, record_response, validated, with_library, EvaluationView,
};
use crate::{
    db::evaluations::{self, WriteContext},
    domain::record::EvaluationInput,
    error::ApiError,
    routes::{Actor, JsonBody},
    state::AppState,
};

/// Replace a record's content (draft or returned records only), with its consistency findings.
///
/// Needs `If-Match` with the ETag last read: 428 without it, 412 when the record has changed since.
#[utoipa::path(
    tag = "evaluations",
    params(
        ("id" = i64, Path, description = "记录编号"),
        ("If-Match" = String, Header, description = "The ETag last read"),
    ),
    request_body(content = EvaluationInput, description = "The whole new content"),
    responses(
        (status = 200, description = "Replaced", body = EvaluationView,
            headers(("ETag" = String, description = "The new revision"))),
        (status = 400, description = "Malformed JSON, wrong type or unknown field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another record has this identity, or the record is not editable", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The record changed since it was read", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown or revoked bearer token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/evaluations/{id}")]
pub async fn replace_evaluation(
    req: HttpRequest,
    path: web::Path<String>,
    body: JsonBody<EvaluationInput>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    actor.check(actor.principal.require_token(), Some(id))?;
    let mut conn = state.pool.get().await?;
    let (region_code, status) = evaluations::locate(&mut conn, id).await?.ok_or_else(|| not_found(id))?;
    actor.check(actor.principal.may_edit(&region_code, Some(&status)), Some(id))?;
    let expected = if_match(&req)?;
    let valid = validated(body.0)?;
    actor.check(actor.principal.may_edit(valid.region_code.as_str(), None), Some(id))?;
    let valid = with_library(&mut conn, valid).await?;
    let (findings, assessment) = check_record(&mut conn, &valid.record, &actor.principal).await?;
    let context = WriteContext { actor: &actor.name, derived: derived(&findings, &assessment), idempotency: None };
    let stored = evaluations::replace(&mut conn, id, expected.as_deref(), &valid, &context).await?;
    tracing::info!(target: "perfeval::audit", audit = "replaced", record_id = id, revision = stored.meta.revision, actor = %actor.name, "evaluation replaced");
    Ok(record_response(HttpResponse::Ok(), &EvaluationView::new(stored, Some(findings))))
}
