//! `/api/v1/indicator-definitions`: the indicator library (指标库). Anyone may read it; admins
//! add, change, retire and (while no record uses a code) delete definitions.
use actix_web::{delete, get, http::header, post, put, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::evaluations::{etag, if_match};
use crate::{
    auth::Actor,
    db::indicators::{self, DefinitionFilter, DefinitionRow, LibraryError},
    domain::{
        indicators::{valid_code, IndicatorDefinition, IndicatorDefinitionInput},
        record::{EvaluationKind, IndicatorLevel1, IndicatorLevel2},
    },
    error::{ApiError, ErrorCode, FieldError},
    routes::{JsonBody, QueryPairs},
    state::AppState,
};

/// A page of definitions, in code order.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorDefinitionPage {
    pub items: Vec<IndicatorDefinition>,
    /// Pass as `after` for the next page; absent on the last page
    pub next_after: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DefinitionParams {
    /// Only this 一级指标
    level_1: Option<IndicatorLevel1>,
    /// Only this 二级指标
    level_2: Option<IndicatorLevel2>,
    /// Only definitions that apply to this kind of record
    kind: Option<EvaluationKind>,
    /// Part of the code, or of the name or an alias (full-width and half-width forms, spaces and
    /// quotes aside)
    #[param(min_length = 1, max_length = 200, pattern = "^[^\\u0000]*$")]
    q: Option<String>,
    /// Also retired definitions (default false)
    include_retired: Option<bool>,
    /// Definitions after this code (a page's `next_after`)
    #[param(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    after: Option<String>,
    /// Page size, 1–1000 (default 100)
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

fn not_found(code: &str) -> ApiError {
    ApiError::not_found(format!("no indicator definition `{code}`"))
}

/// A path's code: anything that is not a code names no definition.
fn parse_code(text: &str) -> Result<&str, ApiError> {
    if valid_code(text) {
        Ok(text)
    } else {
        Err(not_found(text))
    }
}

fn location(code: &str) -> String {
    format!("/api/v1/indicator-definitions/{code}")
}

fn parse_enum<T: serde::de::DeserializeOwned>(
    query: &QueryPairs,
    name: &str,
    hint: &str,
) -> Result<Option<String>, ApiError> {
    match query.one(name)? {
        None => Ok(None),
        Some(text) => {
            serde_plain::from_str::<T>(text).map_err(|_| ApiError::invalid_query(name, format!("must be {hint}")))?;
            Ok(Some(text.to_owned()))
        }
    }
}

fn definition(row: DefinitionRow) -> Result<IndicatorDefinition, ApiError> {
    row.into_definition().map_err(ApiError::from)
}

fn respond(builder: &mut actix_web::HttpResponseBuilder, row: DefinitionRow) -> Result<HttpResponse, ApiError> {
    let view = definition(row)?;
    Ok(builder.insert_header((header::ETAG, etag(view.revision))).json(view))
}

impl From<LibraryError> for ApiError {
    fn from(error: LibraryError) -> Self {
        match error {
            LibraryError::Exists => ApiError::Conflict {
                code: ErrorCode::IndicatorExists,
                detail: "an indicator definition with this code exists; codes are never reused".to_owned(),
            },
            LibraryError::InUse => ApiError::Conflict {
                code: ErrorCode::IndicatorInUse,
                detail: "records use this indicator code, so it cannot be deleted; retire it instead".to_owned(),
            },
            LibraryError::NotFound => ApiError::not_found("no such indicator definition"),
            LibraryError::RevisionMismatch { current } => ApiError::PreconditionFailed { current_etag: etag(current) },
            LibraryError::Database(error) => error.into(),
        }
    }
}

/// List the indicator library (指标库), in code order, a page at a time.
///
/// Retired definitions are left out unless `include_retired=true`. Anyone may read the library.
#[utoipa::path(
    tag = "indicators",
    params(DefinitionParams),
    responses(
        (status = 200, description = "A page of definitions", body = IndicatorDefinitionPage),
        (status = 400, description = "Malformed or unknown parameter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/indicator-definitions")]
pub async fn list_indicator_definitions(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = QueryPairs::from_request(&req);
    query.only(&["level_1", "level_2", "kind", "q", "include_retired", "after", "limit"])?;
    let filter = DefinitionFilter {
        level_1: parse_enum::<IndicatorLevel1>(
            &query,
            "level_1",
            "a 一级指标: output, effect, satisfaction, decision or process",
        )?,
        level_2: parse_enum::<IndicatorLevel2>(
            &query,
            "level_2",
            "a 二级指标 such as quantity, quality, timeliness or cost",
        )?,
        kind: parse_enum::<EvaluationKind>(&query, "kind", "a record kind")?,
        q: match query.one("q")? {
            Some("") => return Err(ApiError::invalid_query("q", "must not be empty")),
            Some(q) if q.chars().count() > 200 => return Err(ApiError::invalid_query("q", "at most 200 characters")),
            Some(q) if q.contains('\0') => return Err(ApiError::invalid_query("q", "must not contain NUL characters")),
            q => q.map(str::to_owned),
        },
        include_retired: query.flag("include_retired")?,
    };
    let after = match query.one("after")? {
        Some(after) if !valid_code(after) => return Err(ApiError::invalid_query("after", "must be an indicator code")),
        after => after,
    };
    let limit = query.limit(100, 1000)?;
    let mut conn = state.pool.get().await?;
    let rows = indicators::list(&mut conn, &filter, after, limit).await?;
    let next_after = (rows.len() as i64 == limit).then(|| rows.last().map(|r| r.code.clone())).flatten();
    let items = rows.into_iter().map(definition).collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(IndicatorDefinitionPage { items, next_after }))
}

/// Read one indicator definition, retired or not, with its ETag.
#[utoipa::path(
    tag = "indicators",
    params(("code" = String, Path, description = "The indicator's code", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "The definition", body = IndicatorDefinition,
            headers(("ETag" = String, description = "Its revision"))),
        (status = 404, description = "No such definition", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/indicator-definitions/{code}")]
pub async fn get_indicator_definition(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let code = parse_code(&path)?;
    let mut conn = state.pool.get().await?;
    let row = indicators::get(&mut conn, code).await?.ok_or_else(|| not_found(code))?;
    respond(&mut HttpResponse::Ok(), row)
}

fn checked(input: &IndicatorDefinitionInput) -> Result<(), ApiError> {
    let errors = input.problems();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Add an indicator definition (admin).
///
/// Its `code` is required and is never reused: a second definition with it is 409
/// `indicator_exists`.
#[utoipa::path(
    tag = "indicators",
    request_body = IndicatorDefinitionInput,
    responses(
        (status = 201, description = "Added", body = IndicatorDefinition,
            headers(("Location" = String, description = "The new definition"), ("ETag" = String, description = "Its revision"))),
        (status = 400, description = "Malformed JSON, wrong type or unknown field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A definition with this code exists (`indicator_exists`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (the code is missing or malformed, a text is blank or too long, no kind)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/indicator-definitions")]
pub async fn create_indicator_definition(
    actor: Actor,
    body: JsonBody<IndicatorDefinitionInput>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_admin(), None)?;
    let input = body.0;
    let Some(code) = input.code.clone() else {
        let mut errors = vec![FieldError::new("code", "required", "a new definition needs its code")];
        errors.extend(input.problems());
        return Err(ApiError::Validation(errors));
    };
    checked(&input)?;
    let mut conn = state.pool.get().await?;
    let row = indicators::insert(&mut conn, &code, &input, &actor.name).await?;
    tracing::info!(target: "perfeval::audit", audit = "indicator_created", actor = %actor.name, code = %code, "indicator definition added");
    respond(HttpResponse::Created().insert_header((header::LOCATION, location(&code))), row)
}

/// Replace an indicator definition's fields (admin); its code stays.
///
/// Needs `If-Match` with the definition's `ETag` (428 without, 412 when it has changed). Records
/// that use the code keep their rows as written; aggregates take the new unit and direction.
#[utoipa::path(
    tag = "indicators",
    params(
        ("code" = String, Path, description = "The indicator's code", pattern = "^[A-Za-z0-9_-]{1,64}$"),
        ("If-Match" = String, Header, description = "The ETag read, or `*`; without it the write is refused with 428"),
    ),
    request_body = IndicatorDefinitionInput,
    responses(
        (status = 200, description = "Replaced", body = IndicatorDefinition, headers(("ETag" = String, description = "Its new revision"))),
        (status = 400, description = "Malformed JSON, wrong type or unknown field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such definition", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The definition changed since it was read", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or `code` differs from the path's", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/indicator-definitions/{code}")]
pub async fn replace_indicator_definition(
    req: HttpRequest,
    actor: Actor,
    path: web::Path<String>,
    body: JsonBody<IndicatorDefinitionInput>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_admin(), None)?;
    let code = parse_code(&path)?;
    let expected = if_match(&req)?;
    let input = body.0;
    if input.code.as_deref().is_some_and(|given| given != code) {
        return Err(ApiError::invalid_field("code", "code_mismatch", "a definition's code cannot change"));
    }
    checked(&input)?;
    let mut conn = state.pool.get().await?;
    let row = indicators::update(&mut conn, code, expected.as_deref(), &input, &actor.name).await?;
    tracing::info!(target: "perfeval::audit", audit = "indicator_replaced", actor = %actor.name, code = %code, "indicator definition replaced");
    respond(&mut HttpResponse::Ok(), row)
}

async fn set_retired(actor: Actor, code: &str, retired: bool, state: &AppState) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_admin(), None)?;
    let code = parse_code(code)?;
    let mut conn = state.pool.get().await?;
    let row = indicators::set_retired(&mut conn, code, retired, &actor.name).await.map_err(|e| match e {
        LibraryError::NotFound => not_found(code),
        other => other.into(),
    })?;
    tracing::info!(target: "perfeval::audit", audit = if retired { "indicator_retired" } else { "indicator_restored" }, actor = %actor.name, code = %code, "indicator definition retired or restored");
    respond(&mut HttpResponse::Ok(), row)
}

/// Retire an indicator definition (admin).
///
/// Records that use it keep it, and it still counts in aggregates, but lists leave it out unless
/// `include_retired=true`. Retiring a retired one changes nothing.
#[utoipa::path(
    tag = "indicators",
    params(("code" = String, Path, description = "The indicator's code", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "Retired", body = IndicatorDefinition, headers(("ETag" = String, description = "Its revision"))),
        (status = 404, description = "No such definition", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/indicator-definitions/{code}/retire")]
pub async fn retire_indicator_definition(
    actor: Actor,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    set_retired(actor, &path, true, &state).await
}

/// Bring a retired indicator definition back into use (admin).
#[utoipa::path(
    tag = "indicators",
    params(("code" = String, Path, description = "The indicator's code", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "In use again", body = IndicatorDefinition, headers(("ETag" = String, description = "Its revision"))),
        (status = 404, description = "No such definition", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/indicator-definitions/{code}/restore")]
pub async fn restore_indicator_definition(
    actor: Actor,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    set_retired(actor, &path, false, &state).await
}

/// Delete an indicator definition that no record uses (admin).
///
/// One in use is 409 `indicator_in_use`: retire it instead.
#[utoipa::path(
    tag = "indicators",
    params(
        ("code" = String, Path, description = "The indicator's code", pattern = "^[A-Za-z0-9_-]{1,64}$"),
        ("If-Match" = String, Header, description = "The ETag read, or `*`; without it the write is refused with 428"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such definition", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Records use the code (`indicator_in_use`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The definition changed since it was read", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/indicator-definitions/{code}")]
pub async fn delete_indicator_definition(
    req: HttpRequest,
    actor: Actor,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_admin(), None)?;
    let code = parse_code(&path)?;
    let expected = if_match(&req)?;
    let mut conn = state.pool.get().await?;
    indicators::delete(&mut conn, code, expected.as_deref()).await.map_err(|e| match e {
        LibraryError::NotFound => not_found(code),
        other => other.into(),
    })?;
    tracing::info!(target: "perfeval::audit", audit = "indicator_deleted", actor = %actor.name, code = %code, "indicator definition deleted");
    Ok(HttpResponse::NoContent().finish())
}
