//! Intake: documents people already have (self-evaluation tables in Excel, narrative reports in
//! Word or text) read into draft records, with every filled field traced to where it was read and
//! every figure that was not used listed. Pure code: bytes in, drafts out; no database.
pub mod archive;
pub mod docx;
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

/// The kinds of file intake reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// An Excel workbook (.xlsx): each sheet with a self-evaluation table is one draft
    Xlsx,
    /// A Word document (.docx): a narrative report, and any self-evaluation table in it
    Docx,
    /// A plain-text report, UTF-8 (with or without BOM) or GB18030/GBK
    Text,
}

pub const XLSX_MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const DOCX_MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

impl DocumentKind {
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Xlsx => XLSX_MEDIA_TYPE,
            Self::Docx => DOCX_MEDIA_TYPE,
            Self::Text => "text/plain; charset=utf-8",
        }
    }
}

/// Why a file gives no drafts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeError {
    /// A kind of file intake does not read, and what to send instead
    Unsupported(String),
    /// An archive (XLSX, DOCX) that would decompress beyond the limit
    TooLarge { limit: u64 },
    /// Read, but unusable: a corrupt archive, no table, no figures; a stable code and why
    Unreadable { code: &'static str, message: String },
}

/// What a file is, from its first bytes, its declared media type and its name, in that order of trust.
pub fn detect(bytes: &[u8], declared: Option<&str>, file_name: Option<&str>) -> Result<DocumentKind, IntakeError> {
    let declared = declared.map(|d| d.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let extension = file_name.and_then(|n| n.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase());
    let says = |media: &str, ext: &str| declared.as_deref() == Some(media) || extension.as_deref() == Some(ext);
    let unsupported = |what: &str| IntakeError::Unsupported(what.to_owned());
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return if contains(bytes, b"word/document.xml") {
            Ok(DocumentKind::Docx)
        } else if contains(bytes, b"xl/workbook.xml") || says(XLSX_MEDIA_TYPE, "xlsx") {
            Ok(DocumentKind::Xlsx)
        } else if says(DOCX_MEDIA_TYPE, "docx") {
            Ok(DocumentKind::Docx)
        } else {
            Err(unsupported(
                "a zip archive that is neither an Excel workbook (.xlsx) nor a Word document (.docx); send the \
                 .xlsx or .docx file itself",
            ))
        };
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(unsupported(
            "an old binary Word (.doc) or Excel (.xls) file; open it and save it as .docx or .xlsx (另存为), then \
             send that",
        ));
    }
    if bytes.starts_with(b"%PDF") || declared.as_deref() == Some("application/pdf") {
        return Err(unsupported(
            "a PDF, which is not read; send the Word (.docx) or Excel (.xlsx) file it was made from, or the report \
             as plain text",
        ));
    }
    let image = bytes.starts_with(b"\x89PNG")
        || bytes.starts_with(&[0xFF, 0xD8, 0xFF])
        || bytes.starts_with(b"GIF8")
        || bytes.starts_with(b"II*\0")
        || bytes.starts_with(b"MM\0*")
        || declared.as_deref().is_some_and(|d| d.starts_with("image/"));
    if image {
        return Err(unsupported(
            "an image, which is not read (no text recognition); send the Word (.docx) or Excel (.xlsx) original, or \
             the report as plain text",
        ));
    }
    if bytes.starts_with(b"{\\rtf") {
        return Err(unsupported("an RTF document; save it as .docx and send that"));
    }
    match declared.as_deref() {
        Some("application/msword" | "application/vnd.ms-excel") => {
            Err(unsupported("an old binary Word (.doc) or Excel (.xls) file; save it as .docx or .xlsx and send that"))
        }
        Some("application/json" | "application/x-ndjson") => Err(unsupported(
            "JSON: records as JSON go to POST /api/v1/evaluations or /api/v1/evaluations/batch; this endpoint reads \
             .xlsx, .docx and plain-text files",
        )),
        Some(d) if d == XLSX_MEDIA_TYPE || d == DOCX_MEDIA_TYPE => Err(IntakeError::Unreadable {
            code: "corrupt_file",
            message: format!("the body is declared as {d} but is not a zip archive"),
        }),
        _ => match report::decode_text(bytes) {
            Ok(_) => Ok(DocumentKind::Text),
            Err(_) => Err(unsupported(
                "neither an Excel workbook (.xlsx), a Word document (.docx) nor text in UTF-8 or GB18030/GBK",
            )),
        },
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// The drafts a file holds. `max_uncompressed` bounds what an archive may inflate to.
pub fn read(bytes: &[u8], kind: DocumentKind, max_uncompressed: u64) -> Result<Vec<Draft>, IntakeError> {
    match kind {
        DocumentKind::Xlsx => {
            table::read_workbook(bytes, &table::Limits { max_uncompressed }).map_err(IntakeError::from)
        }
        DocumentKind::Docx => {
            archive::check(bytes, max_uncompressed)?;
            let xml = archive::read_entry(bytes, "word/document.xml", max_uncompressed)?;
            let xml = String::from_utf8(xml).map_err(|_| IntakeError::Unreadable {
                code: "corrupt_file",
                message: "word/document.xml is not UTF-8".to_owned(),
            })?;
            let parts =
                docx::parts(&xml).map_err(|message| IntakeError::Unreadable { code: "corrupt_file", message })?;
            read_parts(&parts)
        }
        DocumentKind::Text => {
            let text = report::decode_text(bytes).map_err(|e| IntakeError::Unsupported(e.to_string()))?;
            let blocks = report::paragraphs(&text);
            reported(report::read_report(&blocks), &blocks).map(|draft| vec![draft])
        }
    }
}

/// A Word document's drafts: each of its tables that is a self-evaluation table, and the report
/// its other paragraphs and tables make.
fn read_parts(parts: &[docx::Part]) -> Result<Vec<Draft>, IntakeError> {
    let mut drafts = Vec::new();
    let mut blocks = Vec::with_capacity(parts.len());
    for (n, part) in parts.iter().enumerate() {
        if let docx::Part::Table(word) = part {
            let merges =
                (word.merges.iter()).map(|&(r0, c0, r1, c1)| (r0 as u32, c0 as u32, r1 as u32, c1 as u32)).collect();
            let grid = table::Grid { name: format!("表{}", n + 1), cells: word.rows.clone(), merges };
            if let Some(draft) = table::read_grid(&grid) {
                drafts.push(draft);
                // Paragraph numbers stay those of the document.
                blocks.push(Block::Paragraph(String::new()));
                continue;
            }
        }
        blocks.push(part.block());
    }
    let has_text = blocks.iter().any(|b| !matches!(b, Block::Paragraph(p) if p.trim().is_empty()));
    if has_text {
        match reported(report::read_report(&blocks), &blocks) {
            Ok(draft) => drafts.insert(0, draft),
            Err(error) if drafts.is_empty() => return Err(error),
            Err(_) => {}
        }
    }
    if drafts.is_empty() {
        return Err(no_figures());
    }
    Ok(drafts)
}

/// The report's draft, unless the document states no figure at all.
fn reported(draft: Draft, blocks: &[Block]) -> Result<Draft, IntakeError> {
    let digit = |text: &str| text.chars().any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c));
    let any_figure = blocks.iter().any(|block| match block {
        Block::Paragraph(text) => digit(text),
        Block::Table(rows) => rows.iter().flatten().any(|cell| digit(cell)),
    });
    if !any_figure {
        return Err(no_figures());
    }
    Ok(draft)
}

