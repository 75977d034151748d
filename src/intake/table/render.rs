//! A record printed as the standard table of its kind, as a county prints it, with further sheets
//! for what that table has no place for; then written as an XLSX workbook.
use std::collections::HashMap;

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
use serde_json::Value;

use super::extra;
use super::grid::{float_text, Grid};
use super::labels::{level_1_label, level_2_label};
use super::read::read_tables;
use super::text::{chunks, format_amount, format_rate, format_target, format_unit_reference};
use crate::domain::record::{EvaluationInput, EvaluationKind, FundFigures, Grade, Indicator, ReportedIn};
use crate::domain::validation::validate;

/// How a cell is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Title,
    Subtitle,
    Label,
    Text,
    Number,
    /// An amount in 元: shown with two decimals
    Yuan,
    Section,
}

/// A sheet to write: its cells, how each is drawn, its column widths.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub grid: Grid,
    pub styles: HashMap<(usize, usize), Style>,
    pub widths: Vec<(usize, f64)>,
}

impl Sheet {
    pub fn new(name: &str) -> Self {
        Self { grid: Grid::new(name), ..Self::default() }
    }

    pub fn style(&mut self, row: usize, column: usize, style: Style) {
        self.styles.insert((row, column), style);
    }

    /// Writes a text across columns `first..=last` of a row (merged when more than one).
    fn put(&mut self, row: usize, first: usize, last: usize, text: impl Into<String>, style: Style) {
        self.put_block(row, first, row, last, text, style);
    }

    fn put_block(
        &mut self,
        row: usize,
        first: usize,
        last_row: usize,
        last: usize,
        text: impl Into<String>,
        style: Style,
    ) {
        self.grid.merge(row, first, last_row, last, text);
        for r in row..=last_row {
            for c in first..=last {
                self.style(r, c, style);
            }
        }
    }
}

/// The sheets of a record's workbook: the standard table, then a further sheet for each group of
/// members that reading the table would not give back exactly.
pub fn sheets(record: &EvaluationInput) -> Vec<Sheet> {
    let main = standard(record);
    let read = read_tables(&main.grid).into_iter().next();
    let want = canonical(record);
    let wanted: Vec<&str> = match read {
        Some(draft) => {
            let got = canonical(&draft.record);
            extra::members().filter(|member| want.get(member) != got.get(member)).collect()
        }
        None => extra::members().collect(),
    };
    let mut out = vec![main];
    out.extend(extra::sheets(record, &wanted));
    out
}

/// A record's members as validation writes them (amounts with two decimals, empty items dropped),
/// for comparing what was read with what was meant; the record as it is when it does not validate.
fn canonical(record: &EvaluationInput) -> Value {
    let mut probe = record.clone();
    probe.region_code = "110101001".into();
    let record = validate(probe).map(|valid| valid.record).unwrap_or_else(|_| record.clone());
    serde_json::to_value(record).expect("a record serialises")
}

const LAST: usize = 8; // columns A..I

fn points(value: rust_decimal::Decimal) -> String {
    value.normalize().to_string()
}

