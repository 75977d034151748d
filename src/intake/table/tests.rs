//! Workbooks built in the published layouts of FORMS.md, read into the forms fixtures; variants
//! of the layouts; export → import round trips; limits.
use std::collections::BTreeMap;
use std::io::Write;

use rust_xlsxwriter::{Format, Workbook};
use serde_json::Value;

use super::grid::float_text;
use super::*;
use crate::domain::record::EvaluationInput;
use crate::domain::rules::{check, CheckContext};
use crate::domain::scoring::ScoringRuleSet;
use crate::domain::validation::validate;
use crate::intake::{Source, Unmatched};

fn fixture(name: &str) -> EvaluationInput {
    let text = match name {
        "tanghu" => include_str!("../../../tests/fixtures/forms/tanghu-2020-department.json"),
        "commission" => include_str!("../../../tests/fixtures/forms/tangxi-2022-commission.json"),
        "village" => include_str!("../../../tests/fixtures/forms/tangxi-2022-village.json"),
        "zhanghua" => include_str!("../../../tests/fixtures/forms/zhanghua-2018-budget.json"),
        "yintian" => include_str!("../../../tests/fixtures/yintian-2022.json"),
        _ => unreachable!(),
    };
    serde_json::from_str(text).unwrap()
}

/// A record in canonical form, as JSON.
fn canonical(record: EvaluationInput) -> Value {
    let valid = validate(record).unwrap_or_else(|errors| panic!("the record validates: {errors:?}"));
    serde_json::to_value(valid.record).unwrap()
}

/// Asserts a draft's record equals the expected one member by member, once the caller has set its
/// region code (the reader leaves it empty) and both are in canonical form.
fn assert_same_record(read: &EvaluationInput, expected: &EvaluationInput) {
    let mut read = read.clone();
    assert_eq!(read.region_code, "", "the reader leaves the region to the caller");
    read.region_code = expected.region_code.clone();
    let (got, want) = (canonical(read), canonical(expected.clone()));
    let (got, want) = (got.as_object().unwrap(), want.as_object().unwrap());
    let members: std::collections::BTreeSet<&String> = got.keys().chain(want.keys()).collect();
    let mut differences = Vec::new();
    for member in members {
        let (g, w) = (got.get(member), want.get(member));
        if g != w {
            differences.push(format!(
                "{member}:\n  read     {}\n  expected {}",
                serde_json::to_string(&g).unwrap(),
                serde_json::to_string(&w).unwrap()
            ));
        }
    }
    assert!(differences.is_empty(), "members differ:\n{}", differences.join("\n"));
}

fn findings(record: &EvaluationInput) -> BTreeMap<&'static str, usize> {
    let rules = ScoringRuleSet::national_default();
    let mut out = BTreeMap::new();
    for finding in check(record, &CheckContext { prior_year: None, rules: &rules }) {
        *out.entry(finding.rule).or_default() += 1;
    }
    out
}

/// A sheet being laid out: cells and merged ranges, shifted by a number of rows and with an
/// optional blank column after column A.
#[derive(Clone)]
struct Layout {
    grid: Grid,
    top: usize,
    blank_column: bool,
}

impl Layout {
    fn new(name: &str, top: usize, blank_column: bool) -> Self {
        Self { grid: Grid::new(name), top, blank_column }
    }

    fn column(&self, c: usize) -> usize {
        if self.blank_column && c >= 1 {
            c + 1
        } else {
            c
        }
    }

    fn cell(&mut self, r: usize, c: usize, text: &str) -> &mut Self {
        let (r, c) = (r + self.top, self.column(c));
        self.grid.set(r, c, text);
        self
    }

    fn span(&mut self, r0: usize, c0: usize, r1: usize, c1: usize, text: &str) -> &mut Self {
        let (r0, r1) = (r0 + self.top, r1 + self.top);
        let (c0, c1) = (self.column(c0), self.column(c1));
        self.grid.merge(r0, c0, r1, c1, text);
        self
    }
}

/// An XLSX workbook of grids, written with rust_xlsxwriter: numbers as number cells, merged ranges
/// merged.
fn xlsx(grids: &[&Grid]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let plain = Format::new();
    for grid in grids {
        let sheet = workbook.add_worksheet();
        sheet.set_name(&grid.name).unwrap();
        let mut origins = std::collections::HashSet::new();
        for &(r0, c0, r1, c1) in &grid.merges {
            origins.insert((r0 as usize, c0 as usize));
            sheet.merge_range(r0, c0 as u16, r1, c1 as u16, grid.get(r0 as usize, c0 as usize), &plain).unwrap();
        }
        for (r, cells) in grid.cells.iter().enumerate() {
            for (c, text) in cells.iter().enumerate() {
                if text.is_empty() || origins.contains(&(r, c)) {
                    continue;
                }
                match text.parse::<f64>() {
                    Ok(number) if float_text(number) == *text => {
                        sheet.write_number(r as u32, c as u16, number).unwrap()
                    }
                    _ => sheet.write_string(r as u32, c as u16, text).unwrap(),
                };
            }
        }
    }
    workbook.save_to_buffer().unwrap()
}

