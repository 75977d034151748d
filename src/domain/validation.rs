//! Checks a record beyond what its types say, and brings it to canonical form.
//!
//! Every problem is collected with its JSON path, so one 422 names them all.
use rust_decimal::Decimal;

use super::{
    money::{canonical_rate, max_amount, significant_scale, with_scale},
    record::{EvaluationInput, EvaluationKind, PriorYearTotal},
    region_code::{RegionCode, RegionLevel},
    FieldError,
};

/// Fiscal years a record may carry.
pub const FISCAL_YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;
/// Longest text in a name-like field (unit, indicator name, …), in characters.
pub const MAX_NAME_CHARS: usize = 500;
/// Longest free text (narrative, conclusion), in characters.
pub const MAX_TEXT_CHARS: usize = 100_000;
/// Most rows in one repeated group (indicators, lines, …).
pub const MAX_ROWS: usize = 2_000;
/// Most fraction digits of an indicator's target or actual value.
pub const MAX_INDICATOR_SCALE: u32 = 6;
/// Most fraction digits of a stated rate, share or percentage change (as a fraction: a percentage
/// printed with four decimals).
pub const MAX_RATE_SCALE: u32 = 6;

/// A record that passed validation, in canonical form.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidEvaluation {
    pub region_code: RegionCode,
    pub record: EvaluationInput,
}

/// Collects field errors while a record is walked.
#[derive(Default)]
struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn fail(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, code, message));
    }

    /// Text without NUL characters (PostgreSQL refuses them) and within a length.
    fn text(&mut self, field: &str, value: &str, max_chars: usize) {
        if value.contains('\0') {
            self.fail(field, "invalid_character", "must not contain NUL characters");
        } else if value.chars().count() > max_chars {
            self.fail(field, "too_long", format!("must have at most {max_chars} characters"));
        }
    }

    fn required_text(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.fail(field, "required", "must not be empty");
        } else {
            self.text(field, value, MAX_NAME_CHARS);
        }
    }

    fn optional_text(&mut self, field: &str, value: &Option<String>, max_chars: usize) {
        if let Some(value) = value {
            self.text(field, value, max_chars);
        }
    }

    fn texts(&mut self, field: &str, values: &[String], max_chars: usize) {
        self.rows(field, values.len());
        for (index, value) in values.iter().enumerate() {
            self.text(&format!("{field}[{index}]"), value, max_chars);
        }
    }

    fn rows(&mut self, field: &str, count: usize) {
        if count > MAX_ROWS {
            self.fail(field, "too_many_rows", format!("must have at most {MAX_ROWS} rows"));
        }
    }

    /// An amount in 元: at most 2 fraction digits, within NUMERIC(16,2), and not negative
    /// unless `signed`. Returns it with exactly two fraction digits.
    fn amount(&mut self, field: &str, value: Decimal, signed: bool) -> Decimal {
        if significant_scale(value) > 2 {
            self.fail(field, "too_many_decimals", "an amount in 元 has at most 2 fraction digits");
            return value;
        }
        if !signed && value.is_sign_negative() && !value.is_zero() {
            self.fail(field, "negative", "must not be negative");
            return value;
        }
        if value.abs() > max_amount() {
            self.fail(field, "out_of_range", "must be below 100,000,000,000,000 元");
            return value;
        }
        with_scale(value, 2)
    }

    fn optional_amount(&mut self, field: &str, value: &mut Option<Decimal>) {
        if let Some(amount) = value {
            *amount = self.amount(field, *amount, false);
        }
    }

    /// A decimal within `[min, max]` with at most `scale` fraction digits, brought to `canonical`
    /// fraction digits when given.
    fn bounded(
        &mut self,
        field: &str,
        value: &mut Decimal,
        min: Decimal,
        max: Decimal,
        scale: u32,
        canonical: Option<u32>,
    ) {
        if significant_scale(*value) > scale {
            self.fail(field, "too_many_decimals", format!("must have at most {scale} fraction digits"));
        } else if *value < min || *value > max {
            self.fail(field, "out_of_range", format!("must be between {min} and {max}"));
        } else if let Some(canonical) = canonical {
            *value = with_scale(*value, canonical);
        }
    }

    /// A stated rate, share or change as a fraction (`"1.0820"` is 108.20%): at most six fraction
    /// digits, within ±1000, not negative unless `signed`; written with at least four digits.
    fn rate(&mut self, field: &str, value: &mut Option<Decimal>, signed: bool) {
        let Some(rate) = value else { return };
        let limit = Decimal::from(1000);
        let min = if signed { -limit } else { Decimal::ZERO };
        self.bounded(field, rate, min, limit, MAX_RATE_SCALE, None);
        if significant_scale(*rate) <= MAX_RATE_SCALE {
            *rate = canonical_rate(*rate);
        }
    }

    /// Points (分值, 得分): 0–9999.99 with two fraction digits.
    fn points(&mut self, field: &str, value: &mut Option<Decimal>) {
        if let Some(points) = value {
            self.bounded(field, points, Decimal::ZERO, Decimal::new(999_999, 2), 2, Some(2));
        }
    }

    fn signed_amount(&mut self, field: &str, value: &mut Option<Decimal>) {
        if let Some(amount) = value {
            *amount = self.amount(field, *amount, true);
        }
    }

    fn prior_year_total(&mut self, field: &str, prior: &mut Option<PriorYearTotal>) {
        let Some(total) = prior else { return };
        if let Some(year) = total.fiscal_year {
            self.year(&format!("{field}.fiscal_year"), year);
        }
        self.optional_amount(&format!("{field}.amount"), &mut total.amount);
        self.signed_amount(&format!("{field}.stated_change"), &mut total.stated_change);
        self.rate(&format!("{field}.stated_change_pct"), &mut total.stated_change_pct, true);
        if *total == PriorYearTotal::default() {
            *prior = None;
        }
    }

    fn count(&mut self, field: &str, value: Option<i32>) {
        if value.is_some_and(|n| n < 0) {
            self.fail(field, "negative", "must not be negative");
        }
    }

    fn year(&mut self, field: &str, value: i32) {
        if !FISCAL_YEARS.contains(&value) {
            self.fail(field, "out_of_range", "must be a year from 1990 to 2100");
        }
    }
}