/// The standard table of the record's kind.
fn standard(record: &EvaluationInput) -> Sheet {
    let project = record.kind == EvaluationKind::Project;
    let title = if project { "项目支出绩效自评表" } else { "部门整体支出绩效自评表" };
    let mut sheet = Sheet::new(title);
    let unit = record.reported_in;
    let amount_style = if unit == ReportedIn::Yuan { Style::Yuan } else { Style::Number };
    let amount = |value: Option<rust_decimal::Decimal>| value.map(|v| format_amount(v, unit)).unwrap_or_default();
    let unit_label = if unit == ReportedIn::Yuan { "元" } else { "万元" };
    sheet.put(0, 0, LAST, title, Style::Title);
    let mut row = 1;
    if record.fiscal_year != 0 {
        sheet.put(row, 0, LAST, format!("（{}年度）", record.fiscal_year), Style::Subtitle);
        row += 1;
    }

    if project {
        let identity = record.project.as_ref();
        sheet.put(row, 0, 0, "项目名称", Style::Label);
        sheet.put(row, 1, LAST, identity.map(|p| p.name.clone()).unwrap_or_default(), Style::Text);
        row += 1;
        if let Some(code) = identity.and_then(|p| p.code.clone()) {
            sheet.put(row, 0, 0, "项目编码", Style::Label);
            sheet.put(row, 1, LAST, code, Style::Text);
            row += 1;
        }
        let reference =
            |unit: Option<&crate::domain::record::UnitReference>| unit.map(format_unit_reference).unwrap_or_default();
        sheet.put(row, 0, 0, "主管部门", Style::Label);
        sheet.put(row, 1, 4, reference(identity.and_then(|p| p.competent_department.as_ref())), Style::Text);
        sheet.put(row, 5, 6, "实施单位", Style::Label);
        sheet.put(row, 7, LAST, reference(identity.and_then(|p| p.implementing_unit.as_ref())), Style::Text);
        row += 1;
    } else {
        sheet.put(row, 0, 0, "单位名称", Style::Label);
        sheet.put(row, 1, 4, record.unit.clone(), Style::Text);
        sheet.put(row, 5, 6, "填报日期", Style::Label);
        let date = record.report_date.map(|d| d.format("%Y年%-m月%-d日").to_string()).unwrap_or_default();
        sheet.put(row, 7, LAST, date, Style::Text);
        row += 1;
    }

    // Funds block.
    let budget = &record.budget_execution;
    let sources = [
        ("当年财政拨款", &budget.sources.current_appropriation),
        ("上年结转资金", &budget.sources.carried_over),
        ("其他资金", &budget.sources.other),
    ];
    let mut funds_rows: Vec<(String, [String; 3], Option<[String; 3]>)> = Vec::new();
    let total_amounts = [amount(budget.initial_budget), amount(budget.adjusted_budget), amount(budget.executed)];
    let total_scores = [
        budget.weight.map(points).unwrap_or_default(),
        budget.stated_rate.map(format_rate).unwrap_or_default(),
        budget.score.map(points).unwrap_or_default(),
    ];
    let figures = |f: &Option<FundFigures>| {
        let f = f.clone().unwrap_or_default();
        [amount(f.initial_budget), amount(f.adjusted_budget), amount(f.executed)]
    };
    let dash = || ["—".to_owned(), String::new(), "—".to_owned()];
    if project {
        funds_rows.push(("年度资金总额".into(), total_amounts, Some(total_scores)));
        for (i, (label, source)) in sources.iter().enumerate() {
            let label = if i == 0 { format!("其中：{label}") } else { (*label).to_owned() };
            funds_rows.push((label, figures(source), Some(dash())));
        }
    } else {
        let expenditure = &record.expenditure;
        funds_rows.push(("部门整体支出总额".into(), total_amounts, Some(total_scores)));
        funds_rows.push((
            "其中：基本支出".into(),
            [String::new(), String::new(), amount(expenditure.basic_total)],
            None,
        ));
        funds_rows.push(("项目支出".into(), [String::new(), String::new(), amount(expenditure.project_total)], None));
        for (label, source) in sources {
            if source.is_some() {
                funds_rows.push((label.to_owned(), figures(source), Some(dash())));
            }
        }
    }
    let block = if project {
        format!("项目资金（{unit_label}）")
    } else {
        format!("年度预算执行情况（{unit_label}）")
    };
    sheet.put_block(row, 0, row + funds_rows.len(), 0, block, Style::Label);
    sheet.put(row, 1, 2, "", Style::Label);
    for (i, label) in ["年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"].into_iter().enumerate()
    {
        sheet.put(row, 3 + i, 3 + i, label, Style::Label);
    }
    row += 1;
    for (label, amounts, scores) in funds_rows {
        sheet.put(row, 1, 2, label, Style::Label);
        for (i, text) in amounts.into_iter().enumerate() {
            sheet.put(row, 3 + i, 3 + i, text, amount_style);
        }
        for (i, text) in scores.unwrap_or_default().into_iter().enumerate() {
            sheet.put(row, 6 + i, 6 + i, text, Style::Number);
        }
        row += 1;
    }

    // Annual target.
    let target = record.annual_target.clone().unwrap_or_default();
    let target_label = match target.weight {
        Some(weight) => format!("年度总体目标（{}分）", points(weight)),
        None => "年度总体目标".to_owned(),
    };
    sheet.put_block(row, 0, row + 1, 0, target_label, Style::Label);
    sheet.put(row, 1, 4, "预期目标", Style::Label);
    sheet.put(row, 5, LAST, "实际完成情况", Style::Label);
    sheet.put(row + 1, 1, 4, target.expected.unwrap_or_default(), Style::Text);
    sheet.put(row + 1, 5, LAST, target.achieved.unwrap_or_default(), Style::Text);
    row += 2;

    // Indicators.
    let indicators = &record.indicators;
    sheet.put_block(row, 0, row + indicators.len(), 0, "绩效指标", Style::Label);
    for (i, label) in
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"]
            .into_iter()
            .enumerate()
    {
        sheet.put(row, 1 + i, 1 + i, label, Style::Label);
    }
    row += 1;
    let first = row;
    let group_1 = |i: &Indicator| (i.level_1, i.level_1_points);
    let mut start = 0;
    while start < indicators.len() {
        let end = (start..indicators.len())
            .find(|&k| group_1(&indicators[k]) != group_1(&indicators[start]))
            .unwrap_or(indicators.len());
        let head = &indicators[start];
        let label = match head.level_1_points {
            Some(p) => format!("{}（{}分）", level_1_label(head.level_1), points(p)),
            None => level_1_label(head.level_1).to_owned(),
        };
        sheet.put_block(first + start, 1, first + end - 1, 1, label, Style::Label);
        let mut inner = start;
        while inner < end {
            let stop = (inner..end).find(|&k| indicators[k].level_2 != indicators[inner].level_2).unwrap_or(end);
            sheet.put_block(
                first + inner,
                2,
                first + stop - 1,
                2,
                level_2_label(indicators[inner].level_2),
                Style::Label,
            );
            inner = stop;
        }
        start = end;
    }
    for indicator in indicators {
        let target = indicator
            .target_text
            .clone()
            .or_else(|| {
                indicator
                    .target
                    .map(|t| format_target(indicator.direction, Some(t), indicator.unit_of_measure.as_deref()))
            })
            .unwrap_or_default();
        let actual =
            indicator.actual_text.clone().or_else(|| indicator.actual.map(|a| a.to_string())).unwrap_or_default();
        sheet.put(row, 3, 3, indicator.name.clone(), Style::Text);
        sheet.put(row, 4, 4, target, Style::Text);
        sheet.put(row, 5, 5, actual, Style::Text);
        sheet.put(row, 6, 6, indicator.weight.map(points).unwrap_or_default(), Style::Number);
        sheet.put(row, 7, 7, indicator.score.map(points).unwrap_or_default(), Style::Number);
        sheet.put(row, 8, 8, indicator.deviation_reason.clone().unwrap_or_default(), Style::Text);
        row += 1;
    }

    // Total and grade.
    sheet.put(row, 0, 5, "总分", Style::Label);
    sheet.put(row, 6, 6, "", Style::Number);
    sheet.put(row, 7, 7, record.conclusion.total_score.map(points).unwrap_or_default(), Style::Number);
    sheet.put(row, 8, 8, "", Style::Text);
    row += 1;
    if let Some(grade) = record.conclusion.grade {
        let text = match grade {
            Grade::Excellent => "优",
            Grade::Good => "良",
            Grade::Fair => "中",
            Grade::Poor => "差",
        };
        sheet.put(row, 0, 5, "自评等级", Style::Label);
        sheet.put(row, 6, LAST, text, Style::Text);
    }
    sheet.widths =
        vec![(0, 14.0), (1, 16.0), (2, 16.0), (3, 26.0), (4, 18.0), (5, 18.0), (6, 9.0), (7, 11.0), (8, 24.0)];
    sheet
}

