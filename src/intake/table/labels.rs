//! The labels self-evaluation tables print, in the variants provinces use, looked up by key.
use rust_decimal::Decimal;

use super::text::{half_width, key, parse_number};
use crate::domain::record::{EconomicClass, IndicatorLevel1, IndicatorLevel2, ReportedIn};

/// A label cell taken apart: `产出指标（50分）` → 产出指标 + 50 points; `项目资金（万元）` → 项目资金 +
/// 万元; `单位名称：通城县塘湖镇人民政府` → 单位名称 + an inline value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelText {
    /// The key without numbering, `其中`, parenthesised parts, points and trailing digits
    pub core: String,
    pub points: Option<Decimal>,
    pub unit: Option<ReportedIn>,
    /// What follows a colon, as printed (trimmed)
    pub inline: Option<String>,
}

fn unit_in(text: &str) -> Option<ReportedIn> {
    if text.contains("万元") {
        Some(ReportedIn::TenThousandYuan)
    } else if text.contains('元') {
        Some(ReportedIn::Yuan)
    } else {
        None
    }
}

fn points_in(text: &str) -> Option<Decimal> {
    parse_number(text.strip_suffix('分')?)
}

/// Strips `一、`, `1、`, `1.`, `(一)`, `(1)` numbering from the front of a key.
fn strip_numbering(key: &str) -> &str {
    let numeral = |c: char| c.is_ascii_digit() || "一二三四五六七八九十".contains(c);
    if let Some(rest) = key.strip_prefix('(') {
        if let Some(end) = rest.find(')') {
            if end > 0 && rest[..end].chars().all(numeral) && rest.len() > end + 1 {
                return &rest[end + 1..];
            }
        }
    }
    let n: usize = key.chars().take_while(|c| numeral(*c)).map(char::len_utf8).sum();
    if n > 0 {
        let rest = &key[n..];
        for separator in ["、", ".", "．"] {
            if let Some(after) = rest.strip_prefix(separator) {
                if after.chars().next().is_some_and(|c| !c.is_ascii_digit()) {
                    return after;
                }
            }
        }
    }
    key
}

/// Byte offset of the first colon (full-width or half-width) outside brackets.
fn colon_outside_brackets(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match half_width(c) {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// Takes a label cell apart; see [`LabelText`].
pub fn split_label(raw: &str) -> LabelText {
    let full = key(raw);
    let mut head = strip_numbering(&full);
    for prefix in ["其中:", "其中"] {
        if let Some(rest) = head.strip_prefix(prefix) {
            if !rest.is_empty() {
                head = rest;
                break;
            }
        }
    }
    let (head, tail) = match colon_outside_brackets(head) {
        Some(at) => (&head[..at], Some(&head[at + 1..])),
        None => (head, None),
    };
    let mut core = String::new();
    let mut points = None;
    let mut unit = None;
    let mut depth = 0usize;
    let mut group = String::new();
    for c in head.chars() {
        match c {
            '(' => {
                depth += 1;
                group.clear();
            }
            ')' if depth > 0 => {
                depth -= 1;
                unit = unit.or(unit_in(&group));
                points = points.or(points_in(&group));
            }
            _ if depth > 0 => group.push(c),
            _ => core.push(c),
        }
    }
    // 产出指标50分, 年度目标1
    if let Some(stripped) = core.strip_suffix('分') {
        let digits = stripped.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        if digits.len() < stripped.len() && !digits.is_empty() {
            points = points.or(parse_number(&stripped[digits.len()..]));
            core.truncate(digits.len());
        }
    }
    let trimmed = core.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if trimmed > 0 {
        core.truncate(trimmed);
    }
    let mut inline = None;
    if let Some(tail) = tail {
        let tail_points = points_in(tail.trim_start_matches('(').trim_end_matches(')'));
        if tail_points.is_some() && points.is_none() {
            points = tail_points;
        } else if !tail.is_empty() {
            // The inline value as printed: everything after the first colon of the raw text.
            let at = colon_outside_brackets(raw).map(|i| i + raw[i..].chars().next().map_or(1, char::len_utf8));
            inline = at.map(|i| raw[i..].trim().to_owned()).filter(|v| !v.is_empty());
        }
    }
    LabelText { core, points, unit, inline }
}

/// A unit marker cell (`单位：万元`, `金额单位：元`, `（单位：万元）`): the unit it names.
pub fn unit_marker(raw: &str) -> Option<ReportedIn> {
    let key = key(raw);
    let key = key.trim_start_matches('(').trim_end_matches(')');
    for prefix in ["金额单位:", "单位:", "资金单位:", "计量单位:"] {
        if let Some(rest) = key.strip_prefix(prefix) {
            if rest.chars().count() <= 6 {
                return unit_in(rest);
            }
        }
    }
    None
}

/// Which table a title names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TitleKind {
    Project,
    Department,
}

pub fn title(raw: &str) -> Option<TitleKind> {
    let key = key(raw);
    if key.chars().count() > 60 {
        return None;
    }
    const PROJECT: [&str; 5] =
        ["项目支出绩效自评表", "项目绩效自评表", "项目支出绩效评价自评表", "项目自评表", "项目支出绩效目标自评表"];
    const DEPARTMENT: [&str; 5] = [
        "整体支出绩效自评表",
        "整体绩效自评表",
        "整体支出绩效评价自评表",
        "整体支出自评表",
        "部门整体支出绩效目标自评表",
    ];
    if PROJECT.iter().any(|t| key.contains(t)) {
        Some(TitleKind::Project)
    } else if DEPARTMENT.iter().any(|t| key.contains(t)) {
        Some(TitleKind::Department)
    } else {
        None
    }
}

/// Labels that stand alone anywhere in a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    ProjectName,
    ProjectCode,
    CompetentDepartment,
    ImplementingUnit,
    UnitName,
    Filler,
    ReportDate,
    FiscalYear,
    UnitCode,
    FundsBlock,
    AnnualTarget,
    Expected,
    Achieved,
    IndicatorBlock,
    TotalScore,
    Grade,
    Conclusion,
    Problems,
    Suggestions,
    /// 填报人, 联系电话, 单位负责人 …: labels with no field, read so that their values are not taken
    /// for another label's
    Contact,
}

