//! `POST /api/v1/evaluations`
use actix_web::{http::StatusCode, post, web, HttpRequest, HttpResponse};

use super::{check_record, validated, with_library, write_record, EvaluationView};
use crate::{
    db::evaluations,
    domain::record::EvaluationInput,
    error::ApiError,
    routes::{idempotency::Idempotency, Actor, JsonBody},
    state::AppState,
};

/// Create a record (a draft, revision 1), with its consistency findings.
///
/// Amounts are decimal strings in 元 (JSON numbers are read exactly). A record is unique per
/// (region_code, fiscal_year, kind, unit): a duplicate gets 409 with the existing record's id and
/// `Location`. With an `Idempotency-Key`, a retry with the same body replays this response.
#[utoipa::path(
    tag = "evaluations",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body replay the first response")),
    request_body(content = EvaluationInput, description = "The record (绩效评价记录)"),
    responses(
        (status = 201, description = "Created, with its findings", body = EvaluationView,
            headers(("Location" = String, description = "The new record"), ("ETag" = String, description = "Its revision"))),
        (status = 400, description = "Malformed JSON, wrong type or unknown field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A record with this identity exists", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or the Idempotency-Key was used with another body", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown or revoked bearer token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/evaluations")]
pub async fn create_evaluation(
    req: HttpRequest,
    body: JsonBody<EvaluationInput>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_token(), None)?;
    let idempotency = Idempotency::from_request(&req, &body.1)?;
    let mut conn = state.pool.get().await?;
    if let Some(replay) = Idempotency::replay_any(idempotency.as_ref(), &mut conn).await? {
        return Ok(replay);
    }
    let valid = validated(body.0)?;
    actor.check(actor.principal.may_edit(valid.region_code.as_str(), None), None)?;
    let valid = with_library(&mut conn, valid).await?;
    let (findings, assessment) = check_record(&mut conn, &valid.record, &actor.principal).await?;
    let (response, created) = write_record(
        &mut conn,
        StatusCode::CREATED,
        idempotency.as_ref(),
        &actor.name,
        findings,
        &assessment,
        async |conn, context| evaluations::insert(conn, &valid, context).await,
    )
    .await?;
    if let Some(meta) = created {
        tracing::info!(target: "perfeval::audit", audit = "created", record_id = meta.id, region_code = %valid.region_code, actor = %actor.name, "evaluation created");
    }
    Ok(response)
}
