//! Pure domain code: the record model, money, region codes and validation. No I/O.
pub mod access;
pub mod aggregate;
pub mod batch;
pub mod demo;
pub mod indicators;
pub mod measures;
pub mod money;
pub mod record;
pub mod region_code;
pub mod rules;
pub mod scoring;
pub mod validation;
pub mod webhook_target;
pub mod workflow;

use serde::Serialize;
use utoipa::ToSchema;

/// One problem with one field, named by its JSON path (`expenditure.lines[2].executed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field (or the query parameter's name)
    #[schema(example = "income.lines[0].amount")]
    pub field: String,
    /// Stable code of the rule broken
    #[schema(example = "too_many_decimals")]
    pub code: String,
    /// Human-readable explanation
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self { field: field.into(), code: code.to_owned(), message: message.into() }
    }
}