impl Label {
    /// Labels whose value stands to their right (or after their colon).
    pub fn is_header(self) -> bool {
        matches!(
            self,
            Label::ProjectName
                | Label::ProjectCode
                | Label::CompetentDepartment
                | Label::ImplementingUnit
                | Label::UnitName
                | Label::Filler
                | Label::ReportDate
                | Label::FiscalYear
                | Label::UnitCode
                | Label::Contact
        )
    }
}

const LABELS: &[(Label, &[&str])] = &[
    (Label::ProjectName, &["项目名称", "项目全称"]),
    (Label::ProjectCode, &["项目编码", "项目代码", "项目编号"]),
    (Label::CompetentDepartment, &["主管部门", "主管部门及代码", "主管单位", "主管部门名称", "主管部门及编码"]),
    (Label::ImplementingUnit, &["实施单位", "项目实施单位", "实施单位名称", "实施单位及代码", "实施单位及编码"]),
    (Label::UnitName, &["单位名称", "部门名称", "预算单位", "预算单位名称", "评价单位"]),
    (Label::Filler, &["填报单位", "报送单位", "编报单位", "填表单位"]),
    (Label::ReportDate, &["填报日期", "填报时间", "报送日期", "填表日期", "日期"]),
    (Label::FiscalYear, &["年度", "评价年度", "项目年度", "所属年度", "预算年度"]),
    (Label::UnitCode, &["单位编码", "单位代码", "预算单位编码", "部门编码", "预算单位代码"]),
    (
        Label::FundsBlock,
        &["项目资金", "项目资金情况", "年度预算执行情况", "资金情况", "部门预算执行情况", "预算资金", "资金投入情况"],
    ),
    (
        Label::AnnualTarget,
        &[
            "年度总体目标",
            "年度目标",
            "总体目标",
            "年度绩效目标",
            "年度总体目标完成情况",
            "整体绩效目标",
            "年度主要目标",
            "绩效目标",
        ],
    ),
    (Label::Expected, &["预期目标", "年度预期目标", "目标", "预期"]),
    (
        Label::Achieved,
        &["实际完成情况", "实际完成", "年度实际完成情况", "全年实际完成情况", "实际完成目标", "目标完成情况"],
    ),
    (Label::IndicatorBlock, &["绩效指标", "年度绩效指标", "绩效指标完成情况"]),
    (
        Label::TotalScore,
        &["总分", "总计", "综合得分", "自评总分", "总得分", "得分合计", "合计得分", "自评得分合计", "合计"],
    ),
    (Label::Grade, &["自评等级", "评价等级", "绩效等级", "等级", "自评结果", "评价结果", "绩效评价等级"]),
    (Label::Conclusion, &["评价结论", "自评结论", "结论", "总体评价"]),
    (Label::Problems, &["存在的问题", "存在问题", "主要问题", "问题"]),
    (Label::Suggestions, &["改进措施", "建议", "改进建议", "整改措施", "下一步改进措施", "意见建议", "改进意见"]),
    (
        Label::Contact,
        &[
            "填报人",
            "填表人",
            "联系人",
            "联系电话",
            "电话",
            "负责人",
            "单位负责人",
            "财务负责人",
            "审核人",
            "经办人",
            "项目负责人",
        ],
    ),
];

