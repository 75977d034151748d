//! The further sheets of a rendered workbook (基本情况, 收支情况, 三公经费, 绩效指标, 项目明细,
//! 工作成效, 问题和建议): the record members the standard table has no place for, as labelled rows.
//!
//! A sheet starts with its title in A1; each member it carries starts at a row `【label】`, and a
//! member it carries replaces the one the table gave, wholesale. Under a member, a row is
//! `label | value` (a text list repeats its label), or a list: a header row `label | column
//! labels…` followed by rows numbered 1, 2, … in column A. A value too long for a cell continues
//! in rows marked `续` in column A.
use serde_json::{Map, Value};

use super::grid::{cell_ref, Grid};
use super::render::{Sheet, Style};
use super::text::{chunks, has_digit, key, parse_date, parse_number};
use crate::domain::record::EvaluationInput;
use crate::intake::{Draft, Provenance, Source, Unmatched};

type Choices = &'static [(&'static str, &'static str)];

/// How a leaf's value is printed and read.
#[derive(Clone, Copy)]
enum Leaf {
    Text,
    /// An amount in 元: printed without trailing zeros
    Amount,
    /// Points, rates, progress: printed without trailing zeros (validation restores their scale)
    Number,
    /// A decimal whose printed digits matter (an indicator's target or actual)
    Exact,
    Int,
    Bool,
    Date,
    Enum(Choices),
}

