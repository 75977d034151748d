//! A sheet as text cells and merged ranges, read from an XLSX workbook.
use std::io::Cursor;

use calamine::{DataRef, Reader, SheetType, Xlsx};
use rust_decimal::Decimal;
use std::str::FromStr;

use super::{Limits, TableError};
use crate::intake::archive;

/// One sheet: every cell as text (a merged range's text in its top-left cell, the others empty),
/// with the merged ranges, in sheet coordinates (row 0 is the sheet's row 1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grid {
    /// 工作表名称
    pub name: String,
    /// Rows of cells; a row may be shorter than others (missing cells are empty)
    pub cells: Vec<Vec<String>>,
    /// Merged ranges, `(first row, first column, last row, last column)`, inclusive
    pub merges: Vec<(u32, u32, u32, u32)>,
}

impl Grid {
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), ..Self::default() }
    }

    /// The text of a cell ("" when it is absent).
    pub fn get(&self, row: usize, column: usize) -> &str {
        self.cells.get(row).and_then(|cells| cells.get(column)).map_or("", String::as_str)
    }

    /// Sets a cell's text, growing the grid.
    pub fn set(&mut self, row: usize, column: usize, text: impl Into<String>) {
        if self.cells.len() <= row {
            self.cells.resize_with(row + 1, Vec::new);
        }
        let cells = &mut self.cells[row];
        if cells.len() <= column {
            cells.resize_with(column + 1, String::new);
        }
        cells[column] = text.into();
    }

    /// Sets the text of a range and merges it (a range of one cell is just set).
    pub fn merge(
        &mut self,
        first_row: usize,
        first_column: usize,
        last_row: usize,
        last_column: usize,
        text: impl Into<String>,
    ) {
        self.set(first_row, first_column, text);
        if (first_row, first_column) != (last_row, last_column) {
            self.merges.push((first_row as u32, first_column as u32, last_row as u32, last_column as u32));
        }
    }

    pub fn rows(&self) -> usize {
        self.cells.len()
    }
}

/// A1-style reference of a cell: (6, 2) → `C7`.
pub fn cell_ref(row: usize, column: usize) -> String {
    let mut letters = Vec::new();
    let mut n = column + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push((b'A' + rem as u8) as char);
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect::<String>() + &(row + 1).to_string()
}

/// At most this many (row, merged range) pairs are indexed: merged ranges beyond it (only a
/// pathological sheet has them) are read as their top-left cells alone.
const MAX_MERGE_INDEX: usize = 2_000_000;

/// A grid with its merged ranges indexed by row, for reading.
pub struct View<'g> {
    pub grid: &'g Grid,
    /// Per row: the merged ranges crossing it, `(first column, last column, first row, last row)`
    crossing: Vec<Vec<(usize, usize, usize, usize)>>,
    /// Whether some merged ranges were left out of the index
    pub merges_truncated: bool,
}

impl<'g> View<'g> {
    pub fn new(grid: &'g Grid) -> Self {
        let rows = grid.rows();
        let columns = grid.cells.iter().map(Vec::len).max().unwrap_or(0);
        let mut crossing = vec![Vec::new(); rows];
        let mut indexed = 0usize;
        let mut merges_truncated = false;
        for &(r0, c0, r1, c1) in &grid.merges {
            let (r0, c0) = (r0 as usize, c0 as usize);
            if r0 >= rows || c0 >= columns {
                continue;
            }
            let r1 = (r1 as usize).min(rows - 1);
            let c1 = (c1 as usize).min(columns.max(c0 + 1) - 1).max(c0);
            if r1 < r0 {
                continue;
            }
            if indexed + (r1 - r0 + 1) > MAX_MERGE_INDEX {
                merges_truncated = true;
                continue;
            }
            indexed += r1 - r0 + 1;
            for row in &mut crossing[r0..=r1] {
                row.push((c0, c1, r0, r1));
            }
        }
        for row in &mut crossing {
            row.sort_unstable();
        }
        Self { grid, crossing, merges_truncated }
    }