fn find<T: Copy>(table: &[(T, &[&str])], core: &str) -> Option<T> {
    table.iter().find(|(_, variants)| variants.contains(&core)).map(|(label, _)| *label)
}

pub fn label(core: &str) -> Option<Label> {
    find(LABELS, core)
}

/// Columns of the funds block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FundsColumn {
    Initial,
    Adjusted,
    /// 预算数 alone: the adjusted budget, unless a 全年预算数 column is there too
    Budget,
    Executed,
    Weight,
    Rate,
    Score,
}

const FUNDS_COLUMNS: &[(FundsColumn, &[&str])] = &[
    (FundsColumn::Initial, &["年初预算数", "年初预算", "年初预算金额", "年初数", "年初预算安排数"]),
    (FundsColumn::Adjusted, &["全年预算数", "调整后预算数", "全年预算", "调整预算数", "预算调整数", "全年预算金额"]),
    (FundsColumn::Budget, &["预算数", "预算金额", "预算", "年度预算数", "年度预算", "批复预算数", "预算批复数"]),
    (
        FundsColumn::Executed,
        &[
            "全年执行数",
            "执行数",
            "实际执行数",
            "全年实际执行数",
            "实际支出数",
            "决算数",
            "实际支出",
            "执行金额",
            "全年实际支出",
            "实际执行金额",
        ],
    ),
    (FundsColumn::Weight, &["分值", "权重"]),
    (FundsColumn::Rate, &["执行率", "预算执行率", "资金执行率", "全年执行率"]),
    (FundsColumn::Score, &["得分", "自评得分"]),
];

pub fn funds_column(core: &str) -> Option<FundsColumn> {
    find(FUNDS_COLUMNS, core)
}

/// Rows of the funds block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FundsRow {
    Total,
    Current,
    CarriedOver,
    Other,
    Basic,
    Project,
    /// A line of basic expenditure (人员经费, 公用经费, or an economic class)
    Line(EconomicClass),
}

const FUNDS_ROWS: &[(FundsRow, &[&str])] = &[
    (
        FundsRow::Total,
        &[
            "年度资金总额",
            "资金总额",
            "年度资金总额合计",
            "部门整体支出总额",
            "整体支出总额",
            "部门整体支出",
            "部门支出总额",
            "支出总额",
            "预算执行情况",
            "年度预算执行情况",
            "合计",
            "总计",
            "部门预算支出总额",
            "资金合计",
            "项目资金总额",
            "年度预算资金总额",
        ],
    ),
    (
        FundsRow::Current,
        &[
            "当年财政拨款",
            "本年财政拨款",
            "财政拨款",
            "当年财政资金",
            "本年度财政拨款",
            "财政资金",
            "本级财政资金",
            "当年预算拨款",
            "财政拨款资金",
        ],
    ),
    (
        FundsRow::CarriedOver,
        &["上年结转资金", "上年结转", "上年结余结转资金", "上年结转结余资金", "结转资金", "上年结余", "上年结转结余"],
    ),
    (FundsRow::Other, &["其他资金", "其他", "自筹资金", "其他来源资金"]),
    (FundsRow::Basic, &["基本支出"]),
    (FundsRow::Project, &["项目支出"]),
    (FundsRow::Line(EconomicClass::Personnel), &["人员经费"]),
    (FundsRow::Line(EconomicClass::PublicFunds), &["公用经费"]),
    (FundsRow::Line(EconomicClass::WagesWelfare), &["工资福利支出"]),
    (FundsRow::Line(EconomicClass::GoodsServices), &["商品和服务支出"]),
    (FundsRow::Line(EconomicClass::HouseholdSubsidies), &["对个人和家庭的补助", "对个人和家庭补助"]),
];

pub fn funds_row(core: &str) -> Option<FundsRow> {
    find(FUNDS_ROWS, core)
}

/// Columns of the indicator table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndicatorColumn {
    Level1,
    Level2,
    Level3,
    Target,
    Actual,
    Weight,
    Score,
    Deviation,
    Unit,
    Direction,
    Code,
}