#[derive(Clone, Copy)]
enum Shape {
    Leaf(Leaf),
    /// A list of texts: one row per text, each with the label
    Texts,
    Object(&'static [Field]),
    /// A list of objects of leaves
    List(&'static [Field]),
}

#[derive(Clone, Copy)]
struct Field {
    key: &'static str,
    label: &'static str,
    shape: Shape,
}

const fn leaf(key: &'static str, label: &'static str, leaf: Leaf) -> Field {
    Field { key, label, shape: Shape::Leaf(leaf) }
}

const fn object(key: &'static str, label: &'static str, fields: &'static [Field]) -> Field {
    Field { key, label, shape: Shape::Object(fields) }
}

const fn list(key: &'static str, label: &'static str, fields: &'static [Field]) -> Field {
    Field { key, label, shape: Shape::List(fields) }
}

const fn texts(key: &'static str, label: &'static str) -> Field {
    Field { key, label, shape: Shape::Texts }
}

use Leaf::{Amount, Bool, Date, Exact, Int, Number, Text};

const KIND: Choices = &[
    ("department_overall", "部门整体支出绩效自评"),
    ("project", "项目支出绩效自评"),
    ("department_evaluation", "部门评价"),
    ("finance_evaluation", "财政评价"),
];
const METHOD: Choices = &[
    ("self_evaluation", "单位自评"),
    ("department_evaluation", "部门评价"),
    ("finance_evaluation", "财政评价"),
    ("third_party", "第三方评价"),
];
const REPORTED_IN: Choices = &[("yuan", "元"), ("ten_thousand_yuan", "万元")];
const INCOME_CATEGORY: Choices = &[
    ("general_budget_appropriation", "一般公共预算财政拨款"),
    ("government_fund_appropriation", "政府性基金预算财政拨款"),
    ("state_capital_appropriation", "国有资本经营预算财政拨款"),
    ("higher_level_subsidy", "上级补助收入"),
    ("institutional", "事业收入"),
    ("business", "经营收入"),
    ("affiliated_remittance", "附属单位上缴收入"),
    ("other", "其他收入"),
];
const STRUCTURE: Choices = &[("basic", "基本支出"), ("project", "项目支出"), ("business", "经营支出")];
const ECONOMIC_CLASS: Choices = &[
    ("wages_welfare", "工资福利支出"),
    ("goods_services", "商品和服务支出"),
    ("household_subsidies", "对个人和家庭的补助"),
    ("capital", "资本性支出"),
    ("other", "其他支出"),
    ("personnel", "人员经费"),
    ("public_funds", "公用经费"),
];
const THREE_PUBLIC_ITEM: Choices = &[
    ("total", "三公经费合计"),
    ("overseas_travel", "因公出国(境)费"),
    ("vehicle_purchase", "公务用车购置费"),
    ("vehicle_operation", "公务用车运行维护费"),
    ("reception", "公务接待费"),
];
const LEVEL_1: Choices = &[
    ("output", "产出指标"),
    ("effect", "效益指标"),
    ("satisfaction", "满意度指标"),
    ("decision", "决策指标"),
    ("process", "过程指标"),
];
const LEVEL_2: Choices = &[
    ("quantity", "数量指标"),
    ("quality", "质量指标"),
    ("timeliness", "时效指标"),
    ("cost", "成本指标"),
    ("economic_benefit", "经济效益指标"),
    ("social_benefit", "社会效益指标"),
    ("ecological_benefit", "生态效益指标"),
    ("sustainable_impact", "可持续影响指标"),
    ("service_satisfaction", "服务对象满意度指标"),
    ("project_initiation", "项目立项"),
    ("performance_targets", "绩效目标"),
    ("funding_input", "资金投入"),
    ("fund_management", "资金管理"),
    ("organisation", "组织实施"),
    ("budget_execution", "预算执行"),
];
const ACHIEVEMENT: Choices = &[("achieved", "达成"), ("partly_achieved", "部分达成"), ("not_achieved", "未达成")];
const DIRECTION: Choices = &[(">=", "≥"), ("<=", "≤"), ("=", "=")];
const NARRATIVE_CATEGORY: Choices = &[
    ("party_building", "党的建设"),
    ("project_construction", "项目建设"),
    ("agriculture_rural", "农业农村"),
    ("social_affairs", "社会事务"),
    ("comprehensive_governance", "综合治理"),
    ("budget_management", "预算与经费管理"),
    ("other", "其他"),
];
const GRADE: Choices = &[("excellent", "优"), ("good", "良"), ("fair", "中"), ("poor", "差")];
const UNIT_TYPE: Choices = &[
    ("administrative", "行政单位"),
    ("civil_service_managed", "参公单位"),
    ("institutional", "事业单位"),
    ("other", "其他"),
];

const UNIT_REFERENCE_COMPETENT: &[Field] = &[leaf("code", "主管部门编码", Text), leaf("name", "主管部门名称", Text)];
const UNIT_REFERENCE_IMPLEMENTING: &[Field] = &[leaf("code", "实施单位编码", Text), leaf("name", "实施单位名称", Text)];
const PROJECT: &[Field] = &[
    leaf("name", "项目名称", Text),
    leaf("code", "项目编码", Text),
    object("competent_department", "主管部门", UNIT_REFERENCE_COMPETENT),
    object("implementing_unit", "实施单位", UNIT_REFERENCE_IMPLEMENTING),
];
const PROFILE: &[Field] = &[
    texts("duties", "部门职责"),
    list("internal_units", "内设机构", &[leaf("name", "机构名称", Text), leaf("count", "个数", Int)]),
    object(
        "staffing_quota",
        "编制数",
        &[
            leaf("total", "编制总数", Int),
            leaf("administrative", "行政编制", Int),
            leaf("civil_service_managed", "参公编制", Int),
            leaf("institutional", "事业编制", Int),
            leaf("government_workers", "机关工勤编制", Int),
        ],
    ),
    leaf("staff_at_year_end", "年末在职人员", Int),
    object(
        "staff_in_post",
        "在职人员",
        &[
            leaf("administrative", "在职行政人员", Int),
            leaf("civil_service_managed", "在职参公人员", Int),
            leaf("institutional", "在职事业人员", Int),
            leaf("government_workers", "在职机关工勤人员", Int),
        ],
    ),
    leaf("retired", "离退休人员", Int),
    leaf("hired", "外聘临时人员", Int),
    leaf("official_vehicles", "公务用车", Int),
    object(
        "consolidated_units",
        "纳入决算单位",
        &[
            leaf("stated_count", "纳入决算单位个数", Int),
            object(
                "stated_by_type",
                "各类单位个数",
                &[
                    leaf("administrative", "行政单位个数", Int),
                    leaf("civil_service_managed", "参公单位个数", Int),
                    leaf("institutional", "事业单位个数", Int),
                    leaf("other", "其他单位个数", Int),
                ],
            ),
            list(
                "units",
                "纳入决算单位名单",
                &[
                    leaf("name", "单位名称", Text),
                    leaf("unit_type", "单位性质", Leaf::Enum(UNIT_TYPE)),
                    leaf("code", "单位编码", Text),
                ],
            ),
        ],
    ),
];
const INCOME: &[Field] = &[
    leaf("total", "收入总计", Amount),
    leaf("opening_carry_over", "年初结转和结余", Amount),
    list(
        "lines",
        "收入明细",
        &[
            leaf("category", "收入类别", Leaf::Enum(INCOME_CATEGORY)),
            leaf("amount", "金额", Amount),
            leaf("initial_budget", "年初预算数", Amount),
            leaf("adjusted_budget", "全年预算数", Amount),
            leaf("stated_share", "占收入比重", Number),
            leaf("note", "说明", Text),
        ],
    ),
    object(
        "prior_year",
        "上年收入",
        &[
            leaf("fiscal_year", "上年收入年度", Int),
            leaf("amount", "上年收入总计", Amount),
            leaf("stated_change", "收入增减额", Amount),
            leaf("stated_change_pct", "收入增减率", Number),
        ],
    ),
];
const EXPENDITURE: &[Field] = &[
    leaf("total", "支出总计", Amount),
    leaf("basic_total", "基本支出", Amount),
    leaf("project_total", "项目支出", Amount),
    leaf("business_total", "经营支出", Amount),
    leaf("year_end_carry_over", "年末结转和结余", Amount),
    list(
        "lines",
        "支出明细",
        &[
            leaf("structure", "支出结构", Leaf::Enum(STRUCTURE)),
            leaf("economic_class", "经济分类", Leaf::Enum(ECONOMIC_CLASS)),
            leaf("name", "名称", Text),
            leaf("initial_budget", "年初预算数", Amount),
            leaf("adjusted_budget", "全年预算数", Amount),
            leaf("executed", "全年执行数", Amount),
        ],
    ),
    object(
        "prior_year",
        "上年支出",
        &[
            leaf("fiscal_year", "上年支出年度", Int),
            leaf("amount", "上年支出总计", Amount),
            leaf("stated_change", "支出增减额", Amount),
            leaf("stated_change_pct", "支出增减率", Number),
        ],
    ),
];
const fn fund_figures(initial: &'static str, adjusted: &'static str, executed: &'static str) -> [Field; 3] {
    [
        leaf("initial_budget", initial, Amount),
        leaf("adjusted_budget", adjusted, Amount),
        leaf("executed", executed, Amount),
    ]
}
const CURRENT: [Field; 3] = fund_figures("当年财政拨款年初预算数", "当年财政拨款全年预算数", "当年财政拨款全年执行数");
const CARRIED: [Field; 3] = fund_figures("上年结转资金年初预算数", "上年结转资金全年预算数", "上年结转资金全年执行数");
const OTHER: [Field; 3] = fund_figures("其他资金年初预算数", "其他资金全年预算数", "其他资金全年执行数");
const BUDGET_EXECUTION: &[Field] = &[
    leaf("initial_budget", "年初预算数", Amount),
    leaf("adjusted_budget", "全年预算数", Amount),
    leaf("executed", "全年执行数", Amount),
    leaf("weight", "分值", Number),
    leaf("stated_rate", "执行率", Number),
    leaf("score", "得分", Number),
    object(
        "sources",
        "资金来源",
        &[
            object("current_appropriation", "当年财政拨款", &CURRENT),
            object("carried_over", "上年结转资金", &CARRIED),
            object("other", "其他资金", &OTHER),
        ],
    ),
];
const THREE_PUBLIC: &[Field] = &[
    leaf("total", "三公经费合计", Amount),
    leaf("budget_total", "三公经费预算数", Amount),
    object(
        "overseas_travel",
        "因公出国(境)",
        &[
            leaf("amount", "因公出国(境)费", Amount),
            leaf("budget", "因公出国(境)费预算数", Amount),
            leaf("stated_share", "因公出国(境)费占比", Number),
            leaf("delegations", "出国(境)团组数", Int),
            leaf("persons", "出国(境)人次", Int),
        ],
    ),
    object(
        "vehicle_purchase",
        "公务用车购置",
        &[
            leaf("amount", "公务用车购置费", Amount),
            leaf("budget", "公务用车购置费预算数", Amount),
            leaf("stated_share", "公务用车购置费占比", Number),
            leaf("vehicles", "购置车辆数", Int),
        ],
    ),
    object(
        "vehicle_operation",
        "公务用车运行维护",
        &[
            leaf("amount", "公务用车运行维护费", Amount),
            leaf("budget", "公务用车运行维护费预算数", Amount),
            leaf("stated_share", "公务用车运行维护费占比", Number),
            leaf("vehicles", "公务用车保有量", Int),
        ],
    ),
    object(
        "reception",
        "公务接待",
        &[
            leaf("amount", "公务接待费", Amount),
            leaf("budget", "公务接待费预算数", Amount),
            leaf("stated_share", "公务接待费占比", Number),
            leaf("batches", "接待批次", Int),
            leaf("persons", "接待人次", Int),
        ],
    ),
    list(
        "prior_year",
        "上年数",
        &[
            leaf("item", "项目", Leaf::Enum(THREE_PUBLIC_ITEM)),
            leaf("fiscal_year", "年度", Int),
            leaf("amount", "金额", Amount),
            leaf("stated_change", "增减额", Amount),
            leaf("stated_change_pct", "增减率", Number),
            leaf("reason", "增减原因", Text),
        ],
    ),
];
const RUNNING_COSTS: &[Field] = &[
    leaf("amount", "机关运行经费", Amount),
    leaf("prior_year_amount", "上年机关运行经费", Amount),
    leaf("prior_fiscal_year", "上年年度", Int),
    leaf("stated_change", "增减额", Amount),
    leaf("stated_change_pct", "增减率", Number),
];
const ANNUAL_TARGET: &[Field] =
    &[leaf("expected", "预期目标", Text), leaf("achieved", "实际完成情况", Text), leaf("weight", "分值", Number)];
const INDICATOR: &[Field] = &[
    leaf("level_1", "一级指标", Leaf::Enum(LEVEL_1)),
    leaf("level_1_points", "一级指标分值", Number),
    leaf("level_2", "二级指标", Leaf::Enum(LEVEL_2)),
    leaf("name", "三级指标", Text),
    leaf("code", "指标编码", Text),
    leaf("matched_code", "按名称匹配的指标编码", Text),
    leaf("unit_of_measure", "计量单位", Text),
    leaf("direction", "指标方向", Leaf::Enum(DIRECTION)),
    leaf("target", "目标值", Exact),
    leaf("target_text", "年度指标值", Text),
    leaf("actual", "实际值", Exact),
    leaf("actual_text", "实际完成值", Text),
    leaf("weight", "分值", Number),
    leaf("score", "得分", Number),
    leaf("achievement", "达成情况", Leaf::Enum(ACHIEVEMENT)),
    leaf("applicable", "是否适用", Bool),
    leaf("deviation_reason", "偏差原因分析及改进措施", Text),
];
const PROJECT_ITEM: &[Field] = &[
    leaf("name", "项目名称", Text),
    leaf("budget", "预算数", Amount),
    leaf("executed", "执行数", Amount),
    leaf("progress", "进度", Number),
    leaf("note", "说明", Text),
];
const NARRATIVE: &[Field] = &[
    list(
        "sections",
        "成效明细",
        &[
            leaf("category", "类别", Leaf::Enum(NARRATIVE_CATEGORY)),
            leaf("title", "标题", Text),
            leaf("text", "正文", Text),
        ],
    ),
    leaf("introduction", "前言", Text),
    leaf("evaluation_purpose", "绩效评价目的", Text),
    leaf("evaluation_process", "绩效评价实施过程", Text),
];
const CONCLUSION: &[Field] = &[
    leaf("text", "评价结论", Text),
    leaf("total_score", "总得分", Number),
    leaf("grade", "评价等级", Leaf::Enum(GRADE)),
    texts("problems", "存在的问题"),
    texts("suggestions", "建议"),
    leaf("budget_disclosed", "预算公开", Bool),
    leaf("final_accounts_disclosed", "决算公开", Bool),
];

/// A further sheet: its title and the record members it carries.
struct SheetSpec {
    title: &'static str,
    members: &'static [Field],
}

const SHEETS: &[SheetSpec] = &[
    SheetSpec {
        title: "基本情况",
        members: &[
            leaf("kind", "评价类型", Leaf::Enum(KIND)),
            leaf("fiscal_year", "年度", Int),
            leaf("unit", "单位名称", Text),
            object("project", "项目信息", PROJECT),
            leaf("budget_unit_code", "预算单位编码", Text),
            leaf("method", "评价方式", Leaf::Enum(METHOD)),
            texts("basis_documents", "评价依据"),
            leaf("issuer", "报告单位", Text),
            leaf("report_date", "报告日期", Date),
            leaf("reported_in", "金额单位", Leaf::Enum(REPORTED_IN)),
            object("profile", "单位概况", PROFILE),
        ],
    },
    SheetSpec {
        title: "收支情况",
        members: &[
            object("income", "收入", INCOME),
            object("expenditure", "支出", EXPENDITURE),
            object("budget_execution", "预算执行", BUDGET_EXECUTION),
        ],
    },
    SheetSpec {
        title: "三公经费",
        members: &[
            object("three_public_expenses", "三公经费", THREE_PUBLIC),
            object("running_costs", "机关运行经费", RUNNING_COSTS),
        ],
    },
    SheetSpec {
        title: "绩效指标",
        members: &[object("annual_target", "年度总体目标", ANNUAL_TARGET), list("indicators", "绩效指标", INDICATOR)],
    },
    SheetSpec { title: "项目明细", members: &[list("projects", "项目", PROJECT_ITEM)] },
    SheetSpec { title: "工作成效", members: &[object("narrative", "工作成效", NARRATIVE)] },
    SheetSpec { title: "问题和建议", members: &[object("conclusion", "评价结论", CONCLUSION)] },
];

/// Members of the record that sheet 1 sets and a further sheet cannot leave unset.
const REQUIRED: [&str; 3] = ["kind", "fiscal_year", "unit"];

/// Every member a further sheet can carry, in sheet order.
pub fn members() -> impl Iterator<Item = &'static str> {
    SHEETS.iter().flat_map(|sheet| sheet.members.iter().map(|m| m.key))
}

/// Excel holds at most 32,767 UTF-16 units in a cell.
const CELL_CHARS: usize = 32_000;

fn marker(label: &str) -> String {
    format!("【{label}】")
}

const CONTINUED: &str = "续";

/// Prints the further sheets carrying `wanted` members of the record.
pub fn sheets(record: &EvaluationInput, wanted: &[&str]) -> Vec<Sheet> {
    let json = serde_json::to_value(record).expect("a record serialises");
    let mut out = Vec::new();
    for spec in SHEETS {
        let members: Vec<&Field> = spec.members.iter().filter(|m| wanted.contains(&m.key)).collect();
        if members.is_empty() {
            continue;
        }
        let mut writer = Writer { sheet: Sheet::new(spec.title), row: 2 };
        writer.sheet.grid.merge(0, 0, 0, 3, spec.title);
        writer.sheet.style(0, 0, Style::Title);
        for member in members {
            writer.member(member, json.get(member.key).unwrap_or(&Value::Null));
        }
        writer.sheet.widths = vec![(0, 22.0), (1, 40.0), (2, 16.0), (3, 16.0)];
        out.push(writer.sheet);
    }
    out
}

struct Writer {
    sheet: Sheet,
    row: usize,
}

impl Writer {
    fn member(&mut self, field: &Field, value: &Value) {
        let at = self.row;
        self.sheet.grid.set(at, 0, marker(field.label));
        self.sheet.style(at, 0, Style::Section);
        match field.shape {
            Shape::Leaf(kind) => {
                let text = leaf_text(kind, value);
                self.row += 1;
                if let Some(text) = text {
                    self.cells(at, &[(1, text)]);
                }
            }
            Shape::Texts => {
                self.row += 1;
                self.texts(field, value);
            }
            Shape::Object(fields) => {
                self.row += 1;
                self.object(fields, value);
            }
            Shape::List(fields) => {
                self.list_rows(at, fields, value);
            }
        }
        self.row += 1;
    }

