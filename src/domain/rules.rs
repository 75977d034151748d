//! Consistency rules (勾稽关系): a record's figures checked against each other, against its
//! indicator table and scoring rules, and against the township's record of the year before.
//!
//! Reports round to 0.01万元 (100元), so each figure of a 万元 report may be up to 50元 off the exact
//! amount: a difference that this rounding explains passes with a note instead of failing.
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::money::significant_scale;
use super::record::{
    EconomicClass, EvaluationInput, EvaluationKind, ExpenditureLine, ExpenditureStructure, Grade, PriorYearTotal,
    ReportedIn, ThreePublicExpenses, ThreePublicItem, UnitType,
};
use super::scoring::{
    assess, execution_basis, funds_score, grade_for, rate_of, rounded, total_row_is_empty_while_sources_carry_money,
    weigh, BudgetBasis, ScoringRuleSet,
};

/// How much a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 错误: blocks submission
    Error,
    /// 警告: shown to the reviewer, does not block
    Warning,
    /// 提示: a difference within rounding; passes
    Note,
}

/// One broken (or, for a note, nearly broken) rule: which, where, and by how much.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Finding {
    /// Stable id of the rule
    #[schema(example = "basic_expenditure_total")]
    pub rule: &'static str,
    /// Number of the rule in the list of consistency rules (1–10)
    #[schema(example = 3, minimum = 1, maximum = 10)]
    pub rule_number: u8,
    /// 严重程度
    pub severity: Severity,
    /// JSON paths of the fields involved, the stated one first
    #[schema(example = json!(["expenditure.basic_total", "expenditure.lines[0].executed"]))]
    pub fields: Vec<String>,
    /// The value the record states (an amount in 元, a score, a year, a head count)
    #[schema(value_type = Option<String>, example = "9180400.00")]
    pub stated: Option<Decimal>,
    /// The value the other figures give (for an execution rate: the rate, 0–1)
    #[schema(value_type = Option<String>, example = "9080400.00")]
    pub computed: Option<Decimal>,
    /// 说明
    #[schema(example = "基本支出合计 9180400.00 元与明细之和 9080400.00 元不符")]
    pub message_zh: String,
    /// Explanation
    #[schema(
        example = "Basic expenditure total of 9180400.00 yuan differs from the sum of its lines, 9080400.00 yuan"
    )]
    pub message_en: String,
}

/// What a check needs besides the record.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    /// The stored record of the same township for `fiscal_year − 1`, when there is one
    pub prior_year: Option<&'a EvaluationInput>,
    /// Scoring rules of the record's province
    pub rules: &'a ScoringRuleSet,
}

/// Checks every rule that has the figures it needs, in rule order.
pub fn check(record: &EvaluationInput, context: &CheckContext) -> Vec<Finding> {
    let mut c = Checker { reported_in: record.reported_in, findings: Vec::new() };
    income_total(&mut c, record);
    expenditure_total(&mut c, record);
    structure_totals(&mut c, record);
    three_public_total(&mut c, record);
    income_expenditure_balance(&mut c, record);
    funds_block_score(&mut c, record);
    indicators(&mut c, record, context.rules);
    funds_total(&mut c, record);
    project_items_total(&mut c, record);
    execution(&mut c, record);
    three_public_budget(&mut c, record);
    stated_changes(&mut c, record);
    stated_shares(&mut c, record);
    prior_year_figures(&mut c, record, context.prior_year);
    staffing_quota(&mut c, record);
    staffing_categories(&mut c, record);
    consolidated_units(&mut c, record);
    c.findings
}

/// Whether any finding blocks submission.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|finding| finding.severity == Severity::Error)
}

#[derive(Clone, Copy)]
struct Rule {
    id: &'static str,
    number: u8,
}

const INCOME_TOTAL: Rule = Rule { id: "income_total", number: 1 };
const EXPENDITURE_TOTAL: Rule = Rule { id: "expenditure_total", number: 2 };
const BASIC_EXPENDITURE_TOTAL: Rule = Rule { id: "basic_expenditure_total", number: 3 };
const PROJECT_EXPENDITURE_TOTAL: Rule = Rule { id: "project_expenditure_total", number: 3 };
const THREE_PUBLIC_TOTAL: Rule = Rule { id: "three_public_total", number: 4 };
const THREE_PUBLIC_BUDGET_TOTAL: Rule = Rule { id: "three_public_budget_total", number: 4 };
const INCOME_EXPENDITURE_BALANCE: Rule = Rule { id: "income_expenditure_balance", number: 5 };
const INDICATOR_SCORE_WITHIN_WEIGHT: Rule = Rule { id: "indicator_score_within_weight", number: 6 };
const INDICATOR_SCORE_COMPUTED: Rule = Rule { id: "indicator_score_computed", number: 6 };
const INDICATOR_SCORE_BAND: Rule = Rule { id: "indicator_score_band", number: 6 };
const FUNDS_SCORE_WITHIN_WEIGHT: Rule = Rule { id: "funds_score_within_weight", number: 6 };
const FUNDS_SCORE_COMPUTED: Rule = Rule { id: "funds_score_computed", number: 6 };
const INDICATOR_WEIGHTS_SUM: Rule = Rule { id: "indicator_weights_sum", number: 6 };
const TOTAL_SCORE: Rule = Rule { id: "total_score", number: 6 };
const GRADE_BAND: Rule = Rule { id: "grade_band", number: 6 };
const FUNDS_TOTAL: Rule = Rule { id: "funds_total", number: 7 };
const PROJECT_ITEMS_TOTAL: Rule = Rule { id: "project_items_total", number: 7 };
const EXECUTION_RATE: Rule = Rule { id: "execution_rate", number: 7 };
const EXECUTION_RATE_STATED: Rule = Rule { id: "execution_rate_stated", number: 7 };
const THREE_PUBLIC_OVER_BUDGET: Rule = Rule { id: "three_public_over_budget", number: 7 };
const STATED_CHANGE: Rule = Rule { id: "stated_change", number: 8 };
const STATED_PERCENTAGE: Rule = Rule { id: "stated_percentage", number: 8 };
const STATED_SHARE: Rule = Rule { id: "stated_share", number: 8 };
const PRIOR_YEAR_FIGURES: Rule = Rule { id: "prior_year_figures", number: 9 };
const STAFFING_QUOTA: Rule = Rule { id: "staffing_quota", number: 10 };
const STAFFING_CATEGORIES: Rule = Rule { id: "staffing_categories", number: 10 };
const CONSOLIDATED_UNITS: Rule = Rule { id: "consolidated_units", number: 10 };

/// Scores are stated with two decimals; a difference up to 0.01 is rounding.
fn score_tolerance() -> Decimal {
    Decimal::new(1, 2)
}

/// How far one figure of a report may be from the exact amount: half of 0.01万元, or nothing for 元.
fn rounding_per_figure(reported_in: ReportedIn) -> Decimal {
    match reported_in {
        ReportedIn::Yuan => Decimal::ZERO,
        ReportedIn::TenThousandYuan => Decimal::from(50),
    }
}

/// What the figures compared are measured in, for messages and canonical scale.
#[derive(Clone, Copy)]
enum Unit {
    Yuan,
    Points,
}

impl Unit {
    fn show(self, value: Decimal) -> String {
        rounded(value, 2).to_string()
    }

    fn zh(self) -> &'static str {
        match self {
            Unit::Yuan => "元",
            Unit::Points => "分",
        }
    }

    fn en(self) -> &'static str {
        match self {
            Unit::Yuan => "yuan",
            Unit::Points => "points",
        }
    }
}

/// Collects findings while the rules run.
struct Checker {
    reported_in: ReportedIn,
    findings: Vec<Finding>,
}

impl Checker {
    /// Tolerance for an equation between `figures` rounded figures of this record.
    fn tolerance(&self, figures: usize) -> Decimal {
        rounding_per_figure(self.reported_in) * Decimal::from(figures)
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        rule: Rule,
        severity: Severity,
        fields: Vec<String>,
        stated: Option<Decimal>,
        computed: Option<Decimal>,
        message_zh: String,
        message_en: String,
    ) {
        self.findings.push(Finding {
            rule: rule.id,
            rule_number: rule.number,
            severity,
            fields,
            stated,
            computed,
            message_zh,
            message_en,
        });
    }

    /// Compares a stated figure with what the other figures make it: nothing when they agree, a note
    /// when the difference is within `tolerance`, else a finding of `severity`. `messages` gets the
    /// stated and computed values as text.
    #[allow(clippy::too_many_arguments)]
    fn compare(
        &mut self,
        rule: Rule,
        severity: Severity,
        fields: Vec<String>,
        stated: Decimal,
        computed: Decimal,
        tolerance: Decimal,
        unit: Unit,
        messages: impl FnOnce(&str, &str) -> (String, String),
    ) {
        let difference = (stated - computed).abs();
        let Some(severity) = judge(difference, tolerance, severity) else { return };
        let (mut message_zh, mut message_en) = messages(&unit.show(stated), &unit.show(computed));
        if severity == Severity::Note {
            add_rounding_note(&mut message_zh, &mut message_en, difference, tolerance, unit);
        }
        let (stated, computed) = (rounded(stated, 2), rounded(computed, 2));
        self.push(rule, severity, fields, Some(stated), Some(computed), message_zh, message_en);
    }
}

/// The severity a difference earns: none at zero, a note within `tolerance`, else `severity`.
fn judge(difference: Decimal, tolerance: Decimal, severity: Severity) -> Option<Severity> {
    if difference.is_zero() {
        None
    } else if difference <= tolerance {
        Some(Severity::Note)
    } else {
        Some(severity)
    }
}

fn add_rounding_note(zh: &mut String, en: &mut String, difference: Decimal, tolerance: Decimal, unit: Unit) {
    let (difference, tolerance) = (unit.show(difference), unit.show(tolerance));
    zh.push_str(&format!("，差额 {difference} {}在舍入误差 {tolerance} {}以内", unit.zh(), unit.zh()));
    en.push_str(&format!(
        "; the difference of {difference} {} is within the rounding tolerance of {tolerance} {}",
        unit.en(),
        unit.en()
    ));
}