/// Text that Excel holds as a number and gives back as the same text.
fn as_number(text: &str) -> Option<f64> {
    let body = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole)
        || (body.contains('.') && (!digits(fraction) || fraction.ends_with('0')))
        || (whole.len() > 1 && whole.starts_with('0'))
    {
        return None;
    }
    if whole.len() + fraction.len() > 15 || text == "-0" {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    (float_text(value) == text).then_some(value)
}

fn formats() -> HashMap<&'static str, Format> {
    let cell = || Format::new().set_border(FormatBorder::Thin).set_align(FormatAlign::VerticalCenter).set_text_wrap();
    HashMap::from([
        (
            "title",
            Format::new()
                .set_bold()
                .set_font_size(16)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
        ),
        ("subtitle", Format::new().set_align(FormatAlign::Center)),
        ("label", cell().set_bold().set_align(FormatAlign::Center)),
        ("text", cell()),
        ("number", cell().set_align(FormatAlign::Center)),
        ("yuan", cell().set_align(FormatAlign::Center).set_num_format("0.00")),
        ("section", Format::new().set_bold()),
        ("plain", Format::new()),
    ])
}

fn format_name(style: Option<&Style>) -> &'static str {
    match style {
        Some(Style::Title) => "title",
        Some(Style::Subtitle) => "subtitle",
        Some(Style::Label) => "label",
        Some(Style::Text) => "text",
        Some(Style::Number) => "number",
        Some(Style::Yuan) => "yuan",
        Some(Style::Section) => "section",
        None => "plain",
    }
}