    /// Writes texts into one row's cells, continuing texts too long for a cell in `续` rows.
    fn cells(&mut self, row: usize, values: &[(usize, String)]) {
        let pieces: Vec<(usize, Vec<String>)> = values.iter().map(|(c, text)| (*c, chunks(text, CELL_CHARS))).collect();
        let extra = pieces.iter().map(|(_, p)| p.len()).max().unwrap_or(1).saturating_sub(1);
        for k in 0..=extra {
            let r = row + k;
            if k > 0 {
                self.sheet.grid.set(r, 0, CONTINUED);
            }
            for (column, parts) in &pieces {
                if let Some(part) = parts.get(k) {
                    self.sheet.grid.set(r, *column, part.clone());
                    self.sheet.style(r, *column, Style::Text);
                }
            }
        }
        self.row = self.row.max(row + extra + 1);
    }

    fn texts(&mut self, field: &Field, value: &Value) {
        for text in value.as_array().into_iter().flatten() {
            let row = self.row;
            self.sheet.grid.set(row, 0, field.label);
            self.sheet.style(row, 0, Style::Label);
            self.cells(row, &[(1, text.as_str().unwrap_or_default().to_owned())]);
        }
    }

    fn object(&mut self, fields: &[Field], value: &Value) {
        let Some(object) = value.as_object() else { return };
        for field in fields {
            let Some(value) = object.get(field.key).filter(|v| !v.is_null()) else { continue };
            match field.shape {
                Shape::Leaf(kind) => {
                    if let Some(text) = leaf_text(kind, value) {
                        let row = self.row;
                        self.sheet.grid.set(row, 0, field.label);
                        self.sheet.style(row, 0, Style::Label);
                        self.cells(row, &[(1, text)]);
                    }
                }
                Shape::Texts => self.texts(field, value),
                Shape::Object(inner) => self.object(inner, value),
                Shape::List(inner) => {
                    if value.as_array().is_some_and(|items| !items.is_empty()) {
                        let row = self.row;
                        self.sheet.grid.set(row, 0, field.label);
                        self.sheet.style(row, 0, Style::Label);
                        self.list_rows(row, inner, value);
                    }
                }
            }
        }
    }

