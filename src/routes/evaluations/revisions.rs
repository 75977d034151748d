//! `GET /api/v1/evaluations/{id}/revisions` and `…/revisions/{n}`
use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{not_found, parse_id};
use crate::{
    auth::Actor,
    db::evaluations::{self, RevisionRow},
    domain::record::Status,
    error::ApiError,
    state::AppState,
};

/// What one write did: who, when, and the status it left.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionSummary {
    /// 版本号
    pub revision: i32,
    /// 操作: create, replace, or a review action
    #[schema(example = "replace")]
    pub action: String,
    /// 内容版本: the revision whose content this version has (itself when the write changed the
    /// content; the one before it for a review action)
    pub content_revision: i32,
    /// 该版本的状态
    pub status: Status,
    /// 操作人
    pub actor: String,
    /// 审核意见
    pub comment: Option<String>,
    /// 时间
    pub at: DateTime<Utc>,
}

impl From<RevisionRow> for RevisionSummary {
    fn from(row: RevisionRow) -> Self {
        Self {
            revision: row.revision,
            action: row.action,
            content_revision: row.content_revision,
            status: Status::parse(&row.status).unwrap_or(Status::Draft),
            actor: row.actor,
            comment: row.comment,
            at: row.created_at,
        }
    }
}

/// Every stored version of a record.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionList {
    pub items: Vec<RevisionSummary>,
}

/// One version of a record, as it was.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionDetail {
    #[serde(flatten)]
    pub summary: RevisionSummary,
    /// The record's content at this version
    #[schema(value_type = crate::domain::record::EvaluationInput)]
    pub record: serde_json::Value,
}

/// Every stored version of a record (each create, replace and review action), oldest first.
#[utoipa::path(
    tag = "evaluations",
    params(("id" = i64, Path, description = "记录编号")),
    responses(
        (status = 200, description = "The versions", body = RevisionList),
        (status = 404, description = "No such record", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/evaluations/{id}/revisions")]
pub async fn list_revisions(
    path: web::Path<String>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let mut conn = state.pool.get().await?;
    may_inspect(&mut conn, &actor, id).await?;
    let rows = evaluations::list_revisions(&mut conn, id).await?.ok_or_else(|| not_found(id))?;
    Ok(HttpResponse::Ok().json(RevisionList { items: rows.into_iter().map(RevisionSummary::from).collect() }))
}

/// One version of a record: who wrote it, when, and the record as it was.
#[utoipa::path(
    tag = "evaluations",
    params(("id" = i64, Path, description = "记录编号"), ("n" = i32, Path, description = "版本号")),
    responses(
        (status = 200, description = "The version", body = RevisionDetail),
        (status = 404, description = "No such record or version", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/evaluations/{id}/revisions/{n}")]
pub async fn get_revision(
    path: web::Path<(String, String)>,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (id, n) = path.into_inner();
    let id = parse_id(&id)?;
    let revision =
        n.parse::<i32>().ok().filter(|n| *n > 0).ok_or_else(|| ApiError::not_found(format!("no revision {n}")))?;
    let mut conn = state.pool.get().await?;
    may_inspect(&mut conn, &actor, id).await?;
    let (row, record) = evaluations::get_revision(&mut conn, id, revision)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no revision {revision} of evaluation record {id}")))?;
    Ok(HttpResponse::Ok().json(RevisionDetail { summary: row.into(), record }))
}

/// A record's history is for its own region's callers (with a token); others get 404 for a
/// record they may not see and 403 for a published one outside their region.
async fn may_inspect(conn: &mut diesel_async::AsyncPgConnection, actor: &Actor, id: i64) -> Result<(), ApiError> {
    let (region_code, status) = evaluations::locate(conn, id).await?.ok_or_else(|| not_found(id))?;
    actor.check(actor.principal.may_inspect(&region_code, Some(&status)), Some(id))
}
