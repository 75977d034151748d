//! `/api/v1/evaluations`: evaluation records.
pub mod batch;
pub mod create;
pub mod delete;
pub mod findings;
pub mod get;
pub mod import;
pub mod list;
pub mod replace;
pub mod revisions;
pub mod source;
pub mod transitions;
pub mod validate;

use actix_web::{http::header, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::idempotency::StoredResponse;
use crate::{
    db::{
        self,
        evaluations::{
            Derived, EvaluationMeta, IdempotentWrite, StoredEvaluation, TransitionRow, WriteContext, WriteError,
        },
    },
    domain::{
        access::Principal,
        record::{EvaluationInput, Grade, Status},
        rules::{self, CheckContext, Finding, Severity},
        scoring::{self, Assessment, ExecutionBasisView},
        validation::{validate, ValidEvaluation},
        workflow::Action,
    },
    error::ApiError,
    routes::idempotency::Idempotency,
};

/// One review transition (审核记录).
#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionView {
    /// 操作
    pub action: Action,
    /// 原状态
    pub from_status: Status,
    /// 新状态
    pub to_status: Status,
    /// 操作人
    pub actor: String,
    /// 审核意见
    pub comment: Option<String>,
    /// 操作后的版本号
    pub revision: i32,
    /// 时间
    pub at: DateTime<Utc>,
}

impl From<TransitionRow> for TransitionView {
    fn from(row: TransitionRow) -> Self {
        Self {
            action: serde_plain::from_str(&row.action).unwrap_or(Action::Submit),
            from_status: Status::parse(&row.from_status).unwrap_or(Status::Draft),
            to_status: Status::parse(&row.to_status).unwrap_or(Status::Draft),
            actor: row.actor,
            comment: row.comment,
            revision: row.revision,
            at: row.created_at,
        }
    }
}

/// Workflow state of a record.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowView {
    /// 审核状态
    pub status: Status,
    /// 版本号: increases with every write; the ETag carries it
    pub revision: i32,
    /// 审核记录: every transition with who, when and the comment, oldest first
    pub history: Vec<TransitionView>,
}

/// What the service derived from the record when it was last written.
#[derive(Debug, Serialize, ToSchema)]
pub struct DerivedView {
    /// 计算总得分: from the indicator scores, rescaled and capped by the province's rules
    #[schema(value_type = Option<String>)]
    pub total_score: Option<rust_decimal::Decimal>,
    /// 计算等级
    pub grade: Option<Grade>,
    /// 预算执行率 (executed / adjusted budget, or / initial budget without one; 4 decimals)
    #[schema(value_type = Option<String>)]
    pub execution_rate: Option<rust_decimal::Decimal>,
    /// 执行率口径: which budget and which figures the execution rate was computed from
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_basis: Option<ExecutionBasisView>,
    /// 计算预算执行得分: execution rate × the funds block's 分值, at most the 分值
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub funds_score: Option<rust_decimal::Decimal>,
    /// 错误数 (error findings; errors block submission)
    pub error_count: i32,
    /// 警告数
    pub warning_count: i32,
}

/// A stored record: the client's content plus what the server keeps and derives.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationView {
    /// 记录编号
    pub id: i64,
    #[serde(flatten)]
    pub record: EvaluationInput,
    /// 审核流程
    pub workflow: WorkflowView,
    /// 计算结果 (derived scores and finding counts)
    pub derived: DerivedView,
    /// 一致性检查结果: the consistency findings of this write (on create, replace and transitions)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<Finding>>,
    /// 创建时间
    pub created_at: DateTime<Utc>,
    /// 更新时间
    pub updated_at: DateTime<Utc>,
}

impl EvaluationView {
    pub fn new(stored: StoredEvaluation, findings: Option<Vec<Finding>>) -> Self {
        let meta = stored.meta;
        Self {
            id: meta.id,
            record: stored.record,
            workflow: WorkflowView {
                status: Status::parse(&meta.status).unwrap_or(Status::Draft),
                revision: meta.revision,
                history: stored.transitions.into_iter().map(TransitionView::from).collect(),
            },
            derived: DerivedView {
                total_score: meta.computed_total_score,
                grade: meta.computed_grade.as_deref().and_then(|g| serde_plain::from_str(g).ok()),
                execution_rate: meta.execution_rate,
                execution_basis: meta
                    .execution_rate_budget
                    .as_deref()
                    .zip(meta.execution_rate_figures.as_deref())
                    .and_then(|(budget, figures)| {
                        Some(ExecutionBasisView {
                            budget: serde_plain::from_str(budget).ok()?,
                            figures: serde_plain::from_str(figures).ok()?,
                        })
                    }),
                funds_score: meta.computed_funds_score,
                error_count: meta.error_count,
                warning_count: meta.warning_count,
            },
            findings,
            created_at: meta.created_at,
            updated_at: meta.updated_at,
        }
    }
}

/// The findings and assessment of a record, with the stored prior-year record and the
/// province's scoring rules as context.
pub async fn check_record(
    conn: &mut diesel_async::AsyncPgConnection,
    record: &EvaluationInput,
    viewer: &Principal,
) -> Result<(Vec<Finding>, Assessment), ApiError> {
    // Cross-year rules only against a prior-year record the caller may see.
    let prior = db::evaluations::find_prior_year(conn, record)
        .await?
        .filter(|prior| viewer.sees(&prior.record.region_code, &prior.meta.status));
    let rules_set = db::evaluations::scoring_rules(conn, &record.region_code).await?;
    let context = CheckContext { prior_year: prior.as_ref().map(|p| &p.record), rules: &rules_set };
    Ok((rules::check(record, &context), scoring::assess(record, &rules_set)))
}