/// How a variant of the project layout differs from the published one.
#[derive(Clone)]
struct Variant {
    /// Full-width （）：, as published; half-width () : otherwise
    full_width: bool,
    /// The unit in each amount column's header (年初预算数（万元）) instead of the block's label
    unit_in_columns: bool,
    /// Order of the funds columns (indexes into 年初预算数, 全年预算数, 全年执行数, 分值, 执行率, 得分)
    funds_order: [usize; 6],
    /// Order of the indicator columns after 一级指标 and 二级指标 (三级指标, 年度指标值, 实际完成值,
    /// 分值, 得分, 偏差原因分析及改进措施)
    indicator_order: [usize; 6],
    /// Rows of file header above the table
    top: usize,
    blank_column: bool,
}

const PUBLISHED: Variant = Variant {
    full_width: true,
    unit_in_columns: false,
    funds_order: [0, 1, 2, 3, 4, 5],
    indicator_order: [0, 1, 2, 3, 4, 5],
    top: 0,
    blank_column: false,
};

struct ProjectTable<'a> {
    name: &'a str,
    funds: [[&'a str; 6]; 4],
    expected: &'a str,
    achieved: &'a str,
    /// (level 1 label, level 2 label, name, target, actual, weight, score)
    indicators: &'a [(&'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str)],
}

const COMMISSION: ProjectTable = ProjectTable {
    name: "委托业务项目",
    funds: [
        ["0", "0", "0", "10", "0", "0"],
        ["90", "89.974", "89.974", "—", "", "—"],
        ["", "", "", "—", "", "—"],
        ["", "", "", "—", "", "—"],
    ],
    expected: "申请预算资金90万元，其中30万元用于基建工程项目预算编制、30万元用于审计、30万元用于设计规划测绘",
    achieved: "完成89.97万元，其中基建工程项目预算编制30万元、审计30万元、设计规划测绘29.99万元",
    indicators: &[
        ("产出指标（50分）", "数量指标", "基建工程委托业务项目数量", "≥50个", "50", "8", "8"),
        ("产出指标（50分）", "质量指标", "委托业务报告合格率", "≥100%", "100", "8", "8"),
        ("产出指标（50分）", "质量指标", "经费支出合规性", "严格执行相关制度规定", "达成预期指标", "8", "8"),
        ("产出指标（50分）", "时效指标", "提交报告及时性", "在项目计划完成时间内完成", "达成预期指标", "8", "8"),
        ("产出指标（50分）", "成本指标", "项目总成本", "≤90万元", "90", "8", "8"),
        ("产出指标（50分）", "成本指标", "单项业务成本", "符合相关规定", "达成预期指标", "10", "10"),
        ("效益指标（30分）", "社会效益指标", "社会效益", "效果明显", "达成预期指标", "10", "10"),
        ("效益指标（30分）", "生态效益指标", "生态效益", "效果明显", "达成预期指标", "10", "10"),
        ("效益指标（30分）", "可持续影响指标", "可持续影响", "效果明显", "达成预期指标", "10", "10"),
    ],
};

const VILLAGE: ProjectTable = ProjectTable {
    name: "村级补助及运转经费",
    funds: [["0", "0", "0", "", "", ""], ["202.64", "132.912", "132.912", "", "", ""], ["", "", "", "", "", ""], ["", "", "", "", "", ""]],
    expected: "村级补助及运转经费预算2026400元，其中村级组织运转400000元、村民组长、党小组长基本报酬252000元、村民监督委员会工资28000元、村级事务补助960000元、村级工作目标奖励100000元",
    achieved: "实际支出1329120.67元，其中村级组织运转439120.67元、村民组长、党小组长基本报酬152000元、村民监督委员会工资28000元、村级事务补助660000元、村级工作目标奖励50000元",
    indicators: &[
        ("产出指标", "数量指标", "补助村(社区)数量", "=8个", "8", "8", "8"),
        ("产出指标", "数量指标", "保障村干部人数", "=42个", "42", "8", "8"),
        ("产出指标", "质量指标", "补助资格合规性", "合规", "达成预期指标", "8", "8"),
        ("产出指标", "成本指标", "项目总成本", "≤202.6万元", "132.9", "10", "10"),
    ],
};