/// Writes the sheets as an XLSX workbook.
pub fn write_workbook(sheets: &[Sheet]) -> Vec<u8> {
    let formats = formats();
    let mut workbook = Workbook::new();
    for sheet in sheets {
        let worksheet = workbook.add_worksheet();
        // Names, widths and merged ranges are this module's own and valid; a cell that Excel could
        // still refuse is left out rather than failing the export (the tests assert none is).
        let written = worksheet.set_name(&sheet.grid.name).map(|_| ());
        debug_assert!(written.is_ok(), "{written:?}");
        for &(column, width) in &sheet.widths {
            let _ = worksheet.set_column_width(column as u16, width);
        }
        let mut merged_origins = std::collections::HashSet::new();
        for &(r0, c0, r1, c1) in &sheet.grid.merges {
            merged_origins.insert((r0 as usize, c0 as usize));
            let text = fit(sheet.grid.get(r0 as usize, c0 as usize));
            let format = &formats[format_name(sheet.styles.get(&(r0 as usize, c0 as usize)))];
            let written = worksheet.merge_range(r0, c0 as u16, r1, c1 as u16, &text, format).map(|_| ());
            debug_assert!(written.is_ok(), "{written:?}");
        }
        for (row, cells) in sheet.grid.cells.iter().enumerate() {
            for (column, text) in cells.iter().enumerate() {
                if merged_origins.contains(&(row, column)) {
                    continue;
                }
                let format = &formats[format_name(sheet.styles.get(&(row, column)))];
                let (r, c) = (row as u32, column as u16);
                let written = match as_number(text) {
                    Some(number) => worksheet.write_number_with_format(r, c, number, format),
                    None if text.is_empty() => worksheet.write_blank(r, c, format),
                    None => worksheet.write_string_with_format(r, c, fit(text), format),
                }
                .map(|_| ());
                debug_assert!(written.is_ok(), "{written:?}");
            }
        }
    }
    workbook.save_to_buffer().expect("an in-memory workbook of valid sheets saves")
}

/// A text within Excel's cell limit: a longer one is cut (the further sheets carry it whole).
fn fit(text: &str) -> String {
    let mut pieces = chunks(text, 32_000);
    if pieces.len() > 1 {
        let mut first = pieces.swap_remove(0);
        first.push('…');
        first
    } else {
        pieces.pop().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_numbers_become_number_cells() {
        assert_eq!(as_number("89.974"), Some(89.974));
        assert_eq!(as_number("0"), Some(0.0));
        assert_eq!(as_number("-12"), Some(-12.0));
        for text in ["8.00", "0123", "1e5", "12345678901234567", "-0", "100%", "", "1.", ".5"] {
            assert_eq!(as_number(text), None, "{text}");
        }
    }
}
