//! Scoring of a self-evaluation: indicator scores, the total, execution-rate caps and grades.
//!
//! Weights, grade bands and caps vary by province, so they come in a `ScoringRuleSet` (data),
//! and the national default is only one such set.
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::record::{Achievement, Direction, EvaluationInput, Grade, Indicator};

/// Points a first-level category of the indicator table is worth (分值), out of 100.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryWeight {
    /// Category: `budget_execution` (预算执行), `output` (产出), `effect` (效益), `satisfaction` (满意度), …
    #[schema(example = "output")]
    pub category: String,
    /// 分值 (points)
    #[schema(value_type = String, example = "50")]
    pub weight: Decimal,
}

/// A grade band (等级): a score of at least `min_score` earns `grade`, unless a higher band applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GradeBand {
    /// 评价等级
    pub grade: Grade,
    /// 最低分 (inclusive)
    #[schema(value_type = String, example = "90")]
    pub min_score: Decimal,
}

/// A cap on the total score by budget execution rate (预算执行率): below `below_rate`, at most `max_score`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecutionCap {
    /// Execution rate (0–1) under which the cap applies (exclusive)
    #[schema(value_type = String, example = "0.8")]
    pub below_rate: Decimal,
    /// 最高得分
    #[schema(value_type = String, example = "89")]
    pub max_score: Decimal,
}

/// The share of its weight a qualitative indicator earns for how far it was achieved (定性指标评分档次).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QualitativeBand {
    /// 达成情况
    pub achievement: Achievement,
    /// Lowest share of the weight (0–1, inclusive)
    #[schema(value_type = String, example = "0.8")]
    pub min_share: Decimal,
    /// Highest share of the weight (0–1, inclusive)
    #[schema(value_type = String, example = "1")]
    pub max_share: Decimal,
}

/// Scoring rules (评分规则) of a province or of the nation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoringRuleSet {
    /// 分值: points per first-level category
    pub weights: Vec<CategoryWeight>,
    /// 等级: grade bands
    pub grade_bands: Vec<GradeBand>,
    /// 执行率封顶: caps by execution rate (the tightest applicable one wins); none nationally
    #[serde(default)]
    pub execution_caps: Vec<ExecutionCap>,
    /// 定性指标评分档次: bands of the weight for qualitative rows (national default: achieved
    /// 80–100 %, partly 50–80 %, not achieved 0–50 %)
    #[serde(default = "national_qualitative_bands")]
    pub qualitative_bands: Vec<QualitativeBand>,
}

fn national_qualitative_bands() -> Vec<QualitativeBand> {
    let band = |achievement, min: i64, max: i64| QualitativeBand {
        achievement,
        min_share: Decimal::new(min, 1),
        max_share: Decimal::new(max, 1),
    };
    vec![
        band(Achievement::Achieved, 8, 10),
        band(Achievement::PartlyAchieved, 5, 8),
        band(Achievement::NotAchieved, 0, 5),
    ]
}

impl ScoringRuleSet {
    /// National default: budget execution 10, outputs 50, effects 30, satisfaction 10; 优 ≥90, 良 ≥80,
    /// 中 ≥60, 差 below; no execution cap.
    pub fn national_default() -> Self {
        let weight =
            |category: &str, points: i64| CategoryWeight { category: category.to_owned(), weight: points.into() };
        let band = |grade, min_score: i64| GradeBand { grade, min_score: min_score.into() };
        Self {
            weights: vec![
                weight("budget_execution", 10),
                weight("output", 50),
                weight("effect", 30),
                weight("satisfaction", 10),
            ],
            grade_bands: vec![
                band(Grade::Excellent, 90),
                band(Grade::Good, 80),
                band(Grade::Fair, 60),
                band(Grade::Poor, 0),
            ],
            execution_caps: Vec::new(),
            qualitative_bands: national_qualitative_bands(),
        }
    }

    /// The band of the weight a qualitative row with this achievement may score in.
    pub fn band(&self, achievement: Achievement) -> Option<&QualitativeBand> {
        self.qualitative_bands.iter().find(|band| band.achievement == achievement)
    }
}