/// 棠溪镇's project table as published (财预〔2020〕10号 layout), or a variant of it.
fn project_sheet(sheet: &str, table: &ProjectTable, v: &Variant) -> Grid {
    let paren = |text: &str| {
        if v.full_width {
            text.to_owned()
        } else {
            text.replace('（', "(").replace('）', ")").replace('：', ":")
        }
    };
    let mut l = Layout::new(sheet, 0, v.blank_column);
    if v.top > 0 {
        l.cell(0, 0, "附件2");
        l.span(v.top - 1, 5, v.top - 1, 8, &paren("金额单位：万元"));
        l.top = v.top;
    }
    l.span(0, 0, 0, 8, "项目支出绩效自评表");
    l.span(1, 0, 1, 8, &paren("（2022年度）"));
    l.cell(2, 0, "项目名称").span(2, 1, 2, 8, table.name);
    l.cell(3, 0, "主管部门").span(3, 1, 3, 4, "219-池州市贵池区棠溪镇人民政府");
    l.span(3, 5, 3, 6, "实施单位").span(3, 7, 3, 8, "219001-池州市贵池区棠溪镇人民政府");
    let block =
        if v.unit_in_columns || v.top > 0 { "项目资金".to_owned() } else { paren("项目资金（万元）") };
    l.span(4, 0, 8, 0, &block).span(4, 1, 4, 2, "");
    let columns = ["年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"];
    for (slot, &which) in v.funds_order.iter().enumerate() {
        let label = if v.unit_in_columns && which < 3 {
            paren(&format!("{}（万元）", columns[which]))
        } else {
            columns[which].to_owned()
        };
        l.cell(4, 3 + slot, &label);
    }
    let rows = ["年度资金总额", &paren("其中：本年财政拨款"), "上年结转资金", "其他资金"];
    for (i, row_label) in rows.iter().enumerate() {
        l.span(5 + i, 1, 5 + i, 2, row_label);
        for (slot, &which) in v.funds_order.iter().enumerate() {
            l.cell(5 + i, 3 + slot, table.funds[i][which]);
        }
    }
    l.span(9, 0, 10, 0, "年度总体目标").span(9, 1, 9, 4, "预期目标").span(9, 5, 9, 8, "实际完成情况");
    l.span(10, 1, 10, 4, table.expected).span(10, 5, 10, 8, table.achieved);
    let n = table.indicators.len();
    l.span(11, 0, 11 + n, 0, "绩效指标").cell(11, 1, "一级指标").cell(11, 2, "二级指标");
    let labels = ["三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"];
    for (slot, &which) in v.indicator_order.iter().enumerate() {
        l.cell(11, 3 + slot, labels[which]);
    }
    // Level labels merged down the rows they span.
    let mut start = 0;
    while start < n {
        let end = (start..n).find(|&k| table.indicators[k].0 != table.indicators[start].0).unwrap_or(n);
        l.span(12 + start, 1, 11 + end, 1, &paren(table.indicators[start].0));
        let mut inner = start;
        while inner < end {
            let stop = (inner..end).find(|&k| table.indicators[k].1 != table.indicators[inner].1).unwrap_or(end);
            l.span(12 + inner, 2, 11 + stop, 2, table.indicators[inner].1);
            inner = stop;
        }
        start = end;
    }
    for (i, row) in table.indicators.iter().enumerate() {
        let values = [row.2, row.3, row.4, row.5, row.6, ""];
        for (slot, &which) in v.indicator_order.iter().enumerate() {
            l.cell(12 + i, 3 + slot, values[which]);
        }
    }
    let weight_slot = v.indicator_order.iter().position(|&which| which == 3).expect("a 分值 column");
    l.span(12 + n, 0, 12 + n, 2, "总分").cell(12 + n, 3 + weight_slot, "100");
    l.grid
}

/// 塘湖镇's department table (Hubei): 填报单位 and 填报日期 above the table, 预算数 / 执行数 /
/// 执行率 / 分值 / 得分, the annual target with its points, no fiscal year.
fn tanghu_sheet() -> Grid {
    let mut l = Layout::new("塘湖镇", 0, false);
    l.span(0, 0, 0, 8, "部门整体支出绩效自评表");
    l.span(1, 0, 1, 4, "填报单位（盖章）：通城县塘湖镇人民政府").span(1, 5, 1, 8, "填报日期：2021年5月18日");
    l.cell(2, 0, "部门（单位）名称").span(2, 1, 2, 8, "通城县塘湖镇人民政府");
    l.span(3, 0, 6, 0, "年度预算执行情况（万元）").span(3, 1, 3, 2, "");
    for (i, label) in ["预算数", "执行数", "执行率", "分值", "得分"].into_iter().enumerate() {
        l.cell(3, 3 + i, label);
    }
    l.span(4, 1, 4, 2, "部门整体支出总额")
        .cell(4, 3, "864.2")
        .cell(4, 4, "864.2")
        .cell(4, 5, "100%")
        .cell(4, 6, "20")
        .cell(4, 7, "20");
    l.span(5, 1, 5, 2, "其中：基本支出").cell(5, 3, "864.2").cell(5, 4, "864.2");
    l.span(6, 1, 6, 2, "项目支出").cell(6, 3, "0").cell(6, 4, "0");
    l.cell(7, 0, "年度目标1：（80分）").span(7, 1, 7, 8, "");
    l.span(8, 0, 14, 0, "绩效指标");
    for (i, label) in
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"]
            .into_iter()
            .enumerate()
    {
        l.cell(8, 1 + i, label);
    }
    l.span(9, 1, 11, 1, "产出指标").span(9, 2, 10, 2, "数量指标").cell(11, 2, "时效指标");
    l.span(12, 1, 13, 1, "效益指标").span(12, 2, 13, 2, "社会效益指标");
    l.cell(14, 1, "满意度指标").cell(14, 2, "群众满意度指标");
    let rows = [
        ("办结信访案件", "168起", "168起", "10"),
        ("拆除活人墓、豪华墓", "32座", "32座", "20"),
        ("解决群众问题时间", "2天以内", "2天以内", "10"),
        ("改善人居环境", "有效改善", "有效改善", "10"),
        ("提升出行效率", "有效提升", "有效提升", "10"),
        ("群众对政府工作满意度", "≧90%", "95%", "20"),
    ];
    for (i, (name, target, actual, points)) in rows.into_iter().enumerate() {
        l.cell(9 + i, 3, name)
            .cell(9 + i, 4, target)
            .cell(9 + i, 5, actual)
            .cell(9 + i, 6, points)
            .cell(9 + i, 7, points)
            .cell(9 + i, 8, "无");
    }
    l.span(15, 0, 15, 5, "总分").cell(15, 6, "100").cell(15, 7, "100");
    l.grid
}

