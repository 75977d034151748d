//! Evaluation records in their normalised tables: write, read, replace, delete, list.
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{pg::Pg, prelude::*, result::DatabaseErrorKind};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde::{de::DeserializeOwned, Serialize};

use super::idempotency::{self, KeyRef, StoredResponse};
use super::revisions::Content;
use super::schema::{
    evaluation_consolidated_units as consolidated_units, evaluation_expenditure_lines as expenditure_lines,
    evaluation_income_lines as income_lines, evaluation_indicators as indicators,
    evaluation_internal_units as internal_units, evaluation_narrative_sections as narrative_sections,
    evaluation_projects as projects, evaluation_revisions as revisions,
    evaluation_three_public_prior as three_public_prior, evaluations, scoring_rule_sets,
};
use crate::domain::{
    money::canonical_rate, record::*, scoring::ScoringRuleSet, validation::ValidEvaluation, workflow::Action,
};

/// The server-kept part of a stored record.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = evaluations, check_for_backend(Pg))]
pub struct EvaluationMeta {
    pub id: i64,
    pub status: String,
    pub revision: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub computed_total_score: Option<Decimal>,
    pub computed_grade: Option<String>,
    pub execution_rate: Option<Decimal>,
    pub execution_rate_budget: Option<String>,
    pub execution_rate_figures: Option<String>,
    pub computed_funds_score: Option<Decimal>,
    pub error_count: i32,
    pub warning_count: i32,
}

/// A record as stored: what the client sent plus the server-kept part.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvaluation {
    pub meta: EvaluationMeta,
    pub record: EvaluationInput,
    /// Review transitions, oldest first.
    pub transitions: Vec<TransitionRow>,
}

/// Why a write did not happen (besides database faults).
#[derive(Debug)]
pub enum WriteError {
    /// Another record has the same identity; its id.
    Duplicate(i64),
    /// The region code is not in the division table.
    UnknownRegion,
    /// No record with that id.
    NotFound,
    /// The record's revision is not the one the client read.
    RevisionMismatch {
        current: i32,
    },
    /// The record's status does not allow the write.
    NotEditable {
        status: String,
    },
    /// A concurrent request with the same Idempotency-Key committed first.
    IdempotencyRace,
    Database(diesel::result::Error),
}

/// Figures derived from a record when it is written: scores, grade, rate, finding counts.
#[derive(Debug, Clone, Default, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = evaluations, check_for_backend(Pg), treat_none_as_null = true)]
pub struct Derived {
    pub computed_total_score: Option<Decimal>,
    pub computed_grade: Option<String>,
    pub execution_rate: Option<Decimal>,
    pub execution_rate_budget: Option<String>,
    pub execution_rate_figures: Option<String>,
    pub computed_funds_score: Option<Decimal>,
    pub error_count: i32,
    pub warning_count: i32,
}

/// The first response to store with the write, when the request carried an Idempotency-Key.
pub struct IdempotentWrite<'a> {
    pub key: KeyRef<'a>,
    /// Builds the response from the record as stored.
    pub respond: &'a (dyn Fn(&StoredEvaluation) -> StoredResponse + Sync),
}

/// Who writes, and what else the write's transaction stores.
pub struct WriteContext<'a> {
    pub actor: &'a str,
    pub derived: Derived,
    pub idempotency: Option<IdempotentWrite<'a>>,
}

/// A write's version. A write that changed the content (a create, a replace with new content)
/// is its own content version; the content itself is in the record's tables until a later write
/// replaces it (`revisions::archive_current`). Any other write (a review transition, a replace
/// that changed nothing) points at the revision the one before it pointed at.
const STORE_VERSION: &str = "\
INSERT INTO evaluation_revisions (evaluation_id, revision, action, status, actor, comment, record, content_revision, created_at)
SELECT $1, $2, $3, $4, $5, $6, NULL,
       CASE WHEN $7 THEN $2 ELSE (SELECT content_revision FROM evaluation_revisions
                                  WHERE evaluation_id = $1 AND revision = $2 - 1) END,
       $8";

/// Stores the version just written, reads the record back and stores the idempotent response
/// if any, all in the write's transaction.
async fn finish_write(
    conn: &mut AsyncPgConnection,
    meta: &EvaluationMeta,
    action: &str,
    comment: Option<&str>,
    content: Content,
    context: &WriteContext<'_>,
) -> Result<StoredEvaluation, WriteError> {
    use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamptz};
    super::Prepared(
        diesel::sql_query(STORE_VERSION)
            .bind::<BigInt, _>(meta.id)
            .bind::<Integer, _>(meta.revision)
            .bind::<Text, _>(action)
            .bind::<Text, _>(&meta.status)
            .bind::<Text, _>(context.actor)
            .bind::<Nullable<Text>, _>(comment)
            .bind::<Bool, _>(content == Content::Changed)
            .bind::<Timestamptz, _>(meta.updated_at),
    )
    .execute(conn)
    .await?;
    let stored = fetch(conn, meta.id).await?.ok_or(WriteError::NotFound)?;
    if let Some(write) = &context.idempotency {
        if !idempotency::store(conn, &write.key, &(write.respond)(&stored)).await? {
            return Err(WriteError::IdempotencyRace);
        }
    }
    Ok(stored)
}

impl From<diesel::result::Error> for WriteError {
    fn from(error: diesel::result::Error) -> Self {
        match &error {
            diesel::result::Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info)
                if info.constraint_name() == Some("evaluations_region_code_fkey") =>
            {
                Self::UnknownRegion
            }
            _ => Self::Database(error),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset, Queryable, Selectable)]