    pub fn rows(&self) -> usize {
        self.grid.rows()
    }

    /// The merged range covering a cell, `(first row, first column, last row, last column)`.
    pub fn merge_at(&self, row: usize, column: usize) -> Option<(usize, usize, usize, usize)> {
        let ranges = self.crossing.get(row)?;
        let at = ranges.partition_point(|&(c0, ..)| c0 <= column);
        let &(c0, c1, r0, r1) = ranges[..at].last()?;
        (column <= c1).then_some((r0, c0, r1, c1))
    }

    /// The cell whose text a cell shows: its merged range's top-left cell, or itself.
    pub fn origin(&self, row: usize, column: usize) -> (usize, usize) {
        self.merge_at(row, column).map_or((row, column), |(r0, c0, ..)| (r0, c0))
    }

    /// The columns a cell spans (its merged range's, or its own).
    pub fn columns_of(&self, row: usize, column: usize) -> (usize, usize) {
        self.merge_at(row, column).map_or((column, column), |(_, c0, _, c1)| (c0, c1))
    }

    /// The cells of a row that hold their own text (not covered by a merged range started
    /// elsewhere), with their text trimmed.
    pub fn own_cells(&self, row: usize) -> impl Iterator<Item = (usize, &'g str)> + '_ {
        let cells = self.grid.cells.get(row).map_or(&[][..], Vec::as_slice);
        cells.iter().enumerate().filter_map(move |(column, text)| {
            let text = text.trim();
            (!text.is_empty() && self.origin(row, column) == (row, column)).then_some((column, text))
        })
    }

    /// The first cell with its own text in `columns` of `row`.
    pub fn value_in(&self, row: usize, columns: (usize, usize)) -> Option<(usize, &'g str)> {
        (columns.0..=columns.1).find_map(|column| {
            let text = self.grid.get(row, column).trim();
            (!text.is_empty() && self.origin(row, column) == (row, column)).then_some((column, text))
        })
    }
}

/// Every worksheet of an XLSX workbook as a grid. The workbook is first checked and rewritten
/// uncompressed within `limits.max_uncompressed` (see [`archive::repack`]), so a zip bomb is
/// refused before the spreadsheet parser sees it.
pub fn grids_from_xlsx(bytes: &[u8], limits: &Limits) -> Result<Vec<Grid>, TableError> {
    let keep = |name: &str| {
        let name = name.to_ascii_lowercase();
        name.ends_with(".xml") || name.ends_with(".rels")
    };
    let repacked = archive::repack(bytes, limits.max_uncompressed, keep)?;
    let corrupt = |error: calamine::XlsxError| TableError::Corrupt(format!("not a readable XLSX workbook: {error}"));
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(repacked)).map_err(corrupt)?;
    let names: Vec<String> = workbook
        .sheets_metadata()
        .iter()
        .filter(|sheet| sheet.typ == SheetType::WorkSheet)
        .map(|sheet| sheet.name.clone())
        .collect();
    let mut grids = Vec::with_capacity(names.len());
    for name in names {
        let mut grid = Grid::new(name.clone());
        {
            let mut reader = workbook.worksheet_cells_reader(&name).map_err(corrupt)?;
            let percent: Vec<bool> = reader
                .styles()
                .iter()
                .map(|style| style.number_format.as_ref().is_some_and(|f| is_percent_format(&f.format_code)))
                .collect();
            while let Some((cell, style)) = reader.next_cell_with_style_id().map_err(corrupt)? {
                let (row, column) = cell.get_position();
                let is_percent = percent.get(style).copied().unwrap_or(false);
                let text = cell_text(cell.get_value(), is_percent);
                if !text.is_empty() {
                    grid.set(row as usize, column as usize, text);
                }
            }
        }
        let merges = workbook.merge_cells_by_sheet_name(&name).map_err(corrupt)?;
        grid.merges = merges.iter().map(|d| (d.start.0, d.start.1, d.end.0, d.end.1)).collect();
        grids.push(grid);
    }
    Ok(grids)
}