impl Default for ScoringRuleSet {
    fn default() -> Self {
        Self::national_default()
    }
}

/// Which budget figure an execution rate is taken against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BudgetBasis {
    /// 全年预算数 (adjusted budget)
    AdjustedBudget,
    /// 年初预算数, when the record gives no adjusted budget
    InitialBudget,
}

/// Which figures of the record an execution rate is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BasisFigures {
    /// The funds block's 年度资金总额 row (`budget_execution`)
    BudgetExecution,
    /// The sum of its rows by source (`budget_execution.sources`), when the total row is missing or
    /// states nothing while its sources carry money
    FundSources,
    /// The sum of the expenditure lines, when the record has no funds block
    ExpenditureLines,
}

/// What an execution rate was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ExecutionBasisView {
    /// 预算口径
    pub budget: BudgetBasis,
    /// 数据来源
    pub figures: BasisFigures,
}

/// What scoring makes of a record.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Assessment {
    /// Score per indicator row: the stated score when given, else the computed one
    #[schema(value_type = Vec<Option<String>>)]
    pub indicator_scores: Vec<Option<Decimal>>,
    /// Score per indicator row computed from target, actual, direction and weight
    #[schema(value_type = Vec<Option<String>>)]
    pub computed_scores: Vec<Option<Decimal>>,
    /// 预算执行得分 computed: execution rate × the funds block's 分值, never above it
    #[schema(value_type = Option<String>, example = "10.00")]
    pub funds_score: Option<Decimal>,
    /// 分值合计: the funds block's and every indicator row's weight (a complete table has 100)
    #[schema(value_type = Option<String>, example = "100.00")]
    pub weight_total: Option<Decimal>,
    /// 总得分: the funds and indicator scores of a complete table (rows that do not apply dropped
    /// and the rest rescaled to 100), capped; absent for a table whose weights fall short of 100
    #[schema(value_type = Option<String>, example = "89.50")]
    pub total_score: Option<Decimal>,
    /// 评价等级 of the total score
    pub grade: Option<Grade>,
    /// 预算执行率 (0–1, four decimals)
    #[schema(value_type = Option<String>, example = "0.9876")]
    pub execution_rate: Option<Decimal>,
    /// What the execution rate was computed from
    pub execution_basis: Option<ExecutionBasisView>,
    /// The execution-rate cap applied, when it lowered the total
    #[schema(value_type = Option<String>, example = "89.00")]
    pub cap: Option<Decimal>,
}

/// `value` rounded half away from zero to exactly `fraction_digits` digits (`9` → `9.00`).
pub(crate) fn rounded(value: Decimal, fraction_digits: u32) -> Decimal {
    let mut value = value.round_dp_with_strategy(fraction_digits, RoundingStrategy::MidpointAwayFromZero);
    value.rescale(fraction_digits);
    value
}

/// Score of a quantitative indicator row from its target, actual value, direction and weight:
/// `>=` min(actual / target, 1) × weight, `<=` min(target / actual, 1) × weight, `=` all or nothing.
/// None when a figure is missing or the row does not apply.
pub fn indicator_score(indicator: &Indicator) -> Option<Decimal> {
    if !indicator.applicable {
        return None;
    }
    let (target, actual, weight) = (indicator.target?, indicator.actual?, indicator.weight?);
    let share = match indicator.direction? {
        Direction::AtLeast if target.is_zero() => {
            if actual >= Decimal::ZERO {
                Decimal::ONE
            } else {
                Decimal::ZERO
            }
        }
        Direction::AtLeast => actual.checked_div(target)?,
        Direction::AtMost if actual.is_zero() => Decimal::ONE,
        Direction::AtMost => target.checked_div(actual)?,
        Direction::Exactly => {
            if actual == target {
                Decimal::ONE
            } else {
                Decimal::ZERO
            }
        }
    };
    // A ratio below zero (signs differ) earns nothing rather than a negative score.
    let share = share.clamp(Decimal::ZERO, Decimal::ONE);
    Some(rounded(share.checked_mul(weight)?, 2))
}

