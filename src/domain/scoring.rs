//! Scoring of a self-evaluation: indicator scores, the total, execution-rate caps and grades.
//!
//! Weights, grade bands and caps vary by province, so they come in a `ScoringRuleSet` (data),
//! and the national default is only one such set.
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::record::{Direction, EvaluationInput, Grade, Indicator};

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
        }
    }
}

impl Default for ScoringRuleSet {
    fn default() -> Self {
        Self::national_default()
    }
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
    /// 总得分, rescaled to 100 and capped; absent when no applicable row has a weight
    #[schema(value_type = Option<String>, example = "89.50")]
    pub total_score: Option<Decimal>,
    /// 评价等级 of the total score
    pub grade: Option<Grade>,
    /// 预算执行率 (0–1, four decimals)
    #[schema(value_type = Option<String>, example = "0.9876")]
    pub execution_rate: Option<Decimal>,
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
    pub adjusted: Decimal,
    /// Summed over the expenditure lines that state an adjusted budget, rather than the record's own figures
    pub from_lines: bool,
}

/// The record's budget execution when it states both figures, else the sums over the expenditure
/// lines that state an adjusted budget; None when neither is there.
pub(crate) fn execution_basis(record: &EvaluationInput) -> Option<ExecutionBasis> {
    let budget = &record.budget_execution;
    if let (Some(executed), Some(adjusted)) = (budget.executed, budget.adjusted_budget) {
        return Some(ExecutionBasis { executed, adjusted, from_lines: false });
    }
    let mut lines = record.expenditure.lines.iter().filter_map(|line| Some((line.executed, line.adjusted_budget?)));
    let first = lines.next()?;
    let (executed, adjusted) = lines.fold(first, |(executed, adjusted), line| (executed + line.0, adjusted + line.1));
    Some(ExecutionBasis { executed, adjusted, from_lines: true })
}

/// 预算执行率 = executed / adjusted budget (全年执行数 / 全年预算数), four decimals, from the record's
/// budget execution or else from the expenditure lines that state an adjusted budget. None without an
/// adjusted budget or when it is zero.
pub fn execution_rate(record: &EvaluationInput) -> Option<Decimal> {
    let basis = execution_basis(record)?;
    if basis.adjusted.is_zero() {
        return None;
    }
    Some(rounded(basis.executed.checked_div(basis.adjusted)?, 4))
}

/// Scores a record: per-row scores, the total over the applicable weighted rows rescaled to 100 when
/// their weights fall short of it, the execution-rate cap, and the grade.
pub fn assess(record: &EvaluationInput, rules: &ScoringRuleSet) -> Assessment {
    let computed_scores: Vec<Option<Decimal>> = record.indicators.iter().map(indicator_score).collect();
    let indicator_scores: Vec<Option<Decimal>> =
        record.indicators.iter().zip(&computed_scores).map(|(row, computed)| row.score.or(*computed)).collect();
    let execution_rate = execution_rate(record);

    let mut weight_sum = Decimal::ZERO;
    let mut weighted_rows = 0;
    // None once a weighted row has no score at all: the total is then unknown, not smaller.
    let mut score_sum = Some(Decimal::ZERO);
    for (row, score) in record.indicators.iter().zip(&indicator_scores) {
        let Some(weight) = row.weight.filter(|_| row.applicable) else { continue };
        weighted_rows += 1;
        weight_sum += weight;
        score_sum = score_sum.zip(*score).map(|(sum, score)| sum + score);
    }

    let mut cap = None;
    let total_score = score_sum.filter(|_| weighted_rows > 0 && !weight_sum.is_zero()).map(|sum| {
        let hundred = Decimal::ONE_HUNDRED;
        let total = if weight_sum < hundred { rounded(sum * hundred / weight_sum, 2) } else { rounded(sum, 2) };
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

    Assessment { indicator_scores, computed_scores, total_score, grade, execution_rate, cap }
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
            level_2: IndicatorLevel2::Quantity,
            name: "排查房屋".into(),
            code: None,
            unit_of_measure: None,
            direction: Some(direction),
            target: Some(dec(target)),
            target_text: None,
            actual: Some(dec(actual)),
            actual_text: None,
            weight: Some(dec(weight)),
            score: None,
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
            executed: dec(executed),
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