    /// A list: column labels in `header_row` from column B, then one numbered row per item.
    fn list_rows(&mut self, header_row: usize, fields: &[Field], value: &Value) {
        for (i, field) in fields.iter().enumerate() {
            self.sheet.grid.set(header_row, i + 1, field.label);
            self.sheet.style(header_row, i + 1, Style::Label);
        }
        self.row = header_row + 1;
        for (n, item) in value.as_array().into_iter().flatten().enumerate() {
            let row = self.row;
            self.sheet.grid.set(row, 0, (n + 1).to_string());
            self.sheet.style(row, 0, Style::Number);
            let values: Vec<(usize, String)> = fields
                .iter()
                .enumerate()
                .filter_map(|(i, field)| {
                    let Shape::Leaf(kind) = field.shape else { return None };
                    Some((i + 1, leaf_text(kind, item.get(field.key)?)?))
                })
                .collect();
            self.cells(row, &values);
        }
    }
}

fn choice_label(choices: Choices, serde_name: &str) -> Option<&'static str> {
    choices.iter().find(|(name, _)| *name == serde_name).map(|(_, label)| *label)
}

/// A leaf's value as its cell prints it.
fn leaf_text(kind: Leaf, value: &Value) -> Option<String> {
    let text = match value {
        Value::Null => return None,
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(b) => (if *b { "是" } else { "否" }).to_owned(),
        other => other.to_string(),
    };
    Some(match kind {
        Leaf::Amount | Leaf::Number => parse_number(&text).map_or(text, |d| d.normalize().to_string()),
        Leaf::Enum(choices) => choice_label(choices, &text).map_or(text, str::to_owned),
        _ => text,
    })
}

