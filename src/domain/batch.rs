//! What an upsert by identity did with each record: the batch endpoint's per-item result, also
//! the `items` of its 422 problem, so it lives below both the routes and the error type.
use serde::Serialize;
use utoipa::ToSchema;

use super::{rules::Finding, FieldError};

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 新建
    Created,
    /// 更新
    Updated,
    /// 无变化: the stored record already has this content
    Unchanged,
    /// 无效: see `errors`; nothing was written for it
    Invalid,
}

impl Outcome {
    /// The outcome's name in JSON (and in `/metrics`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
            Self::Invalid => "invalid",
        }
    }
}

/// The result of one record, by its position in the batch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchItemResult {
    /// 序号 (0-based position in the batch)
    pub index: usize,
    pub outcome: Outcome,
    /// 记录编号 (absent for invalid records and for new records in a dry run)
    pub id: Option<i64>,
    /// Why the record is invalid (paths relative to the record)
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// 一致性检查结果
    pub findings: Vec<Finding>,
}
