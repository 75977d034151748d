//! The one API error type and its RFC 9457 `application/problem+json` body.
use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::batch::BatchItemResult;
pub use crate::domain::FieldError;

/// Stable machine-readable error codes; clients branch on these, never on `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not well-formed JSON (or NDJSON).
    MalformedJson,
    /// The body is JSON but a member has the wrong type, is missing or is unknown.
    InvalidBody,
    /// A query parameter is malformed or unknown.
    InvalidQuery,
    /// A path parameter is malformed.
    InvalidPath,
    /// The request is well-formed but breaks a rule; see `errors`.
    ValidationFailed,
    /// The bearer token is malformed, unknown or revoked.
    Unauthorized,
    /// The caller's role or region does not allow this action.
    Forbidden,
    /// No such resource, or not visible to the caller.
    NotFound,
    /// The method is not allowed on this path.
    MethodNotAllowed,
    /// A record with the same (region_code, fiscal_year, kind, unit) exists.
    DuplicateRecord,
    /// An indicator definition with this code exists in the library.
    IndicatorExists,
    /// Records use this indicator code, so it cannot be deleted; retire it instead.
    IndicatorInUse,
    /// A batch or import with this Idempotency-Key and body is still being answered; retry after
    /// `Retry-After` seconds.
    IdempotencyKeyInUse,
    /// The write needs an `If-Match` header with the record's ETag.
    PreconditionRequired,
    /// `If-Match` does not match the record's current ETag.
    PreconditionFailed,
    /// The record's status does not allow this change.
    InvalidState,
    /// Error-severity consistency findings block submission; see `findings`.
    SubmissionBlocked,
    /// An atomic batch held invalid records, so nothing was written; see `items`.
    BatchRejected,
    /// The body exceeds the documented size limit.
    PayloadTooLarge,
    /// The body's media type is not accepted.
    UnsupportedMediaType,
    /// The caller's token (or address, without a token) sent more requests than its rate allows;
    /// retry after `Retry-After` seconds.
    TooManyRequests,
    /// The database is unreachable or busy; retry after `Retry-After` seconds.
    ServiceUnavailable,
    /// A query ran longer than the statement timeout; retry after `Retry-After` seconds or narrow it.
    QueryTimeout,
    /// An unexpected fault; the log has the details.
    Internal,
}

impl ErrorCode {
    fn as_str(self) -> &'static str {
        match self {
            Self::MalformedJson => "malformed_json",
            Self::InvalidBody => "invalid_body",
            Self::InvalidQuery => "invalid_query",
            Self::InvalidPath => "invalid_path",
            Self::ValidationFailed => "validation_failed",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::DuplicateRecord => "duplicate_record",
            Self::IndicatorExists => "indicator_exists",
            Self::IndicatorInUse => "indicator_in_use",
            Self::IdempotencyKeyInUse => "idempotency_key_in_use",
            Self::PreconditionRequired => "precondition_required",
            Self::PreconditionFailed => "precondition_failed",
            Self::InvalidState => "invalid_state",
            Self::SubmissionBlocked => "submission_blocked",
            Self::BatchRejected => "batch_rejected",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooManyRequests => "too_many_requests",
            Self::ServiceUnavailable => "service_unavailable",
            Self::QueryTimeout => "query_timeout",
            Self::Internal => "internal",
        }
    }
}

/// RFC 9457 problem details, as every error is answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// URI naming the problem type
    #[serde(rename = "type")]
    #[schema(example = "urn:perfeval:problem:validation_failed")]
    pub problem_type: String,
    /// Short summary of the problem type
    pub title: String,
    /// HTTP status
    pub status: u16,
    /// Explanation of this occurrence
    pub detail: String,
    /// Stable error code
    pub code: ErrorCode,
    /// For validation problems: each field and what is wrong with it
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For `duplicate_record`: the id of the record that already exists
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<i64>,
    /// For `submission_blocked`: the consistency findings, errors first
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<crate::domain::rules::Finding>>,
    /// For `batch_rejected`: the result of every record, the invalid ones with their errors
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<BatchItemResult>>,
}

