//! `POST /api/v1/evaluations/{id}/transitions`
use actix_web::{http::StatusCode, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{check_record, etag, if_match, not_found, parse_id, write_record, EvaluationView};
use crate::{
    db::evaluations,
    domain::{
        record::Status,
        rules::{has_errors, Severity},
        validation::MAX_TEXT_CHARS,
        workflow::{next_status, Action, TransitionError},
    },
    error::ApiError,
    routes::{idempotency::Idempotency, Actor, JsonBody},
    state::AppState,
};

/// A review action on a record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// 操作
    pub action: Action,
    /// 审核意见 (required for `return`)
    #[serde(default)]
    pub comment: Option<String>,
}

/// Move a record through review: submit, return, approve, publish or reopen.
///
/// `submit` (draft/returned → submitted; error findings block it), `return` (submitted →
/// returned; needs a comment), `approve` (submitted → approved), `publish` (approved →
/// published), `reopen` (approved/published → draft). Needs `If-Match`. Approved and published
/// records are frozen until reopened.
#[utoipa::path(
    tag = "evaluations",
    params(
        ("id" = i64, Path, description = "记录编号"),
        ("If-Match" = String, Header, description = "The ETag last read"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe"),
    ),
    request_body(content = TransitionRequest),
    responses(
        (status = 200, description = "The record after the transition", body = EvaluationView,
            headers(("ETag" = String, description = "The new revision"))),
        (status = 400, description = "Malformed JSON, wrong type or unknown field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The action does not apply in the record's status", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The record changed since it was read", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Comment missing for `return`, error findings block `submit`, or the Idempotency-Key was used with another body", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown or revoked bearer token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/evaluations/{id}/transitions")]
pub async fn transition_evaluation(
    req: HttpRequest,
    path: web::Path<String>,
    body: JsonBody<TransitionRequest>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    actor.check(actor.principal.require_token(), Some(id))?;
    let idempotency = Idempotency::from_request(&req, &body.1)?;
    let mut conn = state.pool.get().await?;
    if let Some(replay) = Idempotency::replay_any(idempotency.as_ref(), &mut conn).await? {
        return Ok(replay);
    }
    let request = body.0;
    let comment = request.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.contains('\0') || c.chars().count() > MAX_TEXT_CHARS) {
        return Err(ApiError::invalid_field("comment", "invalid", "at most 100,000 characters, no NUL"));
    }
    let stored = evaluations::fetch(&mut conn, id).await?.ok_or_else(|| not_found(id))?;
    actor.check(actor.principal.may_act(request.action, &stored.record.region_code, &stored.meta.status), Some(id))?;
    let expected = if_match(&req)?;
    if expected.as_ref().is_some_and(|revisions| !revisions.contains(&stored.meta.revision)) {
        return Err(ApiError::PreconditionFailed { current_etag: etag(stored.meta.revision) });
    }
    let status = Status::parse(&stored.meta.status).unwrap_or(Status::Draft);
    let to_status = next_status(status, request.action, comment).map_err(|error| match error {
        TransitionError::CommentRequired => ApiError::invalid_field("comment", "required", error.to_string()),
        TransitionError::NotAllowed { .. } => ApiError::InvalidState(error.to_string()),
    })?;
    let (findings, assessment) = check_record(&mut conn, &stored.record, &actor.principal).await?;
    if request.action == Action::Submit && has_errors(&findings) {
        let mut findings = findings;
        findings.sort_by_key(|f| f.severity != Severity::Error);
        return Err(ApiError::SubmissionBlocked(findings));
    }
    let (response, after) = write_record(
        &mut conn,
        StatusCode::OK,
        idempotency.as_ref(),
        &actor.name,
        findings,
        &assessment,
        async |conn, context| evaluations::transition(conn, &stored, request.action, to_status, comment, context).await,
    )
    .await?;
    if let Some(meta) = after {
        tracing::info!(target: "perfeval::audit", audit = "transition", record_id = id, action = request.action.as_str(), actor = %actor.name, revision = meta.revision, "evaluation transition");
    }
    Ok(response)
}