/// Rule 1: 收入合计 = Σ 收入明细.
fn income_total(c: &mut Checker, record: &EvaluationInput) {
    let income = &record.income;
    let Some(total) = income.total else { return };
    if income.lines.is_empty() {
        return;
    }
    let sum: Decimal = income.lines.iter().map(|line| line.amount).sum();
    let mut fields = vec!["income.total".to_owned()];
    fields.extend((0..income.lines.len()).map(|i| format!("income.lines[{i}].amount")));
    let tolerance = c.tolerance(income.lines.len() + 1);
    c.compare(INCOME_TOTAL, Severity::Error, fields, total, sum, tolerance, Unit::Yuan, |s, k| {
        (
            format!("收入合计 {s} 元与收入明细之和 {k} 元不符"),
            format!("Income total of {s} yuan differs from the sum of its lines, {k} yuan"),
        )
    });
}

/// Rule 2: 支出合计 = 基本支出 + 项目支出 (+ 经营支出).
fn expenditure_total(c: &mut Checker, record: &EvaluationInput) {
    let expenditure = &record.expenditure;
    let Some(total) = expenditure.total else { return };
    if expenditure.basic_total.is_none() && expenditure.project_total.is_none() {
        return;
    }
    let parts = [
        ("expenditure.basic_total", "基本支出", "basic", expenditure.basic_total),
        ("expenditure.project_total", "项目支出", "project", expenditure.project_total),
        ("expenditure.business_total", "经营支出", "business", expenditure.business_total),
    ];
    let present: Vec<_> = parts.iter().filter_map(|&(field, zh, en, value)| Some((field, zh, en, value?))).collect();
    let sum: Decimal = present.iter().map(|part| part.3).sum();
    let mut fields = vec!["expenditure.total".to_owned()];
    fields.extend(present.iter().map(|part| part.0.to_owned()));
    let names_zh = present.iter().map(|part| part.1).collect::<Vec<_>>().join("、");
    let names_en = present.iter().map(|part| part.2).collect::<Vec<_>>().join(" + ");
    let tolerance = c.tolerance(present.len() + 1);
    c.compare(EXPENDITURE_TOTAL, Severity::Error, fields, total, sum, tolerance, Unit::Yuan, |s, k| {
        (
            format!("支出合计 {s} 元与{names_zh}之和 {k} 元不符"),
            format!("Expenditure total of {s} yuan differs from {names_en} expenditure, {k} yuan"),
        )
    });
}

/// Rule 3: 基本支出 (and 项目支出) = Σ its lines: the 人员经费/公用经费 split when the lines carry it,
/// else the economic classes.
fn structure_totals(c: &mut Checker, record: &EvaluationInput) {
    let expenditure = &record.expenditure;
    let structures = [
        (
            BASIC_EXPENDITURE_TOTAL,
            ExpenditureStructure::Basic,
            "expenditure.basic_total",
            expenditure.basic_total,
            "基本支出",
            "Basic",
        ),
        (
            PROJECT_EXPENDITURE_TOTAL,
            ExpenditureStructure::Project,
            "expenditure.project_total",
            expenditure.project_total,
            "项目支出",
            "Project",
        ),
    ];
    for (rule, structure, field, stated, name_zh, name_en) in structures {
        let Some(stated) = stated else { continue };
        let lines: Vec<_> =
            expenditure.lines.iter().enumerate().filter(|(_, line)| line.structure == structure).collect();
        let is_split =
            |class: Option<EconomicClass>| matches!(class, Some(EconomicClass::Personnel | EconomicClass::PublicFunds));
        // A report may give both breakdowns of the same amount; only one of them is summed.
        let split = lines.iter().any(|(_, line)| is_split(line.economic_class));
        let counted: Vec<_> = lines
            .into_iter()
            .filter(|(_, line)| is_split(line.economic_class) == split)
            .filter_map(|(i, line)| Some((i, line_amount(line)?)))
            .collect();
        if counted.is_empty() {
            continue;
        }
        let sum: Decimal = counted.iter().map(|(_, (amount, _))| *amount).sum();
        let mut fields = vec![field.to_owned()];
        fields.extend(counted.iter().map(|(i, (_, member))| format!("expenditure.lines[{i}].{member}")));
        let tolerance = c.tolerance(counted.len() + 1);
        c.compare(rule, Severity::Error, fields, stated, sum, tolerance, Unit::Yuan, |s, k| {
            (
                format!("{name_zh}合计 {s} 元与明细之和 {k} 元不符"),
                format!("{name_en} expenditure total of {s} yuan differs from the sum of its lines, {k} yuan"),
            )
        });
    }
}

/// A line's amount and its member: what it executed, or in a budget statement (which states no
/// execution) its budget.
fn line_amount(line: &ExpenditureLine) -> Option<(Decimal, &'static str)> {
    line.executed
        .map(|amount| (amount, "executed"))
        .or(line.adjusted_budget.map(|amount| (amount, "adjusted_budget")))
        .or(line.initial_budget.map(|amount| (amount, "initial_budget")))
}

/// Current amount of a three-public item (the stated total for `Total`), with its JSON path.
fn item_amount(expenses: &ThreePublicExpenses, item: ThreePublicItem) -> Option<(Decimal, &'static str)> {
    match item {
        ThreePublicItem::Total => expenses.total.map(|amount| (amount, "three_public_expenses.total")),
        item => item_figures(expenses, item).and_then(|figures| Some((figures.amount?, figures.amount_field))),
    }
}

/// What a document states of one three-public item besides the total: actual, budget, share.
struct ItemFigures {
    amount: Option<Decimal>,
    budget: Option<Decimal>,
    stated_share: Option<Decimal>,
    amount_field: &'static str,
    budget_field: &'static str,
    share_field: &'static str,
}

fn item_figures(expenses: &ThreePublicExpenses, item: ThreePublicItem) -> Option<ItemFigures> {
    let (amount, budget, stated_share) = match item {
        ThreePublicItem::Total => return None,
        ThreePublicItem::OverseasTravel => {
            expenses.overseas_travel.as_ref().map(|t| (t.amount, t.budget, t.stated_share))?
        }
        ThreePublicItem::VehiclePurchase => {
            expenses.vehicle_purchase.as_ref().map(|v| (v.amount, v.budget, v.stated_share))?
        }
        ThreePublicItem::VehicleOperation => {
            expenses.vehicle_operation.as_ref().map(|v| (v.amount, v.budget, v.stated_share))?
        }
        ThreePublicItem::Reception => expenses.reception.as_ref().map(|r| (r.amount, r.budget, r.stated_share))?,
    };
    let (amount_field, budget_field, share_field) = match item {
        ThreePublicItem::OverseasTravel => (
            "three_public_expenses.overseas_travel.amount",
            "three_public_expenses.overseas_travel.budget",
            "three_public_expenses.overseas_travel.stated_share",
        ),
        ThreePublicItem::VehiclePurchase => (
            "three_public_expenses.vehicle_purchase.amount",
            "three_public_expenses.vehicle_purchase.budget",
            "three_public_expenses.vehicle_purchase.stated_share",
        ),
        ThreePublicItem::VehicleOperation => (
            "three_public_expenses.vehicle_operation.amount",
            "three_public_expenses.vehicle_operation.budget",
            "three_public_expenses.vehicle_operation.stated_share",
        ),
        _ => (
            "three_public_expenses.reception.amount",
            "three_public_expenses.reception.budget",
            "three_public_expenses.reception.stated_share",
        ),
    };
    Some(ItemFigures { amount, budget, stated_share, amount_field, budget_field, share_field })
}

/// The four items of the three public expenses, in the order documents list them.
const THREE_PUBLIC_ITEMS: [ThreePublicItem; 4] = [
    ThreePublicItem::OverseasTravel,
    ThreePublicItem::VehiclePurchase,
    ThreePublicItem::VehicleOperation,
    ThreePublicItem::Reception,
];

fn item_names(item: ThreePublicItem) -> (&'static str, &'static str) {
    match item {
        ThreePublicItem::Total => ("三公经费合计", "three public expenses total"),
        ThreePublicItem::OverseasTravel => ("因公出国(境)费", "overseas travel"),
        ThreePublicItem::VehiclePurchase => ("公务用车购置费", "vehicle purchase"),
        ThreePublicItem::VehicleOperation => ("公务用车运行维护费", "vehicle operation"),
        ThreePublicItem::Reception => ("公务接待费", "official reception"),
    }
}

/// Rule 4: 三公经费合计 = 因公出国(境) + 公务用车购置 + 公务用车运行维护 + 公务接待.
fn three_public_total(c: &mut Checker, record: &EvaluationInput) {
    let expenses = &record.three_public_expenses;
    let Some(total) = expenses.total else { return };
    let present: Vec<_> = THREE_PUBLIC_ITEMS.into_iter().filter_map(|item| item_amount(expenses, item)).collect();
    if present.is_empty() {
        return;
    }
    let sum: Decimal = present.iter().map(|(amount, _)| amount).sum();
    let mut fields = vec!["three_public_expenses.total".to_owned()];
    fields.extend(present.iter().map(|(_, field)| (*field).to_owned()));
    let tolerance = c.tolerance(present.len() + 1);
    c.compare(THREE_PUBLIC_TOTAL, Severity::Error, fields, total, sum, tolerance, Unit::Yuan, |s, k| {
        (
            format!("三公经费合计 {s} 元与因公出国(境)费、公务用车购置及运行维护费、公务接待费之和 {k} 元不符"),
            format!(
                "Three public expenses total of {s} yuan differs from overseas travel + vehicle purchase + vehicle \
                 operation + reception, {k} yuan"
            ),
        )
    });
}

/// Rule 5: 收入合计 + 年初结转和结余 = 支出合计 + 年末结转和结余.
fn income_expenditure_balance(c: &mut Checker, record: &EvaluationInput) {
    let (Some(income), Some(expenditure)) = (record.income.total, record.expenditure.total) else { return };
    let opening = record.income.opening_carry_over;
    let closing = record.expenditure.year_end_carry_over;
    let mut fields = vec!["income.total".to_owned()];
    fields.extend(opening.map(|_| "income.opening_carry_over".to_owned()));
    fields.push("expenditure.total".to_owned());
    fields.extend(closing.map(|_| "expenditure.year_end_carry_over".to_owned()));
    let sources = income + opening.unwrap_or_default();
    let uses = expenditure + closing.unwrap_or_default();
    let tolerance = c.tolerance(fields.len());
    c.compare(INCOME_EXPENDITURE_BALANCE, Severity::Warning, fields, sources, uses, tolerance, Unit::Yuan, |s, k| {
        (
            format!("收入合计加年初结转和结余 {s} 元与支出合计加年末结转和结余 {k} 元不平衡"),
            format!("Income plus opening carry-over, {s} yuan, does not balance expenditure plus year-end carry-over, {k} yuan"),
        )
    });
}