#[diesel(table_name = evaluations, check_for_backend(Pg), treat_none_as_null = true)]
pub(super) struct EvaluationData {
    region_code: String,
    fiscal_year: i16,
    kind: String,
    unit: String,
    budget_unit_code: Option<String>,
    method: Option<String>,
    basis_documents: Vec<String>,
    issuer: Option<String>,
    report_date: Option<NaiveDate>,
    reported_in: String,
    duties: Vec<String>,
    staffing_quota_administrative: Option<i32>,
    staffing_quota_institutional: Option<i32>,
    staff_at_year_end: Option<i32>,
    official_vehicles: Option<i32>,
    income_total: Option<Decimal>,
    opening_carry_over: Option<Decimal>,
    expenditure_total: Option<Decimal>,
    expenditure_basic_total: Option<Decimal>,
    expenditure_project_total: Option<Decimal>,
    expenditure_business_total: Option<Decimal>,
    year_end_carry_over: Option<Decimal>,
    budget_initial: Option<Decimal>,
    budget_adjusted: Option<Decimal>,
    budget_executed: Option<Decimal>,
    three_public_total: Option<Decimal>,
    overseas_travel_amount: Option<Decimal>,
    overseas_travel_delegations: Option<i32>,
    overseas_travel_persons: Option<i32>,
    vehicle_purchase_amount: Option<Decimal>,
    vehicle_purchase_vehicles: Option<i32>,
    vehicle_operation_amount: Option<Decimal>,
    vehicle_operation_vehicles: Option<i32>,
    reception_amount: Option<Decimal>,
    reception_batches: Option<i32>,
    reception_persons: Option<i32>,
    running_costs_amount: Option<Decimal>,
    running_costs_prior_amount: Option<Decimal>,
    running_costs_prior_year: Option<i16>,
    running_costs_stated_change: Option<Decimal>,
    introduction: Option<String>,
    evaluation_purpose: Option<String>,
    evaluation_process: Option<String>,
    conclusion_text: Option<String>,
    total_score: Option<Decimal>,
    grade: Option<String>,
    problems: Vec<String>,
    suggestions: Vec<String>,
    budget_disclosed: Option<bool>,
    final_accounts_disclosed: Option<bool>,
    project_name: Option<String>,
    project_code: Option<String>,
    competent_department_code: Option<String>,
    competent_department_name: Option<String>,
    implementing_unit_code: Option<String>,
    implementing_unit_name: Option<String>,
    staffing_quota_total: Option<i32>,
    staffing_quota_civil_service_managed: Option<i32>,
    staffing_quota_government_workers: Option<i32>,
    staff_in_post_administrative: Option<i32>,
    staff_in_post_civil_service_managed: Option<i32>,
    staff_in_post_institutional: Option<i32>,
    staff_in_post_government_workers: Option<i32>,
    staff_retired: Option<i32>,
    staff_hired: Option<i32>,
    consolidated_units_stated: Option<i32>,
    consolidated_administrative_stated: Option<i32>,
    consolidated_civil_service_managed_stated: Option<i32>,
    consolidated_institutional_stated: Option<i32>,
    consolidated_other_stated: Option<i32>,
    income_prior_year: Option<i16>,
    income_prior_amount: Option<Decimal>,
    income_stated_change: Option<Decimal>,
    income_stated_change_pct: Option<Decimal>,
    expenditure_prior_year: Option<i16>,
    expenditure_prior_amount: Option<Decimal>,
    expenditure_stated_change: Option<Decimal>,
    expenditure_stated_change_pct: Option<Decimal>,
    budget_weight: Option<Decimal>,
    budget_stated_rate: Option<Decimal>,
    budget_score: Option<Decimal>,
    funds_current_initial: Option<Decimal>,
    funds_current_adjusted: Option<Decimal>,
    funds_current_executed: Option<Decimal>,
    funds_carried_initial: Option<Decimal>,
    funds_carried_adjusted: Option<Decimal>,
    funds_carried_executed: Option<Decimal>,
    funds_other_initial: Option<Decimal>,
    funds_other_adjusted: Option<Decimal>,
    funds_other_executed: Option<Decimal>,
    funds_sources_stated: Vec<String>,
    annual_target_expected: Option<String>,
    annual_target_achieved: Option<String>,
    annual_target_weight: Option<Decimal>,
    three_public_budget: Option<Decimal>,
    overseas_travel_budget: Option<Decimal>,
    overseas_travel_share: Option<Decimal>,
    vehicle_purchase_budget: Option<Decimal>,
    vehicle_purchase_share: Option<Decimal>,
    vehicle_operation_budget: Option<Decimal>,
    vehicle_operation_share: Option<Decimal>,
    reception_budget: Option<Decimal>,
    reception_share: Option<Decimal>,
    three_public_items_stated: Vec<String>,
    running_costs_stated_change_pct: Option<Decimal>,
}

#[derive(Debug, Clone, Insertable, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = consolidated_units, check_for_backend(Pg))]
struct ConsolidatedUnitRow {
    evaluation_id: i64,
    position: i16,
    name: String,
    unit_type: String,
    code: Option<String>,
}

#[derive(Debug, Clone, Insertable, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = internal_units, check_for_backend(Pg))]
struct InternalUnitRow {
    evaluation_id: i64,
    position: i16,
    name: String,
    count: i32,
}

#[derive(Debug, Clone, Insertable, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = income_lines, check_for_backend(Pg))]
struct IncomeLineRow {
    evaluation_id: i64,
    position: i16,
    category: String,
    amount: Decimal,
    initial_budget: Option<Decimal>,
    adjusted_budget: Option<Decimal>,
    note: Option<String>,
    stated_share: Option<Decimal>,
}

#[derive(Debug, Clone, Insertable, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = expenditure_lines, check_for_backend(Pg))]
struct ExpenditureLineRow {
    evaluation_id: i64,
    position: i16,
    structure: String,
    economic_class: Option<String>,
    name: Option<String>,
    initial_budget: Option<Decimal>,
    adjusted_budget: Option<Decimal>,
    executed: Option<Decimal>,
}

#[derive(Debug, Clone, Insertable, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = three_public_prior, check_for_backend(Pg))]
struct PriorFigureRow {
    evaluation_id: i64,
    position: i16,
    item: String,
    fiscal_year: i16,
    amount: Option<Decimal>,
    stated_change: Option<Decimal>,
    stated_change_pct: Option<Decimal>,
    reason: Option<String>,
}

#[derive(Debug, Clone, Insertable, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = indicators, check_for_backend(Pg))]
struct IndicatorRow {
    evaluation_id: i64,
    position: i16,
    level_1: String,
    level_2: String,
    name: String,
    code: Option<String>,
    unit_of_measure: Option<String>,
    direction: Option<String>,
    target: Option<Decimal>,
    target_text: Option<String>,
    actual: Option<Decimal>,
    actual_text: Option<String>,
    weight: Option<Decimal>,
    score: Option<Decimal>,
    applicable: bool,
    deviation_reason: Option<String>,
    level_1_points: Option<Decimal>,
    achievement: Option<String>,
    matched_code: Option<String>,
}

#[derive(Debug, Clone, Insertable, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = projects, check_for_backend(Pg))]
struct ProjectRow {
    evaluation_id: i64,
    position: i16,
    name: String,
    budget: Option<Decimal>,
    executed: Option<Decimal>,
    progress: Option<Decimal>,
    note: Option<String>,
}

#[derive(Debug, Clone, Insertable, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = narrative_sections, check_for_backend(Pg))]
struct NarrativeRow {
    evaluation_id: i64,
    position: i16,
    category: String,
    title: Option<String>,
    body: String,
}

/// The text form of an enum value, as its serde name (`department_overall`).
pub(super) fn text<T: Serialize>(value: &T) -> String {
    serde_plain::to_string(value).expect("record enums serialise to plain strings")
}

/// An enum value from its stored text; the CHECK constraints keep these in step.
pub(super) fn parse<T: DeserializeOwned>(column: &str, value: &str) -> QueryResult<T> {
    serde_plain::from_str(value).map_err(|_| {
        diesel::result::Error::DeserializationError(format!("unexpected {column} `{value}` in the database").into())
    })
}

fn parse_opt<T: DeserializeOwned>(column: &str, value: Option<&str>) -> QueryResult<Option<T>> {
    value.map(|v| parse(column, v)).transpose()
}

/// Row positions are smallint; validation caps every group well below that.
fn position(index: usize) -> i16 {
    i16::try_from(index).expect("validation caps rows per group")
}

