//! `/api/v1/evaluations`: evaluation records.
pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod replace;

use actix_web::{http::header, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    db::evaluations::{EvaluationMeta, StoredEvaluation, WriteError},
    domain::{
        record::{EvaluationInput, Status},
        validation::{validate, ValidEvaluation},
    },
    error::ApiError,
};

/// Workflow state of a record.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowView {
    /// 审核状态
    pub status: Status,
    /// 版本号: increases with every write; the ETag carries it
    pub revision: i32,
}

/// A stored record: the client's content plus what the server keeps.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationView {
    /// 记录编号
    pub id: i64,
    #[serde(flatten)]
    pub record: EvaluationInput,
    /// 审核流程
    pub workflow: WorkflowView,
    /// 创建时间
    pub created_at: DateTime<Utc>,
    /// 更新时间
    pub updated_at: DateTime<Utc>,
}

impl EvaluationView {
    pub fn new(meta: EvaluationMeta, record: EvaluationInput) -> Self {
        Self {
            id: meta.id,
            record,
            workflow: WorkflowView {
                status: serde_plain::from_str(&meta.status).unwrap_or(Status::Draft),
                revision: meta.revision,
            },
            created_at: meta.created_at,
            updated_at: meta.updated_at,
        }
    }
}

impl From<StoredEvaluation> for EvaluationView {
    fn from(stored: StoredEvaluation) -> Self {
        Self::new(stored.meta, stored.record)
    }
}

/// The ETag of a record at a revision.
pub fn etag(revision: i32) -> String {
    format!("\"{revision}\"")
}

pub fn location(id: i64) -> String {
    format!("/api/v1/evaluations/{id}")
}

/// A 200/201 answer carrying the record, its ETag and (for creation) its Location.
pub fn record_response(mut builder: actix_web::HttpResponseBuilder, view: &EvaluationView) -> HttpResponse {
    builder.insert_header((header::ETAG, etag(view.workflow.revision)));
    builder.json(view)
}

/// `{id}` path segment: anything but a positive integer names no record.
pub fn parse_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| not_found(text))
}

pub fn not_found(id: impl std::fmt::Display) -> ApiError {
    ApiError::not_found(format!("no evaluation record {id}"))
}

/// What `If-Match` allows: `None` for `*`, else the revisions its ETags name.
/// Missing → 428; an ETag that names no revision simply matches nothing (412).
pub fn if_match(req: &HttpRequest) -> Result<Option<Vec<i32>>, ApiError> {
    let values: Vec<&str> = req.headers().get_all(header::IF_MATCH).filter_map(|v| v.to_str().ok()).collect();
    if values.is_empty() {
        return Err(ApiError::PreconditionRequired);
    }
    let tags: Vec<&str> = values.iter().flat_map(|v| v.split(',')).map(str::trim).collect();
    if tags.contains(&"*") {
        return Ok(None);
    }
    Ok(Some(tags.iter().filter_map(|tag| tag.trim_start_matches("W/").trim_matches('"').parse::<i32>().ok()).collect()))
}

/// Validates a body, mapping field problems to 422.
pub fn validated(record: EvaluationInput) -> Result<ValidEvaluation, ApiError> {
    validate(record).map_err(ApiError::Validation)
}

impl From<WriteError> for ApiError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::Duplicate(existing_id) => ApiError::DuplicateRecord { existing_id },
            WriteError::UnknownRegion => ApiError::invalid_field(
                "region_code",
                "unknown_region",
                "no township with this code in the division table",
            ),
            WriteError::NotFound => ApiError::not_found("no such evaluation record"),
            WriteError::RevisionMismatch { current } => ApiError::PreconditionFailed { current_etag: etag(current) },
            WriteError::NotEditable { status } => {
                ApiError::InvalidState(format!("a record in status `{status}` cannot be changed this way"))
            }
            WriteError::Database(error) => error.into(),
        }
    }
}