/// A printed cell read back into a leaf's JSON value.
fn leaf_value(kind: Leaf, text: &str) -> Option<Value> {
    match kind {
        Leaf::Text => Some(Value::String(text.to_owned())),
        Leaf::Amount | Leaf::Number | Leaf::Exact => parse_number(text).map(|d| Value::String(d.to_string())),
        Leaf::Int => key(text).parse::<i64>().ok().map(Value::from),
        Leaf::Bool => match key(text).as_str() {
            "是" | "true" | "TRUE" | "1" => Some(Value::Bool(true)),
            "否" | "false" | "FALSE" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        Leaf::Date => parse_date(text).map(|d| Value::String(d.to_string())),
        Leaf::Enum(choices) => {
            let key = key(text);
            choices
                .iter()
                .find(|(name, label)| key == *label || key == *name)
                .map(|(name, _)| Value::String((*name).to_owned()))
        }
    }
}

/// Whether a grid is one of the further sheets: its title in A1 and a member marker in column A.
pub fn is_supplement(grid: &Grid) -> bool {
    spec_of(grid).is_some()
}

fn spec_of(grid: &Grid) -> Option<&'static SheetSpec> {
    let spec = SHEETS.iter().find(|spec| grid.get(0, 0).trim() == spec.title)?;
    let markers: Vec<String> = spec.members.iter().map(|m| marker(m.label)).collect();
    (0..grid.rows()).any(|row| markers.iter().any(|m| grid.get(row, 0).trim() == m)).then_some(spec)
}

