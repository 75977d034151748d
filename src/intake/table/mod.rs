//! Self-evaluation tables (项目支出绩效自评表, 部门整体支出绩效自评表) read by their labels, and a
//! record rendered back as the standard table of its kind.
//!
//! Reading: [`grids_from_xlsx`] turns a workbook into text grids (numbers as their exact text,
//! merged ranges kept), [`read_grid`] finds a table in a grid by its labels, [`read_workbook`] does
//! both for every sheet. Writing: [`render_record`] prints the standard table, with further
//! labelled sheets for whatever the table has no place for, so that reading the workbook gives
//! the record back.
mod extra;
mod grid;
mod items;
mod labels;
mod read;
mod render;
mod text;

#[cfg(test)]
mod tests;

pub use grid::{cell_ref, grids_from_xlsx, Grid};
pub use text::{format_target, parse_actual, parse_target, Actual, Target};

use crate::domain::record::EvaluationInput;
use crate::intake::archive::ArchiveError;
use crate::intake::Draft;

/// Decompressed bytes a workbook may inflate to by default.
pub const DEFAULT_MAX_UNCOMPRESSED: u64 = 64 << 20;

/// Limits on reading a workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes the workbook's parts may inflate to, in all (a zip bomb gets 413)
    pub max_uncompressed: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_uncompressed: DEFAULT_MAX_UNCOMPRESSED }
    }
}

/// Why a workbook gave no drafts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// No sheet holds a table with the labels looked for (422)
    #[error("no sheet holds a 项目支出绩效自评表 or 部门整体支出绩效自评表; looked for the labels {}", looked_for.join(", "))]
    NoTable {
        /// The labels looked for
        looked_for: Vec<String>,
    },
    /// The container was refused (413 when too large, 422 when corrupt)
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// A readable zip that is no readable workbook (422)
    #[error("{0}")]
    Corrupt(String),
}

/// One sheet → a draft, if it holds a recognisable table (project or department layout). A sheet
/// with several tables one under another gives its first here; [`read_workbook`] reads them all.
pub fn read_grid(grid: &Grid) -> Option<Draft> {
    if extra::is_supplement(grid) {
        return None;
    }
    read::read_tables(grid).into_iter().next()
}

/// Every table of every sheet, each a draft. The further sheets [`render_record`] writes
/// (基本情况, 收支情况, …) are read into the draft of the table before them.
pub fn read_workbook(bytes: &[u8], limits: &Limits) -> Result<Vec<Draft>, TableError> {
    let grids = grids_from_xlsx(bytes, limits)?;
    read_grids(&grids)
}

/// [`read_workbook`] on grids already read.
pub fn read_grids(grids: &[Grid]) -> Result<Vec<Draft>, TableError> {
    let mut drafts: Vec<Draft> = Vec::new();
    let mut waiting: Vec<&Grid> = Vec::new();
    for grid in grids {
        if extra::is_supplement(grid) {
            match drafts.last_mut() {
                Some(draft) => extra::apply(grid, draft),
                None => waiting.push(grid),
            }
            continue;
        }
        let before = drafts.len();
        drafts.extend(read::read_tables(grid));
        if before == 0 && !drafts.is_empty() {
            for grid in waiting.drain(..) {
                extra::apply(grid, &mut drafts[0]);
            }
        }
    }
    if drafts.is_empty() {
        return Err(TableError::NoTable { looked_for: labels::looked_for() });
    }
    Ok(drafts)
}

/// The record as an XLSX workbook: sheet 1 the standard table of its kind (项目支出绩效自评表 for a
/// project record, 部门整体支出绩效自评表 otherwise) as a county prints it, then a labelled sheet for
/// each group of members the table cannot hold, so that [`read_workbook`] gives the record back.
pub fn render_record(record: &EvaluationInput) -> Vec<u8> {
    render::write_workbook(&render::sheets(record))
}