fn cell_of<'a>(draft: &'a crate::intake::Draft, field: &str) -> (&'a str, &'a str) {
    let provenance =
        draft.provenance.iter().find(|p| p.field == field).unwrap_or_else(|| panic!("no provenance for {field}"));
    match &provenance.source {
        Source::Cell { cell, text, .. } => (cell.as_str(), text.as_str()),
        Source::Span { .. } => panic!("a table field comes from a cell"),
    }
}

fn unmatched_cells(unmatched: &[Unmatched]) -> Vec<String> {
    unmatched
        .iter()
        .map(|u| match &u.source {
            Source::Cell { sheet, cell, text } => format!("{sheet}!{cell} {text}"),
            Source::Span { text, .. } => text.clone(),
        })
        .collect()
}

#[test]
fn tangxi_project_tables_as_two_sheets_of_one_workbook() {
    let bytes = xlsx(&[
        &project_sheet("委托业务项目", &COMMISSION, &PUBLISHED),
        &project_sheet("村级补助", &VILLAGE, &PUBLISHED),
    ]);
    let drafts = read_workbook(&bytes, &Limits::default()).unwrap();
    assert_eq!(drafts.len(), 2);
    let (commission, village) = (&drafts[0], &drafts[1]);
    assert_eq!(commission.sheet.as_deref(), Some("委托业务项目"));
    assert_eq!(village.sheet.as_deref(), Some("村级补助"));
    assert_same_record(&commission.record, &fixture("commission"));
    assert_same_record(&village.record, &fixture("village"));
    assert!(commission.notes.is_empty(), "{:?}", commission.notes);
    assert!(village.notes.is_empty(), "{:?}", village.notes);

    // Provenance of a sample of fields.
    assert_eq!(cell_of(commission, "project.name"), ("B3", "委托业务项目"));
    assert_eq!(cell_of(commission, "project.competent_department.code"), ("B4", "219-池州市贵池区棠溪镇人民政府"));
    assert_eq!(cell_of(commission, "unit"), ("H4", "219001-池州市贵池区棠溪镇人民政府"));
    assert_eq!(cell_of(commission, "fiscal_year"), ("A2", "（2022年度）"));
    assert_eq!(cell_of(commission, "reported_in"), ("A5", "项目资金（万元）"));
    assert_eq!(cell_of(commission, "budget_execution.weight"), ("G6", "10"));
    assert_eq!(cell_of(commission, "budget_execution.sources.current_appropriation.adjusted_budget"), ("E7", "89.974"));
    assert_eq!(cell_of(commission, "annual_target.expected").0, "B11");
    assert_eq!(cell_of(commission, "indicators[0].level_1_points"), ("B13", "产出指标（50分）"));
    assert_eq!(cell_of(commission, "indicators[0].target"), ("E13", "≥50个"));
    assert_eq!(cell_of(commission, "indicators[8].level_2"), ("C21", "可持续影响指标"));
    assert_eq!(cell_of(commission, "indicators[8].achievement"), ("F21", "达成预期指标"));
    assert_eq!(cell_of(commission, "projects[2].executed").0, "F11");
    assert_eq!(cell_of(village, "budget_execution.sources.current_appropriation.initial_budget"), ("D7", "202.64"));

    // Nothing with a number is dropped silently: the total's 100 points have no field.
    assert_eq!(unmatched_cells(&commission.unmatched), ["委托业务项目!G22 100"]);
    assert_eq!(unmatched_cells(&village.unmatched), ["村级补助!G17 100"]);

    // The findings these tables deserve: a 年度资金总额 of 0/0/0 under money-carrying sources, and
    // the village's items that do not add up to its budget.
    let mut commission_record = commission.record.clone();
    commission_record.region_code = "341702108".into();
    let expected = |pairs: &[(&'static str, usize)]| pairs.iter().copied().collect::<BTreeMap<_, _>>();
    // The 年度资金总额 row of 0/0/0 under sources that carry the money, in all three columns; the stated
    // rate and score of 0 that follow from it; no 满意度 rows, so the weights miss 100; and items whose
    // execution (89.97万, 29.99万 for 测绘) is not the 89.974万 executed.
    assert_eq!(
        findings(&commission_record),
        expected(&[
            ("execution_rate_stated", 1),
            ("funds_score_computed", 1),
            ("funds_total", 3),
            ("indicator_weights_sum", 1),
            ("project_items_total", 1)
        ])
    );
    let mut village_record = village.record.clone();
    village_record.region_code = "341702108".into();
    // The same empty total; items that add up to 1740000元, not the 2026400元 budget (and to
    // 1329120.67元 executed, within rounding of the 132.912万); the four indicator rows FORMS.md gives.
    assert_eq!(
        findings(&village_record),
        expected(&[("funds_total", 3), ("indicator_weights_sum", 1), ("project_items_total", 2)])
    );
}

#[test]
fn tanghu_department_table() {
    let bytes = xlsx(&[&tanghu_sheet()]);
    let drafts = read_workbook(&bytes, &Limits::default()).unwrap();
    assert_eq!(drafts.len(), 1);
    let draft = &drafts[0];
    assert_eq!(draft.record.fiscal_year, 0, "no year is printed on the table");
    assert_eq!(draft.notes, ["no fiscal year printed on the table (filled 2021-05-18)"]);
    let mut record = draft.record.clone();
    record.fiscal_year = 2020;
    assert_same_record(&record, &fixture("tanghu"));
    assert_eq!(cell_of(draft, "report_date"), ("F2", "填报日期：2021年5月18日"));
    assert_eq!(cell_of(draft, "unit"), ("B3", "通城县塘湖镇人民政府"));
    assert_eq!(cell_of(draft, "annual_target.weight"), ("A8", "年度目标1：（80分）"));
    assert_eq!(cell_of(draft, "budget_execution.stated_rate"), ("F5", "100%"));
    assert_eq!(cell_of(draft, "indicators[5].target_text"), ("E15", "≧90%"));
    assert_eq!(cell_of(draft, "conclusion.total_score"), ("H16", "100"));
    // The budgets of 基本支出 and 项目支出 and the total's 100 points have no field.
    assert_eq!(unmatched_cells(&draft.unmatched), ["塘湖镇!D6 864.2", "塘湖镇!D7 0", "塘湖镇!G16 100"]);
    record.region_code = "421222102".into();
    let found = findings(&record);
    assert!(found.is_empty(), "a table that adds up: {found:?}");
}

#[test]
fn variants_of_the_project_layout_read_the_same() {
    let variants = [
        ("half-width punctuation", Variant { full_width: false, ..PUBLISHED }),
        ("unit in the column headers", Variant { unit_in_columns: true, ..PUBLISHED }),
        (
            "columns in another order",
            Variant { funds_order: [2, 0, 1, 4, 3, 5], indicator_order: [0, 2, 1, 5, 3, 4], ..PUBLISHED },
        ),
        ("a blank column", Variant { blank_column: true, ..PUBLISHED }),
        ("under a file header", Variant { top: 4, ..PUBLISHED }),
        (
            "all at once",
            Variant {
                full_width: false,
                unit_in_columns: true,
                funds_order: [1, 2, 0, 5, 4, 3],
                indicator_order: [0, 1, 2, 4, 3, 5],
                top: 3,
                blank_column: true,
            },
        ),
    ];
    for (what, variant) in variants {
        let grid = project_sheet("s", &COMMISSION, &variant);
        let bytes = xlsx(&[&grid]);
        let drafts = read_workbook(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(drafts.len(), 1, "{what}");
        std::panic::catch_unwind(|| assert_same_record(&drafts[0].record, &fixture("commission")))
            .unwrap_or_else(|_| panic!("variant: {what}"));
        assert!(drafts[0].notes.is_empty(), "{what}: {:?}", drafts[0].notes);
    }
}

#[test]
fn several_tables_on_one_sheet_give_several_drafts() {
    let mut grid = project_sheet("s", &COMMISSION, &PUBLISHED);
    let second = project_sheet("s", &VILLAGE, &PUBLISHED);
    let offset = grid.rows() + 2;
    for (r, cells) in second.cells.iter().enumerate() {
        for (c, text) in cells.iter().enumerate() {
            if !text.is_empty() {
                grid.set(offset + r, c, text.clone());
            }
        }
    }
    grid.merges.extend(second.merges.iter().map(|&(r0, c0, r1, c1)| (r0 + offset as u32, c0, r1 + offset as u32, c1)));
    let drafts = read_grids(&[grid]).unwrap();
    assert_eq!(drafts.len(), 2);
    assert_same_record(&drafts[0].record, &fixture("commission"));
    assert_same_record(&drafts[1].record, &fixture("village"));
}

#[test]
fn a_workbook_without_a_table_names_the_labels_looked_for() {
    let mut staff = Grid::new("花名册");
    for (c, label) in ["序号", "姓名", "性别", "职务", "参加工作时间", "联系电话"].into_iter().enumerate()
    {
        staff.set(0, c, label);
    }
    for r in 1..30 {
        for (c, text) in
            [r.to_string(), format!("张{r}"), "男".into(), "科员".into(), "2010-09-01".into(), "13800000000".into()]
                .into_iter()
                .enumerate()
        {
            staff.set(r, c, text);
        }
    }
    assert_eq!(read_grid(&staff), None);
    let error = read_workbook(&xlsx(&[&staff]), &Limits::default()).unwrap_err();
    let TableError::NoTable { looked_for } = &error else { panic!("{error:?}") };
    for label in ["项目名称", "年度资金总额", "一级指标", "三级指标"] {
        assert!(looked_for.iter().any(|l| l == label), "{label} in {looked_for:?}");
    }
    assert!(error.to_string().contains("一级指标"));
}

#[test]
fn broken_and_oversized_workbooks_are_refused() {
    assert!(matches!(
        read_workbook(b"PK\x03\x04 not really", &Limits::default()),
        Err(TableError::Archive(archive::ArchiveError::Corrupt(_)))
    ));
    // A readable zip that is no workbook.
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file("word/document.xml", zip::write::SimpleFileOptions::default()).unwrap();
    writer.write_all(b"<w:document/>").unwrap();
    let docx = writer.finish().unwrap().into_inner();
    assert!(matches!(read_workbook(&docx, &Limits::default()), Err(TableError::Corrupt(_))));
    // A real workbook over a small limit.
    let bytes = xlsx(&[&tanghu_sheet()]);
    let small = Limits { max_uncompressed: 4096 };
    assert_eq!(
        read_workbook(&bytes, &small),
        Err(TableError::Archive(archive::ArchiveError::TooLarge { limit: 4096 }))
    );
}

use crate::intake::archive;

fn round_trip(name: &str) {
    let record = fixture(name);
    let bytes = render_record(&record);
    let drafts = read_workbook(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(drafts.len(), 1, "{name}");
    assert_same_record(&drafts[0].record, &record);
}

#[test]
fn the_reference_record_round_trips() {
    round_trip("yintian");
}

#[test]
fn the_forms_records_round_trip() {
    for name in ["commission", "village", "tanghu", "zhanghua"] {
        round_trip(name);
    }
}

#[test]
fn a_project_record_renders_as_the_standard_table_alone() {
    let record = fixture("commission");
    let sheets = render::sheets(&record);
    let names: Vec<&str> = sheets.iter().map(|s| s.grid.name.as_str()).collect();
    assert_eq!(names, ["项目支出绩效自评表"], "the table holds the whole record");
    let grid = &sheets[0].grid;
    assert_eq!(grid.get(0, 0), "项目支出绩效自评表");
    assert_eq!(grid.get(1, 0), "（2022年度）");
    assert_eq!(grid.get(3, 1), "219-池州市贵池区棠溪镇人民政府");
    assert_eq!(grid.get(4, 0), "项目资金（万元）");
    assert_eq!(grid.get(6, 1), "其中：当年财政拨款");
    assert_eq!(grid.get(6, 4), "89.974");
    assert_eq!(grid.get(5, 7), "0.00%");
    assert_eq!(grid.get(12, 1), "产出指标（50分）");
    assert_eq!(grid.get(12, 4), "≥50个");
    assert!(grid.merges.contains(&(12, 1, 17, 1)), "产出指标 merged down its six rows");
}

#[test]
fn the_reference_record_gets_further_sheets_for_what_the_table_cannot_hold() {
    let sheets = render::sheets(&fixture("yintian"));
    let names: Vec<&str> = sheets.iter().map(|s| s.grid.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "部门整体支出绩效自评表",
            "基本情况",
            "收支情况",
            "三公经费",
            "绩效指标",
            "项目明细",
            "工作成效",
            "问题和建议"
        ]
    );
}

#[test]
fn a_long_sheet_reads_in_linear_time() {
    let rows: Vec<(&str, &str, String, &str, &str, &str, &str)> =
        (0..10_000).map(|i| ("产出指标（50分）", "数量指标", format!("指标{i}"), "≥50个", "50", "8", "8")).collect();
    let names: Vec<(&str, &str, &str, &str, &str, &str, &str)> =
        rows.iter().map(|r| (r.0, r.1, r.2.as_str(), r.3, r.4, r.5, r.6)).collect();
    let table = ProjectTable { indicators: &names, ..COMMISSION };
    let grid = project_sheet("s", &table, &PUBLISHED);
    let started = std::time::Instant::now();
    let draft = read_grid(&grid).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(draft.record.indicators.len(), 10_000);
    assert!(elapsed.as_secs_f64() < 5.0, "10,000 rows read in {elapsed:?}");
    let bytes = xlsx(&[&grid]);
    let started = std::time::Instant::now();
    assert_eq!(read_workbook(&bytes, &Limits::default()).unwrap()[0].record.indicators.len(), 10_000);
    assert!(started.elapsed().as_secs_f64() < 10.0, "10,000 rows from XLSX in {:?}", started.elapsed());
}

/// The JSON paths of a record's filled leaves (`indicators[3].target`).
fn filled_paths(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                filled_paths(value, &child, out);
            }
        }
        Value::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                filled_paths(value, &format!("{path}[{i}]"), out);
            }
        }
        Value::Null => {}
        _ => out.push(path.to_owned()),
    }
}