const INDICATOR_COLUMNS: &[(IndicatorColumn, &[&str])] = &[
    (IndicatorColumn::Level1, &["一级指标"]),
    (IndicatorColumn::Level2, &["二级指标"]),
    (IndicatorColumn::Level3, &["三级指标", "三级指标名称", "指标名称", "三级指标内容"]),
    (
        IndicatorColumn::Target,
        &[
            "年度指标值",
            "指标值",
            "年度目标值",
            "目标值",
            "预期指标值",
            "年度预期指标值",
            "计划指标值",
            "预期值",
            "指标目标值",
            "年度绩效指标值",
            "预期目标值",
            "年初目标值",
            "年度目标",
        ],
    ),
    (
        IndicatorColumn::Actual,
        &[
            "实际完成值",
            "实际值",
            "完成值",
            "实际完成情况",
            "全年实际值",
            "实际完成指标值",
            "年度实际完成值",
            "全年实际完成值",
            "实际完成",
        ],
    ),
    (IndicatorColumn::Weight, &["分值", "权重", "指标分值", "指标权重"]),
    (IndicatorColumn::Score, &["得分", "自评得分", "评分", "实际得分"]),
    (
        IndicatorColumn::Deviation,
        &[
            "偏差原因分析及改进措施",
            "偏差原因分析",
            "偏差原因",
            "偏差原因及改进措施",
            "未完成原因分析",
            "未完成原因及改进措施",
            "未完成原因和改进措施",
            "原因分析及改进措施",
            "偏差原因分析和改进措施",
            "偏差原因分析及下一步改进措施",
        ],
    ),
    (IndicatorColumn::Unit, &["计量单位", "单位", "度量单位"]),
    (IndicatorColumn::Direction, &["指标方向", "方向", "指标性质"]),
    (IndicatorColumn::Code, &["指标编码", "指标代码"]),
];

pub fn indicator_column(core: &str) -> Option<IndicatorColumn> {
    find(INDICATOR_COLUMNS, core)
}

/// A level-1 label (`产出指标`, `效益`, …); 成本指标, a level-1 group in some newer forms, has no
/// level of its own in the record and is read as an output (the second member says so).
pub fn level_1(core: &str) -> Option<(IndicatorLevel1, bool)> {
    let table: [(&str, IndicatorLevel1); 6] = [
        ("产出", IndicatorLevel1::Output),
        ("效益", IndicatorLevel1::Effect),
        ("效果", IndicatorLevel1::Effect),
        ("满意", IndicatorLevel1::Satisfaction),
        ("决策", IndicatorLevel1::Decision),
        ("过程", IndicatorLevel1::Process),
    ];
    if let Some((_, level)) = table.iter().find(|(word, _)| core.contains(word)) {
        return Some((*level, false));
    }
    core.contains("成本").then_some((IndicatorLevel1::Output, true))
}

pub fn level_2(core: &str) -> Option<IndicatorLevel2> {
    use IndicatorLevel2::*;
    let table: [(&str, IndicatorLevel2); 18] = [
        ("满意", ServiceSatisfaction),
        ("数量", Quantity),
        ("质量", Quality),
        ("时效", Timeliness),
        ("进度", Timeliness),
        ("成本", Cost),
        ("经济效益", EconomicBenefit),
        ("社会效益", SocialBenefit),
        ("生态", EcologicalBenefit),
        ("环境效益", EcologicalBenefit),
        ("可持续", SustainableImpact),
        ("立项", ProjectInitiation),
        ("绩效目标", PerformanceTargets),
        ("资金投入", FundingInput),
        ("资金管理", FundManagement),
        ("财务管理", FundManagement),
        ("组织实施", Organisation),
        ("预算执行", BudgetExecution),
    ];
    let loose: [(&str, IndicatorLevel2); 6] = [
        ("社会", SocialBenefit),
        ("经济", EconomicBenefit),
        ("环境", EcologicalBenefit),
        ("持续", SustainableImpact),
        ("影响", SustainableImpact),
        ("服务对象", ServiceSatisfaction),
    ];
    table.iter().chain(loose.iter()).find(|(word, _)| core.contains(word)).map(|(_, level)| *level)
}

/// The Chinese label a table prints for a level.
pub fn level_1_label(level: IndicatorLevel1) -> &'static str {
    match level {
        IndicatorLevel1::Output => "产出指标",
        IndicatorLevel1::Effect => "效益指标",
        IndicatorLevel1::Satisfaction => "满意度指标",
        IndicatorLevel1::Decision => "决策指标",
        IndicatorLevel1::Process => "过程指标",
    }
}