/// The grade of `score`: the band with the highest minimum the score reaches (the lowest band when
/// it reaches none).
pub fn grade_for(score: Decimal, bands: &[GradeBand]) -> Grade {
    bands
        .iter()
        .filter(|band| score >= band.min_score)
        .max_by_key(|band| band.min_score)
        .or_else(|| bands.iter().min_by_key(|band| band.min_score))
        .map_or(Grade::Poor, |band| band.grade)
}

/// The figures an execution rate is taken from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExecutionBasis {
    pub executed: Decimal,
    /// The adjusted budget, or the initial one when no adjusted budget is given
    pub budget: Decimal,
    pub budget_basis: BudgetBasis,
    pub figures: BasisFigures,
    /// JSON paths of the figures used: executed first, then budget, per row
    pub fields: Vec<String>,
}

impl ExecutionBasis {
    pub fn view(&self) -> ExecutionBasisView {
        ExecutionBasisView { budget: self.budget_basis, figures: self.figures }
    }
}

/// Sums (executed, budget) over rows, against the adjusted budget when every row states one, else
/// against the initial budget when every row states that. Rows without an executed figure are
/// left out; None when no row is left or the rows mix bases.
fn sum_rows<'a>(
    rows: impl Iterator<Item = (String, Option<Decimal>, Option<Decimal>, Option<Decimal>)> + 'a,
    figures: BasisFigures,
) -> Option<ExecutionBasis> {
    // (path prefix, executed, adjusted, initial)
    let rows: Vec<_> = rows.filter(|row| row.1.is_some()).collect();
    if rows.is_empty() {
        return None;
    }
    let (budget_basis, member) = if rows.iter().all(|row| row.2.is_some()) {
        (BudgetBasis::AdjustedBudget, "adjusted_budget")
    } else if rows.iter().all(|row| row.3.is_some()) {
        (BudgetBasis::InitialBudget, "initial_budget")
    } else {
        return None;
    };
    let mut basis =
        ExecutionBasis { executed: Decimal::ZERO, budget: Decimal::ZERO, budget_basis, figures, fields: Vec::new() };
    for (at, executed, adjusted, initial) in rows {
        basis.executed += executed.unwrap_or_default();
        basis.budget +=
            if budget_basis == BudgetBasis::AdjustedBudget { adjusted } else { initial }.unwrap_or_default();
        basis.fields.push(format!("{at}.executed"));
        basis.fields.push(format!("{at}.{member}"));
    }
    Some(basis)
}

/// Whether the funds block's total row states nothing (absent or zero) while a source row carries money:
/// the 0/0/0 年度资金总额 row of published tables whose 其中 rows hold the figures.
pub(crate) fn total_row_is_empty_while_sources_carry_money(record: &EvaluationInput) -> bool {
    let budget = &record.budget_execution;
    let nothing = |value: Option<Decimal>| value.is_none_or(|v| v.is_zero());
    let total_empty = nothing(budget.initial_budget) && nothing(budget.adjusted_budget) && nothing(budget.executed);
    let sources_carry = budget.sources.rows().any(|(_, row)| {
        [row.initial_budget, row.adjusted_budget, row.executed].into_iter().any(|v| v.is_some_and(|v| !v.is_zero()))
    });
    total_empty && sources_carry
}