#[test]
fn every_filled_field_says_where_it_was_read() {
    let bytes = xlsx(&[
        &project_sheet("委托", &COMMISSION, &PUBLISHED),
        &project_sheet("村级", &VILLAGE, &PUBLISHED),
        &tanghu_sheet(),
    ]);
    let drafts = read_workbook(&bytes, &Limits::default()).unwrap();
    assert_eq!(drafts.len(), 3);
    for draft in &drafts {
        let mut paths = Vec::new();
        filled_paths(&serde_json::to_value(&draft.record).unwrap(), "", &mut paths);
        let defaults = |path: &str| path == "region_code" || path == "fiscal_year" || path.ends_with(".applicable");
        let missing: Vec<&String> = paths
            .iter()
            .filter(|path| !defaults(path) && !draft.provenance.iter().any(|p| &p.field == *path))
            .collect();
        assert!(missing.is_empty(), "{:?}: no provenance for {missing:?}", draft.sheet);
        for provenance in &draft.provenance {
            assert!(
                paths.contains(&provenance.field),
                "{:?}: provenance for an unfilled field {}",
                draft.sheet,
                provenance.field
            );
        }
    }
}

#[test]
fn unfilled_rows_of_the_blank_form_are_no_indicators() {
    let mut rows: Vec<(&str, &str, &str, &str, &str, &str, &str)> = COMMISSION.indicators.to_vec();
    rows.push(("满意度指标（10分）", "服务对象满意度指标", "指标1：", "", "", "", ""));
    rows.push(("满意度指标（10分）", "服务对象满意度指标", "指标2：", "—", "—", "", ""));
    let table = ProjectTable { indicators: &rows, ..COMMISSION };
    let draft = read_grid(&project_sheet("s", &table, &PUBLISHED)).unwrap();
    assert_same_record(&draft.record, &fixture("commission"));
}