fn no_figures() -> IntakeError {
    IntakeError::Unreadable {
        code: "no_figures",
        message: "the document states no figure: nothing to make a record of (a self-evaluation report states \
                  income, spending, 三公经费, staffing or indicator results)"
            .to_owned(),
    }
}

impl From<archive::ArchiveError> for IntakeError {
    fn from(error: archive::ArchiveError) -> Self {
        match error {
            archive::ArchiveError::TooLarge { limit } => Self::TooLarge { limit },
            archive::ArchiveError::Corrupt(message) => Self::Unreadable { code: "corrupt_file", message },
        }
    }
}

impl From<table::TableError> for IntakeError {
    fn from(error: table::TableError) -> Self {
        match error {
            table::TableError::Archive(error) => error.into(),
            table::TableError::Corrupt(message) => Self::Unreadable { code: "corrupt_file", message },
            table::TableError::NoTable { looked_for } => Self::Unreadable {
                code: "no_table",
                message: format!(
                    "no 项目支出绩效自评表 or 部门整体支出绩效自评表 in the workbook; looked for the labels {}",
                    looked_for.join("、")
                ),
            },
        }
    }
}

/// A record with nothing read into it yet: the start of every draft, from a table or a report.
pub(crate) fn empty_record() -> EvaluationInput {
    EvaluationInput {
        region_code: String::new(),
        fiscal_year: 0,
        kind: crate::domain::record::EvaluationKind::DepartmentOverall,
        unit: String::new(),
        project: None,
        budget_unit_code: None,
        method: None,
        basis_documents: Vec::new(),
        issuer: None,
        report_date: None,
        reported_in: Default::default(),
        profile: Default::default(),
        income: Default::default(),
        expenditure: Default::default(),
        budget_execution: Default::default(),
        annual_target: None,
        three_public_expenses: Default::default(),
        running_costs: Default::default(),
        indicators: Vec::new(),
        projects: Vec::new(),
        narrative: Default::default(),
        conclusion: Default::default(),
    }
}