impl EvaluationData {
    pub(super) fn from_record(record: &EvaluationInput) -> Self {
        let three = &record.three_public_expenses;
        let year = |y: i32| i16::try_from(y).expect("validation keeps years within 1990..=2100");
        let project = record.project.as_ref();
        let competent = project.and_then(|p| p.competent_department.as_ref());
        let implementing = project.and_then(|p| p.implementing_unit.as_ref());
        let (quota, in_post) = (&record.profile.staffing_quota, &record.profile.staff_in_post);
        let consolidated = &record.profile.consolidated_units;
        let (income_prior, expenditure_prior) =
            (record.income.prior_year.as_ref(), record.expenditure.prior_year.as_ref());
        let budget = &record.budget_execution;
        let (current, carried, other) = (
            budget.sources.current_appropriation.as_ref(),
            budget.sources.carried_over.as_ref(),
            budget.sources.other.as_ref(),
        );
        let target = record.annual_target.as_ref();
        Self {
            region_code: record.region_code.clone(),
            fiscal_year: year(record.fiscal_year),
            kind: text(&record.kind),
            unit: record.unit.clone(),
            budget_unit_code: record.budget_unit_code.clone(),
            method: record.method.as_ref().map(text),
            basis_documents: record.basis_documents.clone(),
            issuer: record.issuer.clone(),
            report_date: record.report_date,
            reported_in: text(&record.reported_in),
            duties: record.profile.duties.clone(),
            staffing_quota_administrative: record.profile.staffing_quota.administrative,
            staffing_quota_institutional: record.profile.staffing_quota.institutional,
            staff_at_year_end: record.profile.staff_at_year_end,
            official_vehicles: record.profile.official_vehicles,
            income_total: record.income.total,
            opening_carry_over: record.income.opening_carry_over,
            expenditure_total: record.expenditure.total,
            expenditure_basic_total: record.expenditure.basic_total,
            expenditure_project_total: record.expenditure.project_total,
            expenditure_business_total: record.expenditure.business_total,
            year_end_carry_over: record.expenditure.year_end_carry_over,
            budget_initial: record.budget_execution.initial_budget,
            budget_adjusted: record.budget_execution.adjusted_budget,
            budget_executed: record.budget_execution.executed,
            three_public_total: three.total,
            overseas_travel_amount: three.overseas_travel.as_ref().and_then(|t| t.amount),
            overseas_travel_delegations: three.overseas_travel.as_ref().and_then(|t| t.delegations),
            overseas_travel_persons: three.overseas_travel.as_ref().and_then(|t| t.persons),
            vehicle_purchase_amount: three.vehicle_purchase.as_ref().and_then(|v| v.amount),
            vehicle_purchase_vehicles: three.vehicle_purchase.as_ref().and_then(|v| v.vehicles),
            vehicle_operation_amount: three.vehicle_operation.as_ref().and_then(|v| v.amount),
            vehicle_operation_vehicles: three.vehicle_operation.as_ref().and_then(|v| v.vehicles),
            reception_amount: three.reception.as_ref().and_then(|r| r.amount),
            reception_batches: three.reception.as_ref().and_then(|r| r.batches),
            reception_persons: three.reception.as_ref().and_then(|r| r.persons),
            running_costs_amount: record.running_costs.amount,
            running_costs_prior_amount: record.running_costs.prior_year_amount,
            running_costs_prior_year: record.running_costs.prior_fiscal_year.map(year),
            running_costs_stated_change: record.running_costs.stated_change,
            introduction: record.narrative.introduction.clone(),
            evaluation_purpose: record.narrative.evaluation_purpose.clone(),
            evaluation_process: record.narrative.evaluation_process.clone(),
            conclusion_text: record.conclusion.text.clone(),
            total_score: record.conclusion.total_score,
            grade: record.conclusion.grade.as_ref().map(text),
            problems: record.conclusion.problems.clone(),
            suggestions: record.conclusion.suggestions.clone(),
            budget_disclosed: record.conclusion.budget_disclosed,
            final_accounts_disclosed: record.conclusion.final_accounts_disclosed,
            project_name: project.map(|p| p.name.clone()),
            project_code: project.and_then(|p| p.code.clone()),
            competent_department_code: competent.and_then(|u| u.code.clone()),
            competent_department_name: competent.map(|u| u.name.clone()),
            implementing_unit_code: implementing.and_then(|u| u.code.clone()),
            implementing_unit_name: implementing.map(|u| u.name.clone()),
            staffing_quota_total: quota.total,
            staffing_quota_civil_service_managed: quota.civil_service_managed,
            staffing_quota_government_workers: quota.government_workers,
            staff_in_post_administrative: in_post.administrative,
            staff_in_post_civil_service_managed: in_post.civil_service_managed,
            staff_in_post_institutional: in_post.institutional,
            staff_in_post_government_workers: in_post.government_workers,
            staff_retired: record.profile.retired,
            staff_hired: record.profile.hired,
            consolidated_units_stated: consolidated.stated_count,
            consolidated_administrative_stated: consolidated.stated_by_type.administrative,
            consolidated_civil_service_managed_stated: consolidated.stated_by_type.civil_service_managed,
            consolidated_institutional_stated: consolidated.stated_by_type.institutional,
            consolidated_other_stated: consolidated.stated_by_type.other,
            income_prior_year: income_prior.and_then(|p| p.fiscal_year).map(year),
            income_prior_amount: income_prior.and_then(|p| p.amount),
            income_stated_change: income_prior.and_then(|p| p.stated_change),
            income_stated_change_pct: income_prior.and_then(|p| p.stated_change_pct),
            expenditure_prior_year: expenditure_prior.and_then(|p| p.fiscal_year).map(year),
            expenditure_prior_amount: expenditure_prior.and_then(|p| p.amount),
            expenditure_stated_change: expenditure_prior.and_then(|p| p.stated_change),
            expenditure_stated_change_pct: expenditure_prior.and_then(|p| p.stated_change_pct),
            budget_weight: budget.weight,
            budget_stated_rate: budget.stated_rate,
            budget_score: budget.score,
            funds_current_initial: current.and_then(|f| f.initial_budget),
            funds_current_adjusted: current.and_then(|f| f.adjusted_budget),
            funds_current_executed: current.and_then(|f| f.executed),
            funds_carried_initial: carried.and_then(|f| f.initial_budget),
            funds_carried_adjusted: carried.and_then(|f| f.adjusted_budget),
            funds_carried_executed: carried.and_then(|f| f.executed),
            funds_other_initial: other.and_then(|f| f.initial_budget),
            funds_other_adjusted: other.and_then(|f| f.adjusted_budget),
            funds_other_executed: other.and_then(|f| f.executed),
            funds_sources_stated: budget.sources.rows().map(|(name, _)| name.to_owned()).collect(),
            annual_target_expected: target.and_then(|t| t.expected.clone()),
            annual_target_achieved: target.and_then(|t| t.achieved.clone()),
            annual_target_weight: target.and_then(|t| t.weight),
            three_public_budget: three.budget_total,
            overseas_travel_budget: three.overseas_travel.as_ref().and_then(|t| t.budget),
            overseas_travel_share: three.overseas_travel.as_ref().and_then(|t| t.stated_share),
            vehicle_purchase_budget: three.vehicle_purchase.as_ref().and_then(|v| v.budget),
            vehicle_purchase_share: three.vehicle_purchase.as_ref().and_then(|v| v.stated_share),
            vehicle_operation_budget: three.vehicle_operation.as_ref().and_then(|v| v.budget),
            vehicle_operation_share: three.vehicle_operation.as_ref().and_then(|v| v.stated_share),
            reception_budget: three.reception.as_ref().and_then(|r| r.budget),
            reception_share: three.reception.as_ref().and_then(|r| r.stated_share),
            three_public_items_stated: [
                ("overseas_travel", three.overseas_travel.is_some()),
                ("vehicle_purchase", three.vehicle_purchase.is_some()),
                ("vehicle_operation", three.vehicle_operation.is_some()),
                ("reception", three.reception.is_some()),
            ]
            .into_iter()
            .filter(|(_, stated)| *stated)
            .map(|(name, _)| name.to_owned())
            .collect(),
            running_costs_stated_change_pct: record.running_costs.stated_change_pct,
        }
    }
}

