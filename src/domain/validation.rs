//! Checks a record beyond what its types say, and brings it to canonical form.
//!
//! Every problem is collected with its JSON path, so one 422 names them all.
use rust_decimal::Decimal;

use super::{
    money::{max_amount, significant_scale, with_scale},
    record::EvaluationInput,
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
    c.count("profile.staffing_quota.administrative", profile.staffing_quota.administrative);
    c.count("profile.staffing_quota.institutional", profile.staffing_quota.institutional);
    c.count("profile.staff_at_year_end", profile.staff_at_year_end);
    c.count("profile.official_vehicles", profile.official_vehicles);

    let income = &mut record.income;
    c.optional_amount("income.total", &mut income.total);
    c.optional_amount("income.opening_carry_over", &mut income.opening_carry_over);
    c.rows("income.lines", income.lines.len());
    for (i, line) in income.lines.iter_mut().enumerate() {
        line.amount = c.amount(&format!("income.lines[{i}].amount"), line.amount, false);
        c.optional_amount(&format!("income.lines[{i}].initial_budget"), &mut line.initial_budget);
        c.optional_amount(&format!("income.lines[{i}].adjusted_budget"), &mut line.adjusted_budget);
        c.optional_text(&format!("income.lines[{i}].note"), &line.note, MAX_TEXT_CHARS);
    }

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
        line.executed = c.amount(&format!("expenditure.lines[{i}].executed"), line.executed, false);
    }

    let budget = &mut record.budget_execution;
    c.optional_amount("budget_execution.initial_budget", &mut budget.initial_budget);
    c.optional_amount("budget_execution.adjusted_budget", &mut budget.adjusted_budget);
    c.optional_amount("budget_execution.executed", &mut budget.executed);

    let three = &mut record.three_public_expenses;
    c.optional_amount("three_public_expenses.total", &mut three.total);
    if let Some(item) = &mut three.overseas_travel {
        item.amount = c.amount("three_public_expenses.overseas_travel.amount", item.amount, false);
        c.count("three_public_expenses.overseas_travel.delegations", item.delegations);
        c.count("three_public_expenses.overseas_travel.persons", item.persons);
    }
    for (name, item) in
        [("vehicle_purchase", &mut three.vehicle_purchase), ("vehicle_operation", &mut three.vehicle_operation)]
    {
        if let Some(item) = item {
            item.amount = c.amount(&format!("three_public_expenses.{name}.amount"), item.amount, false);
            c.count(&format!("three_public_expenses.{name}.vehicles"), item.vehicles);
        }
    }
    if let Some(item) = &mut three.reception {
        item.amount = c.amount("three_public_expenses.reception.amount", item.amount, false);
        c.count("three_public_expenses.reception.batches", item.batches);
        c.count("three_public_expenses.reception.persons", item.persons);
    }
    c.rows("three_public_expenses.prior_year", three.prior_year.len());
    for (i, figure) in three.prior_year.iter_mut().enumerate() {
        c.year(&format!("three_public_expenses.prior_year[{i}].fiscal_year"), figure.fiscal_year);
        figure.amount = c.amount(&format!("three_public_expenses.prior_year[{i}].amount"), figure.amount, false);
        if let Some(change) = &mut figure.stated_change {
            *change = c.amount(&format!("three_public_expenses.prior_year[{i}].stated_change"), *change, true);
        }
    }

    let running = &mut record.running_costs;
    c.optional_amount("running_costs.amount", &mut running.amount);
    c.optional_amount("running_costs.prior_year_amount", &mut running.prior_year_amount);
    if let Some(year) = running.prior_fiscal_year {
        c.year("running_costs.prior_fiscal_year", year);
    }
    if let Some(change) = &mut running.stated_change {
        *change = c.amount("running_costs.stated_change", *change, true);
    }

    let hundred = Decimal::ONE_HUNDRED;
    let max_weight = Decimal::new(999_999, 2);
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
        for (member, value) in [("weight", &mut row.weight), ("score", &mut row.score)] {
            if let Some(value) = value {
                c.bounded(&at(member), value, Decimal::ZERO, max_weight, 2, Some(2));
            }
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
