//! The two standard tables read by their labels, wherever a province puts them.
//!
//! A sheet is taken as blocks found by their labels: the header (项目名称, 主管部门, 实施单位,
//! 单位名称, 填报日期, the year under the title), the funds block (a row of column labels such as
//! 年初预算数 / 全年预算数 / 全年执行数 / 分值 / 执行率 / 得分, and row labels such as 年度资金总额,
//! 其中：当年财政拨款), the annual target (年度总体目标 with 预期目标 / 实际完成情况), the indicator
//! table (a row with 一级指标 … 三级指标 …) and the total (总分, 自评等级). Merged cells are read
//! through their top-left cell; a value is looked for within the columns its label spans.
use std::collections::HashSet;

use rust_decimal::Decimal;

use super::grid::{cell_ref, Grid, View};
use super::items::project_items;
use super::labels::{
    self, funds_column, funds_row, indicator_column, label, level_1, level_2, split_label, title, unit_marker,
    FundsColumn, FundsRow, IndicatorColumn, Label, LabelText, TitleKind,
};
use super::text::{
    has_digit, is_placeholder, key, parse_actual, parse_amount, parse_date, parse_points, parse_rate, parse_target,
    parse_unit_reference, parse_year, AmountCell,
};
use crate::domain::record::{
    AnnualTarget, Conclusion, Direction, EvaluationInput, EvaluationKind, EvaluationMethod, ExpenditureLine,
    ExpenditureStructure, FundFigures, Grade, Indicator, IndicatorLevel1, IndicatorLevel2, ProjectIdentity, ReportedIn,
    UnitReference,
};
use crate::intake::{Draft, Provenance, Source, Unmatched};

/// Labels are short; a longer cell is a value and is not looked up.
const MAX_LABEL_CHARS: usize = 40;

/// Every table of a sheet: one draft per table (a sheet holding several tables one under the
/// other, each under its own title, gives several).
pub fn read_tables(grid: &Grid) -> Vec<Draft> {
    let view = View::new(grid);
    let rows = view.rows();
    let mut titles = Vec::new();
    let mut project_names = Vec::new();
    for row in 0..rows {
        let mut first = true;
        for (_, text) in view.own_cells(row) {
            if text.chars().count() <= MAX_LABEL_CHARS {
                if title(text).is_some() {
                    titles.push(row);
                } else if first && label(&split_label(text).core) == Some(Label::ProjectName) {
                    project_names.push(row);
                }
            }
            first = false;
        }
    }
    // Tables one under another: each starts at its title (or, with no titles, at its 项目名称);
    // whatever stands above the first (a file header, a unit line) belongs to the first.
    let mut starts = if !titles.is_empty() { titles } else { project_names };
    starts.dedup();
    match starts.first_mut() {
        Some(first) => *first = 0,
        None => starts.push(0),
    }
    let mut drafts = Vec::new();
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(rows);
        if let Some(draft) = Reading::new(&view, start, end).read() {
            drafts.push(draft);
        }
    }
    drafts
}

/// A row's figures in the funds block: column, cell column, text, unit.
type FundsValues<'g> = Vec<(FundsColumn, usize, &'g str, ReportedIn)>;

/// A label cell of the segment.
struct Cell<'g> {
    row: usize,
    column: usize,
    text: &'g str,
    label: LabelText,
}

struct Reading<'v, 'g> {
    view: &'v View<'g>,
    start: usize,
    end: usize,
    cells: Vec<Cell<'g>>,
    record: EvaluationInput,
    provenance: Vec<Provenance>,
    notes: Vec<String>,
    used: HashSet<(usize, usize)>,
}

/// Row ranges of the blocks found.
#[derive(Default)]
struct Blocks {
    funds_header: Option<usize>,
    funds_end: usize,
    target_row: Option<(usize, usize)>,
    target_end: usize,
    indicator_header: Option<usize>,
    indicator_end: usize,
}

impl<'v, 'g> Reading<'v, 'g> {
    fn new(view: &'v View<'g>, start: usize, end: usize) -> Self {
        let mut cells = Vec::new();
        for row in start..end {
            for (column, text) in view.own_cells(row) {
                if text.chars().count() <= MAX_LABEL_CHARS {
                    cells.push(Cell { row, column, text, label: split_label(text) });
                }
            }
        }
        let record = crate::intake::empty_record();
        Self { view, start, end, cells, record, provenance: Vec::new(), notes: Vec::new(), used: HashSet::new() }
    }

    fn source(&self, row: usize, column: usize) -> Source {
        Source::Cell {
            sheet: self.view.grid.name.clone(),
            cell: cell_ref(row, column),
            text: self.view.grid.get(row, column).to_owned(),
        }
    }

    /// Records that `field` was read from a cell, which no longer counts as unmatched.
    fn took(&mut self, field: impl Into<String>, row: usize, column: usize) {
        self.provenance.push(Provenance { field: field.into(), source: self.source(row, column) });
        self.used.insert((row, column));
    }

    fn at(&self, row: usize, column: usize) -> String {
        format!("{}!{}", self.view.grid.name, cell_ref(row, column))
    }

    /// The value right of a label: its inline text after a colon, or the next cell with text to the
    /// right of the columns it spans, unless that is a label itself.
    fn value_right(&self, cell: &Cell<'g>) -> Option<(usize, usize, &'g str)> {
        if cell.label.inline.is_some() {
            return Some((cell.row, cell.column, cell.text));
        }
        let (_, last) = self.view.columns_of(cell.row, cell.column);
        let (column, text) = self.view.own_cells(cell.row).find(|(c, _)| *c > last)?;
        let core = split_label(text).core;
        let is_label = text.chars().count() <= MAX_LABEL_CHARS
            && (label(&core).is_some_and(Label::is_header) || title(text).is_some());
        (!is_label).then_some((cell.row, column, text))
    }