/// Validates a record and returns it in canonical form: amounts with two fraction digits,
/// scores with two, progress with four, the region code with nine digits.
pub fn validate(mut record: EvaluationInput) -> Result<ValidEvaluation, Vec<FieldError>> {
    let mut c = Checker::default();

    let region_code = match RegionCode::parse(&record.region_code) {
        Ok(code) if code.level() == RegionLevel::Township => Some(code),
        Ok(_) => {
            c.fail("region_code", "not_a_township", "a record belongs to a township: 9 digits (or 12 ending in 000)");
            None
        }
        Err(error) => {
            c.fail("region_code", "invalid_region_code", error.to_string());
            None
        }
    };
    if let Some(code) = &region_code {
        record.region_code = code.to_string();
    }
    c.year("fiscal_year", record.fiscal_year);
    c.required_text("unit", &record.unit);
    match (&record.project, record.kind) {
        (None, EvaluationKind::Project) => {
            c.fail("project", "required", "a project self-evaluation names its project (project.name)")
        }
        (Some(_), EvaluationKind::DepartmentOverall) => c.fail(
            "project",
            "not_applicable",
            "a department-overall self-evaluation covers the whole unit and names no project",
        ),
        (Some(project), _) => {
            c.required_text("project.name", &project.name);
            c.optional_text("project.code", &project.code, MAX_NAME_CHARS);
            for (member, unit) in [
                ("competent_department", &project.competent_department),
                ("implementing_unit", &project.implementing_unit),
            ] {
                if let Some(unit) = unit {
                    c.required_text(&format!("project.{member}.name"), &unit.name);
                    c.optional_text(&format!("project.{member}.code"), &unit.code, MAX_NAME_CHARS);
                }
            }
        }
        (None, _) => {}
    }
    c.optional_text("budget_unit_code", &record.budget_unit_code, MAX_NAME_CHARS);
    c.texts("basis_documents", &record.basis_documents, MAX_NAME_CHARS);
    c.optional_text("issuer", &record.issuer, MAX_NAME_CHARS);

    let profile = &mut record.profile;
    c.texts("profile.duties", &profile.duties, MAX_TEXT_CHARS);
    c.rows("profile.internal_units", profile.internal_units.len());
    for (i, unit) in profile.internal_units.iter().enumerate() {
        c.required_text(&format!("profile.internal_units[{i}].name"), &unit.name);
        c.count(&format!("profile.internal_units[{i}].count"), Some(unit.count));
    }
    let quota = &profile.staffing_quota;
    let in_post = &profile.staff_in_post;
    for (field, value) in [
        ("profile.staffing_quota.total", quota.total),
        ("profile.staffing_quota.administrative", quota.administrative),
        ("profile.staffing_quota.civil_service_managed", quota.civil_service_managed),
        ("profile.staffing_quota.institutional", quota.institutional),
        ("profile.staffing_quota.government_workers", quota.government_workers),
        ("profile.staff_at_year_end", profile.staff_at_year_end),
        ("profile.staff_in_post.administrative", in_post.administrative),
        ("profile.staff_in_post.civil_service_managed", in_post.civil_service_managed),
        ("profile.staff_in_post.institutional", in_post.institutional),
        ("profile.staff_in_post.government_workers", in_post.government_workers),
        ("profile.retired", profile.retired),
        ("profile.hired", profile.hired),
        ("profile.official_vehicles", profile.official_vehicles),
    ] {
        c.count(field, value);
    }
    let consolidated = &profile.consolidated_units;
    let by_type = &consolidated.stated_by_type;
    for (field, value) in [
        ("profile.consolidated_units.stated_count", consolidated.stated_count),
        ("profile.consolidated_units.stated_by_type.administrative", by_type.administrative),
        ("profile.consolidated_units.stated_by_type.civil_service_managed", by_type.civil_service_managed),
        ("profile.consolidated_units.stated_by_type.institutional", by_type.institutional),
        ("profile.consolidated_units.stated_by_type.other", by_type.other),
    ] {
        c.count(field, value);
    }
    c.rows("profile.consolidated_units.units", consolidated.units.len());
    for (i, unit) in consolidated.units.iter().enumerate() {
        c.required_text(&format!("profile.consolidated_units.units[{i}].name"), &unit.name);
        c.optional_text(&format!("profile.consolidated_units.units[{i}].code"), &unit.code, MAX_NAME_CHARS);
    }

    let income = &mut record.income;
    c.optional_amount("income.total", &mut income.total);
    c.optional_amount("income.opening_carry_over", &mut income.opening_carry_over);
    c.rows("income.lines", income.lines.len());
    for (i, line) in income.lines.iter_mut().enumerate() {
        line.amount = c.amount(&format!("income.lines[{i}].amount"), line.amount, false);
        c.optional_amount(&format!("income.lines[{i}].initial_budget"), &mut line.initial_budget);
        c.optional_amount(&format!("income.lines[{i}].adjusted_budget"), &mut line.adjusted_budget);
        c.rate(&format!("income.lines[{i}].stated_share"), &mut line.stated_share, false);
        c.optional_text(&format!("income.lines[{i}].note"), &line.note, MAX_TEXT_CHARS);
    }
    c.prior_year_total("income.prior_year", &mut income.prior_year);

    let expenditure = &mut record.expenditure;
    c.optional_amount("expenditure.total", &mut expenditure.total);
    c.optional_amount("expenditure.basic_total", &mut expenditure.basic_total);
    c.optional_amount("expenditure.project_total", &mut expenditure.project_total);
    c.optional_amount("expenditure.business_total", &mut expenditure.business_total);
    c.optional_amount("expenditure.year_end_carry_over", &mut expenditure.year_end_carry_over);
    c.rows("expenditure.lines", expenditure.lines.len());
    for (i, line) in expenditure.lines.iter_mut().enumerate() {
        c.optional_text(&format!("expenditure.lines[{i}].name"), &line.name, MAX_NAME_CHARS);
        c.optional_amount(&format!("expenditure.lines[{i}].initial_budget"), &mut line.initial_budget);
        c.optional_amount(&format!("expenditure.lines[{i}].adjusted_budget"), &mut line.adjusted_budget);
        c.optional_amount(&format!("expenditure.lines[{i}].executed"), &mut line.executed);
    }
    c.prior_year_total("expenditure.prior_year", &mut expenditure.prior_year);

    let budget = &mut record.budget_execution;
    c.optional_amount("budget_execution.initial_budget", &mut budget.initial_budget);
    c.optional_amount("budget_execution.adjusted_budget", &mut budget.adjusted_budget);
    c.optional_amount("budget_execution.executed", &mut budget.executed);
    c.points("budget_execution.weight", &mut budget.weight);
    c.rate("budget_execution.stated_rate", &mut budget.stated_rate, false);
    c.points("budget_execution.score", &mut budget.score);
    let sources = &mut budget.sources;
    for (name, row) in [
        ("current_appropriation", &mut sources.current_appropriation),
        ("carried_over", &mut sources.carried_over),
        ("other", &mut sources.other),
    ] {
        let Some(figures) = row else { continue };
        let at = |member: &str| format!("budget_execution.sources.{name}.{member}");
        c.optional_amount(&at("initial_budget"), &mut figures.initial_budget);
        c.optional_amount(&at("adjusted_budget"), &mut figures.adjusted_budget);
        c.optional_amount(&at("executed"), &mut figures.executed);
    }

    if let Some(target) = &mut record.annual_target {
        c.optional_text("annual_target.expected", &target.expected, MAX_TEXT_CHARS);
        c.optional_text("annual_target.achieved", &target.achieved, MAX_TEXT_CHARS);
        c.points("annual_target.weight", &mut target.weight);
        if *target == Default::default() {
            record.annual_target = None;
        }
    }

    let three = &mut record.three_public_expenses;
    c.optional_amount("three_public_expenses.total", &mut three.total);
    c.optional_amount("three_public_expenses.budget_total", &mut three.budget_total);
    // An item with nothing in it is no item: the canonical form drops it.
    if let Some(item) = &mut three.overseas_travel {
        let at = |member: &str| format!("three_public_expenses.overseas_travel.{member}");
        c.optional_amount(&at("amount"), &mut item.amount);
        c.optional_amount(&at("budget"), &mut item.budget);
        c.rate(&at("stated_share"), &mut item.stated_share, false);
        c.count(&at("delegations"), item.delegations);
        c.count(&at("persons"), item.persons);
    }
    if three.overseas_travel.as_ref().is_some_and(|item| *item == Default::default()) {
        three.overseas_travel = None;
    }
    for (name, item) in
        [("vehicle_purchase", &mut three.vehicle_purchase), ("vehicle_operation", &mut three.vehicle_operation)]
    {
        if let Some(cost) = item {
            let at = |member: &str| format!("three_public_expenses.{name}.{member}");
            c.optional_amount(&at("amount"), &mut cost.amount);
            c.optional_amount(&at("budget"), &mut cost.budget);
            c.rate(&at("stated_share"), &mut cost.stated_share, false);
            c.count(&at("vehicles"), cost.vehicles);
        }
        if item.as_ref().is_some_and(|cost| *cost == Default::default()) {
            *item = None;
        }
    }
    if let Some(item) = &mut three.reception {
        let at = |member: &str| format!("three_public_expenses.reception.{member}");
        c.optional_amount(&at("amount"), &mut item.amount);
        c.optional_amount(&at("budget"), &mut item.budget);
        c.rate(&at("stated_share"), &mut item.stated_share, false);
        c.count(&at("batches"), item.batches);
        c.count(&at("persons"), item.persons);
    }
    if three.reception.as_ref().is_some_and(|item| *item == Default::default()) {
        three.reception = None;
    }
    c.rows("three_public_expenses.prior_year", three.prior_year.len());
    for (i, figure) in three.prior_year.iter_mut().enumerate() {
        let at = |member: &str| format!("three_public_expenses.prior_year[{i}].{member}");
        c.year(&at("fiscal_year"), figure.fiscal_year);
        c.optional_amount(&at("amount"), &mut figure.amount);
        c.signed_amount(&at("stated_change"), &mut figure.stated_change);
        c.rate(&at("stated_change_pct"), &mut figure.stated_change_pct, true);
        c.optional_text(&at("reason"), &figure.reason, MAX_TEXT_CHARS);
    }

    let running = &mut record.running_costs;
    c.optional_amount("running_costs.amount", &mut running.amount);
    c.optional_amount("running_costs.prior_year_amount", &mut running.prior_year_amount);
    if let Some(year) = running.prior_fiscal_year {
        c.year("running_costs.prior_fiscal_year", year);
    }
    c.signed_amount("running_costs.stated_change", &mut running.stated_change);
    c.rate("running_costs.stated_change_pct", &mut running.stated_change_pct, true);

    let hundred = Decimal::ONE_HUNDRED;
    let max_value = Decimal::from(10_i64.pow(15));
    c.rows("indicators", record.indicators.len());
    for (i, row) in record.indicators.iter_mut().enumerate() {
        let at = |member: &str| format!("indicators[{i}].{member}");
        c.required_text(&at("name"), &row.name);
        c.optional_text(&at("code"), &row.code, MAX_NAME_CHARS);
        c.optional_text(&at("unit_of_measure"), &row.unit_of_measure, MAX_NAME_CHARS);
        c.optional_text(&at("target_text"), &row.target_text, MAX_TEXT_CHARS);
        c.optional_text(&at("actual_text"), &row.actual_text, MAX_TEXT_CHARS);
        c.optional_text(&at("deviation_reason"), &row.deviation_reason, MAX_TEXT_CHARS);
        for (member, value) in [("target", &mut row.target), ("actual", &mut row.actual)] {
            if let Some(value) = value {
                c.bounded(&at(member), value, -max_value, max_value, MAX_INDICATOR_SCALE, None);
            }
        }
        for (member, value) in
            [("weight", &mut row.weight), ("score", &mut row.score), ("level_1_points", &mut row.level_1_points)]
        {
            c.points(&at(member), value);
        }
    }

    c.rows("projects", record.projects.len());
    for (i, project) in record.projects.iter_mut().enumerate() {
        c.required_text(&format!("projects[{i}].name"), &project.name);
        c.optional_amount(&format!("projects[{i}].budget"), &mut project.budget);
        c.optional_amount(&format!("projects[{i}].executed"), &mut project.executed);
        if let Some(progress) = &mut project.progress {
            c.bounded(&format!("projects[{i}].progress"), progress, Decimal::ZERO, Decimal::ONE, 4, Some(4));
        }
        c.optional_text(&format!("projects[{i}].note"), &project.note, MAX_TEXT_CHARS);
    }

    let narrative = &record.narrative;
    c.rows("narrative.sections", narrative.sections.len());
    for (i, section) in narrative.sections.iter().enumerate() {
        c.optional_text(&format!("narrative.sections[{i}].title"), &section.title, MAX_NAME_CHARS);
        c.text(&format!("narrative.sections[{i}].text"), &section.text, MAX_TEXT_CHARS);
    }
    c.optional_text("narrative.introduction", &narrative.introduction, MAX_TEXT_CHARS);
    c.optional_text("narrative.evaluation_purpose", &narrative.evaluation_purpose, MAX_TEXT_CHARS);
    c.optional_text("narrative.evaluation_process", &narrative.evaluation_process, MAX_TEXT_CHARS);

    let conclusion = &mut record.conclusion;
    c.optional_text("conclusion.text", &conclusion.text, MAX_TEXT_CHARS);
    if let Some(score) = &mut conclusion.total_score {
        c.bounded("conclusion.total_score", score, Decimal::ZERO, hundred, 2, Some(2));
    }
    c.texts("conclusion.problems", &conclusion.problems, MAX_TEXT_CHARS);
    c.texts("conclusion.suggestions", &conclusion.suggestions, MAX_TEXT_CHARS);

    match (c.errors.is_empty(), region_code) {
        (true, Some(region_code)) => Ok(ValidEvaluation { region_code, record }),
        _ => Err(c.errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::record::{EvaluationKind, IncomeCategory, IncomeLine};
    use std::str::FromStr;

    fn minimal() -> EvaluationInput {
        serde_json::from_str(r#"{"region_code":"430482104000","fiscal_year":2022,"kind":"department_overall","unit":"常宁市荫田镇人民政府"}"#)
            .unwrap()
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn normalises_the_region_code_and_amounts() {
        let mut record = minimal();
        record.income.total = Some(dec("18094800"));
        let valid = validate(record).unwrap();
        assert_eq!(valid.region_code.as_str(), "430482104");
        assert_eq!(valid.record.region_code, "430482104");
        assert_eq!(valid.record.income.total.unwrap().to_string(), "18094800.00");
        assert_eq!(valid.record.kind, EvaluationKind::DepartmentOverall);
    }

    #[test]
    fn names_every_bad_field_by_path() {
        let mut record = minimal();
        record.fiscal_year = 1989;
        record.unit = "  ".into();
        record.income.lines.push(IncomeLine {
            category: IncomeCategory::Other,
            amount: dec("1.005"),
            initial_budget: Some(dec("-1")),
            adjusted_budget: None,
            stated_share: None,
            note: None,
        });
        let errors = validate(record).unwrap_err();
        let fields: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("fiscal_year", "out_of_range"),
                ("unit", "required"),
                ("income.lines[0].amount", "too_many_decimals"),
                ("income.lines[0].initial_budget", "negative"),
            ]
        );
    }

    #[test]
    fn a_record_belongs_to_a_township() {
        let mut record = minimal();
        record.region_code = "430482".into();
        assert_eq!(validate(record).unwrap_err()[0].code, "not_a_township");
    }

    #[test]
    fn a_stated_change_may_be_negative_but_other_amounts_not() {
        let mut record = minimal();
        record.running_costs.stated_change = Some(dec("-128700"));
        record.running_costs.amount = Some(dec("795200.0"));
        let valid = validate(record).unwrap();
        assert_eq!(valid.record.running_costs.stated_change.unwrap().to_string(), "-128700.00");
        assert_eq!(valid.record.running_costs.amount.unwrap().to_string(), "795200.00");
    }

    #[test]
    fn trailing_zeros_are_not_extra_decimals() {
        let mut record = minimal();
        record.income.total = Some(dec("1.2300"));
        assert_eq!(validate(record).unwrap().record.income.total.unwrap().to_string(), "1.23");
    }

    #[test]
    fn rejects_nul_characters_and_overlong_amounts() {
        let mut record = minimal();
        record.issuer = Some("a\0b".into());
        record.expenditure.total = Some(dec("100000000000000"));
        let errors = validate(record).unwrap_err();
        assert_eq!(errors[0].field, "issuer");
        assert_eq!(errors[1].field, "expenditure.total");
        assert_eq!(errors[1].code, "out_of_range");
    }
}
