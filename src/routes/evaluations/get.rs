//! `GET /api/v1/evaluations/{id}`
use actix_web::{get, http::header, web, HttpRequest, HttpResponse};
use utoipa::{IntoParams, ToSchema};

use super::{etag, not_found, parse_id, record_response, workbook_etag, EvaluationView};
use crate::{
    auth::Actor,
    db::evaluations,
    error::ApiError,
    intake::{self, XLSX_MEDIA_TYPE},
    routes::QueryPairs,
    state::AppState,
};

/// Query parameters of a record read.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RecordParams {
    /// `json` (default), or `xlsx`: the record as the standard self-evaluation table of its kind
    /// (项目支出绩效自评表 or 部门整体支出绩效自评表), with its other groups on further sheets; the
    /// workbook imports back as the same record. Wins over `Accept`.
    #[param(inline)]
    format: Option<RecordFormat>,
}

/// Response format of a record.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum RecordFormat {
    Json,
    Xlsx,
}

/// Read a whole record, or print it as its standard self-evaluation table.
///
/// The record comes with its `ETag` for a later conditional write. With `format=xlsx` (or
/// `Accept` of the XLSX type) it is printed as the standard table of its kind instead.
#[utoipa::path(
    tag = "evaluations",
    params(("id" = i64, Path, description = "记录编号"), RecordParams),
    responses(
        (status = 200, description = "The record (JSON), or its standard table (XLSX)",
            content(
                (EvaluationView = "application/json"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ),
            headers(
                ("ETag" = String, description = "The record's revision, for If-Match: `\"3\"` for the JSON, `\"3-xlsx\"` for the workbook (If-Match takes either)"),
                ("Vary" = String, description = "`Accept`: it chooses between the JSON and the workbook"),
            )),
        (status = 400, description = "An unknown format", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/evaluations/{id}")]
pub async fn get_evaluation(
    req: HttpRequest,
    path: web::Path<String>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut response = read_record(req, parse_id(&path)?, actor, state).await?;
    // The JSON and the workbook are two representations of one URL: `Accept` chooses.
    response.headers_mut().insert(header::VARY, header::HeaderValue::from_static("Accept"));
    Ok(response)
}

async fn read_record(
    req: HttpRequest,
    id: i64,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let xlsx = wants_xlsx(&req)?;
    let mut conn = state.pool.get().await?;
    // Each representation has its own tag.
    let tag = if xlsx { workbook_etag } else { etag };
    // Revalidation: the revision alone (one indexed row, no child groups) answers 304.
    if let Some(tags) = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        let (region_code, status, revision) =
            evaluations::locate_revision(&mut conn, id).await?.ok_or_else(|| not_found(id))?;
        actor.check(actor.principal.may_read(&region_code, &status), Some(id))?;
        let current = tag(revision);
        if crate::routes::conditional::names(tags, &current) {
            return Ok(HttpResponse::NotModified().insert_header((header::ETAG, current)).finish());
        }
    }
    let stored = evaluations::fetch(&mut conn, id).await?.ok_or_else(|| not_found(id))?;
    actor.check(actor.principal.may_read(&stored.record.region_code, &stored.meta.status), Some(id))?;
    if xlsx {
        let revision = stored.meta.revision;
        let workbook = intake::table::render_record(&stored.record);
        return Ok(HttpResponse::Ok()
            .content_type(XLSX_MEDIA_TYPE)
            .insert_header((header::ETAG, tag(revision)))
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"evaluation-{id}.xlsx\"")))
            .body(workbook));
    }
    Ok(record_response(HttpResponse::Ok(), &EvaluationView::new(stored, None)))
}

/// Whether the record is asked for as a workbook: `format=xlsx`, or `Accept` naming the XLSX type
/// (and no `format`).
fn wants_xlsx(req: &HttpRequest) -> Result<bool, ApiError> {
    let query = QueryPairs::from_request(req);
    match query.one("format")? {
        Some("xlsx") => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(ApiError::invalid_query("format", format!("`{other}` is not json or xlsx"))),
        None => Ok(req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains(XLSX_MEDIA_TYPE))),
    }
}