/// The API's error: every handler returns `Result<_, ApiError>`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: ErrorCode, detail: String, errors: Vec<FieldError> },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("a record with this identity exists: {existing_id}")]
    DuplicateRecord { existing_id: i64 },
    /// 409 with its own code (`indicator_exists`, `indicator_in_use`)
    #[error("{detail}")]
    Conflict { code: ErrorCode, detail: String },
    #[error("If-Match required")]
    PreconditionRequired,
    #[error("If-Match does not match")]
    PreconditionFailed { current_etag: String },
    #[error("{0}")]
    InvalidState(String),
    #[error("error findings block submission")]
    SubmissionBlocked(Vec<crate::domain::rules::Finding>),
    #[error("{invalid} of {total} records are invalid; nothing was written")]
    BatchRejected { invalid: usize, total: usize, items: Vec<BatchItemResult> },
    #[error("body over {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("archive decompresses beyond {limit} bytes")]
    DecompressedTooLarge { limit: u64 },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests")]
    TooManyRequests { retry_after: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("statement timeout: {0}")]
    QueryTimeout(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Seconds a client should wait before retrying a 503.
pub const RETRY_AFTER_SECONDS: u32 = 2;

impl ApiError {
    /// 400 for a malformed body member, naming its JSON path.
    pub fn invalid_body(field: impl Into<String>, message: impl Into<String>) -> Self {
        let (field, message) = (field.into(), message.into());
        Self::BadRequest {
            code: ErrorCode::InvalidBody,
            detail: format!("{field}: {message}"),
            errors: vec![FieldError::new(field, "invalid", message)],
        }
    }

    /// 400 for a malformed or unknown query parameter.
    pub fn invalid_query(parameter: impl Into<String>, message: impl Into<String>) -> Self {
        let (parameter, message) = (parameter.into(), message.into());
        Self::BadRequest {
            code: ErrorCode::InvalidQuery,
            detail: format!("query parameter `{parameter}`: {message}"),
            errors: vec![FieldError::new(parameter, "invalid", message)],
        }
    }

    /// 422 for one field breaking one rule.
    pub fn invalid_field(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    fn code(&self) -> ErrorCode {
        match self {
            Self::BadRequest { code, .. } => *code,
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Self::DuplicateRecord { .. } => ErrorCode::DuplicateRecord,
            Self::Conflict { code, .. } => *code,
            Self::PreconditionRequired => ErrorCode::PreconditionRequired,
            Self::PreconditionFailed { .. } => ErrorCode::PreconditionFailed,
            Self::InvalidState(_) => ErrorCode::InvalidState,
            Self::SubmissionBlocked(_) => ErrorCode::SubmissionBlocked,
            Self::BatchRejected { .. } => ErrorCode::BatchRejected,
            Self::PayloadTooLarge { .. } | Self::DecompressedTooLarge { .. } => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::TooManyRequests { .. } => ErrorCode::TooManyRequests,
            Self::Unavailable(_) => ErrorCode::ServiceUnavailable,
            Self::QueryTimeout(_) => ErrorCode::QueryTimeout,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    fn title(&self) -> &'static str {
        match self.code() {
            ErrorCode::MalformedJson => "Malformed JSON",
            ErrorCode::InvalidBody => "Invalid request body",
            ErrorCode::InvalidQuery => "Invalid query parameter",
            ErrorCode::InvalidPath => "Invalid path parameter",
            ErrorCode::ValidationFailed => "Validation failed",
            ErrorCode::Unauthorized => "Unauthorized",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::NotFound => "Not found",
            ErrorCode::MethodNotAllowed => "Method not allowed",
            ErrorCode::DuplicateRecord => "Duplicate record",
            ErrorCode::IndicatorExists => "Indicator exists",
            ErrorCode::IndicatorInUse => "Indicator in use",
            ErrorCode::IdempotencyKeyInUse => "Idempotency key in use",
            ErrorCode::PreconditionRequired => "Precondition required",
            ErrorCode::PreconditionFailed => "Precondition failed",
            ErrorCode::InvalidState => "Invalid state",
            ErrorCode::SubmissionBlocked => "Submission blocked",
            ErrorCode::BatchRejected => "Batch rejected",
            ErrorCode::PayloadTooLarge => "Payload too large",
            ErrorCode::UnsupportedMediaType => "Unsupported media type",
            ErrorCode::TooManyRequests => "Too many requests",
            ErrorCode::ServiceUnavailable => "Service unavailable",
            ErrorCode::QueryTimeout => "Query timeout",
            ErrorCode::Internal => "Internal server error",
        }
    }

    /// The problem body; internal causes never reach it.
    pub fn problem(&self) -> Problem {
        let detail = match self {
            Self::Validation(errors) => match errors.as_slice() {
                [one] => format!("{}: {}", one.field, one.message),
                many => format!("{} fields break rules; see `errors`", many.len()),
            },
            Self::DuplicateRecord { existing_id } => format!(
                "a record for this region_code, fiscal_year, kind, unit and project exists: /api/v1/evaluations/{existing_id}"
            ),
            Self::PreconditionRequired => "this write needs an If-Match header with the record's ETag".to_owned(),
            Self::PreconditionFailed { current_etag } => {
                format!("the record has changed since it was read; its ETag is now {current_etag}")
            }
            Self::SubmissionBlocked(findings) => {
                let errors = findings.iter().filter(|f| f.severity == crate::domain::rules::Severity::Error).count();
                format!("{errors} error finding(s) block submission; fix them and submit again")
            }
            Self::PayloadTooLarge { limit } => format!("the request body exceeds the limit of {limit} bytes"),
            Self::DecompressedTooLarge { limit } => {
                format!("the file would decompress to more than {limit} bytes; it is refused unread")
            }
            Self::TooManyRequests { retry_after } => {
                format!("this token's request rate is exhausted; retry in {retry_after} s")
            }
            Self::Unavailable(_) => "the database is unavailable or busy; retry later".to_owned(),
            Self::QueryTimeout(_) => {
                "the query ran longer than the statement timeout; retry later or narrow the request".to_owned()
            }
            Self::Internal(_) => "an unexpected error occurred; it has been logged".to_owned(),
            other => other.to_string(),
        };
        let errors = match self {
            Self::BadRequest { errors, .. } | Self::Validation(errors) => errors.clone(),
            Self::DuplicateRecord { .. } => vec![FieldError::new(
                "region_code",
                "duplicate",
                "region_code, fiscal_year, kind, unit and project identify an existing record",
            )],
            _ => Vec::new(),
        };
        let code = self.code();
        Problem {
            problem_type: format!("urn:perfeval:problem:{}", code.as_str()),
            title: self.title().to_owned(),
            status: self.status_code().as_u16(),
            detail,
            code,
            errors,
            existing_id: match self {
                Self::DuplicateRecord { existing_id } => Some(*existing_id),
                _ => None,
            },
            findings: match self {
                Self::SubmissionBlocked(findings) => Some(findings.clone()),
                _ => None,
            },
            items: match self {
                Self::BatchRejected { items, .. } => Some(items.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Validation(_) | Self::SubmissionBlocked(_) | Self::BatchRejected { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::DuplicateRecord { .. } | Self::InvalidState(_) | Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } | Self::DecompressedTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::QueryTimeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(error = ?cause, "request failed"),
            Self::Unavailable(cause) => tracing::warn!(error = %cause, "database unavailable"),
            Self::QueryTimeout(cause) => tracing::warn!(error = %cause, "statement timeout"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        // For the metrics middleware, which tells a statement timeout from other 503s by it.
        response.extensions_mut().insert(self.code());
        match self {
            Self::Unavailable(_) | Self::QueryTimeout(_) => {
                response.insert_header(("Retry-After", RETRY_AFTER_SECONDS.to_string()));
            }
            Self::TooManyRequests { retry_after } => {
                response.insert_header(("Retry-After", retry_after.to_string()));
            }
            Self::Conflict { code: ErrorCode::IdempotencyKeyInUse, .. } => {
                response.insert_header(("Retry-After", RETRY_AFTER_SECONDS.to_string()));
            }
            _ => {}
        }
        if matches!(self, Self::Unauthorized(_)) {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let Self::DuplicateRecord { existing_id } = self {
            response.insert_header(("Location", format!("/api/v1/evaluations/{existing_id}")));
        }
        if let Self::PreconditionFailed { current_etag } = self {
            response.insert_header(("ETag", current_etag.as_str()));
        }
        response.json(self.problem())
    }
}

impl ApiError {
    /// The database is unreachable or too slow (503): retrying this request later may succeed,
    /// retrying part of it now will not.
    pub fn is_database_outage(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::QueryTimeout(_))
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => Self::NotFound("no such resource".to_owned()),
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection
                | DatabaseErrorKind::ReadOnlyTransaction
                | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Self::Unavailable(info.message().to_owned()),
            // A connection that broke in the middle of a transaction.
            Error::BrokenTransactionManager => Self::Unavailable("the connection broke mid-transaction".to_owned()),
            // 57014 query_canceled (statement timeout) and connection failures surface as Unknown.
            Error::DatabaseError(DatabaseErrorKind::Unknown, ref info)
                if info.message().contains("statement timeout") =>
            {
                Self::QueryTimeout(info.message().to_owned())
            }
            Error::DatabaseError(DatabaseErrorKind::Unknown, ref info)
                if info.message().contains("connection")
                    || info.message().contains("terminating")
                    || info.message().contains("shutting down") =>
            {
                Self::Unavailable(info.message().to_owned())
            }
            other => Self::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<crate::db::PoolError> for ApiError {
    fn from(error: crate::db::PoolError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_leak_their_cause() {
        let error = ApiError::Internal(anyhow::anyhow!("password=secret at db.internal"));
        let body = serde_json::to_string(&error.problem()).unwrap();
        assert!(!body.contains("secret"), "{body}");
        assert_eq!(error.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn validation_names_the_field() {
        let error = ApiError::invalid_field("income.total", "negative", "must not be negative");
        let problem = error.problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "income.total");
        assert_eq!(problem.detail, "income.total: must not be negative");
        assert_eq!(problem.problem_type, "urn:perfeval:problem:validation_failed");
    }
}
