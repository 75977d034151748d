-- Evaluation records (预算绩效评价/绩效自评): one row per record with its 1:1 groups
-- as columns, and one child table per repeated group. Amounts are exact NUMERIC in 元.
CREATE TABLE evaluations (
    id                              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_code                     text COLLATE "C" NOT NULL REFERENCES regions (code),
    fiscal_year                     smallint NOT NULL CHECK (fiscal_year BETWEEN 1990 AND 2100),
    kind                            text NOT NULL CHECK (kind IN ('department_overall', 'project', 'department_evaluation', 'finance_evaluation')),
    unit                            text NOT NULL CHECK (unit <> ''),
    budget_unit_code                text,
    method                          text CHECK (method IN ('self_evaluation', 'department_evaluation', 'finance_evaluation', 'third_party')),
    basis_documents                 text[] NOT NULL DEFAULT '{}',
    issuer                          text,
    report_date                     date,
    reported_in                     text NOT NULL DEFAULT 'ten_thousand_yuan' CHECK (reported_in IN ('yuan', 'ten_thousand_yuan')),

    duties                          text[] NOT NULL DEFAULT '{}',
    staffing_quota_administrative   integer CHECK (staffing_quota_administrative >= 0),
    staffing_quota_institutional    integer CHECK (staffing_quota_institutional >= 0),
    staff_at_year_end               integer CHECK (staff_at_year_end >= 0),
    official_vehicles               integer CHECK (official_vehicles >= 0),

    income_total                    numeric(16, 2) CHECK (income_total >= 0),
    opening_carry_over              numeric(16, 2) CHECK (opening_carry_over >= 0),

    expenditure_total               numeric(16, 2) CHECK (expenditure_total >= 0),
    expenditure_basic_total         numeric(16, 2) CHECK (expenditure_basic_total >= 0),
    expenditure_project_total       numeric(16, 2) CHECK (expenditure_project_total >= 0),
    expenditure_business_total      numeric(16, 2) CHECK (expenditure_business_total >= 0),
    year_end_carry_over             numeric(16, 2) CHECK (year_end_carry_over >= 0),

    budget_initial                  numeric(16, 2) CHECK (budget_initial >= 0),
    budget_adjusted                 numeric(16, 2) CHECK (budget_adjusted >= 0),
    budget_executed                 numeric(16, 2) CHECK (budget_executed >= 0),

    three_public_total              numeric(16, 2) CHECK (three_public_total >= 0),
    overseas_travel_amount          numeric(16, 2) CHECK (overseas_travel_amount >= 0),
    overseas_travel_delegations     integer CHECK (overseas_travel_delegations >= 0),
    overseas_travel_persons         integer CHECK (overseas_travel_persons >= 0),
    vehicle_purchase_amount         numeric(16, 2) CHECK (vehicle_purchase_amount >= 0),
    vehicle_purchase_vehicles       integer CHECK (vehicle_purchase_vehicles >= 0),
    vehicle_operation_amount        numeric(16, 2) CHECK (vehicle_operation_amount >= 0),
    vehicle_operation_vehicles      integer CHECK (vehicle_operation_vehicles >= 0),
    reception_amount                numeric(16, 2) CHECK (reception_amount >= 0),
    reception_batches               integer CHECK (reception_batches >= 0),
    reception_persons               integer CHECK (reception_persons >= 0),

    running_costs_amount            numeric(16, 2) CHECK (running_costs_amount >= 0),
    running_costs_prior_amount      numeric(16, 2) CHECK (running_costs_prior_amount >= 0),
    running_costs_prior_year        smallint CHECK (running_costs_prior_year BETWEEN 1990 AND 2100),
    running_costs_stated_change     numeric(16, 2),

    introduction                    text,
    evaluation_purpose              text,
    evaluation_process              text,

    conclusion_text                 text,
    total_score                     numeric(5, 2) CHECK (total_score BETWEEN 0 AND 100),
    grade                           text CHECK (grade IN ('excellent', 'good', 'fair', 'poor')),
    problems                        text[] NOT NULL DEFAULT '{}',
    suggestions                     text[] NOT NULL DEFAULT '{}',
    budget_disclosed                boolean,
    final_accounts_disclosed        boolean,

    status                          text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'returned', 'approved', 'published')),
    revision                        integer NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_at                      timestamptz NOT NULL DEFAULT now(),
    updated_at                      timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT evaluations_identity_key UNIQUE (region_code, fiscal_year, kind, unit)
);

-- List filters: region prefix and year ranges, by year first (the usual filter), then region.
CREATE INDEX evaluations_year_region_idx ON evaluations (fiscal_year, region_code, id);
CREATE INDEX evaluations_region_idx ON evaluations (region_code, fiscal_year, id);
CREATE INDEX evaluations_status_idx ON evaluations (status, fiscal_year);