/// The figures of the execution rate: the funds block's total row (年度资金总额); its rows by source
/// when the total row is missing or states 0 while they carry money; else the expenditure lines.
/// Each against the adjusted budget (全年预算数), or the initial budget (年初预算数) when no adjusted
/// one is given. None when the record has none of these.
pub(crate) fn execution_basis(record: &EvaluationInput) -> Option<ExecutionBasis> {
    let budget = &record.budget_execution;
    let total_row = std::iter::once((
        "budget_execution".to_owned(),
        budget.executed,
        budget.adjusted_budget,
        budget.initial_budget,
    ));
    if !total_row_is_empty_while_sources_carry_money(record) {
        if let Some(basis) = sum_rows(total_row, BasisFigures::BudgetExecution) {
            return Some(basis);
        }
    }
    let sources = budget.sources.rows().map(|(name, row)| {
        (format!("budget_execution.sources.{name}"), row.executed, row.adjusted_budget, row.initial_budget)
    });
    if let Some(basis) = sum_rows(sources, BasisFigures::FundSources) {
        return Some(basis);
    }
    // Expenditure lines: those with an adjusted budget, else (none has one) those with an initial one.
    let lines = |basis: BudgetBasis| {
        record.expenditure.lines.iter().enumerate().filter_map(move |(i, line)| {
            let has = match basis {
                BudgetBasis::AdjustedBudget => line.adjusted_budget.is_some(),
                BudgetBasis::InitialBudget => line.initial_budget.is_some(),
            };
            has.then(|| (format!("expenditure.lines[{i}]"), line.executed, line.adjusted_budget, line.initial_budget))
        })
    };
    sum_rows(lines(BudgetBasis::AdjustedBudget), BasisFigures::ExpenditureLines)
        .or_else(|| sum_rows(lines(BudgetBasis::InitialBudget), BasisFigures::ExpenditureLines))
}

/// 预算执行率 = executed / budget (全年执行数 / 全年预算数, or / 年初预算数 without an adjusted budget),
/// four decimals. None without figures or when the budget is zero.
pub fn execution_rate(record: &EvaluationInput) -> Option<Decimal> {
    rate_of(&execution_basis(record)?)
}

pub(crate) fn rate_of(basis: &ExecutionBasis) -> Option<Decimal> {
    if basis.budget.is_zero() {
        return None;
    }
    Some(rounded(basis.executed.checked_div(basis.budget)?, 4))
}

/// 预算执行得分 = execution rate × the funds block's 分值, never above the 分值 nor below 0.
pub fn funds_score(record: &EvaluationInput) -> Option<Decimal> {
    let weight = record.budget_execution.weight?;
    let basis = execution_basis(record)?;
    if basis.budget.is_zero() {
        return None;
    }
    let share = basis.executed.checked_div(basis.budget)?.clamp(Decimal::ZERO, Decimal::ONE);
    Some(rounded(share.checked_mul(weight)?, 2))
}

/// Scores a record. The total is the funds score plus the indicator scores (stated, else
/// computed) of a complete table: the funds block's and every row's weights add up to 100. Rows
/// that do not apply are dropped and the rest rescaled to 100; a table whose weights fall short of
/// 100 because rows are missing gets no total or grade. Then the execution-rate cap and the grade.
pub fn assess(record: &EvaluationInput, rules: &ScoringRuleSet) -> Assessment {
    let computed_scores: Vec<Option<Decimal>> = record.indicators.iter().map(indicator_score).collect();
    let indicator_scores: Vec<Option<Decimal>> =
        record.indicators.iter().zip(&computed_scores).map(|(row, computed)| row.score.or(*computed)).collect();
    let basis = execution_basis(record);
    let execution_rate = basis.as_ref().and_then(rate_of);
    let funds_score = funds_score(record);

    let table = weigh(record);
    let funds = &record.budget_execution;
    // None once a weighted row (or the weighted funds block) has no score at all: the total is then
    // unknown, not smaller.
    let mut score_sum = funds.weight.map_or(Some(Decimal::ZERO), |_| funds.score.or(funds_score));
    for (row, score) in record.indicators.iter().zip(&indicator_scores) {
        if row.applicable && row.weight.is_some() {
            score_sum = score_sum.zip(*score).map(|(sum, score)| sum + score);
        }
    }

    let mut cap = None;
    let total_score = score_sum.filter(|_| table.is_complete()).map(|sum| {
        let hundred = Decimal::ONE_HUNDRED;
        let applicable = table.applicable;
        let total = if applicable < hundred { rounded(sum * hundred / applicable, 2) } else { rounded(sum, 2) };
        let limit = execution_rate
            .and_then(|rate| rules.execution_caps.iter().filter(|c| rate < c.below_rate).map(|c| c.max_score).min());
        match limit {
            Some(limit) if total > limit => {
                let limit = rounded(limit, 2);
                cap = Some(limit);
                limit
            }
            _ => total,
        }
    });
    let grade = total_score.map(|total| grade_for(total, &rules.grade_bands));

    Assessment {
        indicator_scores,
        computed_scores,
        funds_score,
        weight_total: table.any_weight.then(|| rounded(table.total(), 2)),
        total_score,
        grade,
        execution_rate,
        execution_basis: basis.as_ref().map(ExecutionBasis::view),
        cap,
    }
}