/// The child rows of one record, ready to insert.
pub(super) struct ChildRows {
    internal_units: Vec<InternalUnitRow>,
    consolidated_units: Vec<ConsolidatedUnitRow>,
    income_lines: Vec<IncomeLineRow>,
    expenditure_lines: Vec<ExpenditureLineRow>,
    prior_figures: Vec<PriorFigureRow>,
    indicators: Vec<IndicatorRow>,
    projects: Vec<ProjectRow>,
    narrative: Vec<NarrativeRow>,
}

impl ChildRows {
    pub(super) fn from_record(id: i64, record: &EvaluationInput) -> Self {
        Self {
            internal_units: (record.profile.internal_units.iter().enumerate())
                .map(|(i, u)| InternalUnitRow {
                    evaluation_id: id,
                    position: position(i),
                    name: u.name.clone(),
                    count: u.count,
                })
                .collect(),
            consolidated_units: (record.profile.consolidated_units.units.iter().enumerate())
                .map(|(i, u)| ConsolidatedUnitRow {
                    evaluation_id: id,
                    position: position(i),
                    name: u.name.clone(),
                    unit_type: text(&u.unit_type),
                    code: u.code.clone(),
                })
                .collect(),
            income_lines: (record.income.lines.iter().enumerate())
                .map(|(i, l)| IncomeLineRow {
                    evaluation_id: id,
                    position: position(i),
                    category: text(&l.category),
                    amount: l.amount,
                    initial_budget: l.initial_budget,
                    adjusted_budget: l.adjusted_budget,
                    note: l.note.clone(),
                    stated_share: l.stated_share,
                })
                .collect(),
            expenditure_lines: (record.expenditure.lines.iter().enumerate())
                .map(|(i, l)| ExpenditureLineRow {
                    evaluation_id: id,
                    position: position(i),
                    structure: text(&l.structure),
                    economic_class: l.economic_class.as_ref().map(text),
                    name: l.name.clone(),
                    initial_budget: l.initial_budget,
                    adjusted_budget: l.adjusted_budget,
                    executed: l.executed,
                })
                .collect(),
            prior_figures: (record.three_public_expenses.prior_year.iter().enumerate())
                .map(|(i, f)| PriorFigureRow {
                    evaluation_id: id,
                    position: position(i),
                    item: text(&f.item),
                    fiscal_year: i16::try_from(f.fiscal_year).expect("validated year"),
                    amount: f.amount,
                    stated_change: f.stated_change,
                    stated_change_pct: f.stated_change_pct,
                    reason: f.reason.clone(),
                })
                .collect(),
            indicators: (record.indicators.iter().enumerate())
                .map(|(i, r)| IndicatorRow {
                    evaluation_id: id,
                    position: position(i),
                    level_1: text(&r.level_1),
                    level_2: text(&r.level_2),
                    name: r.name.clone(),
                    code: r.code.clone(),
                    unit_of_measure: r.unit_of_measure.clone(),
                    direction: r.direction.as_ref().map(text),
                    target: r.target,
                    target_text: r.target_text.clone(),
                    actual: r.actual,
                    actual_text: r.actual_text.clone(),
                    weight: r.weight,
                    score: r.score,
                    applicable: r.applicable,
                    deviation_reason: r.deviation_reason.clone(),
                    level_1_points: r.level_1_points,
                    achievement: r.achievement.as_ref().map(text),
                    matched_code: r.matched_code.clone(),
                })
                .collect(),
            projects: (record.projects.iter().enumerate())
                .map(|(i, p)| ProjectRow {
                    evaluation_id: id,
                    position: position(i),
                    name: p.name.clone(),
                    budget: p.budget,
                    executed: p.executed,
                    progress: p.progress,
                    note: p.note.clone(),
                })
                .collect(),
            narrative: (record.narrative.sections.iter().enumerate())
                .map(|(i, s)| NarrativeRow {
                    evaluation_id: id,
                    position: position(i),
                    category: text(&s.category),
                    title: s.title.clone(),
                    body: s.text.clone(),
                })
                .collect(),
        }
    }

    /// Inserts every non-empty group, pipelined on one connection (one round trip in all).
    async fn insert(&self, conn: &mut AsyncPgConnection) -> QueryResult<()> {
        let conn = &*conn;
        macro_rules! insert_group {
            ($rows:expr, $table:expr) => {
                async {
                    if $rows.is_empty() {
                        Ok(0)
                    } else {
                        diesel::insert_into($table).values(&$rows).execute(&mut &*conn).await
                    }
                }
            };
        }
        futures_util::try_join!(
            insert_group!(self.internal_units, internal_units::table),
            insert_group!(self.consolidated_units, consolidated_units::table),
            insert_group!(self.income_lines, income_lines::table),
            insert_group!(self.expenditure_lines, expenditure_lines::table),
            insert_group!(self.prior_figures, three_public_prior::table),
            insert_group!(self.indicators, indicators::table),
            insert_group!(self.projects, projects::table),
            insert_group!(self.narrative, narrative_sections::table),
        )?;
        Ok(())
    }
}

/// Stores a new record in one transaction; its id, revision 1 and timestamps come back.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    valid: &ValidEvaluation,
    context: &WriteContext<'_>,
) -> Result<StoredEvaluation, WriteError> {
    let data = EvaluationData::from_record(&valid.record);
    let derived = &context.derived;
    let outcome = conn
        .transaction::<_, WriteError, _>(async |conn| {
            let meta: Option<EvaluationMeta> = diesel::insert_into(evaluations::table)
                .values((&data, derived))
                .on_conflict_do_nothing()
                .returning(EvaluationMeta::as_returning())
                .get_result(conn)
                .await
                .optional()?;
            let Some(meta) = meta else { return Ok(None) };
            ChildRows::from_record(meta.id, &valid.record).insert(conn).await?;
            Ok(Some(finish_write(conn, &meta, "create", None, Content::Changed, context).await?))
        })
        .await?;
    match outcome {
        Some(stored) => Ok(stored),
        None => Err(WriteError::Duplicate(existing_id(conn, &valid.record).await?.unwrap_or_default())),
    }
}

/// The id of the record with the same identity as `record`, if one exists.
pub async fn existing_id(conn: &mut AsyncPgConnection, record: &EvaluationInput) -> QueryResult<Option<i64>> {
    evaluations::table
        .filter(evaluations::region_code.eq(&record.region_code))
        .filter(evaluations::fiscal_year.eq(record.fiscal_year as i16))
        .filter(evaluations::kind.eq(text(&record.kind)))
        .filter(evaluations::unit.eq(&record.unit))
        .filter(evaluations::project_name.is_not_distinct_from(record.project.as_ref().map(|p| p.name.as_str())))
        .select(evaluations::id)
        .first(conn)
        .await
        .optional()
}

/// Replaces a record's content, if it is at `expected_revision` and editable.
pub async fn replace(
    conn: &mut AsyncPgConnection,
    id: i64,
    expected_revision: Option<&[i32]>,
    valid: &ValidEvaluation,
    context: &WriteContext<'_>,
) -> Result<StoredEvaluation, WriteError> {
    let data = EvaluationData::from_record(&valid.record);
    let derived = &context.derived;
    let result = conn
        .transaction::<_, WriteError, _>(async |conn| {
            let (status, revision) = lock(conn, id).await?;
            check_revision(revision, expected_revision)?;
            if !Status::parse(&status).is_some_and(Status::is_editable) {
                return Err(WriteError::NotEditable { status });
            }
            // The content this replaces goes into its own revision before the tables change.
            let content = super::revisions::archive_current(conn, id, revision, &valid.record).await?;
            let meta = diesel::update(evaluations::table.find(id))
                .set((
                    &data,
                    derived,
                    evaluations::revision.eq(revision + 1),
                    evaluations::updated_at.eq(diesel::dsl::now),
                ))
                .returning(EvaluationMeta::as_returning())
                .get_result(conn)
                .await?;
            delete_children(conn, id).await?;
            ChildRows::from_record(id, &valid.record).insert(conn).await?;
            finish_write(conn, &meta, "replace", None, content, context).await
        })
        .await;
    match result {
        Err(WriteError::Database(diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _))) => {
            Err(WriteError::Duplicate(existing_id(conn, &valid.record).await?.unwrap_or_default()))
        }
        other => other,
    }
}

