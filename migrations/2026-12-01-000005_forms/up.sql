-- What the national self-evaluation tables and published documents hold beyond the reference
-- report: project records (项目支出绩效自评表) with their identity, the funds block by source,
-- annual targets, 三公经费 budgets, staffing categories, consolidated units, stated changes and
-- shares, qualitative bands. Every new column is nullable, so existing records read back unchanged.

ALTER TABLE evaluations
    ADD COLUMN project_name                        text CHECK (project_name <> ''),
    ADD COLUMN project_code                        text,
    ADD COLUMN competent_department_code           text,
    ADD COLUMN competent_department_name           text,
    ADD COLUMN implementing_unit_code              text,
    ADD COLUMN implementing_unit_name              text,

    ADD COLUMN staffing_quota_total                integer CHECK (staffing_quota_total >= 0),
    ADD COLUMN staffing_quota_civil_service_managed integer CHECK (staffing_quota_civil_service_managed >= 0),
    ADD COLUMN staffing_quota_government_workers   integer CHECK (staffing_quota_government_workers >= 0),
    ADD COLUMN staff_in_post_administrative        integer CHECK (staff_in_post_administrative >= 0),
    ADD COLUMN staff_in_post_civil_service_managed integer CHECK (staff_in_post_civil_service_managed >= 0),
    ADD COLUMN staff_in_post_institutional         integer CHECK (staff_in_post_institutional >= 0),
    ADD COLUMN staff_in_post_government_workers    integer CHECK (staff_in_post_government_workers >= 0),
    ADD COLUMN staff_retired                       integer CHECK (staff_retired >= 0),
    ADD COLUMN staff_hired                         integer CHECK (staff_hired >= 0),
    ADD COLUMN consolidated_units_stated           integer CHECK (consolidated_units_stated >= 0),
    ADD COLUMN consolidated_administrative_stated  integer CHECK (consolidated_administrative_stated >= 0),
    ADD COLUMN consolidated_civil_service_managed_stated integer CHECK (consolidated_civil_service_managed_stated >= 0),
    ADD COLUMN consolidated_institutional_stated   integer CHECK (consolidated_institutional_stated >= 0),
    ADD COLUMN consolidated_other_stated           integer CHECK (consolidated_other_stated >= 0),

    ADD COLUMN income_prior_year                   smallint CHECK (income_prior_year BETWEEN 1990 AND 2100),
    ADD COLUMN income_prior_amount                 numeric(16, 2) CHECK (income_prior_amount >= 0),
    ADD COLUMN income_stated_change                numeric(16, 2),
    ADD COLUMN income_stated_change_pct            numeric,
    ADD COLUMN expenditure_prior_year              smallint CHECK (expenditure_prior_year BETWEEN 1990 AND 2100),
    ADD COLUMN expenditure_prior_amount            numeric(16, 2) CHECK (expenditure_prior_amount >= 0),
    ADD COLUMN expenditure_stated_change           numeric(16, 2),
    ADD COLUMN expenditure_stated_change_pct       numeric,

    ADD COLUMN budget_weight                       numeric(6, 2) CHECK (budget_weight >= 0),
    ADD COLUMN budget_stated_rate                  numeric CHECK (budget_stated_rate >= 0),
    ADD COLUMN budget_score                        numeric(6, 2) CHECK (budget_score >= 0),
    ADD COLUMN funds_current_initial               numeric(16, 2) CHECK (funds_current_initial >= 0),
    ADD COLUMN funds_current_adjusted              numeric(16, 2) CHECK (funds_current_adjusted >= 0),
    ADD COLUMN funds_current_executed              numeric(16, 2) CHECK (funds_current_executed >= 0),
    ADD COLUMN funds_carried_initial               numeric(16, 2) CHECK (funds_carried_initial >= 0),
    ADD COLUMN funds_carried_adjusted              numeric(16, 2) CHECK (funds_carried_adjusted >= 0),
    ADD COLUMN funds_carried_executed              numeric(16, 2) CHECK (funds_carried_executed >= 0),
    ADD COLUMN funds_other_initial                 numeric(16, 2) CHECK (funds_other_initial >= 0),
    ADD COLUMN funds_other_adjusted                numeric(16, 2) CHECK (funds_other_adjusted >= 0),
    ADD COLUMN funds_other_executed                numeric(16, 2) CHECK (funds_other_executed >= 0),
    -- Which 其中 rows the record states at all (a row may state no figure yet).
    ADD COLUMN funds_sources_stated                text[] NOT NULL DEFAULT '{}',

    ADD COLUMN annual_target_expected              text,
    ADD COLUMN annual_target_achieved              text,
    ADD COLUMN annual_target_weight                numeric(6, 2) CHECK (annual_target_weight >= 0),

    ADD COLUMN three_public_budget                 numeric(16, 2) CHECK (three_public_budget >= 0),
    ADD COLUMN overseas_travel_budget              numeric(16, 2) CHECK (overseas_travel_budget >= 0),
    ADD COLUMN overseas_travel_share               numeric CHECK (overseas_travel_share >= 0),
    ADD COLUMN vehicle_purchase_budget             numeric(16, 2) CHECK (vehicle_purchase_budget >= 0),
    ADD COLUMN vehicle_purchase_share              numeric CHECK (vehicle_purchase_share >= 0),
    ADD COLUMN vehicle_operation_budget            numeric(16, 2) CHECK (vehicle_operation_budget >= 0),
    ADD COLUMN vehicle_operation_share             numeric CHECK (vehicle_operation_share >= 0),
    ADD COLUMN reception_budget                    numeric(16, 2) CHECK (reception_budget >= 0),
    ADD COLUMN reception_share                     numeric CHECK (reception_share >= 0),
    -- Which 三公 items the record states (an item may hold a budget, counts or a share, and no amount).
    ADD COLUMN three_public_items_stated           text[] NOT NULL DEFAULT '{}',

    ADD COLUMN running_costs_stated_change_pct     numeric,

    ADD COLUMN execution_rate_budget               text CHECK (execution_rate_budget IN ('adjusted_budget', 'initial_budget')),
    ADD COLUMN execution_rate_figures              text CHECK (execution_rate_figures IN ('budget_execution', 'fund_sources', 'expenditure_lines')),
    ADD COLUMN computed_funds_score                numeric(6, 2) CHECK (computed_funds_score >= 0),

    ADD CONSTRAINT evaluations_project_kind CHECK (project_name IS NULL OR kind <> 'department_overall'),
    ADD CONSTRAINT evaluations_project_named CHECK (project_name IS NOT NULL OR kind <> 'project');