#[test]
fn a_department_table_of_another_province() {
    // Values beside their labels in one row, 人员经费 and 公用经费 under 基本支出, an Excel date and a
    // percentage-formatted number, level labels repeated or left blank instead of merged, a grade.
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("整体").unwrap();
    let plain = Format::new();
    let texts: &[(u32, u16, &str)] = &[
        (0, 0, "2020年度部门整体支出绩效自评表"),
        (1, 0, "单位名称"),
        (1, 1, "某县某镇人民政府"),
        (1, 4, "填报日期"),
        (2, 0, "预算执行情况（元）"),
        (2, 1, "全年预算数"),
        (2, 3, "全年执行数"),
        (2, 5, "执行率"),
        (2, 7, "分值"),
        (2, 9, "得分"),
        (3, 0, "年度目标"),
        (3, 1, "全面完成年度各项工作任务"),
        (4, 0, "一级指标"),
        (4, 1, "二级指标"),
        (4, 2, "三级指标"),
        (4, 3, "指标值"),
        (4, 4, "实际值"),
        (4, 5, "权重"),
        (4, 6, "得分"),
        (5, 0, "产出指标"),
        (5, 1, "数量指标"),
        (5, 2, "新建道路"),
        (5, 3, "≥5公里"),
        (5, 4, "5.2公里"),
        (6, 2, "维修桥梁"),
        (6, 3, "=2座"),
        (6, 4, "2座"),
        (7, 0, "满意度指标"),
        (7, 1, "满意度"),
        (7, 2, "群众满意率"),
        (7, 3, "≥95%"),
        (7, 4, "部分达成"),
        (8, 0, "合计"),
        (9, 0, "自评等级"),
        (9, 1, "良好"),
    ];
    for &(r, c, text) in texts {
        sheet.write_string(r, c, text).unwrap();
    }
    let numbers: &[(u32, u16, f64)] = &[
        (2, 2, 1234567.8),
        (2, 4, 1200000.0),
        (2, 8, 10.0),
        (2, 10, 9.72),
        (5, 5, 30.0),
        (5, 6, 30.0),
        (6, 5, 30.0),
        (6, 6, 30.0),
        (7, 5, 10.0),
        (7, 6, 6.0),
        (8, 6, 75.72),
    ];
    for &(r, c, number) in numbers {
        sheet.write_number(r, c, number).unwrap();
    }
    sheet.write_number_with_format(2, 6, 0.972, &Format::new().set_num_format("0.00%")).unwrap();
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2021, 3, 2).unwrap();
    sheet.write_datetime_with_format(1, 5, &date, &Format::new().set_num_format("yyyy-mm-dd")).unwrap();
    let _ = plain;
    let bytes = workbook.save_to_buffer().unwrap();
    let drafts = read_workbook(&bytes, &Limits::default()).unwrap();
    let draft = &drafts[0];
    let record = &draft.record;
    assert_eq!(record.kind, crate::domain::record::EvaluationKind::DepartmentOverall);
    assert_eq!(record.fiscal_year, 2020);
    assert_eq!(record.unit, "某县某镇人民政府");
    assert_eq!(record.report_date.unwrap().to_string(), "2021-03-02");
    assert_eq!(record.reported_in, crate::domain::record::ReportedIn::Yuan);
    let budget = serde_json::to_value(&record.budget_execution).unwrap();
    assert_eq!(
        budget,
        serde_json::json!({"adjusted_budget": "1234567.80", "executed": "1200000.00", "stated_rate": "0.972", "weight": "10", "score": "9.72"})
    );
    assert_eq!(record.expenditure.total.unwrap().to_string(), "1200000.00");
    assert_eq!(record.annual_target.as_ref().unwrap().expected.as_deref(), Some("全面完成年度各项工作任务"));
    let rows: Vec<String> = record
        .indicators
        .iter()
        .map(|i| {
            serde_json::to_string(&(
                i.level_1,
                i.level_2,
                &i.name,
                i.direction,
                i.target,
                &i.unit_of_measure,
                i.actual,
                &i.actual_text,
                i.achievement,
            ))
            .unwrap()
        })
        .collect();
    assert_eq!(
        rows,
        [
            r#"["output","quantity","新建道路",">=","5","公里","5.2",null,null]"#,
            r#"["output","quantity","维修桥梁","=","2","座","2",null,null]"#,
            r#"["satisfaction","service_satisfaction","群众满意率",">=","95","%",null,"部分达成","partly_achieved"]"#,
        ]
    );
    assert_eq!(record.conclusion.total_score.unwrap().to_string(), "75.72");
    assert_eq!(record.conclusion.grade, Some(crate::domain::record::Grade::Good));
    assert_eq!(cell_of(draft, "budget_execution.stated_rate"), ("G3", "97.2%"));
    assert!(draft.unmatched.is_empty(), "{:?}", unmatched_cells(&draft.unmatched));
}

