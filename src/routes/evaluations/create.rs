//! `POST /api/v1/evaluations`
use actix_web::{http::header, post, web, HttpResponse};

use super::{location, record_response, validated, EvaluationView};
use crate::{db::evaluations, domain::record::EvaluationInput, error::ApiError, routes::JsonBody, startup::AppState};

/// Create a record (draft, revision 1). Amounts are decimal strings in 元 (JSON numbers are read
/// exactly). A record is unique per (region_code, fiscal_year, kind, unit): a duplicate gets 409
/// with the existing record's id and `Location`.
#[utoipa::path(
    tag = "evaluations",
    request_body(content = EvaluationInput, description = "The record (绩效评价记录)"),
    responses(
        (status = 201, description = "Created", body = EvaluationView,
            headers(("Location" = String, description = "The new record"), ("ETag" = String, description = "Its revision"))),
        (status = 400, description = "Malformed JSON, wrong type or unknown field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A record with this identity exists", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/evaluations")]
pub async fn create_evaluation(
    body: JsonBody<EvaluationInput>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let valid = validated(body.0)?;
    let mut conn = state.pool.get().await?;
    let meta = evaluations::insert(&mut conn, &valid).await?;
    tracing::info!(evaluation_id = meta.id, region_code = %valid.region_code, "evaluation created");
    let view = EvaluationView::new(meta, valid.record);
    let mut builder = HttpResponse::Created();
    builder.insert_header((header::LOCATION, location(view.id)));
    Ok(record_response(builder, &view))
}