fn is_percent_format(code: &str) -> bool {
    let mut quoted = false;
    for c in code.chars() {
        match c {
            '"' => quoted = !quoted,
            '%' if !quoted => return true,
            _ => {}
        }
    }
    false
}

/// A cell's value as the text it stands for: a number as the shortest decimal that reads back
/// to it (Excel holds at most 15 significant digits, so longer float noise is cut to 15), a
/// percentage-formatted number as `108.2%`, a date as `2021-05-18`.
fn cell_text(value: &DataRef<'_>, percent: bool) -> String {
    match value {
        DataRef::Empty => String::new(),
        DataRef::String(text) => text.clone(),
        DataRef::SharedString(text) => (*text).to_owned(),
        DataRef::Int(n) => with_percent(n.to_string(), percent),
        DataRef::Float(f) => with_percent(float_text(*f), percent),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        DataRef::DateTime(date) => {
            let (y, m, d, hh, mm, ss, _) = date.to_ymd_hms_milli();
            if date.is_duration() {
                float_text(date.as_f64())
            } else if (hh, mm, ss) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
            }
        }
        DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => text.clone(),
        DataRef::Error(error) => error.to_string(),
    }
}

fn with_percent(number: String, percent: bool) -> String {
    if !percent {
        return number;
    }
    match Decimal::from_str(&number) {
        Ok(value) => format!("{}%", (value * Decimal::ONE_HUNDRED).normalize()),
        Err(_) => number,
    }
}

/// The shortest decimal text of a float, cut to 15 significant digits (`0.30000000000000004` → `0.3`).
pub fn float_text(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    let shortest = format!("{f}");
    let significant = shortest.trim_start_matches(['-', '0', '.']).chars().filter(char::is_ascii_digit).count();
    let text = if significant > 15 {
        let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
        format!("{rounded}")
    } else {
        shortest
    };
    if text == "-0" {
        "0".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references() {
        assert_eq!(cell_ref(0, 0), "A1");
        assert_eq!(cell_ref(6, 2), "C7");
        assert_eq!(cell_ref(0, 25), "Z1");
        assert_eq!(cell_ref(0, 26), "AA1");
        assert_eq!(cell_ref(9, 701), "ZZ10");
        assert_eq!(cell_ref(0, 702), "AAA1");
    }

    #[test]
    fn floats_read_as_their_shortest_exact_text() {
        assert_eq!(float_text(89.974), "89.974");
        assert_eq!(float_text(132.912), "132.912");
        assert_eq!(float_text(2026400.0), "2026400");
        assert_eq!(float_text(0.1 + 0.2), "0.3");
        assert_eq!(float_text(1329120.67), "1329120.67");
        assert_eq!(float_text(-0.0), "0");
        assert_eq!(with_percent("1.082".into(), true), "108.2%");
        assert_eq!(with_percent("1".into(), true), "100%");
    }

    #[test]
    fn merged_ranges_show_their_text_in_every_cell() {
        let mut grid = Grid::new("s");
        grid.merge(0, 0, 0, 3, "项目支出绩效自评表");
        grid.merge(1, 0, 4, 0, "项目资金（万元）");
        grid.set(2, 2, "90");
        grid.set(5, 5, "end");
        let view = View::new(&grid);
        assert_eq!(view.origin(0, 2), (0, 0));
        assert_eq!(view.origin(3, 0), (1, 0));
        assert_eq!(view.origin(5, 0), (5, 0));
        assert_eq!(view.columns_of(0, 1), (0, 3));
        assert_eq!(view.own_cells(2).collect::<Vec<_>>(), vec![(2, "90")]);
        assert_eq!(view.own_cells(1).collect::<Vec<_>>(), vec![(0, "项目资金（万元）")]);
        assert_eq!(view.value_in(2, (1, 3)), Some((2, "90")));
    }
}
