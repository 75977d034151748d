//! `POST /api/v1/evaluations/validate`
use actix_web::{post, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::{check_record, validated, with_library};
use crate::{
    domain::{
        record::EvaluationInput,
        rules::{has_errors, Finding},
        scoring::Assessment,
    },
    error::ApiError,
    routes::{Actor, JsonBody},
    state::AppState,
};

/// The result of checking a record.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResult {
    /// 是否可提交: no error-severity finding
    pub submittable: bool,
    /// 一致性检查结果 (勾稽关系 and scoring findings)
    pub findings: Vec<Finding>,
    /// 计算得分与等级
    pub assessment: Assessment,
}

/// Run every consistency rule on a payload without storing it. Open to every caller.
///
/// Cross-year rules included, against the stored prior-year record when the caller may see it.
#[utoipa::path(
    tag = "evaluations",
    request_body(content = EvaluationInput, description = "The record to check"),
    responses(
        (status = 200, description = "The findings", body = CheckResult),
        (status = 400, description = "Malformed JSON, wrong type or unknown field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/evaluations/validate")]
pub async fn validate_evaluation(
    body: JsonBody<EvaluationInput>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let valid = validated(body.0)?;
    let mut conn = state.pool.get().await?;
    let valid = with_library(&mut conn, valid).await?;
    let (findings, assessment) = check_record(&mut conn, &valid.record, &actor.principal).await?;
    Ok(HttpResponse::Ok().json(CheckResult { submittable: !has_errors(&findings), findings, assessment }))
}