fn achievement_names(achievement: crate::domain::record::Achievement) -> (&'static str, &'static str) {
    use crate::domain::record::Achievement;
    match achievement {
        Achievement::Achieved => ("达成", "achieved"),
        Achievement::PartlyAchieved => ("部分达成", "partly achieved"),
        Achievement::NotAchieved => ("未达成", "not achieved"),
    }
}

/// Rule 6 for the funds block: its stated score within its weight and as the execution rate gives it.
fn funds_block_score(c: &mut Checker, record: &EvaluationInput) {
    let budget = &record.budget_execution;
    let (Some(score), Some(weight)) = (budget.score, budget.weight) else { return };
    if score > weight {
        let (s, w) = (Unit::Points.show(score), Unit::Points.show(weight));
        c.push(
            FUNDS_SCORE_WITHIN_WEIGHT,
            Severity::Error,
            vec!["budget_execution.score".to_owned(), "budget_execution.weight".to_owned()],
            Some(rounded(score, 2)),
            Some(rounded(weight, 2)),
            format!("预算执行得分 {s} 分超过分值 {w} 分"),
            format!("Budget execution score {s} exceeds its weight of {w} points"),
        );
    }
    let Some(computed) = funds_score(record) else { return };
    let fields = vec!["budget_execution.score".to_owned()];
    c.compare(FUNDS_SCORE_COMPUTED, Severity::Warning, fields, score, computed, score_tolerance(), Unit::Points, |s, k| {
        (
            format!("预算执行得分 {s} 分与按执行率计算的 {k} 分（执行率 × 分值，不超过分值）不符"),
            format!("Budget execution score {s} differs from {k}, the execution rate times the weight (at most the weight)"),
        )
    });
}

fn grade_names(grade: Grade) -> (&'static str, &'static str) {
    match grade {
        Grade::Excellent => ("优", "Excellent"),
        Grade::Good => ("良", "Good"),
        Grade::Fair => ("中", "Fair"),
        Grade::Poor => ("差", "Poor"),
    }
}

/// Rule 6: scores within weights and as computed, weights summing to 100, the total and its grade.
fn indicators(c: &mut Checker, record: &EvaluationInput, rules: &ScoringRuleSet) {
    let assessment = assess(record, rules);
    for (i, row) in record.indicators.iter().enumerate() {
        let name = &row.name;
        if let (Some(score), Some(weight)) = (row.score, row.weight) {
            if score > weight {
                let (s, w) = (Unit::Points.show(score), Unit::Points.show(weight));
                c.push(
                    INDICATOR_SCORE_WITHIN_WEIGHT,
                    Severity::Error,
                    vec![format!("indicators[{i}].score"), format!("indicators[{i}].weight")],
                    Some(rounded(score, 2)),
                    Some(rounded(weight, 2)),
                    format!("指标“{name}”得分 {s} 分超过分值 {w} 分"),
                    format!("Indicator “{name}”: score {s} exceeds its weight of {w} points"),
                );
            }
        }
        if let (Some(score), Some(computed)) = (row.score, assessment.computed_scores[i]) {
            let fields = vec![format!("indicators[{i}].score")];
            c.compare(
                INDICATOR_SCORE_COMPUTED,
                Severity::Warning,
                fields,
                score,
                computed,
                score_tolerance(),
                Unit::Points,
                |s, k| {
                    (
                        format!("指标“{name}”得分 {s} 分与按目标值和实际值计算的 {k} 分不符"),
                        format!(
                            "Indicator “{name}”: stated score {s} differs from {k} computed from target and actual"
                        ),
                    )
                },
            );
        }
    }

    for (i, row) in record.indicators.iter().enumerate() {
        let (Some(achievement), Some(weight), Some(score)) = (row.achievement, row.weight, row.score) else { continue };
        let Some(band) = rules.band(achievement) else { continue };
        let (low, high) = (rounded(band.min_share * weight, 2), rounded(band.max_share * weight, 2));
        if score < low || score > high {
            let name = &row.name;
            let (s, l, h) = (Unit::Points.show(score), Unit::Points.show(low), Unit::Points.show(high));
            let (zh, en) = achievement_names(achievement);
            c.push(
                INDICATOR_SCORE_BAND,
                Severity::Warning,
                vec![format!("indicators[{i}].score"), format!("indicators[{i}].achievement")],
                Some(rounded(score, 2)),
                None,
                format!("定性指标“{name}”{zh}，得分应在 {l} 至 {h} 分之间，填报 {s} 分"),
                format!("Qualitative indicator “{name}” is {en}: its score should be {l} to {h}, not {s}"),
            );
        }
    }

    let table = weigh(record);
    let hundred = Decimal::ONE_HUNDRED;
    let total = table.total();
    let severity = match (table.unweighted_applicable, total) {
        _ if !table.any_weight || table.is_complete() => None,
        (false, total) if total != hundred => Some(Severity::Error),
        (true, total) if total > hundred => Some(Severity::Warning),
        _ => None,
    };
    if let Some(severity) = severity {
        let mut fields: Vec<String> =
            record.budget_execution.weight.map(|_| "budget_execution.weight".to_owned()).into_iter().collect();
        fields.extend(
            (record.indicators.iter().enumerate())
                .filter(|(_, row)| row.weight.is_some())
                .map(|(i, _)| format!("indicators[{i}].weight")),
        );
        let s = Unit::Points.show(total);
        let (zh, en) = if table.unweighted_applicable {
            (format!("已填写的分值合计 {s} 分，超过 100 分"), format!("The weights given sum to {s}, more than 100"))
        } else if total < hundred {
            let missing = Unit::Points.show(hundred - total);
            (
                format!(
                    "评价表分值合计 {s} 分，完整的评价表应为 100 分，缺少 {missing} 分；不计算总得分和等级（已填报的总分和等级仍予核对）"
                ),
                format!(
                    "The table's weights sum to {s}, {missing} short of the 100 of a complete table: no total score or \
                     grade is derived (stated ones are still checked)"
                ),
            )
        } else {
            (
                format!("评价表分值合计 {s} 分，完整的评价表应为 100 分"),
                format!("The table's weights sum to {s}; a complete table sums to 100"),
            )
        };
        c.push(INDICATOR_WEIGHTS_SUM, severity, fields, Some(rounded(total, 2)), Some(rounded(hundred, 2)), zh, en);
    }

    let conclusion = &record.conclusion;
    if let (Some(stated), Some(computed)) = (conclusion.total_score, assessment.total_score) {
        let fields = vec!["conclusion.total_score".to_owned()];
        c.compare(TOTAL_SCORE, Severity::Error, fields, stated, computed, score_tolerance(), Unit::Points, |s, k| {
            (
                format!("总得分 {s} 分与按指标得分计算的 {k} 分不符"),
                format!("Total score of {s} differs from {k} computed from the indicator scores"),
            )
        });
    }

    let Some(grade) = conclusion.grade else { return };
    let (score, fields) = match (conclusion.total_score, assessment.total_score) {
        (Some(stated), _) => (stated, vec!["conclusion.grade".to_owned(), "conclusion.total_score".to_owned()]),
        (None, Some(computed)) => (computed, vec!["conclusion.grade".to_owned()]),
        (None, None) => return,
    };
    let band = grade_for(score, &rules.grade_bands);
    if band != grade {
        let (stated_zh, stated_en) = grade_names(grade);
        let (band_zh, band_en) = grade_names(band);
        let s = Unit::Points.show(score);
        c.push(
            GRADE_BAND,
            Severity::Error,
            fields,
            conclusion.total_score.map(|score| rounded(score, 2)),
            assessment.total_score,
            format!("评价等级“{stated_zh}”与得分 {s} 分所在的等级“{band_zh}”不符"),
            format!("Grade {stated_en} does not match {band_en}, the band of the score {s}"),
        );
    }
}

fn percent(rate: Decimal) -> String {
    rounded(rate * Decimal::ONE_HUNDRED, 2).to_string()
}

/// Rule 7: the funds block's total row (年度资金总额) = the sum of its rows by source, per column.
fn funds_total(c: &mut Checker, record: &EvaluationInput) {
    let budget = &record.budget_execution;
    let sources: Vec<_> = budget.sources.rows().collect();
    if sources.is_empty() {
        return;
    }
    let columns = [
        ("initial_budget", "年初预算数", "initial budget", budget.initial_budget, 0),
        ("adjusted_budget", "全年预算数", "adjusted budget", budget.adjusted_budget, 1),
        ("executed", "全年执行数", "executed", budget.executed, 2),
    ];
    let empty_total = total_row_is_empty_while_sources_carry_money(record);
    for (member, zh, en, stated, column) in columns {
        let Some(stated) = stated else { continue };
        let parts: Vec<(String, Decimal)> = sources
            .iter()
            .filter_map(|(name, row)| {
                let value = [row.initial_budget, row.adjusted_budget, row.executed][column]?;
                Some((format!("budget_execution.sources.{name}.{member}"), value))
            })
            .collect();
        if parts.is_empty() {
            continue;
        }
        let sum: Decimal = parts.iter().map(|(_, value)| value).sum();
        let mut fields = vec![format!("budget_execution.{member}")];
        fields.extend(parts.iter().map(|(field, _)| field.clone()));
        let tolerance = c.tolerance(parts.len() + 1);
        c.compare(FUNDS_TOTAL, Severity::Error, fields, stated, sum, tolerance, Unit::Yuan, |s, k| {
            let (mut zh, mut en) = (
                format!("年度资金总额{zh} {s} 元与其中各项资金之和 {k} 元不符"),
                format!("The funds total's {en} of {s} yuan differs from the sum of its sources, {k} yuan"),
            );
            if empty_total {
                zh.push_str("；执行率按各项资金计算");
                en.push_str("; the execution rate is taken from the sources");
            }
            (zh, en)
        });
    }
}