#[test]
fn figures_that_are_no_whole_number_of_fen_are_left_out_and_said() {
    let mut table = project_sheet("s", &COMMISSION, &PUBLISHED);
    table.set(6, 4, "89.9745678");
    table.set(7, 1, "上年结转资金");
    table.set(7, 3, "1329120.67元");
    let draft = read_grid(&table).unwrap();
    let sources = &draft.record.budget_execution.sources;
    assert_eq!(sources.current_appropriation.as_ref().unwrap().adjusted_budget, None);
    assert_eq!(sources.carried_over.as_ref().unwrap().initial_budget.unwrap().to_string(), "1329120.67");
    assert_eq!(draft.notes, ["s!E7: 89.9745678万元 is no whole number of 分 in 元; left out, not rounded"]);
    assert!(unmatched_cells(&draft.unmatched).contains(&"s!E7 89.9745678".to_owned()));
}

#[test]
fn basic_expenditure_lines_in_the_funds_block() {
    let mut l = Layout::new("s", 0, false);
    l.span(0, 0, 0, 6, "部门整体支出绩效自评表").cell(1, 0, "单位名称").span(1, 1, 1, 6, "某镇人民政府");
    l.span(2, 0, 7, 0, "预算执行情况（万元）");
    for (i, label) in ["年初预算数", "全年预算数", "全年执行数"].into_iter().enumerate() {
        l.cell(2, 2 + i, label);
    }
    let rows = [
        ("部门整体支出总额", "100", "120", "118.5"),
        ("基本支出", "80", "90", "89.5"),
        ("其中：人员经费", "60", "65", "64.5"),
        ("公用经费", "20", "25", "25"),
        ("项目支出", "20", "30", "29"),
    ];
    for (i, (label, a, b, c)) in rows.into_iter().enumerate() {
        l.cell(3 + i, 1, label).cell(3 + i, 2, a).cell(3 + i, 3, b).cell(3 + i, 4, c);
    }
    let draft = read_grid(&l.grid).unwrap();
    let lines = serde_json::to_value(&draft.record.expenditure).unwrap();
    assert_eq!(
        lines,
        serde_json::json!({
            "total": "1185000.00", "basic_total": "895000.00", "project_total": "290000.00",
            "lines": [
                {"structure": "basic", "economic_class": "personnel", "name": "人员经费", "initial_budget": "600000.00", "adjusted_budget": "650000.00", "executed": "645000.00"},
                {"structure": "basic", "economic_class": "public_funds", "name": "公用经费", "initial_budget": "200000.00", "adjusted_budget": "250000.00", "executed": "250000.00"}
            ]
        })
    );
    assert_eq!(cell_of(&draft, "expenditure.lines[1].executed"), ("E7", "25"));
    // The budgets of 基本支出 and 项目支出 have no field.
    assert_eq!(unmatched_cells(&draft.unmatched), ["s!C5 80", "s!D5 90", "s!C8 20", "s!D8 30"]);
}