/// Deletes a draft at `expected_revision`.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    id: i64,
    expected_revision: Option<&[i32]>,
    actor: &str,
) -> Result<(), WriteError> {
    conn.transaction::<_, WriteError, _>(async |conn| {
        let (status, revision) = lock(conn, id).await?;
        check_revision(revision, expected_revision)?;
        if status != "draft" {
            return Err(WriteError::NotEditable { status });
        }
        // The change feed's tombstone names who deleted (migration 000010's trigger reads it).
        diesel::sql_query("SELECT set_config('perfeval.actor', $1, true)")
            .bind::<diesel::sql_types::Text, _>(actor)
            .execute(conn)
            .await?;
        diesel::delete(evaluations::table.find(id)).execute(conn).await?;
        Ok(())
    })
    .await
}

async fn lock(conn: &mut AsyncPgConnection, id: i64) -> Result<(String, i32), WriteError> {
    evaluations::table
        .find(id)
        .select((evaluations::status, evaluations::revision))
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or(WriteError::NotFound)
}

/// `expected` is what If-Match allows: `None` for `*`, else the revisions it names.
fn check_revision(current: i32, expected: Option<&[i32]>) -> Result<(), WriteError> {
    match expected {
        Some(expected) if !expected.contains(&current) => Err(WriteError::RevisionMismatch { current }),
        _ => Ok(()),
    }
}

async fn delete_children(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    let conn = &*conn;
    futures_util::try_join!(
        diesel::delete(internal_units::table.filter(internal_units::evaluation_id.eq(id))).execute(&mut &*conn),
        diesel::delete(consolidated_units::table.filter(consolidated_units::evaluation_id.eq(id))).execute(&mut &*conn),
        diesel::delete(income_lines::table.filter(income_lines::evaluation_id.eq(id))).execute(&mut &*conn),
        diesel::delete(expenditure_lines::table.filter(expenditure_lines::evaluation_id.eq(id))).execute(&mut &*conn),
        diesel::delete(three_public_prior::table.filter(three_public_prior::evaluation_id.eq(id))).execute(&mut &*conn),
        diesel::delete(indicators::table.filter(indicators::evaluation_id.eq(id))).execute(&mut &*conn),
        diesel::delete(projects::table.filter(projects::evaluation_id.eq(id))).execute(&mut &*conn),
        diesel::delete(narrative_sections::table.filter(narrative_sections::evaluation_id.eq(id))).execute(&mut &*conn),
    )?;
    Ok(())
}

/// A record's region and status, for the access check before a read or write.
pub async fn locate(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<(String, String)>> {
    evaluations::table.find(id).select((evaluations::region_code, evaluations::status)).first(conn).await.optional()
}

/// A record's region, status and revision: what a conditional GET needs to answer 304.
pub async fn locate_revision(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<(String, String, i32)>> {
    evaluations::table
        .find(id)
        .select((evaluations::region_code, evaluations::status, evaluations::revision))
        .first(conn)
        .await
        .optional()
}

/// Child rows from their JSON column. Amounts are JSON numbers with PostgreSQL's exact digits,
/// read exactly (`arbitrary_precision`).
fn child<T: DeserializeOwned>(column: &str, json: &str) -> QueryResult<Vec<T>> {
    serde_json::from_str(json).map_err(|e| diesel::result::Error::DeserializationError(format!("{column}: {e}").into()))
}

/// The columns `fetch` selects: the main row, then the seven child groups and the review history
/// as JSON arrays.
type FetchColumns = (
    diesel::dsl::AsSelect<EvaluationMeta, Pg>,
    diesel::dsl::AsSelect<EvaluationData, Pg>,
    (TextSql, TextSql, TextSql, TextSql, TextSql, TextSql, TextSql, TextSql, TextSql),
);
type TextSql = diesel::expression::SqlLiteral<diesel::sql_types::Text>;

fn fetch_columns() -> FetchColumns {
    use diesel::dsl::sql;
    (
        EvaluationMeta::as_select(),
        EvaluationData::as_select(),
        (
            sql(&child_rows::<InternalUnitRow>(
                internal_units::table,
                internal_units::evaluation_id,
                internal_units::position,
            )),
            sql(&child_rows::<IncomeLineRow>(income_lines::table, income_lines::evaluation_id, income_lines::position)),
            sql(&child_rows::<ExpenditureLineRow>(
                expenditure_lines::table,
                expenditure_lines::evaluation_id,
                expenditure_lines::position,
            )),
            sql(&child_rows::<PriorFigureRow>(
                three_public_prior::table,
                three_public_prior::evaluation_id,
                three_public_prior::position,
            )),
            sql(&child_rows::<IndicatorRow>(indicators::table, indicators::evaluation_id, indicators::position)),
            sql(&child_rows::<ProjectRow>(projects::table, projects::evaluation_id, projects::position)),
            sql(&child_rows::<NarrativeRow>(
                narrative_sections::table,
                narrative_sections::evaluation_id,
                narrative_sections::position,
            )),
            sql(HISTORY),
            sql(&child_rows::<ConsolidatedUnitRow>(
                consolidated_units::table,
                consolidated_units::evaluation_id,
                consolidated_units::position,
            )),
        ),
    )
}

/// The review history, oldest first: the revisions made by review steps (every action but a
/// content write's), each with the status it left, which is its predecessor's, in
/// `TransitionRow`'s field order. A transition is its revision; nothing else stores it.
const HISTORY: &str = "(SELECT coalesce(json_agg(json_build_array(h.action, h.from_status, h.status, h.actor, \
h.comment, h.revision, h.created_at) ORDER BY h.revision), '[]')::text FROM (SELECT r.action, \
lag(r.status) OVER (ORDER BY r.revision) AS from_status, r.status, r.actor, r.comment, r.revision, r.created_at \
FROM evaluation_revisions r WHERE r.evaluation_id = \"evaluations\".\"id\") h \
WHERE h.action NOT IN ('create', 'replace'))";

/// A child table's rows of the record, as one JSON array of arrays, for a column of the main
/// query. Each array holds the row struct's own `Selectable` columns in its field order, which
/// is the order serde reads them back in (`child`).
fn child_rows<Row: Selectable<Pg>>(
    table: impl diesel::query_builder::QueryFragment<Pg>,
    evaluation_id: impl diesel::query_builder::QueryFragment<Pg>,
    order: impl diesel::query_builder::QueryFragment<Pg>,
) -> String
where
    Row::SelectExpression: diesel::query_builder::QueryFragment<Pg>,
{
    format!(
        "(SELECT coalesce(json_agg(json_build_array({}) ORDER BY {}), '[]')::text FROM {} WHERE {} = {})",
        render(&Row::construct_selection()),
        render(&order),
        render(&table),
        render(&evaluation_id),
        render(&evaluations::id),
    )
}

/// The SQL text diesel's query builder writes for a fragment.
fn render(fragment: &impl diesel::query_builder::QueryFragment<Pg>) -> String {
    use diesel::query_builder::QueryBuilder;
    let mut builder = diesel::pg::PgQueryBuilder::default();
    fragment.to_sql(&mut builder, &Pg).expect("the statement renders");
    builder.finish()
}

/// `fetch`'s statement, rendered once by diesel's query builder and split around the id's
/// placeholder. Building the text of this 70-column statement (quoting every identifier, copying
/// the child queries) took about 7% of a GET's service CPU when it was done on every request.
static FETCH_SQL: std::sync::LazyLock<(String, String)> = std::sync::LazyLock::new(|| {
    let text = render(&evaluations::table.find(0_i64).select(fetch_columns()));
    let (before, after) = text.split_once("$1").expect("the id's placeholder");
    assert!(!before.contains('$') && !after.contains('$'), "the id is the statement's only bind: {text}");
    (before.to_owned(), after.to_owned())
});

/// `SELECT <FetchColumns> FROM evaluations WHERE id = $1`, from the text rendered once.
struct FetchById(i64);

impl diesel::query_builder::QueryId for FetchById {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::Query for FetchById {
    type SqlType = <FetchColumns as Expression>::SqlType;
}

impl diesel::query_builder::QueryFragment<Pg> for FetchById {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let (before, after) = &*FETCH_SQL;
        out.push_sql(before);
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.0)?;
        out.push_sql(after);
        Ok(())
    }
}

/// Reads a whole record in one statement: the main row, and its seven child groups and review
/// history as JSON columns. One statement, planned once per connection, one round trip.
pub async fn fetch(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<StoredEvaluation>> {
    let row = FetchById(id)
        .get_result::<(
            EvaluationMeta,
            EvaluationData,
            (String, String, String, String, String, String, String, String, String),
        )>(conn)
        .await
        .optional()?;
    let Some((meta, data, (units, income, expenditure, prior, indicators, projects, narrative, history, consolidated))) =
        row
    else {
        return Ok(None);
    };
    let children = Children {
        units: child("units", &units)?,
        consolidated: child("consolidated", &consolidated)?,
        income: child("income", &income)?,
        expenditure: child("expenditure", &expenditure)?,
        prior: child("prior", &prior)?,
        indicators: child("indicators", &indicators)?,
        projects: child("projects", &projects)?,
        narrative: child("narrative", &narrative)?,
    };
    let record = assemble(data, children)?;
    Ok(Some(StoredEvaluation { meta, record, transitions: child("transitions", &history)? }))
}

/// Moves a record to `to_status` by `action`, if it is still at `revision`: bumps the revision,
/// and stores the version that records the transition, all in one transaction.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    stored: &StoredEvaluation,
    action: Action,
    to_status: Status,
    comment: Option<&str>,
    context: &WriteContext<'_>,
) -> Result<StoredEvaluation, WriteError> {
    let id = stored.meta.id;
    conn.transaction::<_, WriteError, _>(async |conn| {
        let (_, revision) = lock(conn, id).await?;
        check_revision(revision, Some(&[stored.meta.revision]))?;
        let meta = diesel::update(evaluations::table.find(id))
            .set((
                &context.derived,
                evaluations::status.eq(to_status.as_str()),
                evaluations::revision.eq(revision + 1),
                evaluations::updated_at.eq(diesel::dsl::now),
            ))
            .returning(EvaluationMeta::as_returning())
            .get_result(conn)
            .await?;
        finish_write(conn, &meta, action.as_str(), comment, Content::Unchanged, context).await
    })
    .await
}

/// One review transition, as the revision it made records it (`HISTORY`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct TransitionRow {
    pub action: String,
    pub from_status: String,
    pub to_status: String,
    pub actor: String,
    pub comment: Option<String>,
    pub revision: i32,
    pub created_at: DateTime<Utc>,
}