pub fn level_2_label(level: IndicatorLevel2) -> &'static str {
    use IndicatorLevel2::*;
    match level {
        Quantity => "数量指标",
        Quality => "质量指标",
        Timeliness => "时效指标",
        Cost => "成本指标",
        EconomicBenefit => "经济效益指标",
        SocialBenefit => "社会效益指标",
        EcologicalBenefit => "生态效益指标",
        SustainableImpact => "可持续影响指标",
        ServiceSatisfaction => "服务对象满意度指标",
        ProjectInitiation => "项目立项",
        PerformanceTargets => "绩效目标",
        FundingInput => "资金投入",
        FundManagement => "资金管理",
        Organisation => "组织实施",
        BudgetExecution => "预算执行",
    }
}

/// The labels a workbook with no recognisable table was searched for.
pub fn looked_for() -> Vec<String> {
    [
        "项目支出绩效自评表",
        "部门整体支出绩效自评表",
        "项目名称",
        "单位名称",
        "年度资金总额",
        "年初预算数",
        "全年预算数",
        "全年执行数",
        "一级指标",
        "二级指标",
        "三级指标",
        "年度指标值",
        "实际完成值",
    ]
    .map(str::to_owned)
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn split(raw: &str) -> (String, Option<Decimal>, Option<ReportedIn>, Option<String>) {
        let label = split_label(raw);
        (label.core, label.points, label.unit, label.inline)
    }

    #[test]
    fn labels_come_apart_into_core_points_unit_and_inline_value() {
        let d = |s: &str| Some(Decimal::from_str(s).unwrap());
        let wan = Some(ReportedIn::TenThousandYuan);
        assert_eq!(split("产出指标（50分）"), ("产出指标".into(), d("50"), None, None));
        assert_eq!(split("产出指标(50分)"), ("产出指标".into(), d("50"), None, None));
        assert_eq!(split("效益指标 30分"), ("效益指标".into(), d("30"), None, None));
        assert_eq!(split("项目资金（万元）"), ("项目资金".into(), None, wan, None));
        assert_eq!(split("年初预算数(万元)"), ("年初预算数".into(), None, wan, None));
        assert_eq!(split("其中：当年财政拨款"), ("当年财政拨款".into(), None, None, None));
        assert_eq!(split("年度目标1：（80分）"), ("年度目标".into(), d("80"), None, None));
        assert_eq!(split("部门（单位）名称"), ("部门名称".into(), None, None, None));
        assert_eq!(
            split("填报单位（盖章）：通城县塘湖镇人民政府"),
            ("填报单位".into(), None, None, Some("通城县塘湖镇人民政府".into()))
        );
        assert_eq!(split("填报日期：2021年5月18日"), ("填报日期".into(), None, None, Some("2021年5月18日".into())));
        assert_eq!(split("一、 绩效指标"), ("绩效指标".into(), None, None, None));
        assert_eq!(split("（单位：万元）项目资金"), ("项目资金".into(), None, wan, None));
        assert_eq!(split("偏差原因分析\n及改进措施"), ("偏差原因分析及改进措施".into(), None, None, None));
        assert_eq!(unit_marker("单位：万元"), wan);
        assert_eq!(unit_marker("金额单位：元"), Some(ReportedIn::Yuan));
        assert_eq!(unit_marker("（单位：万元）"), wan);
        assert_eq!(unit_marker("单位名称"), None);
    }

    #[test]
    fn titles_and_levels() {
        assert_eq!(title("项目支出绩效自评表"), Some(TitleKind::Project));
        assert_eq!(title("附件2：2022年度项目支出绩效自评表"), Some(TitleKind::Project));
        assert_eq!(title("部门（单位）整体支出绩效自评表"), Some(TitleKind::Department));
        assert_eq!(title("职工花名册"), None);
        assert_eq!(level_1("产出指标"), Some((IndicatorLevel1::Output, false)));
        assert_eq!(level_1("成本指标"), Some((IndicatorLevel1::Output, true)));
        assert_eq!(level_2("服务对象满意度指标"), Some(IndicatorLevel2::ServiceSatisfaction));
        assert_eq!(level_2("群众满意度"), Some(IndicatorLevel2::ServiceSatisfaction));
        assert_eq!(level_2("社会成本指标"), Some(IndicatorLevel2::Cost));
        assert_eq!(level_2("生态环境效益指标"), Some(IndicatorLevel2::EcologicalBenefit));
        assert_eq!(level_2("社会影响指标"), Some(IndicatorLevel2::SocialBenefit));
        assert_eq!(level_2("效率指标"), None);
    }
}