#[test]
fn an_indicator_header_of_two_rows() {
    let mut l = Layout::new("s", 0, false);
    l.span(0, 0, 0, 7, "项目支出绩效自评表").cell(1, 0, "项目名称").span(1, 1, 1, 7, "道路维修");
    l.span(2, 0, 3, 0, "一级指标").span(2, 1, 3, 1, "二级指标").span(2, 2, 3, 2, "三级指标");
    l.span(2, 3, 2, 4, "指标值").cell(3, 3, "年度指标值").cell(3, 4, "实际完成值");
    l.span(2, 5, 3, 5, "分值").span(2, 6, 3, 6, "得分");
    l.cell(4, 0, "产出指标")
        .cell(4, 1, "数量指标")
        .cell(4, 2, "维修道路")
        .cell(4, 3, "≥5公里")
        .cell(4, 4, "5")
        .cell(4, 5, "20")
        .cell(4, 6, "20");
    let draft = read_grid(&l.grid).unwrap();
    let indicator = &draft.record.indicators[0];
    assert_eq!(
        (indicator.target.unwrap().to_string(), indicator.actual.unwrap().to_string()),
        ("5".into(), "5".into())
    );
    assert_eq!(indicator.weight.unwrap().to_string(), "20");
    assert_eq!(draft.record.indicators.len(), 1);
    assert!(draft.unmatched.is_empty(), "{:?}", unmatched_cells(&draft.unmatched));
}

#[test]
fn synthetic_records_round_trip() {
    use crate::domain::demo::{project_records, record, Township};
    let townships = [
        ("430482104", "荫田镇", "常宁市"),
        ("341702108", "棠溪镇", "贵池区"),
        ("430482001", "培元街道", "常宁市"),
        ("510821205", "某乡", "旺苍县"),
    ];
    let mut count = 0;
    for (code, name, county) in townships {
        let township = Township { code: code.into(), name: name.into(), county_name: county.into() };
        for year in [2019, 2023] {
            let mut records = vec![record(&township, year)];
            records.extend(project_records(&township, year));
            for original in records {
                let bytes = render_record(&original);
                let drafts = read_workbook(&bytes, &Limits::default()).unwrap();
                assert_eq!(drafts.len(), 1);
                assert_same_record(&drafts[0].record, &original);
                count += 1;
            }
        }
    }
    assert!(count > 8, "{count} records");
}
