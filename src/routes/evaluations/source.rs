//! `GET /api/v1/evaluations/{id}/source`
use actix_web::{get, http::header, web, HttpResponse};

use super::{not_found, parse_id};
use crate::{
    auth::Actor,
    db::{evaluations, sources},
    error::ApiError,
    state::AppState,
};

/// The original file a record was imported from.
///
/// As it was sent to `POST /api/v1/evaluations/import` with `commit=true`.
#[utoipa::path(
    tag = "evaluations",
    params(("id" = i64, Path, description = "记录编号")),
    responses(
        (status = 200, description = "The file, with its media type and name",
            content(
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                (String = "text/plain"),
            ),
            headers(("Content-Disposition" = String, description = "attachment, with the file's name"))),
        (status = 404, description = "No such record, or it was not imported from a file", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/evaluations/{id}/source")]
pub async fn get_source(
    path: web::Path<String>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let mut conn = state.pool.get().await?;
    let (region, status) = evaluations::locate(&mut conn, id).await?.ok_or_else(|| not_found(id))?;
    actor.check(actor.principal.may_read(&region, &status), Some(id))?;
    let file = sources::of_record(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("evaluation record {id} was not imported from a file")))?;
    let name = file.file_name.unwrap_or_else(|| format!("evaluation-{id}"));
    Ok(HttpResponse::Ok()
        .content_type(file.media_type)
        .insert_header((header::CONTENT_DISPOSITION, disposition(&name)))
        .body(file.body))
}

/// `attachment` with the name, ASCII-safe and in full (RFC 6266 `filename*`).
fn disposition(name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}