/// A path into a member's JSON value.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(&'static str),
    Index(usize),
}

/// A value read, before it is typed: where it goes, its text (continuations appended) and its cell.
struct Entry {
    path: Vec<Step>,
    kind: Leaf,
    text: String,
    row: usize,
    column: usize,
}

/// A list being read: where it goes, its fields by column, its next index.
struct OpenList {
    path: Vec<Step>,
    columns: Vec<(usize, &'static Field)>,
    next: usize,
}

struct Section {
    member: &'static Field,
    entries: Vec<Entry>,
}

/// Labels of a member's scope, flattened through its objects: label → (path, field).
fn scope(fields: &'static [Field], path: &[Step], out: &mut Vec<(&'static str, Vec<Step>, &'static Field)>) {
    for field in fields {
        let mut here = path.to_vec();
        here.push(Step::Key(field.key));
        match field.shape {
            Shape::Object(inner) => scope(inner, &here, out),
            _ => out.push((field.label, here, field)),
        }
    }
}

/// Reads a further sheet into a draft: each member it carries replaces the draft's.
pub fn apply(grid: &Grid, draft: &mut Draft) {
    let Some(spec) = spec_of(grid) else { return };
    let source = |row: usize, column: usize| Source::Cell {
        sheet: grid.name.clone(),
        cell: cell_ref(row, column),
        text: grid.get(row, column).to_owned(),
    };
    let mut sections: Vec<Section> = Vec::new();
    let mut labels: Vec<(&'static str, Vec<Step>, &'static Field)> = Vec::new();
    let mut open: Option<OpenList> = None;
    let mut last_row: Vec<usize> = Vec::new();
    let mut used = std::collections::HashSet::new();
    for row in 1..grid.rows() {
        let first = grid.get(row, 0).trim();
        if first.is_empty() && grid.cells[row].iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        used.insert((row, 0));
        if let Some(member) = spec.members.iter().find(|m| marker(m.label) == first) {
            let mut section = Section { member, entries: Vec::new() };
            labels.clear();
            open = None;
            last_row.clear();
            match member.shape {
                Shape::Leaf(kind) => {
                    let text = grid.get(row, 1);
                    if !text.is_empty() {
                        section.entries.push(Entry { path: Vec::new(), kind, text: text.to_owned(), row, column: 1 });
                        last_row.push(0);
                    }
                }
                Shape::Object(fields) => scope(fields, &[], &mut labels),
                Shape::Texts => labels.push((member.label, Vec::new(), member)),
                Shape::List(fields) => open = Some(open_list(grid, row, Vec::new(), fields)),
            }
            sections.push(section);
            continue;
        }
        let Some(section) = sections.last_mut() else { continue };
        if first == CONTINUED {
            // Continues the texts of the row before, column by column.
            for &index in &last_row {
                let entry = &mut section.entries[index];
                entry.text.push_str(grid.get(row, entry.column));
                used.insert((row, entry.column));
            }
            continue;
        }
        last_row.clear();
        if let (Some(list), Ok(_)) = (&mut open, first.parse::<usize>()) {
            let index = list.next;
            list.next += 1;
            for &(column, field) in &list.columns {
                let text = grid.get(row, column);
                let Shape::Leaf(kind) = field.shape else { continue };
                if text.is_empty() {
                    continue;
                }
                let mut path = list.path.clone();
                path.push(Step::Index(index));
                path.push(Step::Key(field.key));
                last_row.push(section.entries.len());
                section.entries.push(Entry { path, kind, text: text.to_owned(), row, column });
            }
            continue;
        }
        let Some((_, path, field)) = labels.iter().find(|(label, ..)| *label == first).cloned() else { continue };
        match field.shape {
            Shape::Leaf(kind) => {
                last_row.push(section.entries.len());
                section.entries.push(Entry { path, kind, text: grid.get(row, 1).to_owned(), row, column: 1 });
            }
            Shape::Texts => {
                let mut path = path;
                let count = section
                    .entries
                    .iter()
                    .filter(|e| e.path.len() == path.len() + 1 && e.path.starts_with(&path))
                    .count();
                path.push(Step::Index(count));
                last_row.push(section.entries.len());
                section.entries.push(Entry {
                    path,
                    kind: Leaf::Text,
                    text: grid.get(row, 1).to_owned(),
                    row,
                    column: 1,
                });
            }
            Shape::List(fields) => open = Some(open_list(grid, row, path, fields)),
            Shape::Object(_) => {}
        }
    }

    let mut json = serde_json::to_value(&draft.record).expect("a record serialises");
    let mut provenance = Vec::new();
    let mut replaced = Vec::new();
    for section in &sections {
        let member = section.member;
        let mut value = match member.shape {
            Shape::Leaf(_) => Value::Null,
            Shape::Texts | Shape::List(_) => Value::Array(Vec::new()),
            Shape::Object(_) => Value::Object(Map::new()),
        };
        for entry in &section.entries {
            let Some(typed) = leaf_value(entry.kind, &entry.text) else {
                draft.notes.push(format!(
                    "{}!{}: {:?} could not be read",
                    grid.name,
                    cell_ref(entry.row, entry.column),
                    entry.text
                ));
                continue;
            };
            used.insert((entry.row, entry.column));
            set(&mut value, &entry.path, typed);
            provenance.push(Provenance {
                field: path_text(member.key, &entry.path),
                source: source(entry.row, entry.column),
            });
        }
        if value.is_null() && REQUIRED.contains(&member.key) {
            continue;
        }
        json[member.key] = value;
        replaced.push(member.key);
    }
    match serde_json::from_value::<EvaluationInput>(json) {
        Ok(record) => {
            draft.record = record;
            draft.provenance.retain(|p| !replaced.iter().any(|m| belongs(&p.field, m)));
            draft.provenance.extend(provenance);
            for row in 0..grid.rows() {
                for (column, text) in grid.cells[row].iter().enumerate() {
                    if has_digit(text) && !used.contains(&(row, column)) && row > 0 {
                        draft.unmatched.push(Unmatched { source: source(row, column) });
                    }
                }
            }
        }
        Err(error) => draft.notes.push(format!("sheet {} could not be read into the record: {error}", grid.name)),
    }
}

fn open_list(grid: &Grid, row: usize, path: Vec<Step>, fields: &'static [Field]) -> OpenList {
    let columns = (1..grid.cells[row].len())
        .filter_map(|column| {
            let label = grid.get(row, column).trim();
            fields.iter().find(|f| f.label == label).map(|f| (column, f))
        })
        .collect();
    OpenList { path, columns, next: 0 }
}

/// Whether a provenance field belongs to a member (`indicators[3].target` to `indicators`).
fn belongs(field: &str, member: &str) -> bool {
    field == member || field.strip_prefix(member).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

fn path_text(member: &str, path: &[Step]) -> String {
    let mut out = member.to_owned();
    for step in path {
        match step {
            Step::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn set(value: &mut Value, path: &[Step], leaf: Value) {
    let Some((step, rest)) = path.split_first() else {
        *value = leaf;
        return;
    };
    match step {
        Step::Key(key) => {
            if !value.is_object() {
                *value = Value::Object(Map::new());
            }
            let slot = value.as_object_mut().expect("an object").entry(*key).or_insert(Value::Null);
            set(slot, rest, leaf);
        }
        Step::Index(i) => {
            if !value.is_array() {
                *value = Value::Array(Vec::new());
            }
            let items = value.as_array_mut().expect("an array");
            while items.len() <= *i {
                items.push(Value::Null);
            }
            set(&mut items[*i], rest, leaf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashSet};

    /// Every property path of the record (from the committed OpenAPI document), with the enum values
    /// of enum properties.
    fn schema_paths() -> Vec<(String, Option<BTreeSet<String>>)> {
        let doc: Value = serde_json::from_str(include_str!("../../../openapi/openapi.json")).unwrap();
        let schemas = &doc["components"]["schemas"];
        let mut out = Vec::new();
        walk(schemas, &schemas["EvaluationInput"], String::new(), &mut out);
        out
    }

    fn resolve<'a>(schemas: &'a Value, schema: &'a Value) -> &'a Value {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            return resolve(schemas, &schemas[reference.trim_start_matches("#/components/schemas/")]);
        }
        for combinator in ["oneOf", "anyOf", "allOf"] {
            if let Some(parts) = schema.get(combinator).and_then(Value::as_array) {
                if let Some(part) = parts.iter().find(|p| p.get("type") != Some(&Value::from("null"))) {
                    return resolve(schemas, part);
                }
            }
        }
        schema
    }

    fn walk(schemas: &Value, schema: &Value, path: String, out: &mut Vec<(String, Option<BTreeSet<String>>)>) {
        let schema = resolve(schemas, schema);
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                let child = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
                walk(schemas, property, child, out);
            }
        } else if let Some(items) = schema.get("items") {
            let items_resolved = resolve(schemas, items);
            if items_resolved.get("properties").is_some() {
                walk(schemas, items, path, out);
            } else {
                out.push((path, None));
            }
        } else {
            let values = schema
                .get("enum")
                .and_then(Value::as_array)
                .map(|v| v.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect());
            out.push((path, values));
        }
    }

    fn our_paths() -> Vec<(String, Option<BTreeSet<String>>)> {
        fn go(fields: &[Field], path: &str, out: &mut Vec<(String, Option<BTreeSet<String>>)>) {
            for field in fields {
                let here = if path.is_empty() { field.key.to_owned() } else { format!("{path}.{}", field.key) };
                match field.shape {
                    Shape::Object(inner) | Shape::List(inner) => go(inner, &here, out),
                    Shape::Leaf(Leaf::Enum(choices)) => {
                        out.push((here, Some(choices.iter().map(|(n, _)| (*n).to_owned()).collect())))
                    }
                    _ => out.push((here, None)),
                }
            }
        }
        let mut out = Vec::new();
        for spec in SHEETS {
            go(spec.members, "", &mut out);
        }
        out
    }

    #[test]
    fn the_further_sheets_hold_every_member_of_the_record() {
        let ours: Vec<_> = our_paths();
        let schema = schema_paths();
        let our_names: HashSet<&str> = ours.iter().map(|(p, _)| p.as_str()).collect();
        for (path, values) in &schema {
            if path == "region_code" {
                continue;
            }
            assert!(our_names.contains(path.as_str()), "no further-sheet row for {path}");
            if let Some(values) = values {
                let (_, mine) = ours.iter().find(|(p, _)| p == path).unwrap();
                assert_eq!(mine.as_ref(), Some(values), "the choices of {path}");
            }
        }
        assert_eq!(ours.len(), schema.len() - 1, "no rows for members the record does not have");
    }

    #[test]
    fn labels_are_unique_where_they_are_looked_up() {
        for spec in SHEETS {
            for member in spec.members {
                let mut found = Vec::new();
                if let Shape::Object(fields) = member.shape {
                    scope(fields, &[], &mut found);
                }
                let labels: Vec<&str> = found.iter().map(|(l, ..)| *l).collect();
                let unique: HashSet<&str> = labels.iter().copied().collect();
                assert_eq!(labels.len(), unique.len(), "labels of {}: {labels:?}", member.key);
            }
        }
    }
}