-- Items stated before this migration are the ones with an amount.
UPDATE evaluations SET three_public_items_stated = array_remove(ARRAY[
        CASE WHEN overseas_travel_amount IS NOT NULL THEN 'overseas_travel' END,
        CASE WHEN vehicle_purchase_amount IS NOT NULL THEN 'vehicle_purchase' END,
        CASE WHEN vehicle_operation_amount IS NOT NULL THEN 'vehicle_operation' END,
        CASE WHEN reception_amount IS NOT NULL THEN 'reception' END
    ], NULL)
    WHERE overseas_travel_amount IS NOT NULL OR vehicle_purchase_amount IS NOT NULL
       OR vehicle_operation_amount IS NOT NULL OR reception_amount IS NOT NULL;

-- A record is one per (region, year, kind, unit) and, for project records, per project. Records
-- without a project keep their old identity: NULLS NOT DISTINCT makes the NULL project one value.
ALTER TABLE evaluations DROP CONSTRAINT evaluations_identity_key;
ALTER TABLE evaluations ADD CONSTRAINT evaluations_identity_key
    UNIQUE NULLS NOT DISTINCT (region_code, fiscal_year, kind, unit, project_name);

ALTER TABLE evaluation_income_lines
    ADD COLUMN stated_share numeric CHECK (stated_share >= 0);

ALTER TABLE evaluation_expenditure_lines
    ALTER COLUMN executed DROP NOT NULL;

ALTER TABLE evaluation_three_public_prior
    ALTER COLUMN amount DROP NOT NULL,
    ADD COLUMN stated_change_pct numeric,
    ADD COLUMN reason text;

ALTER TABLE evaluation_indicators
    ADD COLUMN level_1_points numeric(6, 2) CHECK (level_1_points >= 0),
    ADD COLUMN achievement text CHECK (achievement IN ('achieved', 'partly_achieved', 'not_achieved'));

CREATE TABLE evaluation_consolidated_units (
    evaluation_id   bigint NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    position        smallint NOT NULL CHECK (position >= 0),
    name            text NOT NULL CHECK (name <> ''),
    unit_type       text NOT NULL CHECK (unit_type IN ('administrative', 'civil_service_managed', 'institutional', 'other')),
    code            text,
    PRIMARY KEY (evaluation_id, position)
);

-- Qualitative indicators are scored in bands of their weight (达成 / 部分达成 / 未达成).
UPDATE scoring_rule_sets
    SET rules = rules || '{"qualitative_bands": [
        {"achievement": "achieved", "min_share": "0.8", "max_share": "1"},
        {"achievement": "partly_achieved", "min_share": "0.5", "max_share": "0.8"},
        {"achievement": "not_achieved", "min_share": "0", "max_share": "0.5"}
    ]}'::jsonb
    WHERE region_code = '' AND NOT rules ? 'qualitative_bands';
