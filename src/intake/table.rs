//! PLACEHOLDER until the intake-table branch lands.
use super::{archive::ArchiveError, Draft};

pub struct Grid {
    pub name: String,
    pub cells: Vec<Vec<String>>,
    pub merges: Vec<(usize, usize, usize, usize)>,
}

pub enum TableError {
    Archive(ArchiveError),
    Corrupt(String),
    NoTable { looked_for: Vec<String> },
}

pub fn read_grid(_grid: &Grid) -> Option<Draft> {
    None
}

pub fn read_workbook(_bytes: &[u8], _max_uncompressed: u64) -> Result<Vec<Draft>, TableError> {
    Err(TableError::NoTable { looked_for: vec![] })
}

pub fn render_record(_record: &crate::domain::record::EvaluationInput) -> Vec<u8> {
    Vec::new()
}
