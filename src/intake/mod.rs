//! Intake: documents people already have (self-evaluation tables in Excel, narrative reports in
//! Word or text) read into draft records, with every filled field traced to where it was read and
//! every figure that was not used listed. Pure code: bytes in, drafts out; no database.
pub mod patterns;
pub mod report;
pub mod table;
pub mod text;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::record::EvaluationInput;

/// Where something was read in the source document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// A cell of a workbook sheet (for a merged cell, its top-left cell)
    Cell {
        /// 工作表名称
        sheet: String,
        /// A1-style reference, e.g. `C7`
        cell: String,
        /// The cell's text as read
        text: String,
    },
    /// A span of one paragraph of a text or Word document (a table row of a Word document counts
    /// as one paragraph, its cells joined by tabs)
    Span {
        /// Paragraph number in document order, from 0
        paragraph: usize,
        /// First character of the span (a char index into the paragraph, not a byte offset)
        start: usize,
        /// One past the last character
        end: usize,
        /// The text of the span
        text: String,
    },
}

/// One filled field of a draft and where its value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Provenance {
    /// JSON path of the field in the record (`expenditure.basic_total`, `indicators[3].actual`)
    #[schema(example = "expenditure.basic_total")]
    pub field: String,
    /// 来源
    pub source: Source,
}

/// A sentence or cell that holds a number but was not used for any field: nothing is dropped silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Unmatched {
    /// 来源 (the whole sentence or cell)
    pub source: Source,
}

/// A draft record read from a document, before its township is resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// The record as read. `region_code` is empty (the caller resolves the township from `unit`);
    /// `fiscal_year` is 0 when the document states none.
    pub record: EvaluationInput,
    /// Every filled field, with its source
    pub provenance: Vec<Provenance>,
    /// Every sentence or cell with a number that no field took
    pub unmatched: Vec<Unmatched>,
    /// Remarks on the reading a person should check (`no fiscal year printed on the table`)
    pub notes: Vec<String>,
    /// Name of the sheet, for drafts read from a workbook
    pub sheet: Option<String>,
}

/// One block of a document in reading order: a paragraph (or line) of text, or a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Paragraph(String),
    /// Rows of cells as text; a merged cell's text is in its first cell, the others empty
    Table(Vec<Vec<String>>),
}