/// The funds block's figure in one column (0 initial, 1 adjusted, 2 executed) as a project's items are
/// compared with it: the total row's, or the sum of its sources' when the total row states nothing.
fn funds_column(record: &EvaluationInput, column: usize) -> Option<(Decimal, Vec<String>)> {
    let budget = &record.budget_execution;
    let member = ["initial_budget", "adjusted_budget", "executed"][column];
    if !total_row_is_empty_while_sources_carry_money(record) {
        let total = [budget.initial_budget, budget.adjusted_budget, budget.executed][column]?;
        return Some((total, vec![format!("budget_execution.{member}")]));
    }
    let parts: Vec<_> = budget
        .sources
        .rows()
        .filter_map(|(name, row)| {
            Some((
                [row.initial_budget, row.adjusted_budget, row.executed][column]?,
                format!("budget_execution.sources.{name}.{member}"),
            ))
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some((parts.iter().map(|(value, _)| value).sum(), parts.into_iter().map(|(_, field)| field).collect()))
}

/// Rule 7 for a project record: its items (`projects`, the 明细 of the project) add up to the funds
/// block, their budgets to its initial (else adjusted) budget and their execution to its executed.
fn project_items_total(c: &mut Checker, record: &EvaluationInput) {
    if record.kind != EvaluationKind::Project || record.projects.is_empty() {
        return;
    }
    let sides = [
        ("budget", "预算数", "budgets", funds_column(record, 0).or_else(|| funds_column(record, 1))),
        ("executed", "执行数", "execution", funds_column(record, 2)),
    ];
    for (member, zh, en, total) in sides {
        let Some((total, total_fields)) = total else { continue };
        let items: Vec<(usize, Decimal)> = (record.projects.iter().enumerate())
            .filter_map(|(i, item)| Some((i, if member == "budget" { item.budget } else { item.executed }?)))
            .collect();
        if items.is_empty() {
            continue;
        }
        let sum: Decimal = items.iter().map(|(_, value)| value).sum();
        let mut fields: Vec<String> = items.iter().map(|(i, _)| format!("projects[{i}].{member}")).collect();
        fields.extend(total_fields.iter().cloned());
        let tolerance = c.tolerance(items.len() + total_fields.len());
        c.compare(PROJECT_ITEMS_TOTAL, Severity::Error, fields, sum, total, tolerance, Unit::Yuan, |s, k| {
            (
                format!("项目明细{zh}之和 {s} 元与项目资金{zh} {k} 元不符"),
                format!("The project's items' {en} sum to {s} yuan, not the {k} yuan of its funds"),
            )
        });
    }
}

/// Rule 7: execution rate within 0–100% (above is a warning), against the adjusted budget or, without
/// one, the initial budget; the stated rate as the figures give it; and per expenditure line.
fn execution(c: &mut Checker, record: &EvaluationInput) {
    if let Some(basis) = execution_basis(record) {
        let rate = rate_of(&basis);
        let fields = basis.fields.clone();
        let figures = fields.len();
        let (budget_zh, budget_en) = match basis.budget_basis {
            BudgetBasis::AdjustedBudget => ("全年预算数", "an adjusted budget"),
            BudgetBasis::InitialBudget => {
                ("年初预算数（未填全年预算数）", "an initial budget (no adjusted budget given)")
            }
        };
        let (e, a) = (Unit::Yuan.show(basis.executed), Unit::Yuan.show(basis.budget));
        match rate {
            Some(rate) if rate.is_sign_negative() && !rate.is_zero() => {
                let r = percent(rate);
                c.push(
                    EXECUTION_RATE,
                    Severity::Error,
                    fields.clone(),
                    None,
                    Some(rate),
                    format!("预算执行率 {r}% 为负数（执行数 {e} 元，{budget_zh} {a} 元）"),
                    format!("Budget execution rate of {r}% is negative (executed {e} yuan of {budget_en} of {a} yuan)"),
                );
            }
            Some(rate) => {
                if let Some(severity) = over_budget(basis.executed, basis.budget, c.tolerance(figures)) {
                    let r = percent(rate);
                    let (mut zh, mut en) = (
                        format!("预算执行率 {r}% 超过 100%（执行数 {e} 元，{budget_zh} {a} 元）"),
                        format!(
                            "Budget execution rate of {r}% exceeds 100% (executed {e} yuan of {budget_en} of {a} yuan)"
                        ),
                    );
                    if severity == Severity::Note {
                        let difference = basis.executed - basis.budget;
                        add_rounding_note(&mut zh, &mut en, difference, c.tolerance(figures), Unit::Yuan);
                    }
                    c.push(EXECUTION_RATE, severity, fields.clone(), None, Some(rate), zh, en);
                }
            }
            None => {}
        }
        let stated = record.budget_execution.stated_rate;
        if let (Some(stated), Some(exact)) =
            (stated, basis.executed.checked_div(basis.budget).filter(|_| !basis.budget.is_zero()))
        {
            if let Some(severity) = printed_fraction(stated, exact) {
                let (s, k) = (percent_exact(stated), percent(rounded(exact, 4)));
                let mut fields = vec!["budget_execution.stated_rate".to_owned()];
                fields.extend(basis.fields.iter().cloned());
                let (zh, en) = printed_messages(
                    severity,
                    format!("填报的执行率 {s}% 与按执行数和{budget_zh}计算的 {k}% 不符"),
                    format!("The stated execution rate of {s}% differs from {k}, executed over {budget_en}"),
                );
                c.push(EXECUTION_RATE_STATED, severity, fields, Some(stated), Some(rounded(exact, 6)), zh, en);
            }
        }
    }

    for (i, line) in record.expenditure.lines.iter().enumerate() {
        let Some(executed) = line.executed else { continue };
        let Some(adjusted) = line.adjusted_budget.filter(|adjusted| *adjusted > Decimal::ZERO) else { continue };
        let Some(severity) = over_budget(executed, adjusted, c.tolerance(2)) else { continue };
        let Some(rate) = executed.checked_div(adjusted).map(|rate| rounded(rate, 4)) else { continue };
        let name = line.name.clone().unwrap_or_else(|| format!("expenditure.lines[{i}]"));
        let (r, e, a) = (percent(rate), Unit::Yuan.show(executed), Unit::Yuan.show(adjusted));
        let (mut zh, mut en) = (
            format!("支出“{name}”执行率 {r}% 超过 100%（执行数 {e} 元，全年预算数 {a} 元）"),
            format!("Expenditure “{name}”: execution rate of {r}% exceeds 100% (executed {e} yuan of {a} yuan)"),
        );
        if severity == Severity::Note {
            add_rounding_note(&mut zh, &mut en, executed - adjusted, c.tolerance(2), Unit::Yuan);
        }
        c.push(EXECUTION_RATE, severity, vec![format!("expenditure.lines[{i}].executed")], None, Some(rate), zh, en);
    }
}

/// Rule 7 for 三公经费: each item and the total within its budget (a warning when over).
fn three_public_budget(c: &mut Checker, record: &EvaluationInput) {
    let expenses = &record.three_public_expenses;
    let mut pairs: Vec<(&str, &str, &str, &str, Decimal, Decimal)> = Vec::new();
    if let (Some(amount), Some(budget)) = (expenses.total, expenses.budget_total) {
        pairs.push((
            "三公经费合计",
            "three public expenses total",
            "three_public_expenses.total",
            "three_public_expenses.budget_total",
            amount,
            budget,
        ));
    }
    for item in THREE_PUBLIC_ITEMS {
        let Some(figures) = item_figures(expenses, item) else { continue };
        let (Some(amount), Some(budget)) = (figures.amount, figures.budget) else { continue };
        let (zh, en) = item_names(item);
        pairs.push((zh, en, figures.amount_field, figures.budget_field, amount, budget));
    }
    for (zh, en, amount_field, budget_field, amount, budget) in pairs {
        let Some(severity) = over_budget(amount, budget, c.tolerance(2)) else { continue };
        let (a, b) = (Unit::Yuan.show(amount), Unit::Yuan.show(budget));
        let (mut message_zh, mut message_en) = (
            format!("{zh}决算数 {a} 元超过预算数 {b} 元"),
            format!("The {en} of {a} yuan exceed their budget of {b} yuan"),
        );
        if severity == Severity::Note {
            add_rounding_note(&mut message_zh, &mut message_en, amount - budget, c.tolerance(2), Unit::Yuan);
        }
        let fields = vec![amount_field.to_owned(), budget_field.to_owned()];
        c.push(
            THREE_PUBLIC_OVER_BUDGET,
            severity,
            fields,
            Some(rounded(amount, 2)),
            Some(rounded(budget, 2)),
            message_zh,
            message_en,
        );
    }

    // Rule 4 for the budgets: 三公经费预算数 = Σ the items' budgets.
    let Some(total) = expenses.budget_total else { return };
    let present: Vec<_> = THREE_PUBLIC_ITEMS
        .into_iter()
        .filter_map(|item| item_figures(expenses, item))
        .filter_map(|figures| Some((figures.budget?, figures.budget_field)))
        .collect();
    if present.is_empty() {
        return;
    }
    let sum: Decimal = present.iter().map(|(budget, _)| budget).sum();
    let mut fields = vec!["three_public_expenses.budget_total".to_owned()];
    fields.extend(present.iter().map(|(_, field)| (*field).to_owned()));
    let tolerance = c.tolerance(present.len() + 1);
    c.compare(THREE_PUBLIC_BUDGET_TOTAL, Severity::Error, fields, total, sum, tolerance, Unit::Yuan, |s, k| {
        (
            format!("三公经费预算数合计 {s} 元与各项预算数之和 {k} 元不符"),
            format!(
                "The three public expenses budget of {s} yuan differs from the sum of the items' budgets, {k} yuan"
            ),
        )
    });
}

/// How a stated fraction (a printed percentage ÷ 100) compares with the exact value of its amounts,
/// at the digits it was printed with (at least a percentage's two decimals): nothing when it is the
/// exact value rounded there, a note when truncated there, else a warning.
fn printed_fraction(stated: Decimal, exact: Decimal) -> Option<Severity> {
    let digits = significant_scale(stated).max(4);
    if rounded(exact, digits) == stated {
        None
    } else if exact.trunc_with_scale(digits) == stated {
        Some(Severity::Note)
    } else {
        Some(Severity::Warning)
    }
}

/// The messages of a stated percentage's finding, with the truncation explained for a note.
fn printed_messages(severity: Severity, mut zh: String, mut en: String) -> (String, String) {
    if severity == Severity::Note {
        zh.push_str("，系截断而非四舍五入所致");
        en.push_str("; the stated figure is truncated rather than rounded");
    }
    (zh, en)
}

/// A fraction as a percentage with every digit it has (0.011398 → 1.1398).
fn percent_exact(fraction: Decimal) -> String {
    let value = fraction * Decimal::ONE_HUNDRED;
    let digits = significant_scale(value).max(2);
    rounded(value, digits).to_string()
}

/// A warning when `executed` exceeds `adjusted` by more than rounding, a note when by less.
fn over_budget(executed: Decimal, adjusted: Decimal, tolerance: Decimal) -> Option<Severity> {
    if executed <= adjusted {
        return None;
    }
    judge(executed - adjusted, tolerance, Severity::Warning)
}

/// Rule 8: stated changes = current − prior, and stated percentage changes = change ÷ prior at the
/// precision they are printed with: income and expenditure totals, 机关运行经费 and each stated
/// 三公经费 prior-year figure.
fn stated_changes(c: &mut Checker, record: &EvaluationInput) {
    let totals = [
        ("income", "收入总计", "income total", record.income.total, record.income.prior_year.as_ref()),
        (
            "expenditure",
            "支出总计",
            "expenditure total",
            record.expenditure.total,
            record.expenditure.prior_year.as_ref(),
        ),
    ];
    for (group, zh, en, current, prior) in totals {
        let (Some(current), Some(prior)) = (current, prior) else { continue };
        let PriorYearTotal { amount, stated_change, stated_change_pct, .. } = prior;
        let change = Change {
            current,
            current_field: format!("{group}.total"),
            prior: *amount,
            prior_field: format!("{group}.prior_year.amount"),
            stated_change: *stated_change,
            change_field: format!("{group}.prior_year.stated_change"),
            stated_pct: *stated_change_pct,
            pct_field: format!("{group}.prior_year.stated_change_pct"),
        };
        change.check(c, zh, en, "上年");
    }

    let running = &record.running_costs;
    if let Some(current) = running.amount {
        let change = Change {
            current,
            current_field: "running_costs.amount".to_owned(),
            prior: running.prior_year_amount,
            prior_field: "running_costs.prior_year_amount".to_owned(),
            stated_change: running.stated_change,
            change_field: "running_costs.stated_change".to_owned(),
            stated_pct: running.stated_change_pct,
            pct_field: "running_costs.stated_change_pct".to_owned(),
        };
        change.check(c, "机关运行经费", "running costs", "上年");
    }

    let expenses = &record.three_public_expenses;
    for (i, figure) in expenses.prior_year.iter().enumerate() {
        let Some((current, current_field)) = item_amount(expenses, figure.item) else { continue };
        let (item_zh, item_en) = item_names(figure.item);
        let at = |member: &str| format!("three_public_expenses.prior_year[{i}].{member}");
        let change = Change {
            current,
            current_field: current_field.to_owned(),
            prior: figure.amount,
            prior_field: at("amount"),
            stated_change: figure.stated_change,
            change_field: at("stated_change"),
            stated_pct: figure.stated_change_pct,
            pct_field: at("stated_change_pct"),
        };
        change.check(c, item_zh, item_en, &format!(" {} 年", figure.fiscal_year));
    }
}

/// A current figure, its prior-year figure and the change a document states between them.
struct Change {
    current: Decimal,
    current_field: String,
    prior: Option<Decimal>,
    prior_field: String,
    stated_change: Option<Decimal>,
    change_field: String,
    stated_pct: Option<Decimal>,
    pct_field: String,
}

impl Change {
    /// The stated change against current − prior; the stated percentage against the change (stated,
    /// else computed) over the prior figure (stated, else current − the stated change).
    fn check(&self, c: &mut Checker, item_zh: &str, item_en: &str, prior_zh: &str) {
        let cur = Unit::Yuan.show(self.current);
        if let (Some(prior), Some(change)) = (self.prior, self.stated_change) {
            let fields = vec![self.change_field.clone(), self.current_field.clone(), self.prior_field.clone()];
            let pri = Unit::Yuan.show(prior);
            let tolerance = c.tolerance(3);
            c.compare(
                STATED_CHANGE,
                Severity::Error,
                fields,
                change,
                self.current - prior,
                tolerance,
                Unit::Yuan,
                |s, k| {
                    (
                        format!("{item_zh}增减额 {s} 元与本年 {cur} 元减{prior_zh} {pri} 元之差 {k} 元不符"),
                        format!("Change in {item_en} of {s} yuan differs from {cur} minus the prior {pri}, {k} yuan"),
                    )
                },
            );
        }
        let Some(stated) = self.stated_pct else { return };
        let (change, prior, mut fields) = match (self.prior, self.stated_change) {
            (Some(prior), _) => {
                (self.current - prior, prior, vec![self.current_field.clone(), self.prior_field.clone()])
            }
            (None, Some(change)) => {
                (change, self.current - change, vec![self.change_field.clone(), self.current_field.clone()])
            }
            (None, None) => return,
        };
        if prior.is_zero() {
            return;
        }
        let Some(exact) = change.checked_div(prior) else { return };
        let Some(severity) = printed_fraction(stated, exact) else { return };
        fields.insert(0, self.pct_field.clone());
        let (s, k) = (percent_exact(stated), percent(rounded(exact, 4)));
        let (zh, en) = printed_messages(
            severity,
            format!("{item_zh}增减率 {s}% 与按金额计算的 {k}% 不符"),
            format!("The stated change in {item_en} of {s}% differs from {k}% computed from the amounts"),
        );
        c.push(STATED_PERCENTAGE, severity, fields, Some(stated), Some(rounded(exact, 6)), zh, en);
    }
}

/// Rule 8 for shares: an income line's stated share of the income total, and a 三公 item's of the
/// three-public total, as its amounts give it at the precision it is printed with.
fn stated_shares(c: &mut Checker, record: &EvaluationInput) {
    let income = &record.income;
    let income_total =
        income.total.or_else(|| (!income.lines.is_empty()).then(|| income.lines.iter().map(|l| l.amount).sum()));
    for (i, line) in income.lines.iter().enumerate() {
        let (Some(share), Some(total)) = (line.stated_share, income_total) else { continue };
        let name = line.note.clone().unwrap_or_else(|| format!("income.lines[{i}]"));
        let total_field = if income.total.is_some() { "income.total" } else { "income.lines" };
        let fields = vec![
            format!("income.lines[{i}].stated_share"),
            format!("income.lines[{i}].amount"),
            total_field.to_owned(),
        ];
        share_finding(
            c,
            fields,
            share,
            line.amount,
            total,
            &format!("收入“{name}”"),
            &format!("income line “{name}”"),
            "收入总计",
            "the income total",
        );
    }
    let expenses = &record.three_public_expenses;
    let three_total = expenses.total.or_else(|| {
        let amounts: Vec<Decimal> =
            THREE_PUBLIC_ITEMS.into_iter().filter_map(|item| item_amount(expenses, item)).map(|(a, _)| a).collect();
        (!amounts.is_empty()).then(|| amounts.iter().sum())
    });
    for item in THREE_PUBLIC_ITEMS {
        let Some(figures) = item_figures(expenses, item) else { continue };
        let (Some(share), Some(amount), Some(total)) = (figures.stated_share, figures.amount, three_total) else {
            continue;
        };
        let (zh, en) = item_names(item);
        let fields = vec![
            figures.share_field.to_owned(),
            figures.amount_field.to_owned(),
            "three_public_expenses.total".to_owned(),
        ];
        share_finding(c, fields, share, amount, total, zh, en, "三公经费合计", "the three public expenses total");
    }
}

#[allow(clippy::too_many_arguments)]
fn share_finding(
    c: &mut Checker,
    fields: Vec<String>,
    stated: Decimal,
    part: Decimal,
    total: Decimal,
    part_zh: &str,
    part_en: &str,
    total_zh: &str,
    total_en: &str,
) {
    if total.is_zero() {
        return;
    }
    let Some(exact) = part.checked_div(total) else { return };
    let Some(severity) = printed_fraction(stated, exact) else { return };
    let (s, k) = (percent_exact(stated), percent(rounded(exact, 4)));
    let (zh, en) = printed_messages(
        severity,
        format!("{part_zh}占{total_zh}比重 {s}% 与按金额计算的 {k}% 不符"),
        format!("The stated share of {part_en} in {total_en}, {s}%, differs from {k}% computed from the amounts"),
    );
    c.push(STATED_SHARE, severity, fields, Some(stated), Some(rounded(exact, 6)), zh, en);
}

/// Rule 9: prior-year figures name the year before and equal the prior-year record when there is one.
fn prior_year_figures(c: &mut Checker, record: &EvaluationInput, prior_record: Option<&EvaluationInput>) {
    let year_before = record.fiscal_year - 1;
    let fiscal_year = record.fiscal_year;
    let expenses = &record.three_public_expenses;
    let running = &record.running_costs;

    let wrong_year = |c: &mut Checker, field: String, named: i32, item_zh: &str, item_en: &str| {
        c.push(
            PRIOR_YEAR_FIGURES,
            Severity::Warning,
            vec![field],
            Some(named.into()),
            Some(year_before.into()),
            format!("{item_zh}上年数所述年度为 {named} 年，{fiscal_year} 年度报告的上年应为 {year_before} 年"),
            format!("The prior-year {item_en} figure names {named}; the year before {fiscal_year} is {year_before}"),
        );
    };
    for (i, figure) in expenses.prior_year.iter().enumerate() {
        if figure.fiscal_year != year_before {
            let (item_zh, item_en) = item_names(figure.item);
            let field = format!("three_public_expenses.prior_year[{i}].fiscal_year");
            wrong_year(c, field, figure.fiscal_year, item_zh, item_en);
        }
    }
    if let Some(named) = running.prior_fiscal_year.filter(|year| *year != year_before) {
        wrong_year(c, "running_costs.prior_fiscal_year".to_owned(), named, "机关运行经费", "running costs");
    }
    let totals = [
        ("income", "收入总计", "income total", record.income.prior_year.as_ref()),
        ("expenditure", "支出总计", "expenditure total", record.expenditure.prior_year.as_ref()),
    ];
    for (group, zh, en, prior) in totals {
        if let Some(named) = prior.and_then(|p| p.fiscal_year).filter(|year| *year != year_before) {
            wrong_year(c, format!("{group}.prior_year.fiscal_year"), named, zh, en);
        }
    }

    // Only a record of the year before is a reference; the caller should pass nothing else.
    let Some(prior) = prior_record.filter(|prior| prior.fiscal_year == year_before) else { return };
    let tolerance = rounding_per_figure(record.reported_in) + rounding_per_figure(prior.reported_in);
    let compare =
        |c: &mut Checker, field: String, stated: Decimal, reference: Decimal, item_zh: &str, item_en: &str| {
            c.compare(
                PRIOR_YEAR_FIGURES,
                Severity::Warning,
                vec![field],
                stated,
                reference,
                tolerance,
                Unit::Yuan,
                |s, k| {
                    (
                        format!("{item_zh}上年数 {s} 元与 {year_before} 年度记录的 {k} 元不符"),
                        format!("Prior-year {item_en} of {s} yuan differs from {k} yuan in the {year_before} record"),
                    )
                },
            );
        };
    // Every stated prior-year figure, whatever year it names, is compared with the year before.
    for (i, figure) in expenses.prior_year.iter().enumerate() {
        let Some(amount) = figure.amount else { continue };
        let Some((reference, _)) = item_amount(&prior.three_public_expenses, figure.item) else { continue };
        let (item_zh, item_en) = item_names(figure.item);
        let field = format!("three_public_expenses.prior_year[{i}].amount");
        compare(c, field, amount, reference, item_zh, item_en);
    }
    let totals = [
        ("income", "收入总计", "income total", record.income.prior_year.as_ref(), prior.income.total),
        (
            "expenditure",
            "支出总计",
            "expenditure total",
            record.expenditure.prior_year.as_ref(),
            prior.expenditure.total,
        ),
    ];
    for (group, zh, en, stated, reference) in totals {
        if let (Some(stated), Some(reference)) = (stated.and_then(|p| p.amount), reference) {
            compare(c, format!("{group}.prior_year.amount"), stated, reference, zh, en);
        }
    }
    if let (Some(stated), Some(reference)) = (running.prior_year_amount, prior.running_costs.amount) {
        compare(c, "running_costs.prior_year_amount".to_owned(), stated, reference, "机关运行经费", "running costs");
    }
}

/// The staffing quota a record states in all: its stated total, else the sum of its categories.
fn quota_total(record: &EvaluationInput) -> Option<(i64, Vec<String>)> {
    let quota = &record.profile.staffing_quota;
    if let Some(total) = quota.total {
        return Some((total.into(), vec!["profile.staffing_quota.total".to_owned()]));
    }
    let categories = quota_categories(record);
    let stated: Vec<_> = categories.iter().filter_map(|(field, value)| Some((field, (*value)?))).collect();
    if stated.is_empty() {
        return None;
    }
    let sum = stated.iter().map(|(_, value)| i64::from(*value)).sum();
    Some((sum, stated.iter().map(|(field, _)| (**field).to_owned()).collect()))
}

/// (JSON path, quota) per staffing category, in the order documents list them.
fn quota_categories(record: &EvaluationInput) -> [(&'static str, Option<i32>); 4] {
    let quota = &record.profile.staffing_quota;
    [
        ("profile.staffing_quota.administrative", quota.administrative),
        ("profile.staffing_quota.civil_service_managed", quota.civil_service_managed),
        ("profile.staffing_quota.institutional", quota.institutional),
        ("profile.staffing_quota.government_workers", quota.government_workers),
    ]
}

/// Rule 10: staff at year end within the staffing quota (its stated total, or 行政 + 参公 + 事业 +
/// 机关工勤 編制), and each category's staff in post within its quota.
fn staffing_quota(c: &mut Checker, record: &EvaluationInput) {
    let profile = &record.profile;
    if let (Some(staff), Some((quota, quota_fields))) = (profile.staff_at_year_end, quota_total(record)) {
        if i64::from(staff) > quota {
            let mut fields = vec!["profile.staff_at_year_end".to_owned()];
            fields.extend(quota_fields);
            let q = &profile.staffing_quota;
            let parts: Vec<String> = [
                ("行政编制", q.administrative),
                ("参公编制", q.civil_service_managed),
                ("事业编制", q.institutional),
                ("机关工勤编制", q.government_workers),
            ]
            .into_iter()
            .filter_map(|(name, value)| Some(format!("{name} {}", value?)))
            .collect();
            let parts_en: Vec<String> = [
                ("administrative", q.administrative),
                ("civil-service-managed", q.civil_service_managed),
                ("institutional", q.institutional),
                ("government workers", q.government_workers),
            ]
            .into_iter()
            .filter_map(|(name, value)| Some(format!("{name} {}", value?)))
            .collect();
            c.push(
                STAFFING_QUOTA,
                Severity::Warning,
                fields,
                Some(staff.into()),
                Some(quota.into()),
                format!("年末在职人员 {staff} 人超过编制数 {quota} 人（{}）", parts.join("，")),
                format!("Staff at year end, {staff}, exceed the staffing quota of {quota} ({})", parts_en.join(", ")),
            );
        }
    }
    let in_post = &profile.staff_in_post;
    let categories = [
        ("administrative", "行政", in_post.administrative, profile.staffing_quota.administrative),
        ("civil_service_managed", "参公", in_post.civil_service_managed, profile.staffing_quota.civil_service_managed),
        ("institutional", "事业", in_post.institutional, profile.staffing_quota.institutional),
        ("government_workers", "机关工勤", in_post.government_workers, profile.staffing_quota.government_workers),
    ];
    for (member, zh, staff, quota) in categories {
        let (Some(staff), Some(quota)) = (staff, quota) else { continue };
        if staff <= quota {
            continue;
        }
        let en = member.replace('_', "-");
        c.push(
            STAFFING_QUOTA,
            Severity::Warning,
            vec![format!("profile.staff_in_post.{member}"), format!("profile.staffing_quota.{member}")],
            Some(staff.into()),
            Some(quota.into()),
            format!("{zh}在职人员 {staff} 人超过{zh}编制 {quota} 人"),
            format!("{en} staff in post, {staff}, exceed their quota of {quota}"),
        );
    }
}

/// Rule 10: categories that add up to the totals stated beside them (编制 and 在职).
fn staffing_categories(c: &mut Checker, record: &EvaluationInput) {
    let profile = &record.profile;
    let in_post = &profile.staff_in_post;
    let groups = [
        (
            "编制",
            "staffing quota",
            profile.staffing_quota.total.map(|t| (t, "profile.staffing_quota.total")),
            quota_categories(record).to_vec(),
        ),
        (
            "在职人员",
            "staff in post",
            profile.staff_at_year_end.map(|t| (t, "profile.staff_at_year_end")),
            vec![
                ("profile.staff_in_post.administrative", in_post.administrative),
                ("profile.staff_in_post.civil_service_managed", in_post.civil_service_managed),
                ("profile.staff_in_post.institutional", in_post.institutional),
                ("profile.staff_in_post.government_workers", in_post.government_workers),
            ],
        ),
    ];
    for (zh, en, total, categories) in groups {
        let Some((total, total_field)) = total else { continue };
        let stated: Vec<_> = categories.into_iter().filter_map(|(field, value)| Some((field, value?))).collect();
        if stated.is_empty() {
            continue;
        }
        let sum: i64 = stated.iter().map(|(_, value)| i64::from(*value)).sum();
        if sum == i64::from(total) {
            continue;
        }
        let mut fields = vec![total_field.to_owned()];
        fields.extend(stated.iter().map(|(field, _)| (*field).to_owned()));
        c.push(
            STAFFING_CATEGORIES,
            Severity::Warning,
            fields,
            Some(total.into()),
            Some(sum.into()),
            format!("{zh}合计 {total} 人与各类之和 {sum} 人不符"),
            format!("The {en} total of {total} differs from the sum of its categories, {sum}"),
        );
    }
}

/// Rule 10: the stated number of consolidated units, in all and by type, against the list and each other.
fn consolidated_units(c: &mut Checker, record: &EvaluationInput) {
    let consolidated = &record.profile.consolidated_units;
    let by_type = &consolidated.stated_by_type;
    let listed = consolidated.units.len() as i64;
    let counted = |unit_type: UnitType| consolidated.units.iter().filter(|u| u.unit_type == unit_type).count() as i64;
    let mismatch = |c: &mut Checker, fields: Vec<String>, stated: i64, computed: i64, zh: String, en: String| {
        if stated != computed {
            c.push(CONSOLIDATED_UNITS, Severity::Warning, fields, Some(stated.into()), Some(computed.into()), zh, en);
        }
    };
    const UNITS: &str = "profile.consolidated_units.units";
    if let Some(stated) = consolidated.stated_count {
        let stated = i64::from(stated);
        if listed > 0 {
            mismatch(
                c,
                vec!["profile.consolidated_units.stated_count".to_owned(), UNITS.to_owned()],
                stated,
                listed,
                format!("纳入决算的单位个数 {stated} 个与所列单位 {listed} 个不符"),
                format!("The stated number of consolidated units, {stated}, differs from the {listed} units listed"),
            );
        }
        let types = [by_type.administrative, by_type.civil_service_managed, by_type.institutional, by_type.other];
        if types.iter().any(Option::is_some) {
            let sum: i64 = types.iter().flatten().map(|n| i64::from(*n)).sum();
            mismatch(
                c,
                vec![
                    "profile.consolidated_units.stated_count".to_owned(),
                    "profile.consolidated_units.stated_by_type".to_owned(),
                ],
                stated,
                sum,
                format!("纳入决算的单位个数 {stated} 个与按性质分列的 {sum} 个之和不符"),
                format!("The stated number of consolidated units, {stated}, differs from the {sum} stated by type"),
            );
        }
    }
    if listed == 0 {
        return;
    }
    let types = [
        ("administrative", "行政单位", UnitType::Administrative, by_type.administrative),
        ("civil_service_managed", "参公单位", UnitType::CivilServiceManaged, by_type.civil_service_managed),
        ("institutional", "事业单位", UnitType::Institutional, by_type.institutional),
        ("other", "其他单位", UnitType::Other, by_type.other),
    ];
    for (member, zh, unit_type, stated) in types {
        let Some(stated) = stated else { continue };
        let (stated, listed) = (i64::from(stated), counted(unit_type));
        let en = member.replace('_', "-");
        mismatch(
            c,
            vec![format!("profile.consolidated_units.stated_by_type.{member}"), UNITS.to_owned()],
            stated,
            listed,
            format!("{zh} {stated} 个与所列{zh} {listed} 个不符"),
            format!("The stated number of {en} units, {stated}, differs from the {listed} listed"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::record::{Direction, Indicator, IndicatorLevel1, IndicatorLevel2};
    use std::str::FromStr;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn fixture() -> EvaluationInput {
        serde_json::from_str(include_str!("../../tests/fixtures/yintian-2022.json")).unwrap()
    }

    fn run(record: &EvaluationInput, prior_year: Option<&EvaluationInput>) -> Vec<Finding> {
        let rules = ScoringRuleSet::national_default();
        check(record, &CheckContext { prior_year, rules: &rules })
    }

    fn of<'a>(findings: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
        findings.iter().filter(|finding| finding.rule == rule).collect()
    }

    fn weighted(weight: &str, score: Option<&str>) -> Indicator {
        Indicator {
            level_1: IndicatorLevel1::Output,
            level_1_points: None,
            level_2: IndicatorLevel2::Quantity,
            name: "拆除危房".into(),
            code: None,
            matched_code: None,
            unit_of_measure: Some("栋".into()),
            direction: Some(Direction::AtLeast),
            target: Some(dec("438")),
            target_text: None,
            actual: Some(dec("438")),
            actual_text: None,
            weight: Some(dec(weight)),
            score: score.map(dec),
            achievement: None,
            applicable: true,
            deviation_reason: None,
        }
    }

    #[test]
    fn the_reference_report_cross_foots() {
        let findings = run(&fixture(), None);
        for rule in [
            "income_total",
            "expenditure_total",
            "basic_expenditure_total",
            "project_expenditure_total",
            "three_public_total",
            "income_expenditure_balance",
            "stated_change",
            "staffing_quota",
            "execution_rate",
        ] {
            assert!(of(&findings, rule).is_empty(), "{rule}: {findings:#?}");
        }
        // The only finding: vehicle operation's prior-year figure names 2020 in a 2022 report.
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let finding = &findings[0];
        assert_eq!((finding.rule, finding.rule_number, finding.severity), ("prior_year_figures", 9, Severity::Warning));
        assert_eq!(finding.fields, ["three_public_expenses.prior_year[1].fiscal_year"]);
        assert_eq!((finding.stated, finding.computed), (Some(dec("2020")), Some(dec("2021"))));
        assert_eq!(finding.message_zh, "公务用车运行维护费上年数所述年度为 2020 年，2022 年度报告的上年应为 2021 年");
        assert!(!has_errors(&findings));
    }

    #[test]
    fn running_costs_change_adds_up_and_a_wrong_one_is_an_error() {
        // 795200.00 − 923900.00 = −128700.00, as stated.
        assert!(of(&run(&fixture(), None), "stated_change").is_empty());

        let mut record = fixture();
        record.running_costs.stated_change = Some(dec("-118700.00"));
        let findings = run(&record, None);
        let changes = of(&findings, "stated_change");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].severity, Severity::Error);
        assert_eq!(changes[0].rule_number, 8);
        assert_eq!(changes[0].fields[0], "running_costs.stated_change");
        assert_eq!(changes[0].stated.unwrap().to_string(), "-118700.00");
        assert_eq!(changes[0].computed.unwrap().to_string(), "-128700.00");
        assert_eq!(
            changes[0].message_zh,
            "机关运行经费增减额 -118700.00 元与本年 795200.00 元减上年 923900.00 元之差 -128700.00 元不符"
        );
        assert!(has_errors(&findings));
    }

    #[test]
    fn three_public_stated_change_is_checked_per_item() {
        let mut record = fixture();
        record.three_public_expenses.prior_year[1].stated_change = Some(dec("-14000.00"));
        let findings = run(&record, None);
        let changes = of(&findings, "stated_change");
        assert_eq!(changes.len(), 1);
        assert_eq!(
            changes[0].fields,
            [
                "three_public_expenses.prior_year[1].stated_change",
                "three_public_expenses.vehicle_operation.amount",
                "three_public_expenses.prior_year[1].amount"
            ]
        );
        assert_eq!((changes[0].stated, changes[0].computed), (Some(dec("-14000")), Some(dec("-12000"))));
        assert_eq!(changes[0].severity, Severity::Error);
    }

    #[test]
    fn basic_total_off_by_100000_yuan_is_an_error() {
        let mut record = fixture();
        record.expenditure.basic_total = Some(dec("9180400.00"));
        let findings = run(&record, None);
        let basic = of(&findings, "basic_expenditure_total");
        assert_eq!(basic.len(), 1);
        let finding = basic[0];
        assert_eq!((finding.rule_number, finding.severity), (3, Severity::Error));
        assert_eq!(
            finding.fields,
            [
                "expenditure.basic_total",
                "expenditure.lines[0].executed",
                "expenditure.lines[1].executed",
                "expenditure.lines[2].executed"
            ]
        );
        assert_eq!(finding.stated.unwrap().to_string(), "9180400.00");
        assert_eq!(finding.computed.unwrap().to_string(), "9080400.00");
        assert_eq!(finding.message_zh, "基本支出合计 9180400.00 元与明细之和 9080400.00 元不符");
        assert_eq!(
            finding.message_en,
            "Basic expenditure total of 9180400.00 yuan differs from the sum of its lines, 9080400.00 yuan"
        );
        // basic + project no longer make the total either.
        assert_eq!(of(&findings, "expenditure_total")[0].computed, Some(dec("18194800.00")));
        assert!(has_errors(&findings));
    }

    #[test]
    fn personnel_and_public_funds_lines_are_summed_instead_of_economic_classes() {
        let mut record = fixture();
        let mut personnel = record.expenditure.lines[0].clone();
        personnel.economic_class = Some(EconomicClass::Personnel);
        personnel.executed = Some(dec("8285200.00"));
        let mut public_funds = record.expenditure.lines[1].clone();
        public_funds.economic_class = Some(EconomicClass::PublicFunds);
        public_funds.executed = Some(dec("795200.00"));
        record.expenditure.lines.extend([personnel, public_funds]);
        let findings = run(&record, None);
        assert!(of(&findings, "basic_expenditure_total").is_empty(), "{findings:#?}");

        record.expenditure.lines[5].executed = Some(dec("795000.00"));
        let findings = run(&record, None);
        let basic = of(&findings, "basic_expenditure_total");
        assert_eq!(
            basic[0].fields,
            ["expenditure.basic_total", "expenditure.lines[4].executed", "expenditure.lines[5].executed"]
        );
        assert_eq!(basic[0].computed, Some(dec("9080200.00")));
    }

    #[test]
    fn a_stored_prior_year_record_catches_the_misstated_vehicle_operation_figure() {
        let mut prior = fixture();
        prior.fiscal_year = 2021;
        prior.three_public_expenses.vehicle_operation.as_mut().unwrap().amount = Some(dec("12000.00"));
        prior.running_costs.amount = Some(dec("923900.00"));
        let findings = run(&fixture(), Some(&prior));
        let prior_year = of(&findings, "prior_year_figures");
        assert_eq!(prior_year.len(), 2, "{prior_year:#?}");

        assert_eq!(prior_year[0].fields, ["three_public_expenses.prior_year[1].fiscal_year"]);
        assert_eq!(prior_year[0].stated, Some(dec("2020")));

        let amount = prior_year[1];
        assert_eq!((amount.rule_number, amount.severity), (9, Severity::Warning));
        assert_eq!(amount.fields, ["three_public_expenses.prior_year[1].amount"]);
        assert_eq!(amount.stated.unwrap().to_string(), "24000.00");
        assert_eq!(amount.computed.unwrap().to_string(), "12000.00");
        assert_eq!(amount.message_zh, "公务用车运行维护费上年数 24000.00 元与 2021 年度记录的 12000.00 元不符");
        assert!(!has_errors(&findings));
    }

    #[test]
    fn running_costs_prior_year_amount_is_compared_with_the_prior_record() {
        let mut prior = fixture();
        prior.fiscal_year = 2021;
        let findings = run(&fixture(), Some(&prior));
        let running: Vec<_> = of(&findings, "prior_year_figures")
            .into_iter()
            .filter(|f| f.fields[0] == "running_costs.prior_year_amount")
            .collect();
        assert_eq!(running.len(), 1);
        assert_eq!((running[0].stated, running[0].computed), (Some(dec("923900.00")), Some(dec("795200.00"))));

        // A record of another year is no reference.
        prior.fiscal_year = 2020;
        assert_eq!(of(&run(&fixture(), Some(&prior)), "prior_year_figures").len(), 1);
    }

    #[test]
    fn weights_of_a_complete_table_sum_to_100() {
        let mut record = fixture();
        record.indicators = vec![weighted("50", None), weighted("30", None), weighted("15", None)];
        let findings = run(&record, None);
        let sums = of(&findings, "indicator_weights_sum");
        assert_eq!(sums.len(), 1);
        assert_eq!((sums[0].rule_number, sums[0].severity), (6, Severity::Error));
        assert_eq!(sums[0].fields, ["indicators[0].weight", "indicators[1].weight", "indicators[2].weight"]);
        assert_eq!(sums[0].stated.unwrap().to_string(), "95.00");
        assert_eq!(sums[0].computed.unwrap().to_string(), "100.00");

        record.indicators[2].weight = Some(dec("20"));
        assert!(of(&run(&record, None), "indicator_weights_sum").is_empty());

        // A row that does not apply is still one of the table's rows: its weight counts in the 100.
        record.indicators[2].weight = Some(dec("10"));
        record.indicators.push(Indicator { applicable: false, ..weighted("10", None) });
        assert!(of(&run(&record, None), "indicator_weights_sum").is_empty());
        record.indicators[2].weight = Some(dec("20"));
        let over = run(&record, None);
        assert_eq!(of(&over, "indicator_weights_sum")[0].stated.unwrap().to_string(), "110.00");
    }

    #[test]
    fn partly_weighted_table_is_only_warned_when_over_100() {
        let mut record = fixture();
        record.indicators.extend([weighted("60", None), weighted("30", None)]);
        assert!(of(&run(&record, None), "indicator_weights_sum").is_empty());
        record.indicators.push(weighted("20", None));
        let findings = run(&record, None);
        let sums = of(&findings, "indicator_weights_sum");
        assert_eq!(sums.len(), 1);
        assert_eq!(sums[0].severity, Severity::Warning);
        assert_eq!(sums[0].stated, Some(dec("110")));
    }

    #[test]
    fn scores_stay_within_weights_and_match_the_figures() {
        let mut record = fixture();
        let mut short = weighted("50", Some("40"));
        short.actual = Some(dec("400"));
        record.indicators = vec![weighted("50", Some("55")), short];
        let findings = run(&record, None);

        let within = of(&findings, "indicator_score_within_weight");
        assert_eq!(within.len(), 1);
        assert_eq!(within[0].severity, Severity::Error);
        assert_eq!(within[0].fields, ["indicators[0].score", "indicators[0].weight"]);
        assert_eq!((within[0].stated, within[0].computed), (Some(dec("55")), Some(dec("50"))));

        // Row 0: 55 stated, 50 computed; row 1: 400/438 × 50 = 45.66, 40 stated.
        let computed = of(&findings, "indicator_score_computed");
        assert_eq!(computed.len(), 2);
        assert!(computed.iter().all(|f| f.severity == Severity::Warning));
        assert_eq!(computed[1].fields, ["indicators[1].score"]);
        assert_eq!(computed[1].computed.unwrap().to_string(), "45.66");

        record.indicators[1].score = Some(dec("45.67"));
        let findings = run(&record, None);
        let computed = of(&findings, "indicator_score_computed");
        assert_eq!(computed[1].severity, Severity::Note);
    }

    #[test]
    fn stated_total_score_must_match_the_indicator_scores() {
        let mut record = fixture();
        record.indicators = vec![weighted("60", Some("55")), weighted("40", Some("34.5"))];
        record.conclusion.total_score = Some(dec("89.50"));
        record.conclusion.grade = Some(Grade::Good);
        assert!(of(&run(&record, None), "total_score").is_empty());
        assert!(of(&run(&record, None), "grade_band").is_empty());

        record.conclusion.total_score = Some(dec("91.00"));
        let findings = run(&record, None);
        let total = of(&findings, "total_score");
        assert_eq!(total.len(), 1);
        assert_eq!((total[0].rule_number, total[0].severity), (6, Severity::Error));
        assert_eq!((total[0].stated, total[0].computed), (Some(dec("91")), Some(dec("89.5"))));
        // 91 is 优, not the 良 stated.
        assert_eq!(of(&findings, "grade_band").len(), 1);
    }

    #[test]
    fn stated_grade_must_be_the_band_of_the_score() {
        let mut record = fixture();
        record.conclusion.total_score = Some(dec("89.5"));
        record.conclusion.grade = Some(Grade::Excellent);
        let findings = run(&record, None);
        let grade = of(&findings, "grade_band");
        assert_eq!(grade.len(), 1);
        assert_eq!((grade[0].rule_number, grade[0].severity), (6, Severity::Error));
        assert_eq!(grade[0].fields, ["conclusion.grade", "conclusion.total_score"]);
        assert_eq!(grade[0].stated.unwrap().to_string(), "89.50");
        assert_eq!(grade[0].message_zh, "评价等级“优”与得分 89.50 分所在的等级“良”不符");
        assert_eq!(grade[0].message_en, "Grade Excellent does not match Good, the band of the score 89.50");
        assert!(has_errors(&findings));

        record.conclusion.grade = Some(Grade::Good);
        assert!(of(&run(&record, None), "grade_band").is_empty());
    }

    #[test]
    fn grade_without_a_stated_total_is_checked_against_the_assessed_one() {
        let mut record = fixture();
        record.indicators = vec![weighted("60", Some("50")), weighted("40", Some("30"))];
        record.conclusion.grade = Some(Grade::Excellent);
        let findings = run(&record, None);
        let grade = of(&findings, "grade_band");
        assert_eq!(grade[0].fields, ["conclusion.grade"]);
        assert_eq!((grade[0].stated, grade[0].computed), (None, Some(dec("80"))));
    }

    #[test]
    fn a_difference_within_rounding_of_a_wan_yuan_report_is_a_note() {
        let mut record = fixture();
        // Lines 17994800.00 + 100000.00 + 0.00 with a total 50 元 higher: 4 rounded figures allow 200 元.
        record.income.total = Some(dec("18094850.00"));
        let findings = run(&record, None);
        let income = of(&findings, "income_total");
        assert_eq!(income.len(), 1);
        assert_eq!((income[0].rule_number, income[0].severity), (1, Severity::Note));
        assert_eq!((income[0].stated, income[0].computed), (Some(dec("18094850")), Some(dec("18094800"))));
        assert_eq!(
            income[0].message_zh,
            "收入合计 18094850.00 元与收入明细之和 18094800.00 元不符，差额 50.00 元在舍入误差 200.00 元以内"
        );
        assert!(!has_errors(&findings));

        record.reported_in = ReportedIn::Yuan;
        let findings = run(&record, None);
        assert_eq!(of(&findings, "income_total")[0].severity, Severity::Error);
        assert!(has_errors(&findings));

        // Beyond the tolerance, a 万元 report fails too.
        record.reported_in = ReportedIn::TenThousandYuan;
        record.income.total = Some(dec("18095100.00"));
        assert_eq!(of(&run(&record, None), "income_total")[0].severity, Severity::Error);
    }

    #[test]
    fn income_and_expenditure_balance_with_carry_overs() {
        let mut record = fixture();
        record.income.opening_carry_over = Some(dec("500000.00"));
        let findings = run(&record, None);
        let balance = of(&findings, "income_expenditure_balance");
        assert_eq!((balance[0].rule_number, balance[0].severity), (5, Severity::Warning));
        assert_eq!(balance[0].fields, ["income.total", "income.opening_carry_over", "expenditure.total"]);
        assert_eq!((balance[0].stated, balance[0].computed), (Some(dec("18594800")), Some(dec("18094800"))));

        record.expenditure.year_end_carry_over = Some(dec("500000.00"));
        assert!(of(&run(&record, None), "income_expenditure_balance").is_empty());
    }

    #[test]
    fn three_public_total_is_the_sum_of_its_items() {
        let mut record = fixture();
        record.three_public_expenses.total = Some(dec("117000.00"));
        let findings = run(&record, None);
        let total = of(&findings, "three_public_total");
        assert_eq!((total[0].rule_number, total[0].severity), (4, Severity::Error));
        assert_eq!(
            total[0].fields,
            [
                "three_public_expenses.total",
                "three_public_expenses.overseas_travel.amount",
                "three_public_expenses.vehicle_operation.amount",
                "three_public_expenses.reception.amount"
            ]
        );
        assert_eq!(total[0].computed, Some(dec("107000")));
    }

    #[test]
    fn execution_above_100_percent_is_a_warning() {
        let mut record = fixture();
        record.expenditure.lines[3].adjusted_budget = Some(dec("9000000.00"));
        let findings = run(&record, None);
        let rates = of(&findings, "execution_rate");
        assert_eq!(rates.len(), 2, "{rates:#?}");
        // The record's rate comes from the one line with an adjusted budget, then the line itself.
        assert_eq!(rates[0].fields, ["expenditure.lines[3].executed", "expenditure.lines[3].adjusted_budget"]);
        assert_eq!(rates[1].fields, ["expenditure.lines[3].executed"]);
        for rate in &rates {
            assert_eq!((rate.rule_number, rate.severity), (7, Severity::Warning));
            assert_eq!((rate.stated, rate.computed.unwrap().to_string()), (None, "1.0016".to_owned()));
        }
        assert_eq!(
            rates[1].message_zh,
            "支出“项目支出”执行率 100.16% 超过 100%（执行数 9014400.00 元，全年预算数 9000000.00 元）"
        );

        record.budget_execution.adjusted_budget = Some(dec("20000000.00"));
        record.budget_execution.executed = Some(dec("18094800.00"));
        let rates = of(&run(&record, None), "execution_rate").len();
        assert_eq!(rates, 1, "only the line is over budget now");
    }

    #[test]
    fn staff_over_quota_is_a_warning() {
        let mut record = fixture();
        record.profile.staff_at_year_end = Some(79);
        let findings = run(&record, None);
        let staffing = of(&findings, "staffing_quota");
        assert_eq!((staffing[0].rule_number, staffing[0].severity), (10, Severity::Warning));
        assert_eq!((staffing[0].stated, staffing[0].computed), (Some(dec("79")), Some(dec("78"))));
        assert_eq!(
            staffing[0].fields,
            [
                "profile.staff_at_year_end",
                "profile.staffing_quota.administrative",
                "profile.staffing_quota.institutional"
            ]
        );
    }

    #[test]
    fn findings_serialise_with_decimal_strings() {
        let mut record = fixture();
        record.expenditure.basic_total = Some(dec("9180400.00"));
        let findings = run(&record, None);
        let json = serde_json::to_value(of(&findings, "basic_expenditure_total")[0]).unwrap();
        assert_eq!(json["rule"], "basic_expenditure_total");
        assert_eq!(json["rule_number"], 3);
        assert_eq!(json["severity"], "error");
        assert_eq!(json["stated"], "9180400.00");
        assert_eq!(json["computed"], "9080400.00");
    }
}