/// One stored version's header.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = revisions, check_for_backend(Pg))]
pub struct RevisionRow {
    pub revision: i32,
    /// The revision that holds this version's content (itself, when the content changed)
    pub content_revision: i32,
    pub action: String,
    pub status: String,
    pub actor: String,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Every version of a record, oldest first; `None` when the record does not exist.
pub async fn list_revisions(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Vec<RevisionRow>>> {
    let rows: Vec<RevisionRow> = revisions::table
        .filter(revisions::evaluation_id.eq(id))
        .order(revisions::revision)
        .select(RevisionRow::as_select())
        .load(conn)
        .await?;
    Ok((!rows.is_empty()).then_some(rows))
}

/// One version of a record: its header and the record as it was. A content version with no copy
/// is the current content, read from the record's tables in the same snapshot.
pub async fn get_revision(
    conn: &mut AsyncPgConnection,
    id: i64,
    revision: i32,
) -> QueryResult<Option<(RevisionRow, serde_json::Value)>> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(async |conn| {
            let Some(row) = revisions::table
                .find((id, revision))
                .select(RevisionRow::as_select())
                .first::<RevisionRow>(conn)
                .await
                .optional()?
            else {
                return Ok(None);
            };
            let copy: Option<serde_json::Value> =
                revisions::table.find((id, row.content_revision)).select(revisions::record).first(conn).await?;
            let record = match copy {
                Some(record) => record,
                None => {
                    let current = fetch(conn, id).await?.ok_or(diesel::result::Error::NotFound)?;
                    super::revisions::content_of(&current.record)
                }
            };
            Ok(Some((row, record)))
        })
        .await
}

/// The stored record of the same township, kind and project for the year before, preferring the
/// same unit.
pub async fn find_prior_year(
    conn: &mut AsyncPgConnection,
    record: &EvaluationInput,
) -> QueryResult<Option<StoredEvaluation>> {
    let id: Option<i64> = evaluations::table
        .filter(evaluations::region_code.eq(&record.region_code))
        .filter(evaluations::fiscal_year.eq((record.fiscal_year - 1) as i16))
        .filter(evaluations::kind.eq(text(&record.kind)))
        .filter(evaluations::project_name.is_not_distinct_from(record.project.as_ref().map(|p| p.name.as_str())))
        .order((evaluations::unit.ne(&record.unit), evaluations::id))
        .select(evaluations::id)
        .first(conn)
        .await
        .optional()?;
    match id {
        Some(id) => fetch(conn, id).await,
        None => Ok(None),
    }
}

/// The scoring rules for a township: its province's override, else the national default.
pub async fn scoring_rules(conn: &mut AsyncPgConnection, region_code: &str) -> QueryResult<ScoringRuleSet> {
    let province = region_code.get(..2).unwrap_or("");
    let rules: Option<serde_json::Value> = scoring_rule_sets::table
        .filter(scoring_rule_sets::region_code.eq_any(["", province]))
        .order(scoring_rule_sets::region_code.desc())
        .select(scoring_rule_sets::rules)
        .first(conn)
        .await
        .optional()?;
    match rules {
        Some(value) => serde_json::from_value(value).map_err(|e| {
            diesel::result::Error::DeserializationError(format!("scoring rule set for {province}: {e}").into())
        }),
        None => Ok(ScoringRuleSet::default()),
    }
}

/// The child rows of one record as read.
#[derive(Default)]
struct Children {
    units: Vec<InternalUnitRow>,
    consolidated: Vec<ConsolidatedUnitRow>,
    income: Vec<IncomeLineRow>,
    expenditure: Vec<ExpenditureLineRow>,
    prior: Vec<PriorFigureRow>,
    indicators: Vec<IndicatorRow>,
    projects: Vec<ProjectRow>,
    narrative: Vec<NarrativeRow>,
}

/// A record from its main row and child rows.
fn assemble(d: EvaluationData, children: Children) -> QueryResult<EvaluationInput> {
    let Children {
        units,
        consolidated,
        income,
        expenditure,
        prior,
        indicators: indicator_rows,
        projects: project_rows,
        narrative,
    } = children;
    let stated = |names: &[String], name: &str| names.iter().any(|n| n == name);
    let prior_total = |fiscal_year: Option<i16>, amount, stated_change, stated_change_pct: Option<Decimal>| {
        let total = PriorYearTotal {
            fiscal_year: fiscal_year.map(i32::from),
            amount,
            stated_change,
            stated_change_pct: stated_change_pct.map(canonical_rate),
        };
        (total != PriorYearTotal::default()).then_some(total)
    };
    let funds = |name: &str, initial_budget, adjusted_budget, executed| {
        stated(&d.funds_sources_stated, name).then_some(FundFigures { initial_budget, adjusted_budget, executed })
    };
    let three_stated = |name: &str| stated(&d.three_public_items_stated, name);
    let unit_reference = |code: Option<String>, name: Option<String>| name.map(|name| UnitReference { code, name });
    Ok(EvaluationInput {
        region_code: d.region_code,
        fiscal_year: i32::from(d.fiscal_year),
        kind: parse("kind", &d.kind)?,
        unit: d.unit,
        project: d.project_name.map(|name| ProjectIdentity {
            name,
            code: d.project_code,
            competent_department: unit_reference(d.competent_department_code, d.competent_department_name),
            implementing_unit: unit_reference(d.implementing_unit_code, d.implementing_unit_name),
        }),
        budget_unit_code: d.budget_unit_code,
        method: parse_opt("method", d.method.as_deref())?,
        basis_documents: d.basis_documents,
        issuer: d.issuer,
        report_date: d.report_date,
        reported_in: parse("reported_in", &d.reported_in)?,
        profile: UnitProfile {
            duties: d.duties,
            internal_units: units.into_iter().map(|u| InternalUnit { name: u.name, count: u.count }).collect(),
            staffing_quota: StaffingQuota {
                total: d.staffing_quota_total,
                administrative: d.staffing_quota_administrative,
                civil_service_managed: d.staffing_quota_civil_service_managed,
                institutional: d.staffing_quota_institutional,
                government_workers: d.staffing_quota_government_workers,
            },
            staff_at_year_end: d.staff_at_year_end,
            staff_in_post: StaffInPost {
                administrative: d.staff_in_post_administrative,
                civil_service_managed: d.staff_in_post_civil_service_managed,
                institutional: d.staff_in_post_institutional,
                government_workers: d.staff_in_post_government_workers,
            },
            retired: d.staff_retired,
            hired: d.staff_hired,
            official_vehicles: d.official_vehicles,
            consolidated_units: ConsolidatedUnits {
                stated_count: d.consolidated_units_stated,
                stated_by_type: UnitTypeCounts {
                    administrative: d.consolidated_administrative_stated,
                    civil_service_managed: d.consolidated_civil_service_managed_stated,
                    institutional: d.consolidated_institutional_stated,
                    other: d.consolidated_other_stated,
                },
                units: consolidated
                    .into_iter()
                    .map(|u| {
                        Ok(ConsolidatedUnit {
                            name: u.name,
                            unit_type: parse("unit_type", &u.unit_type)?,
                            code: u.code,
                        })
                    })
                    .collect::<QueryResult<_>>()?,
            },
        },
        income: Income {
            total: d.income_total,
            opening_carry_over: d.opening_carry_over,
            lines: income
                .into_iter()
                .map(|l| {
                    Ok(IncomeLine {
                        category: parse("category", &l.category)?,
                        amount: l.amount,
                        initial_budget: l.initial_budget,
                        adjusted_budget: l.adjusted_budget,
                        stated_share: l.stated_share.map(canonical_rate),
                        note: l.note,
                    })
                })
                .collect::<QueryResult<_>>()?,
            prior_year: prior_total(
                d.income_prior_year,
                d.income_prior_amount,
                d.income_stated_change,
                d.income_stated_change_pct,
            ),
        },
        expenditure: Expenditure {
            total: d.expenditure_total,
            basic_total: d.expenditure_basic_total,
            project_total: d.expenditure_project_total,
            business_total: d.expenditure_business_total,
            year_end_carry_over: d.year_end_carry_over,
            lines: expenditure
                .into_iter()
                .map(|l| {
                    Ok(ExpenditureLine {
                        structure: parse("structure", &l.structure)?,
                        economic_class: parse_opt("economic_class", l.economic_class.as_deref())?,
                        name: l.name,
                        initial_budget: l.initial_budget,
                        adjusted_budget: l.adjusted_budget,
                        executed: l.executed,
                    })
                })
                .collect::<QueryResult<_>>()?,
            prior_year: prior_total(
                d.expenditure_prior_year,
                d.expenditure_prior_amount,
                d.expenditure_stated_change,
                d.expenditure_stated_change_pct,
            ),
        },
        budget_execution: BudgetExecution {
            initial_budget: d.budget_initial,
            adjusted_budget: d.budget_adjusted,
            executed: d.budget_executed,
            weight: d.budget_weight,
            stated_rate: d.budget_stated_rate.map(canonical_rate),
            score: d.budget_score,
            sources: FundSources {
                current_appropriation: funds(
                    "current_appropriation",
                    d.funds_current_initial,
                    d.funds_current_adjusted,
                    d.funds_current_executed,
                ),
                carried_over: funds(
                    "carried_over",
                    d.funds_carried_initial,
                    d.funds_carried_adjusted,
                    d.funds_carried_executed,
                ),
                other: funds("other", d.funds_other_initial, d.funds_other_adjusted, d.funds_other_executed),
            },
        },
        annual_target: Some(AnnualTarget {
            expected: d.annual_target_expected,
            achieved: d.annual_target_achieved,
            weight: d.annual_target_weight,
        })
        .filter(|target| *target != AnnualTarget::default()),
        three_public_expenses: ThreePublicExpenses {
            total: d.three_public_total,
            budget_total: d.three_public_budget,
            overseas_travel: three_stated("overseas_travel").then_some(OverseasTravel {
                amount: d.overseas_travel_amount,
                budget: d.overseas_travel_budget,
                stated_share: d.overseas_travel_share.map(canonical_rate),
                delegations: d.overseas_travel_delegations,
                persons: d.overseas_travel_persons,
            }),
            vehicle_purchase: three_stated("vehicle_purchase").then_some(VehicleCost {
                amount: d.vehicle_purchase_amount,
                budget: d.vehicle_purchase_budget,
                stated_share: d.vehicle_purchase_share.map(canonical_rate),
                vehicles: d.vehicle_purchase_vehicles,
            }),
            vehicle_operation: three_stated("vehicle_operation").then_some(VehicleCost {
                amount: d.vehicle_operation_amount,
                budget: d.vehicle_operation_budget,
                stated_share: d.vehicle_operation_share.map(canonical_rate),
                vehicles: d.vehicle_operation_vehicles,
            }),
            reception: three_stated("reception").then_some(Reception {
                amount: d.reception_amount,
                budget: d.reception_budget,
                stated_share: d.reception_share.map(canonical_rate),
                batches: d.reception_batches,
                persons: d.reception_persons,
            }),
            prior_year: prior
                .into_iter()
                .map(|f| {
                    Ok(PriorYearFigure {
                        item: parse("item", &f.item)?,
                        fiscal_year: i32::from(f.fiscal_year),
                        amount: f.amount,
                        stated_change: f.stated_change,
                        stated_change_pct: f.stated_change_pct.map(canonical_rate),
                        reason: f.reason,
                    })
                })
                .collect::<QueryResult<_>>()?,
        },
        running_costs: RunningCosts {
            amount: d.running_costs_amount,
            prior_year_amount: d.running_costs_prior_amount,
            prior_fiscal_year: d.running_costs_prior_year.map(i32::from),
            stated_change: d.running_costs_stated_change,
            stated_change_pct: d.running_costs_stated_change_pct.map(canonical_rate),
        },
        indicators: indicator_rows
            .into_iter()
            .map(|r| {
                Ok(Indicator {
                    level_1: parse("level_1", &r.level_1)?,
                    level_1_points: r.level_1_points,
                    level_2: parse("level_2", &r.level_2)?,
                    name: r.name,
                    code: r.code,
                    matched_code: r.matched_code,
                    unit_of_measure: r.unit_of_measure,
                    direction: parse_opt("direction", r.direction.as_deref())?,
                    target: r.target,
                    target_text: r.target_text,
                    actual: r.actual,
                    actual_text: r.actual_text,
                    weight: r.weight,
                    score: r.score,
                    achievement: parse_opt("achievement", r.achievement.as_deref())?,
                    applicable: r.applicable,
                    deviation_reason: r.deviation_reason,
                })
            })
            .collect::<QueryResult<_>>()?,
        projects: project_rows
            .into_iter()
            .map(|p| Project {
                name: p.name,
                budget: p.budget,
                executed: p.executed,
                progress: p.progress,
                note: p.note,
            })
            .collect(),
        narrative: Narrative {
            sections: narrative
                .into_iter()
                .map(|s| {
                    Ok(NarrativeSection { category: parse("category", &s.category)?, title: s.title, text: s.body })
                })
                .collect::<QueryResult<_>>()?,
            introduction: d.introduction,
            evaluation_purpose: d.evaluation_purpose,
            evaluation_process: d.evaluation_process,
        },
        conclusion: Conclusion {
            text: d.conclusion_text,
            total_score: d.total_score,
            grade: parse_opt("grade", d.grade.as_deref())?,
            problems: d.problems,
            suggestions: d.suggestions,
            budget_disclosed: d.budget_disclosed,
            final_accounts_disclosed: d.final_accounts_disclosed,
        },
    })
}

/// A record from its main row alone (no child groups): what the cross-year rules need.
pub(super) fn assemble_main_row(data: EvaluationData) -> QueryResult<EvaluationInput> {
    assemble(data, Children::default())
}

/// Deletes the child rows of these records, one statement per table.
pub(super) async fn delete_children_of(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<()> {
    diesel::delete(internal_units::table.filter(internal_units::evaluation_id.eq_any(ids))).execute(conn).await?;
    diesel::delete(consolidated_units::table.filter(consolidated_units::evaluation_id.eq_any(ids)))
        .execute(conn)
        .await?;
    diesel::delete(income_lines::table.filter(income_lines::evaluation_id.eq_any(ids))).execute(conn).await?;
    diesel::delete(expenditure_lines::table.filter(expenditure_lines::evaluation_id.eq_any(ids))).execute(conn).await?;
    diesel::delete(three_public_prior::table.filter(three_public_prior::evaluation_id.eq_any(ids)))
        .execute(conn)
        .await?;
    diesel::delete(indicators::table.filter(indicators::evaluation_id.eq_any(ids))).execute(conn).await?;
    diesel::delete(projects::table.filter(projects::evaluation_id.eq_any(ids))).execute(conn).await?;
    diesel::delete(narrative_sections::table.filter(narrative_sections::evaluation_id.eq_any(ids)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Inserts the child rows of many records with multi-row INSERTs, within PostgreSQL's
/// 65,535-parameter limit per statement.
pub(super) async fn insert_children(conn: &mut AsyncPgConnection, records: Vec<ChildRows>) -> QueryResult<()> {
    let mut all = ChildRows {
        internal_units: vec![],
        consolidated_units: vec![],
        income_lines: vec![],
        expenditure_lines: vec![],
        prior_figures: vec![],
        indicators: vec![],
        projects: vec![],
        narrative: vec![],
    };
    for rows in records {
        all.internal_units.extend(rows.internal_units);
        all.consolidated_units.extend(rows.consolidated_units);
        all.income_lines.extend(rows.income_lines);
        all.expenditure_lines.extend(rows.expenditure_lines);
        all.prior_figures.extend(rows.prior_figures);
        all.indicators.extend(rows.indicators);
        all.projects.extend(rows.projects);
        all.narrative.extend(rows.narrative);
    }
    const ROWS: usize = 3_000;
    for chunk in all.internal_units.chunks(ROWS) {
        diesel::insert_into(internal_units::table).values(chunk).execute(conn).await?;
    }
    for chunk in all.consolidated_units.chunks(ROWS) {
        diesel::insert_into(consolidated_units::table).values(chunk).execute(conn).await?;
    }
    for chunk in all.income_lines.chunks(ROWS) {
        diesel::insert_into(income_lines::table).values(chunk).execute(conn).await?;
    }
    for chunk in all.expenditure_lines.chunks(ROWS) {
        diesel::insert_into(expenditure_lines::table).values(chunk).execute(conn).await?;
    }
    for chunk in all.prior_figures.chunks(ROWS) {
        diesel::insert_into(three_public_prior::table).values(chunk).execute(conn).await?;
    }
    for chunk in all.indicators.chunks(ROWS) {
        diesel::insert_into(indicators::table).values(chunk).execute(conn).await?;
    }
    for chunk in all.projects.chunks(ROWS) {
        diesel::insert_into(projects::table).values(chunk).execute(conn).await?;
    }
    for chunk in all.narrative.chunks(ROWS) {
        diesel::insert_into(narrative_sections::table).values(chunk).execute(conn).await?;
    }
    Ok(())
}

/// A JSON document bound as `jsonb` from its serialised text: stored versions go to the database
/// without first being built as `serde_json::Value` trees (several times their size).
#[derive(Debug, diesel::expression::AsExpression)]
#[diesel(sql_type = diesel::sql_types::Jsonb)]
pub(super) struct JsonbText(Vec<u8>);

impl JsonbText {
    pub(super) fn of(value: &impl serde::Serialize) -> Self {
        Self(serde_json::to_vec(value).expect("a record serialises"))
    }
}

impl diesel::serialize::ToSql<diesel::sql_types::Jsonb, diesel::pg::Pg> for JsonbText {
    fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>) -> diesel::serialize::Result {
        use std::io::Write;
        // jsonb's binary format: a version byte, then the text.
        out.write_all(&[1])?;
        out.write_all(&self.0)?;
        Ok(diesel::serialize::IsNull::No)
    }
}

#[cfg(test)]
mod tests {
    /// `bench/sql/get-record.sql` is the ceiling the benchmark compares GET record with: the very
    /// statement `fetch` sends. When the statement changes, the file must follow.
    #[test]
    fn the_benchmark_replays_the_statement_fetch_sends() {
        let (before, after) = &*super::FETCH_SQL;
        let ours = format!("{before}:id{after}");
        let file = include_str!("../../bench/sql/get-record.sql");
        let statement: Vec<&str> = file.lines().filter(|l| !l.starts_with("--") && !l.starts_with('\\')).collect();
        let squash = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(squash(&statement.join(" ")), squash(&ours), "re-capture bench/sql/get-record.sql from FETCH_SQL");
    }
}