/// The columns derived from a check.
pub fn derived(findings: &[Finding], assessment: &Assessment) -> Derived {
    let count = |severity: Severity| findings.iter().filter(|f| f.severity == severity).count() as i32;
    Derived {
        computed_total_score: assessment.total_score,
        computed_grade: assessment.grade.as_ref().map(plain),
        execution_rate: assessment.execution_rate,
        execution_rate_budget: assessment.execution_basis.map(|b| plain(&b.budget)),
        execution_rate_figures: assessment.execution_basis.map(|b| plain(&b.figures)),
        computed_funds_score: assessment.funds_score,
        error_count: count(Severity::Error),
        warning_count: count(Severity::Warning),
    }
}

fn plain<T: Serialize>(value: &T) -> String {
    serde_plain::to_string(value).expect("a unit variant is plain text")
}

/// The ETag of a record at a revision.
pub fn etag(revision: i32) -> String {
    format!("\"{revision}\"")
}

/// The ETag of a record's workbook (`format=xlsx`) at a revision: another representation, so
/// another tag. `If-Match` takes it as well, for a write made from the workbook.
pub fn workbook_etag(revision: i32) -> String {
    format!("\"{revision}{WORKBOOK_TAG}\"")
}

const WORKBOOK_TAG: &str = "-xlsx";

pub fn location(id: i64) -> String {
    format!("/api/v1/evaluations/{id}")
}

/// A response rendered to bytes, so the same bytes can be sent and stored for replay.
pub struct Rendered {
    pub status: actix_web::http::StatusCode,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Rendered {
    /// The record with its ETag (and, for a creation, its Location).
    pub fn record(status: actix_web::http::StatusCode, view: &EvaluationView) -> Self {
        let mut headers = vec![("content-type", "application/json".to_owned()), ("etag", etag(view.workflow.revision))];
        if status == actix_web::http::StatusCode::CREATED {
            headers.push(("location", location(view.id)));
        }
        Self { status, headers, body: serde_json::to_vec(view).expect("a view serialises") }
    }

    pub fn stored(&self, key: &Idempotency) -> StoredResponse {
        key.stored(self.status, &self.headers, self.body.clone())
    }

    pub fn into_response(self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        for (name, value) in self.headers {
            builder.insert_header((name, value));
        }
        builder.body(self.body)
    }
}

/// A 200 answer carrying the record and its ETag.
pub fn record_response(mut builder: actix_web::HttpResponseBuilder, view: &EvaluationView) -> HttpResponse {
    builder.insert_header((header::ETAG, etag(view.workflow.revision)));
    builder.json(view)
}

/// Runs a write whose answer is the stored record with the findings of this write. With an
/// Idempotency-Key the answer is stored in the write's own transaction; when a concurrent
/// request with the same key won the race (or its effect makes this write fail), that request's
/// answer is replayed instead. The answer is rendered once. Returns it, with the stored record
/// unless the answer is a replay.
pub async fn write_record(
    conn: &mut diesel_async::AsyncPgConnection,
    status: actix_web::http::StatusCode,
    idempotency: Option<&Idempotency>,
    actor: &str,
    findings: Vec<Finding>,
    assessment: &Assessment,
    write: impl AsyncFnOnce(&mut diesel_async::AsyncPgConnection, &WriteContext<'_>) -> Result<StoredEvaluation, WriteError>,
) -> Result<(HttpResponse, Option<EvaluationMeta>), ApiError> {
    let render = |stored: &StoredEvaluation| {
        Rendered::record(status, &EvaluationView::new(stored.clone(), Some(findings.clone())))
    };
    // The answer rendered inside the transaction, kept for the response.
    let rendered: std::sync::Mutex<Option<Rendered>> = std::sync::Mutex::new(None);
    let respond = |stored: &StoredEvaluation| {
        let answer = render(stored);
        let kept = answer.stored(idempotency.expect("only called with a key"));
        *rendered.lock().expect("not poisoned") = Some(answer);
        kept
    };
    let context = WriteContext {
        actor,
        derived: derived(&findings, assessment),
        idempotency: idempotency.map(|key| IdempotentWrite { key: key.key_ref(), respond: &respond }),
    };
    match (write(conn, &context).await, idempotency) {
        (Ok(stored), _) => {
            let answer = rendered.lock().expect("not poisoned").take().unwrap_or_else(|| render(&stored));
            Ok((answer.into_response(), Some(stored.meta)))
        }
        (Err(error), Some(key)) => match key.replay(conn).await? {
            Some(replay) => Ok((replay, None)),
            None => Err(error.into()),
        },
        (Err(error), None) => Err(error.into()),
    }
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
    Ok(Some(
        tags.iter()
            .map(|tag| tag.trim_start_matches("W/").trim_matches('"'))
            .filter_map(|tag| tag.strip_suffix(WORKBOOK_TAG).unwrap_or(tag).parse::<i32>().ok())
            .collect(),
    ))
}

/// Validates a body, mapping field problems to 422.
pub fn validated(record: EvaluationInput) -> Result<ValidEvaluation, ApiError> {
    validate(record).map_err(ApiError::Validation)
}

/// Checks a valid record's indicator codes against the library (422 naming the rows) and
/// matches its rows without a code by name.
pub async fn with_library(
    conn: &mut diesel_async::AsyncPgConnection,
    mut valid: ValidEvaluation,
) -> Result<ValidEvaluation, ApiError> {
    let errors = db::indicators::resolve(conn, &mut [&mut valid.record]).await?.pop().unwrap_or_default();
    if errors.is_empty() {
        Ok(valid)
    } else {
        Err(ApiError::Validation(errors))
    }
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
            WriteError::IdempotencyRace => {
                ApiError::Internal(anyhow::anyhow!("idempotency race not resolved by the handler"))
            }
            WriteError::Database(error) => error.into(),
        }
    }
}