    /// The value a [`Self::value_right`] gives, without its label when it is inline.
    fn value_text(cell: &Cell<'g>, found: (usize, usize, &'g str)) -> String {
        match (&cell.label.inline, found) {
            (Some(inline), (row, column, _)) if (row, column) == (cell.row, cell.column) => inline.clone(),
            (_, (_, _, text)) => text.to_owned(),
        }
    }

    fn read(mut self) -> Option<Draft> {
        let title = self.cells.iter().find_map(|cell| title(cell.text).map(|kind| (cell.row, cell.column, kind)));
        let blocks = self.blocks();
        if title.is_none() && blocks.indicator_header.is_none() && blocks.funds_header.is_none() {
            return None;
        }
        let kind = match title {
            Some((.., TitleKind::Project)) => EvaluationKind::Project,
            Some((.., TitleKind::Department)) => EvaluationKind::DepartmentOverall,
            None if self.cells.iter().any(|c| label(&c.label.core) == Some(Label::ProjectName)) => {
                EvaluationKind::Project
            }
            None => EvaluationKind::DepartmentOverall,
        };
        self.record.kind = kind;
        self.record.method = Some(EvaluationMethod::SelfEvaluation);
        if let Some((row, column, _)) = title {
            self.took("kind", row, column);
            self.took("method", row, column);
        }
        self.header(kind, &blocks, title.map(|(row, column, _)| (row, column)));
        self.funds(kind, &blocks);
        self.annual_target(&blocks);
        self.indicators(&blocks);
        self.total(&blocks);
        if kind == EvaluationKind::Project {
            self.items();
        }
        let funds_read =
            self.record.budget_execution != Default::default() || self.record.expenditure != Default::default();
        if title.is_none() && blocks.indicator_header.is_none() && !funds_read {
            return None;
        }
        if self.record.fiscal_year == 0 {
            let mut note = "no fiscal year printed on the table".to_owned();
            if let Some(date) = self.record.report_date {
                note.push_str(&format!(" (filled {date})"));
            }
            self.notes.push(note);
        }
        if self.view.merges_truncated {
            self.notes.push(
                "the sheet has more merged cells than are read; some were read as their top-left cell only".into(),
            );
        }
        let unmatched = self.unmatched();
        Some(Draft {
            record: self.record,
            provenance: self.provenance,
            unmatched,
            notes: self.notes,
            sheet: Some(self.view.grid.name.clone()),
        })
    }

    /// Finds the funds block, the annual target and the indicator table.
    fn blocks(&self) -> Blocks {
        let mut blocks =
            Blocks { funds_end: self.end, target_end: self.end, indicator_end: self.end, ..Blocks::default() };
        let mut row_cells: Vec<(usize, Vec<&Cell>)> = Vec::new();
        for cell in &self.cells {
            match row_cells.last_mut() {
                Some((row, cells)) if *row == cell.row => cells.push(cell),
                _ => row_cells.push((cell.row, vec![cell])),
            }
        }
        for (row, cells) in &row_cells {
            let funds: HashSet<FundsColumn> = cells.iter().filter_map(|c| funds_column(&c.label.core)).collect();
            let amounts = funds.iter().filter(|c| !matches!(c, FundsColumn::Weight | FundsColumn::Score)).count();
            if blocks.funds_header.is_none() && amounts >= 2 {
                blocks.funds_header = Some(*row);
            }
            let indicator: HashSet<IndicatorColumn> =
                cells.iter().filter_map(|c| indicator_column(&c.label.core)).collect();
            if blocks.indicator_header.is_none()
                && indicator.contains(&IndicatorColumn::Level3)
                && (indicator.contains(&IndicatorColumn::Level1) || indicator.contains(&IndicatorColumn::Level2))
            {
                blocks.indicator_header = Some(*row);
            }
        }
        let indicator_header = blocks.indicator_header.unwrap_or(self.end);
        if let Some(header) = blocks.indicator_header {
            let level_3 = self
                .cells
                .iter()
                .find(|c| c.row == header && indicator_column(&c.label.core) == Some(IndicatorColumn::Level3));
            let limit = level_3.map_or(usize::MAX, |c| c.column);
            blocks.indicator_end = self
                .cells
                .iter()
                .find(|c| c.row > header && c.column <= limit && label(&c.label.core) == Some(Label::TotalScore))
                .map_or(self.end, |c| c.row);
        }
        blocks.target_row = self
            .cells
            .iter()
            .find(|c| {
                c.row < indicator_header
                    && Some(c.row) != blocks.funds_header
                    && label(&c.label.core) == Some(Label::AnnualTarget)
            })
            .map(|c| (c.row, c.column));
        let boundaries = [blocks.funds_header, blocks.target_row.map(|(row, _)| row), blocks.indicator_header];
        let next_after =
            |row: usize| boundaries.iter().flatten().copied().filter(|&b| b > row).min().unwrap_or(self.end);
        if let Some(header) = blocks.funds_header {
            blocks.funds_end = next_after(header).min(blocks.indicator_end);
        }
        if let Some((row, _)) = blocks.target_row {
            blocks.target_end = next_after(row);
        }
        blocks
    }

    fn in_blocks(&self, blocks: &Blocks, row: usize) -> bool {
        let funds = blocks.funds_header.is_some_and(|header| (header..blocks.funds_end).contains(&row));
        let indicators = blocks.indicator_header.is_some_and(|header| (header..blocks.indicator_end).contains(&row));
        funds || indicators
    }

    /// 项目名称, 主管部门, 实施单位, 单位名称, 填报日期, the fiscal year.
    fn header(&mut self, kind: EvaluationKind, blocks: &Blocks, title: Option<(usize, usize)>) {
        let mut values: Vec<(Label, usize, usize, String)> = Vec::new();
        for cell in &self.cells {
            let Some(found) = label(&cell.label.core).filter(|l| l.is_header()) else { continue };
            if self.in_blocks(blocks, cell.row) || values.iter().any(|(l, ..)| *l == found) {
                continue;
            }
            if let Some(value) = self.value_right(cell) {
                values.push((found, value.0, value.1, Self::value_text(cell, value)));
            }
        }
        let labels: Vec<(usize, usize)> = self
            .cells
            .iter()
            .filter(|c| label(&c.label.core).is_some_and(Label::is_header) && !self.in_blocks(blocks, c.row))
            .map(|c| (c.row, c.column))
            .collect();
        for at in labels {
            self.used.insert(at);
        }
        let get = |wanted: Label| values.iter().find(|(l, ..)| *l == wanted).cloned();

        // The fiscal year: in the title, a cell of its own under it (（2022年度）), or a 年度 label.
        let first_block = [blocks.funds_header, blocks.target_row.map(|(r, _)| r), blocks.indicator_header]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.end);
        let mut year =
            title.and_then(|(row, column)| parse_year(self.view.grid.get(row, column), true).map(|y| (y, row, column)));
        if year.is_none() {
            year = self.cells.iter().filter(|c| c.row < first_block).find_map(|c| {
                let bare = key(c.text);
                let bare = bare.trim_start_matches('(').trim_end_matches(')');
                let year = parse_year(bare, true)?;
                (bare == format!("{year}年度") || bare == format!("{year}年")).then_some((year, c.row, c.column))
            });
        }
        if year.is_none() {
            year = get(Label::FiscalYear).and_then(|(_, row, column, text)| {
                let number = parse_number_year(&text)?;
                Some((number, row, column))
            });
        }
        if let Some((year, row, column)) = year {
            self.record.fiscal_year = year;
            self.took("fiscal_year", row, column);
        }

        if let Some((_, row, column, text)) = get(Label::ReportDate) {
            match parse_date(&text) {
                Some(date) => {
                    self.record.report_date = Some(date);
                    self.took("report_date", row, column);
                }
                None => self.notes.push(format!("{}: 填报日期 {text:?} is no date", self.at(row, column))),
            }
        }
        if let Some((_, row, column, text)) = get(Label::UnitCode) {
            self.record.budget_unit_code = Some(text);
            self.took("budget_unit_code", row, column);
        }
        let unit_name = get(Label::UnitName).or_else(|| get(Label::Filler));
        if kind == EvaluationKind::Project {
            let name = get(Label::ProjectName);
            let code = get(Label::ProjectCode);
            let competent =
                get(Label::CompetentDepartment).and_then(|(_, r, c, text)| Some((parse_unit_reference(&text)?, r, c)));
            let implementing =
                get(Label::ImplementingUnit).and_then(|(_, r, c, text)| Some((parse_unit_reference(&text)?, r, c)));
            if name.is_none() && competent.is_none() && implementing.is_none() {
                self.notes.push("no project name printed on the table".into());
            } else {
                let mut project = ProjectIdentity {
                    name: String::new(),
                    code: None,
                    competent_department: None,
                    implementing_unit: None,
                };
                match name {
                    Some((_, row, column, text)) => {
                        project.name = text;
                        self.took("project.name", row, column);
                    }
                    None => self.notes.push("no project name printed on the table".into()),
                }
                if let Some((_, row, column, text)) = code {
                    project.code = Some(text);
                    self.took("project.code", row, column);
                }
                for (member, unit) in [("competent_department", &competent), ("implementing_unit", &implementing)] {
                    if let Some((unit, row, column)) = unit {
                        self.took(format!("project.{member}.name"), *row, *column);
                        if unit.code.is_some() {
                            self.took(format!("project.{member}.code"), *row, *column);
                        }
                    }
                }
                project.competent_department = competent.as_ref().map(|(u, ..)| u.clone());
                project.implementing_unit = implementing.as_ref().map(|(u, ..)| u.clone());
                self.record.project = Some(project);
            }
            // The unit evaluating a project is the one implementing it.
            let unit: Option<(UnitReference, usize, usize)> = implementing
                .or(competent)
                .or_else(|| unit_name.and_then(|(_, r, c, text)| Some((parse_unit_reference(&text)?, r, c))));
            match unit {
                Some((unit, row, column)) => {
                    self.record.unit = unit.name;
                    self.took("unit", row, column);
                }
                None => self.notes.push("no implementing unit printed on the table".into()),
            }
        } else {
            match unit_name {
                Some((_, row, column, text)) => {
                    self.record.unit = parse_unit_reference(&text).map_or(text, |u| u.name);
                    self.took("unit", row, column);
                }
                None => self.notes.push("no unit name printed on the table".into()),
            }
        }
    }

    /// The unit amounts of the funds block are in: a unit in the block's labels (项目资金（万元）,
    /// 年初预算数（万元）) or in a unit line above it (单位：万元).
    fn funds_unit(&mut self, header: usize, first_column: usize) -> (ReportedIn, Option<(usize, usize)>) {
        // The block's label, left of its columns (often merged down the block's rows).
        for column in 0..first_column {
            let (row, c) = self.view.origin(header, column);
            if let Some(unit) = split_label(self.view.grid.get(row, c)).unit {
                return (unit, Some((row, c)));
            }
        }
        // The nearest unit line above the block, or a block label above it with a unit.
        let mut above =
            self.cells.iter().filter(|c| c.row < header || (c.row == header && c.column < first_column)).filter_map(
                |c| {
                    let block_label = label(&c.label.core) == Some(Label::FundsBlock);
                    let unit = unit_marker(c.text).or(c.label.unit.filter(|_| block_label))?;
                    Some((unit, c.row, c.column))
                },
            );
        if let Some((unit, row, column)) = above.next_back() {
            return (unit, Some((row, column)));
        }
        (ReportedIn::TenThousandYuan, None)
    }

    /// The funds block: 年度资金总额 and its sources, or the department's budget execution with
    /// 基本支出 and 项目支出.
    fn funds(&mut self, kind: EvaluationKind, blocks: &Blocks) {
        let Some(header) = blocks.funds_header else { return };
        let mut columns: Vec<(FundsColumn, usize, usize, Option<ReportedIn>, usize)> = Vec::new();
        for cell in self.cells.iter().filter(|c| c.row == header) {
            if let Some(column) = funds_column(&cell.label.core) {
                if columns.iter().all(|(c, ..)| *c != column) {
                    let (c0, c1) = self.view.columns_of(cell.row, cell.column);
                    columns.push((column, c0, c1, cell.label.unit, cell.column));
                }
            }
        }
        let header_cells: Vec<(usize, usize)> = columns.iter().map(|&(.., c)| (header, c)).collect();
        for at in header_cells {
            self.used.insert(at);
        }
        let has_adjusted = columns.iter().any(|(c, ..)| *c == FundsColumn::Adjusted);
        let first = columns.iter().map(|&(_, c0, ..)| c0).min().unwrap_or(0);
        let (block_unit, unit_at) = self.funds_unit(header, first);
        let mut column_units: Vec<ReportedIn> =
            columns.iter().filter_map(|(c, _, _, unit, _)| unit.filter(|_| is_amount(*c))).collect();
        column_units.dedup();
        self.record.reported_in = if column_units.len() == 1 { column_units[0] } else { block_unit };
        if column_units.len() > 1 {
            self.notes.push("the funds block's columns print different units; each column is read in its own".into());
        }
        match unit_at {
            Some((row, column)) => self.took("reported_in", row, column),
            None => match columns.iter().find(|(c, _, _, unit, _)| unit.is_some() && is_amount(*c)) {
                Some(&(.., column)) => self.took("reported_in", header, column),
                None => self
                    .notes
                    .push("the funds block prints no unit; read as 万元, the unit of the national layout".into()),
            },
        }

        // Values beside their labels in the header row itself: 预算数 | 864.2 | 执行数 | 864.2 …
        let inline_values = columns.iter().all(|&(_, _, c1, ..)| {
            self.view
                .own_cells(header)
                .find(|(c, _)| *c > c1)
                .is_some_and(|(_, text)| !is_placeholder(text) && funds_column(&split_label(text).core).is_none())
        });
        let mut rows: Vec<(FundsRow, usize, FundsValues<'g>)> = Vec::new();
        if inline_values {
            let values = columns
                .iter()
                .filter_map(|&(column, _, c1, unit, _)| {
                    let (c, text) = self.view.own_cells(header).find(|(c, _)| *c > c1)?;
                    Some((column, c, text, unit.unwrap_or(block_unit)))
                })
                .collect();
            rows.push((FundsRow::Total, header, values));
        } else {
            for row in header + 1..blocks.funds_end {
                let row_label = self.view.own_cells(row).filter(|(c, _)| *c < first).find_map(|(c, text)| {
                    let core = split_label(text).core;
                    Some((funds_row(&core)?, c, core))
                });
                let Some((row_kind, label_column, core)) = row_label else { continue };
                if rows.iter().any(|(kind, ..)| *kind == row_kind) {
                    self.notes.push(format!(
                        "{}: a second {} row is not read",
                        self.at(row, label_column),
                        self.view.grid.get(row, label_column).trim()
                    ));
                    continue;
                }
                self.used.insert((row, label_column));
                if let FundsRow::Line(class) = row_kind {
                    let i = self.record.expenditure.lines.len();
                    self.record.expenditure.lines.push(ExpenditureLine {
                        structure: ExpenditureStructure::Basic,
                        economic_class: Some(class),
                        name: Some(core),
                        initial_budget: None,
                        adjusted_budget: None,
                        executed: None,
                    });
                    for member in ["structure", "economic_class", "name"] {
                        self.took(format!("expenditure.lines[{i}].{member}"), row, label_column);
                    }
                }
                let values = columns
                    .iter()
                    .filter_map(|&(column, c0, c1, unit, _)| {
                        let (c, text) = self.view.value_in(row, (c0, c1))?;
                        Some((column, c, text, unit.unwrap_or(block_unit)))
                    })
                    .collect();
                rows.push((row_kind, row, values));
            }
        }
        for (row_kind, row, values) in rows {
            let mut figures = FundFigures::default();
            let line = match row_kind {
                FundsRow::Line(class) => {
                    self.record.expenditure.lines.iter().rposition(|l| l.economic_class == Some(class))
                }
                _ => None,
            };
            let prefix = match row_kind {
                FundsRow::Line(_) => format!("expenditure.lines[{}]", line.unwrap_or_default()),
                FundsRow::Total => "budget_execution".to_owned(),
                FundsRow::Current => "budget_execution.sources.current_appropriation".to_owned(),
                FundsRow::CarriedOver => "budget_execution.sources.carried_over".to_owned(),
                FundsRow::Other => "budget_execution.sources.other".to_owned(),
                FundsRow::Basic | FundsRow::Project => String::new(),
            };
            for (column, c, text, unit) in values {
                let member = match column {
                    FundsColumn::Initial => Some("initial_budget"),
                    FundsColumn::Adjusted => Some("adjusted_budget"),
                    FundsColumn::Budget if !has_adjusted => Some("adjusted_budget"),
                    FundsColumn::Executed => Some("executed"),
                    _ => None,
                };
                if let Some(member) = member {
                    let amount = match parse_amount(text, unit) {
                        AmountCell::Yuan(amount) => amount,
                        AmountCell::Inexact(value) => {
                            self.notes.push(format!(
                                "{}: {value}{} is no whole number of 分 in 元; left out, not rounded",
                                self.at(row, c),
                                if unit == ReportedIn::TenThousandYuan { "万元" } else { "元" }
                            ));
                            continue;
                        }
                        AmountCell::Empty | AmountCell::Text => continue,
                    };
                    match row_kind {
                        FundsRow::Basic | FundsRow::Project if member == "executed" => {
                            let field = if row_kind == FundsRow::Basic { "basic_total" } else { "project_total" };
                            if row_kind == FundsRow::Basic {
                                self.record.expenditure.basic_total = Some(amount);
                            } else {
                                self.record.expenditure.project_total = Some(amount);
                            }
                            self.took(format!("expenditure.{field}"), row, c);
                        }
                        FundsRow::Basic | FundsRow::Project => {}
                        FundsRow::Line(_) => {
                            let Some(line) = line.map(|i| &mut self.record.expenditure.lines[i]) else { continue };
                            match member {
                                "initial_budget" => line.initial_budget = Some(amount),
                                "adjusted_budget" => line.adjusted_budget = Some(amount),
                                _ => line.executed = Some(amount),
                            }
                            self.took(format!("{prefix}.{member}"), row, c);
                        }
                        FundsRow::Total => {
                            let budget = &mut self.record.budget_execution;
                            match member {
                                "initial_budget" => budget.initial_budget = Some(amount),
                                "adjusted_budget" => budget.adjusted_budget = Some(amount),
                                _ => budget.executed = Some(amount),
                            }
                            self.took(format!("{prefix}.{member}"), row, c);
                            if member == "executed" && kind != EvaluationKind::Project {
                                self.record.expenditure.total = Some(amount);
                                self.took("expenditure.total", row, c);
                            }
                        }
                        _ => {
                            match member {
                                "initial_budget" => figures.initial_budget = Some(amount),
                                "adjusted_budget" => figures.adjusted_budget = Some(amount),
                                _ => figures.executed = Some(amount),
                            }
                            self.took(format!("{prefix}.{member}"), row, c);
                        }
                    }
                } else if row_kind == FundsRow::Total {
                    match column {
                        FundsColumn::Rate => {
                            if let Some((rate, remark)) = parse_rate(text) {
                                self.record.budget_execution.stated_rate = Some(rate);
                                self.took("budget_execution.stated_rate", row, c);
                                if let Some(remark) = remark {
                                    self.notes.push(format!("{}: 执行率 {text} {remark}", self.at(row, c)));
                                }
                            }
                        }
                        FundsColumn::Weight | FundsColumn::Score => {
                            if let Some(points) = parse_points(text) {
                                let (field, slot) = if column == FundsColumn::Weight {
                                    ("weight", &mut self.record.budget_execution.weight)
                                } else {
                                    ("score", &mut self.record.budget_execution.score)
                                };
                                *slot = Some(points);
                                self.took(format!("budget_execution.{field}"), row, c);
                            }
                        }
                        _ => {}
                    }
                }
            }
            if figures != FundFigures::default() {
                let sources = &mut self.record.budget_execution.sources;
                let slot = match row_kind {
                    FundsRow::Current => &mut sources.current_appropriation,
                    FundsRow::CarriedOver => &mut sources.carried_over,
                    _ => &mut sources.other,
                };
                *slot = Some(figures);
            }
        }
    }

    /// 年度总体目标: its points, 预期目标 and 实际完成情况.
    fn annual_target(&mut self, blocks: &Blocks) {
        let Some((row, column)) = blocks.target_row else { return };
        let mut target = AnnualTarget::default();
        let label_cell =
            self.cells.iter().position(|c| (c.row, c.column) == (row, column)).expect("the label is a cell");
        if let Some(points) = self.cells[label_cell].label.points {
            target.weight = Some(points);
            self.took("annual_target.weight", row, column);
        }
        self.used.insert((row, column));
        let end = blocks.target_end;
        let sub = |wanted: Label| {
            self.cells.iter().find(|c| {
                c.row >= row
                    && c.row < end.min(row + 4)
                    && (c.row, c.column) != (row, column)
                    && label(&c.label.core) == Some(wanted)
            })
        };
        let (expected, achieved) = (sub(Label::Expected), sub(Label::Achieved));
        let expected = expected.map(|c| (c.row, c.column));
        let achieved = achieved.map(|c| (c.row, c.column));
        let mut texts: [Vec<(usize, usize, String)>; 2] = [Vec::new(), Vec::new()];
        match (expected, achieved) {
            (Some(e), Some(a)) if e.0 == a.0 => {
                // Column layout: the texts stand under their labels.
                for (i, (label_row, label_column)) in [e, a].into_iter().enumerate() {
                    self.used.insert((label_row, label_column));
                    let span = self.view.columns_of(label_row, label_column);
                    for r in label_row + 1..end {
                        if let Some((c, text)) = self.view.value_in(r, span) {
                            texts[i].push((r, c, text.to_owned()));
                        }
                    }
                }
            }
            (e, a) => {
                // Row layout: each text right of its label, or the target's text right of its own.
                let e = e.or(Some((row, column)));
                for (i, at) in [e, a].into_iter().enumerate() {
                    let Some((label_row, label_column)) = at else { continue };
                    self.used.insert((label_row, label_column));
                    let index =
                        self.cells.iter().position(|c| (c.row, c.column) == (label_row, label_column)).expect("a cell");
                    if let Some(found) = self.value_right(&self.cells[index]) {
                        let text = Self::value_text(&self.cells[index], found);
                        if label(&split_label(&text).core).is_none() {
                            texts[i].push((found.0, found.1, text));
                        }
                    }
                }
            }
        }
        for (i, member) in ["expected", "achieved"].into_iter().enumerate() {
            if texts[i].is_empty() {
                continue;
            }
            let joined = texts[i].iter().map(|(_, _, t)| t.as_str()).collect::<Vec<_>>().join("\n");
            let cells: Vec<(usize, usize)> = texts[i].iter().map(|&(r, c, _)| (r, c)).collect();
            for (r, c) in cells {
                self.took(format!("annual_target.{member}"), r, c);
            }
            if i == 0 {
                target.expected = Some(joined);
            } else {
                target.achieved = Some(joined);
            }
        }
        if target != AnnualTarget::default() {
            self.record.annual_target = Some(target);
        }
    }

    /// The indicator table, one record row per row with a 三级指标.
    fn indicators(&mut self, blocks: &Blocks) {
        let Some(header) = blocks.indicator_header else { return };
        let mut columns: Vec<(IndicatorColumn, (usize, usize))> = Vec::new();
        let mut header_cells = Vec::new();
        for cell in self.cells.iter().filter(|c| c.row == header) {
            if let Some(column) = indicator_column(&cell.label.core) {
                if columns.iter().all(|(c, _)| *c != column) {
                    columns.push((column, self.view.columns_of(cell.row, cell.column)));
                    header_cells.push((cell.row, cell.column));
                }
            }
        }
        // A header of two rows: 指标值 over 年度指标值 | 实际完成值, the rest merged down both rows.
        let mut first_row = header + 1;
        let below: Vec<(IndicatorColumn, (usize, usize), usize)> = self
            .cells
            .iter()
            .filter(|c| c.row == header + 1)
            .filter_map(|c| Some((indicator_column(&c.label.core)?, self.view.columns_of(c.row, c.column), c.column)))
            .collect();
        if !below.is_empty() && below.iter().all(|(column, ..)| *column != IndicatorColumn::Level3) {
            first_row = header + 2;
            for (column, span, at) in below {
                columns.retain(|(c, s)| {
                    *c != column && !(s.0 <= span.0 && span.1 <= s.1 && *c != IndicatorColumn::Level3)
                });
                columns.push((column, span));
                header_cells.push((header + 1, at));
            }
        }
        for at in header_cells {
            self.used.insert(at);
        }
        // 绩效指标, the block's own label, merged down its left side.
        let block_labels: Vec<(usize, usize)> = self
            .cells
            .iter()
            .filter(|c| label(&c.label.core) == Some(Label::IndicatorBlock) && c.row <= header)
            .map(|c| (c.row, c.column))
            .collect();
        for at in block_labels {
            self.used.insert(at);
        }
        let view = self.view;
        let span = |wanted: IndicatorColumn| columns.iter().find(|(c, _)| *c == wanted).map(|(_, span)| *span);
        let level_3 = span(IndicatorColumn::Level3).expect("the header has 三级指标");
        let mut level_1_carried: Option<(IndicatorLevel1, Option<Decimal>, usize, usize)> = None;
        let mut level_2_carried: Option<(IndicatorLevel2, usize, usize)> = None;
        for row in first_row..blocks.indicator_end {
            let Some((name_column, name)) = self.view.value_in(row, level_3) else { continue };
            if label(&split_label(name).core) == Some(Label::AnnualTarget) {
                continue;
            }
            // A row of the blank form left unfilled: 指标1： with nothing beside it.
            let others = columns.iter().filter(|(c, _)| {
                !matches!(c, IndicatorColumn::Level1 | IndicatorColumn::Level2 | IndicatorColumn::Level3)
            });
            let filled = others
                .clone()
                .any(|&(_, span)| view.value_in(row, span).is_some_and(|(_, text)| !is_placeholder(text)));
            if !filled && is_template_name(name) {
                self.used.insert((row, name_column));
                continue;
            }
            let i = self.record.indicators.len();
            let at = |member: &str| format!("indicators[{i}].{member}");
            // Level 1: the (merged) cell of its column, or the row above's.
            let mut level_1_found = None;
            if let Some((c0, _)) = span(IndicatorColumn::Level1) {
                let (r, c) = self.view.origin(row, c0);
                let text = self.view.grid.get(r, c).trim();
                if !text.is_empty() {
                    let parts = split_label(text);
                    match level_1(&parts.core) {
                        Some((level, as_output)) => {
                            if as_output && r == row {
                                self.notes.push(format!(
                                    "{}: {text} has no level of its own; read as 产出指标",
                                    self.at(r, c)
                                ));
                            }
                            level_1_found = Some((level, parts.points, r, c));
                        }
                        None => self.notes.push(format!("{}: {text:?} is no known 一级指标", self.at(r, c))),
                    }
                }
            }
            if level_1_found.is_some() {
                level_1_carried = level_1_found;
            }
            let mut level_2_found = None;
            if let Some((c0, _)) = span(IndicatorColumn::Level2) {
                let (r, c) = self.view.origin(row, c0);
                let text = self.view.grid.get(r, c).trim();
                if !text.is_empty() {
                    match level_2(&split_label(text).core) {
                        Some(level) => level_2_found = Some((level, r, c)),
                        None => self.notes.push(format!("{}: {text:?} is no known 二级指标", self.at(r, c))),
                    }
                }
            }
            if level_2_found.is_some() {
                level_2_carried = level_2_found;
            }
            let level_2_now = level_2_carried;
            let level_1_now = level_1_carried.map(|(l, p, r, c)| (l, p, Some((r, c)))).or_else(|| {
                let inferred = match level_2_now.map(|(l, ..)| l) {
                    Some(IndicatorLevel2::ServiceSatisfaction) => IndicatorLevel1::Satisfaction,
                    Some(
                        IndicatorLevel2::EconomicBenefit
                        | IndicatorLevel2::SocialBenefit
                        | IndicatorLevel2::EcologicalBenefit
                        | IndicatorLevel2::SustainableImpact,
                    ) => IndicatorLevel1::Effect,
                    _ => IndicatorLevel1::Output,
                };
                Some((inferred, None, None))
            });
            let (level_1, level_1_points, level_1_at) = level_1_now.expect("a level 1");
            if level_1_at.is_none() {
                self.notes.push(format!(
                    "{}: no 一级指标 printed; read as {}",
                    self.at(row, name_column),
                    labels::level_1_label(level_1)
                ));
            }
            let level_2 = match level_2_now {
                Some((level, ..)) => level,
                None => {
                    let default = match level_1 {
                        IndicatorLevel1::Effect => IndicatorLevel2::SocialBenefit,
                        IndicatorLevel1::Satisfaction => IndicatorLevel2::ServiceSatisfaction,
                        _ => IndicatorLevel2::Quantity,
                    };
                    self.notes.push(format!(
                        "{}: no 二级指标 printed; read as {}",
                        self.at(row, name_column),
                        labels::level_2_label(default)
                    ));
                    default
                }
            };
            if let Some((r, c)) = level_1_at {
                self.took(at("level_1"), r, c);
                if level_1_points.is_some() {
                    self.took(at("level_1_points"), r, c);
                }
            }
            if let Some((_, r, c)) = level_2_now {
                self.provenance.push(Provenance { field: at("level_2"), source: self.source(r, c) });
                // A level-2 label with points of its own (数量指标（20分）) stays unmatched: no field
                // holds those points.
                if split_label(self.view.grid.get(r, c)).points.is_none() {
                    self.used.insert((r, c));
                }
            }
            self.took(at("name"), row, name_column);
            let mut indicator = Indicator {
                level_1,
                level_1_points,
                level_2,
                name: name.to_owned(),
                code: None,
                matched_code: None,
                unit_of_measure: None,
                direction: None,
                target: None,
                target_text: None,
                actual: None,
                actual_text: None,
                weight: None,
                score: None,
                achievement: None,
                applicable: true,
                deviation_reason: None,
            };
            let value = |wanted: IndicatorColumn| span(wanted).and_then(|s| view.value_in(row, s));
            if let Some((c, text)) = value(IndicatorColumn::Code) {
                indicator.code = Some(text.to_owned());
                self.took(at("code"), row, c);
            }
            let unit_column = value(IndicatorColumn::Unit).filter(|(_, text)| !is_placeholder(text));
            if let Some((c, text)) = unit_column {
                indicator.unit_of_measure = Some(text.to_owned());
                self.took(at("unit_of_measure"), row, c);
            }
            if let Some((c, text)) = value(IndicatorColumn::Target) {
                let target = parse_target(text);
                if target.value.is_some() {
                    indicator.target = target.value;
                    self.took(at("target"), row, c);
                }
                if let Some(direction) = target.direction {
                    indicator.direction = Some(direction);
                    self.took(at("direction"), row, c);
                }
                if indicator.unit_of_measure.is_none() {
                    if let Some(unit) = target.unit {
                        indicator.unit_of_measure = Some(unit);
                        self.took(at("unit_of_measure"), row, c);
                    }
                }
                if let Some(text) = target.text {
                    indicator.target_text = Some(text);
                    self.took(at("target_text"), row, c);
                }
            }
            if indicator.direction.is_none() {
                if let Some((c, text)) = value(IndicatorColumn::Direction) {
                    let direction = match key(text).as_str() {
                        "正向" | "正向指标" | "≥" | ">=" => Some(Direction::AtLeast),
                        "反向" | "反向指标" | "≤" | "<=" => Some(Direction::AtMost),
                        "=" | "定值" | "等于" => Some(Direction::Exactly),
                        _ => None,
                    };
                    if let Some(direction) = direction {
                        indicator.direction = Some(direction);
                        self.took(at("direction"), row, c);
                    }
                }
            }
            if let Some((c, text)) = value(IndicatorColumn::Actual) {
                let actual = parse_actual(text, indicator.unit_of_measure.as_deref());
                if let Some(value) = actual.value {
                    indicator.actual = Some(value);
                    self.took(at("actual"), row, c);
                    if indicator.unit_of_measure.is_none() {
                        if let Some(unit) = actual.unit {
                            indicator.unit_of_measure = Some(unit);
                            self.took(at("unit_of_measure"), row, c);
                        }
                    }
                }
                if let Some(text) = actual.text {
                    indicator.actual_text = Some(text);
                    self.took(at("actual_text"), row, c);
                }
                if let Some(achievement) = actual.achievement {
                    indicator.achievement = Some(achievement);
                    self.took(at("achievement"), row, c);
                }
            }
            for (column, member) in [(IndicatorColumn::Weight, "weight"), (IndicatorColumn::Score, "score")] {
                if let Some((c, text)) = value(column) {
                    if let Some(points) = parse_points(text) {
                        if column == IndicatorColumn::Weight {
                            indicator.weight = Some(points);
                        } else {
                            indicator.score = Some(points);
                        }
                        self.took(at(member), row, c);
                    }
                }
            }
            if let Some((c, text)) = value(IndicatorColumn::Deviation) {
                indicator.deviation_reason = Some(text.to_owned());
                self.took(at("deviation_reason"), row, c);
            }
            self.record.indicators.push(indicator);
        }
    }

    /// 总分, 自评等级, and the conclusion's lines some tables print under the indicators.
    fn total(&mut self, blocks: &Blocks) {
        let score_column = blocks.indicator_header.and_then(|header| {
            self.cells
                .iter()
                .find(|c| c.row == header && indicator_column(&c.label.core) == Some(IndicatorColumn::Score))
                .map(|c| self.view.columns_of(c.row, c.column))
        });
        let after = blocks.indicator_header.unwrap_or(self.start);
        let mut conclusion = Conclusion::default();
        let mut found: Vec<(Label, usize, usize)> = Vec::new();
        for cell in &self.cells {
            let Some(wanted) = label(&cell.label.core) else { continue };
            let in_funds = blocks.funds_header.is_some_and(|h| (h..blocks.funds_end).contains(&cell.row));
            if cell.row < after
                || in_funds
                || !matches!(
                    wanted,
                    Label::TotalScore | Label::Grade | Label::Conclusion | Label::Problems | Label::Suggestions
                )
            {
                continue;
            }
            if wanted != Label::Problems && wanted != Label::Suggestions && found.iter().any(|(l, ..)| *l == wanted) {
                continue;
            }
            found.push((wanted, cell.row, cell.column));
        }
        for (wanted, row, column) in found {
            self.used.insert((row, column));
            let index = self.cells.iter().position(|c| (c.row, c.column) == (row, column)).expect("a cell");
            let cell = &self.cells[index];
            match wanted {
                Label::TotalScore => {
                    let value = match score_column {
                        Some(span) => self.view.value_in(row, span),
                        None => self.view.own_cells(row).find(|(c, text)| *c > column && parse_points(text).is_some()),
                    };
                    if let Some((c, text)) = value {
                        if let Some(points) = parse_points(text) {
                            conclusion.total_score = Some(points);
                            self.took("conclusion.total_score", row, c);
                        }
                    }
                }
                Label::Grade => {
                    if let Some(found) = self.value_right(cell) {
                        let text = Self::value_text(cell, found);
                        match grade(&text) {
                            Some(grade) => {
                                conclusion.grade = Some(grade);
                                self.took("conclusion.grade", found.0, found.1);
                            }
                            None => self
                                .notes
                                .push(format!("{}: {text:?} is no grade (优, 良, 中, 差)", self.at(found.0, found.1))),
                        }
                    }
                }
                Label::Conclusion | Label::Problems | Label::Suggestions => {
                    if let Some(found) = self.value_right(cell) {
                        let text = Self::value_text(cell, found);
                        match wanted {
                            Label::Conclusion => {
                                conclusion.text = Some(text);
                                self.took("conclusion.text", found.0, found.1);
                            }
                            Label::Problems => {
                                let i = conclusion.problems.len();
                                conclusion.problems.push(text);
                                self.took(format!("conclusion.problems[{i}]"), found.0, found.1);
                            }
                            _ => {
                                let i = conclusion.suggestions.len();
                                conclusion.suggestions.push(text);
                                self.took(format!("conclusion.suggestions[{i}]"), found.0, found.1);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        self.record.conclusion = conclusion;
    }

    /// A project's items, from the lists its annual-target texts give after 其中.
    fn items(&mut self) {
        let Some(target) = &self.record.annual_target else { return };
        let projects = project_items(target.expected.as_deref(), target.achieved.as_deref());
        if projects.is_empty() {
            return;
        }
        let source_of = |member: &str| {
            self.provenance.iter().find(|p| p.field == format!("annual_target.{member}")).map(|p| p.source.clone())
        };
        let (expected, achieved) = (source_of("expected"), source_of("achieved"));
        for (i, project) in projects.iter().enumerate() {
            let mut push = |field: String, source: &Option<Source>| {
                if let Some(source) = source {
                    self.provenance.push(Provenance { field, source: source.clone() });
                }
            };
            push(format!("projects[{i}].name"), if project.budget.is_some() { &expected } else { &achieved });
            if project.budget.is_some() {
                push(format!("projects[{i}].budget"), &expected);
            }
            if project.executed.is_some() {
                push(format!("projects[{i}].executed"), &achieved);
            }
        }
        self.record.projects = projects;
    }

    /// Every cell of the segment with a digit that no field or label took.
    fn unmatched(&self) -> Vec<Unmatched> {
        let mut out = Vec::new();
        for row in self.start..self.end {
            for (column, text) in self.view.own_cells(row) {
                if has_digit(text) && !self.used.contains(&(row, column)) {
                    out.push(Unmatched { source: self.source(row, column) });
                }
            }
        }
        out
    }
}

/// `指标1：`, `指标2`, `…`: a name the blank form prints.
fn is_template_name(name: &str) -> bool {
    let key = key(name);
    let rest = key.strip_prefix("指标").unwrap_or(&key).trim_end_matches(':');
    is_placeholder(name) || (!rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()))
}

fn is_amount(column: FundsColumn) -> bool {
    matches!(column, FundsColumn::Initial | FundsColumn::Adjusted | FundsColumn::Budget | FundsColumn::Executed)
}

fn parse_number_year(text: &str) -> Option<i32> {
    let key = key(text);
    let digits = key.trim_end_matches('年').trim_end_matches("年度");
    let year: i32 = digits.parse().ok()?;
    (1990..=2100).contains(&year).then_some(year)
}

/// 优 / 良 / 中 / 差 (also 优秀, 良好, 中等, 较差).
pub fn grade(text: &str) -> Option<Grade> {
    match key(text).trim_end_matches('级').trim_end_matches('等') {
        "优" | "优秀" => Some(Grade::Excellent),
        "良" | "良好" => Some(Grade::Good),
        "中" | "中等" | "一般" => Some(Grade::Fair),
        "差" | "较差" => Some(Grade::Poor),
        _ => None,
    }
}