/// The weights of a self-evaluation table: the funds block and the indicator rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TableWeights {
    /// Weights of what is scored: the funds block and the applicable rows
    pub applicable: Decimal,
    /// Weights of the rows marked not applicable
    pub not_applicable: Decimal,
    /// Whether some applicable row states no weight (the table is then not a weighted table)
    pub unweighted_applicable: bool,
    /// Whether some row marked not applicable states no weight
    pub unweighted_not_applicable: bool,
    /// Whether anything states a weight
    pub any_weight: bool,
}

impl TableWeights {
    pub fn total(&self) -> Decimal {
        self.applicable + self.not_applicable
    }

    /// A table that can be totalled: every applicable row weighted, something weighted, and the
    /// weights adding up to 100, or short of 100 only by rows that do not apply and state no weight.
    pub fn is_complete(&self) -> bool {
        let hundred = Decimal::ONE_HUNDRED;
        let total = self.total();
        self.any_weight
            && !self.applicable.is_zero()
            && !self.unweighted_applicable
            && (total == hundred || (total < hundred && self.unweighted_not_applicable))
    }
}

pub(crate) fn weigh(record: &EvaluationInput) -> TableWeights {
    let funds = record.budget_execution.weight;
    let mut weights = TableWeights {
        applicable: funds.unwrap_or_default(),
        not_applicable: Decimal::ZERO,
        unweighted_applicable: false,
        unweighted_not_applicable: false,
        any_weight: funds.is_some(),
    };
    for row in &record.indicators {
        match (row.applicable, row.weight) {
            (true, Some(weight)) => weights.applicable += weight,
            (false, Some(weight)) => weights.not_applicable += weight,
            (true, None) => weights.unweighted_applicable = true,
            (false, None) => weights.unweighted_not_applicable = true,
        }
        weights.any_weight |= row.weight.is_some();
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::record::{ExpenditureLine, ExpenditureStructure, IndicatorLevel1, IndicatorLevel2};
    use std::str::FromStr;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn fixture() -> EvaluationInput {
        serde_json::from_str(include_str!("../../tests/fixtures/yintian-2022.json")).unwrap()
    }

    fn row(direction: Direction, target: &str, actual: &str, weight: &str) -> Indicator {
        Indicator {
            level_1: IndicatorLevel1::Output,
            level_1_points: None,
            level_2: IndicatorLevel2::Quantity,
            name: "排查房屋".into(),
            code: None,
            matched_code: None,
            unit_of_measure: None,
            direction: Some(direction),
            target: Some(dec(target)),
            target_text: None,
            actual: Some(dec(actual)),
            actual_text: None,
            weight: Some(dec(weight)),
            score: None,
            achievement: None,
            applicable: true,
            deviation_reason: None,
        }
    }

    fn scored(weight: &str, score: &str) -> Indicator {
        Indicator { score: Some(dec(score)), ..row(Direction::AtLeast, "1", "1", weight) }
    }

    fn province_caps() -> ScoringRuleSet {
        let cap = |below: &str, max: &str| ExecutionCap { below_rate: dec(below), max_score: dec(max) };
        ScoringRuleSet {
            execution_caps: vec![cap("0.8", "89"), cap("0.7", "79"), cap("0.6", "69"), cap("0.5", "59")],
            ..ScoringRuleSet::national_default()
        }
    }

    #[test]
    fn positive_indicator_scores_the_share_reached() {
        let score = indicator_score(&row(Direction::AtLeast, "100", "90", "10")).unwrap();
        assert_eq!(score.to_string(), "9.00");
        assert_eq!(indicator_score(&row(Direction::AtLeast, "100", "120", "10")), Some(dec("10.00")));
        assert_eq!(indicator_score(&row(Direction::AtLeast, "0", "3", "10")), Some(dec("10.00")));
    }

    #[test]
    fn reverse_indicator_scores_target_over_actual() {
        assert_eq!(indicator_score(&row(Direction::AtMost, "5", "10", "10")).unwrap().to_string(), "5.00");
        assert_eq!(indicator_score(&row(Direction::AtMost, "5", "0", "10")), Some(dec("10")));
    }

    #[test]
    fn exact_indicator_scores_all_or_nothing_and_rounds_half_away_from_zero() {
        assert_eq!(indicator_score(&row(Direction::Exactly, "24", "24", "5")), Some(dec("5")));
        assert_eq!(indicator_score(&row(Direction::Exactly, "24", "23", "5")), Some(dec("0")));
        // 1/3 × 10 = 3.333… → 3.33; 5/8 × 0.2 = 0.125 → 0.13 (half away from zero, not to even)
        assert_eq!(indicator_score(&row(Direction::AtLeast, "3", "1", "10")).unwrap().to_string(), "3.33");
        assert_eq!(indicator_score(&row(Direction::AtLeast, "8", "5", "0.2")).unwrap().to_string(), "0.13");
    }

    #[test]
    fn indicator_without_figures_or_not_applicable_has_no_score() {
        let not_applicable = Indicator { applicable: false, ..row(Direction::AtLeast, "100", "90", "10") };
        assert_eq!(indicator_score(&not_applicable), None);
        let no_weight = Indicator { weight: None, ..row(Direction::AtLeast, "100", "90", "10") };
        assert_eq!(indicator_score(&no_weight), None);
        let no_direction = Indicator { direction: None, ..row(Direction::AtLeast, "100", "90", "10") };
        assert_eq!(indicator_score(&no_direction), None);
    }

    #[test]
    fn grades_follow_the_bands() {
        let bands = ScoringRuleSet::national_default().grade_bands;
        assert_eq!(grade_for(dec("89.5"), &bands), Grade::Good);
        assert_eq!(grade_for(dec("90"), &bands), Grade::Excellent);
        assert_eq!(grade_for(dec("100"), &bands), Grade::Excellent);
        assert_eq!(grade_for(dec("80"), &bands), Grade::Good);
        assert_eq!(grade_for(dec("60"), &bands), Grade::Fair);
        assert_eq!(grade_for(dec("59.99"), &bands), Grade::Poor);
    }

    #[test]
    fn national_default_is_the_default_and_round_trips_through_json() {
        let rules = ScoringRuleSet::default();
        assert_eq!(rules, ScoringRuleSet::national_default());
        let weights: Vec<(&str, Decimal)> = rules.weights.iter().map(|w| (w.category.as_str(), w.weight)).collect();
        assert_eq!(
            weights,
            [
                ("budget_execution", dec("10")),
                ("output", dec("50")),
                ("effect", dec("30")),
                ("satisfaction", dec("10"))
            ]
        );
        assert!(rules.execution_caps.is_empty());
        let json = serde_json::to_string(&rules).unwrap();
        assert!(json.contains(r#"{"grade":"excellent","min_score":"90"}"#), "{json}");
        assert_eq!(serde_json::from_str::<ScoringRuleSet>(&json).unwrap(), rules);
    }

    #[test]
    fn execution_rate_from_the_record_or_its_lines() {
        let mut record = fixture();
        assert_eq!(execution_rate(&record), None);

        let line = |adjusted: Option<&str>, executed: &str| ExpenditureLine {
            structure: ExpenditureStructure::Project,
            economic_class: None,
            name: None,
            initial_budget: None,
            adjusted_budget: adjusted.map(dec),
            executed: Some(dec(executed)),
        };
        record.expenditure.lines =
            vec![line(Some("600000.00"), "590000.00"), line(Some("400000.00"), "397600.00"), line(None, "5000.00")];
        assert_eq!(execution_rate(&record).unwrap().to_string(), "0.9876");

        record.budget_execution.adjusted_budget = Some(dec("3000000.00"));
        record.budget_execution.executed = Some(dec("2000000.00"));
        assert_eq!(execution_rate(&record).unwrap().to_string(), "0.6667");

        record.budget_execution.adjusted_budget = Some(Decimal::ZERO);
        assert_eq!(execution_rate(&record), None);
    }

    #[test]
    fn the_fixture_has_no_weights_so_no_total() {
        let record = fixture();
        let assessment = assess(&record, &ScoringRuleSet::national_default());
        assert_eq!(assessment.indicator_scores.len(), record.indicators.len());
        assert!(assessment.indicator_scores.iter().all(Option::is_none));
        assert!(assessment.computed_scores.iter().all(Option::is_none));
        assert_eq!(assessment.total_score, None);
        assert_eq!(assessment.grade, None);
        assert_eq!(assessment.execution_rate, None);
        assert_eq!(assessment.cap, None);
    }

    #[test]
    fn rows_that_do_not_apply_are_dropped_and_the_rest_rescaled() {
        let mut record = fixture();
        record.indicators = vec![
            scored("50", "45"),
            row(Direction::AtLeast, "100", "100", "30"),
            Indicator { applicable: false, ..scored("20", "0") },
        ];
        let assessment = assess(&record, &ScoringRuleSet::national_default());
        assert_eq!(assessment.computed_scores, [Some(dec("50")), Some(dec("30")), None]);
        assert_eq!(assessment.indicator_scores, [Some(dec("45")), Some(dec("30")), Some(dec("0"))]);
        // (45 + 30) × 100 / 80
        assert_eq!(assessment.total_score.unwrap().to_string(), "93.75");
        assert_eq!(assessment.grade, Some(Grade::Excellent));
        assert_eq!(assessment.cap, None);
    }

    #[test]
    fn a_weighted_row_without_any_score_leaves_the_total_unknown() {
        let mut record = fixture();
        record.indicators =
            vec![scored("90", "90"), Indicator { direction: None, ..row(Direction::AtLeast, "1", "1", "10") }];
        let assessment = assess(&record, &ScoringRuleSet::national_default());
        assert_eq!(assessment.indicator_scores, [Some(dec("90")), None]);
        assert_eq!(assessment.total_score, None);
        assert_eq!(assessment.grade, None);
    }

    #[test]
    fn a_province_cap_lowers_the_total_by_execution_rate() {
        let mut record = fixture();
        record.indicators = vec![scored("60", "57"), scored("40", "38")];
        record.budget_execution.adjusted_budget = Some(dec("1000000.00"));
        record.budget_execution.executed = Some(dec("750000.00"));

        let national = assess(&record, &ScoringRuleSet::national_default());
        assert_eq!(national.total_score, Some(dec("95.00")));
        assert_eq!(national.grade, Some(Grade::Excellent));
        assert_eq!(national.cap, None);

        let capped = assess(&record, &province_caps());
        assert_eq!(capped.execution_rate.unwrap().to_string(), "0.7500");
        assert_eq!(capped.total_score.unwrap().to_string(), "89.00");
        assert_eq!(capped.cap.unwrap().to_string(), "89.00");
        assert_eq!(capped.grade, Some(Grade::Good));

        // The tightest applicable cap wins; a total already below it is left alone.
        record.budget_execution.executed = Some(dec("450000.00"));
        assert_eq!(assess(&record, &province_caps()).total_score, Some(dec("59")));
        record.indicators = vec![scored("60", "30"), scored("40", "20")];
        let low = assess(&record, &province_caps());
        assert_eq!((low.total_score, low.cap, low.grade), (Some(dec("50")), None, Some(Grade::Poor)));
    }
}