CREATE TABLE evaluation_internal_units (
    evaluation_id   bigint NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    position        smallint NOT NULL CHECK (position >= 0),
    name            text NOT NULL CHECK (name <> ''),
    count           integer NOT NULL CHECK (count >= 0),
    PRIMARY KEY (evaluation_id, position)
);

CREATE TABLE evaluation_income_lines (
    evaluation_id   bigint NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    position        smallint NOT NULL CHECK (position >= 0),
    category        text NOT NULL CHECK (category IN ('general_budget_appropriation', 'government_fund_appropriation', 'state_capital_appropriation', 'higher_level_subsidy', 'institutional', 'business', 'affiliated_remittance', 'other')),
    amount          numeric(16, 2) NOT NULL CHECK (amount >= 0),
    initial_budget  numeric(16, 2) CHECK (initial_budget >= 0),
    adjusted_budget numeric(16, 2) CHECK (adjusted_budget >= 0),
    note            text,
    PRIMARY KEY (evaluation_id, position)
);

CREATE TABLE evaluation_expenditure_lines (
    evaluation_id   bigint NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    position        smallint NOT NULL CHECK (position >= 0),
    structure       text NOT NULL CHECK (structure IN ('basic', 'project', 'business')),
    economic_class  text CHECK (economic_class IN ('wages_welfare', 'goods_services', 'household_subsidies', 'capital', 'other', 'personnel', 'public_funds')),
    name            text,
    initial_budget  numeric(16, 2) CHECK (initial_budget >= 0),
    adjusted_budget numeric(16, 2) CHECK (adjusted_budget >= 0),
    executed        numeric(16, 2) NOT NULL CHECK (executed >= 0),
    PRIMARY KEY (evaluation_id, position)
);

CREATE TABLE evaluation_three_public_prior (
    evaluation_id   bigint NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    position        smallint NOT NULL CHECK (position >= 0),
    item            text NOT NULL CHECK (item IN ('total', 'overseas_travel', 'vehicle_purchase', 'vehicle_operation', 'reception')),
    fiscal_year     smallint NOT NULL CHECK (fiscal_year BETWEEN 1990 AND 2100),
    amount          numeric(16, 2) NOT NULL CHECK (amount >= 0),
    stated_change   numeric(16, 2),
    PRIMARY KEY (evaluation_id, position)
);

CREATE TABLE evaluation_indicators (
    evaluation_id    bigint NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    position         smallint NOT NULL CHECK (position >= 0),
    level_1          text NOT NULL CHECK (level_1 IN ('output', 'effect', 'satisfaction', 'decision', 'process')),
    level_2          text NOT NULL CHECK (level_2 IN ('quantity', 'quality', 'timeliness', 'cost', 'economic_benefit', 'social_benefit', 'ecological_benefit', 'sustainable_impact', 'service_satisfaction', 'project_initiation', 'performance_targets', 'funding_input', 'fund_management', 'organisation', 'budget_execution')),
    name             text NOT NULL CHECK (name <> ''),
    code             text,
    unit_of_measure  text,
    direction        text CHECK (direction IN ('>=', '<=', '=')),
    target           numeric,
    target_text      text,
    actual           numeric,
    actual_text      text,
    weight           numeric(6, 2) CHECK (weight >= 0),
    score            numeric(6, 2) CHECK (score >= 0),
    applicable       boolean NOT NULL DEFAULT true,
    deviation_reason text,
    PRIMARY KEY (evaluation_id, position)
);
CREATE INDEX evaluation_indicators_code_idx ON evaluation_indicators (code) WHERE code IS NOT NULL;

CREATE TABLE evaluation_projects (
    evaluation_id   bigint NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    position        smallint NOT NULL CHECK (position >= 0),
    name            text NOT NULL CHECK (name <> ''),
    budget          numeric(16, 2) CHECK (budget >= 0),
    executed        numeric(16, 2) CHECK (executed >= 0),
    progress        numeric(5, 4) CHECK (progress BETWEEN 0 AND 1),
    note            text,
    PRIMARY KEY (evaluation_id, position)
);

CREATE TABLE evaluation_narrative_sections (
    evaluation_id   bigint NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    position        smallint NOT NULL CHECK (position >= 0),
    category        text NOT NULL CHECK (category IN ('party_building', 'project_construction', 'agriculture_rural', 'social_affairs', 'comprehensive_governance', 'budget_management', 'other')),
    title           text,
    body            text NOT NULL,
    PRIMARY KEY (evaluation_id, position)
);
