// @generated-style: matches `diesel print-schema` for the migrations in `migrations/`.

diesel::table! {
    regions (code) {
        code -> Text,
        name -> Text,
        level -> Text,
        parent_code -> Nullable<Text>,
    }
}

diesel::table! {
    evaluations (id) {
        id -> Int8,
        region_code -> Text,
        fiscal_year -> Int2,
        kind -> Text,
        unit -> Text,
        budget_unit_code -> Nullable<Text>,
        method -> Nullable<Text>,
        basis_documents -> Array<Text>,
        issuer -> Nullable<Text>,
        report_date -> Nullable<Date>,
        reported_in -> Text,
        duties -> Array<Text>,
        staffing_quota_administrative -> Nullable<Int4>,
        staffing_quota_institutional -> Nullable<Int4>,
        staff_at_year_end -> Nullable<Int4>,
        official_vehicles -> Nullable<Int4>,
        income_total -> Nullable<Numeric>,
        opening_carry_over -> Nullable<Numeric>,
        expenditure_total -> Nullable<Numeric>,
        expenditure_basic_total -> Nullable<Numeric>,
        expenditure_project_total -> Nullable<Numeric>,
        expenditure_business_total -> Nullable<Numeric>,
        year_end_carry_over -> Nullable<Numeric>,
        budget_initial -> Nullable<Numeric>,
        budget_adjusted -> Nullable<Numeric>,
        budget_executed -> Nullable<Numeric>,
        three_public_total -> Nullable<Numeric>,
        overseas_travel_amount -> Nullable<Numeric>,
        overseas_travel_delegations -> Nullable<Int4>,
        overseas_travel_persons -> Nullable<Int4>,
        vehicle_purchase_amount -> Nullable<Numeric>,
        vehicle_purchase_vehicles -> Nullable<Int4>,
        vehicle_operation_amount -> Nullable<Numeric>,
        vehicle_operation_vehicles -> Nullable<Int4>,
        reception_amount -> Nullable<Numeric>,
        reception_batches -> Nullable<Int4>,
        reception_persons -> Nullable<Int4>,
        running_costs_amount -> Nullable<Numeric>,
        running_costs_prior_amount -> Nullable<Numeric>,
        running_costs_prior_year -> Nullable<Int2>,
        running_costs_stated_change -> Nullable<Numeric>,
        introduction -> Nullable<Text>,
        evaluation_purpose -> Nullable<Text>,
        evaluation_process -> Nullable<Text>,
        conclusion_text -> Nullable<Text>,
        total_score -> Nullable<Numeric>,
        grade -> Nullable<Text>,
        problems -> Array<Text>,
        suggestions -> Array<Text>,
        budget_disclosed -> Nullable<Bool>,
        final_accounts_disclosed -> Nullable<Bool>,
        status -> Text,
        revision -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        computed_total_score -> Nullable<Numeric>,
        computed_grade -> Nullable<Text>,
        execution_rate -> Nullable<Numeric>,
        error_count -> Int4,
        warning_count -> Int4,
        project_name -> Nullable<Text>,
        project_code -> Nullable<Text>,
        competent_department_code -> Nullable<Text>,
        competent_department_name -> Nullable<Text>,
        implementing_unit_code -> Nullable<Text>,
        implementing_unit_name -> Nullable<Text>,
        staffing_quota_total -> Nullable<Int4>,
        staffing_quota_civil_service_managed -> Nullable<Int4>,
        staffing_quota_government_workers -> Nullable<Int4>,
        staff_in_post_administrative -> Nullable<Int4>,
        staff_in_post_civil_service_managed -> Nullable<Int4>,
        staff_in_post_institutional -> Nullable<Int4>,
        staff_in_post_government_workers -> Nullable<Int4>,
        staff_retired -> Nullable<Int4>,
        staff_hired -> Nullable<Int4>,
        consolidated_units_stated -> Nullable<Int4>,
        consolidated_administrative_stated -> Nullable<Int4>,
        consolidated_civil_service_managed_stated -> Nullable<Int4>,
        consolidated_institutional_stated -> Nullable<Int4>,
        consolidated_other_stated -> Nullable<Int4>,
        income_prior_year -> Nullable<Int2>,
        income_prior_amount -> Nullable<Numeric>,
        income_stated_change -> Nullable<Numeric>,
        income_stated_change_pct -> Nullable<Numeric>,
        expenditure_prior_year -> Nullable<Int2>,
        expenditure_prior_amount -> Nullable<Numeric>,
        expenditure_stated_change -> Nullable<Numeric>,
        expenditure_stated_change_pct -> Nullable<Numeric>,
        budget_weight -> Nullable<Numeric>,
        budget_stated_rate -> Nullable<Numeric>,
        budget_score -> Nullable<Numeric>,
        funds_current_initial -> Nullable<Numeric>,
        funds_current_adjusted -> Nullable<Numeric>,
        funds_current_executed -> Nullable<Numeric>,
        funds_carried_initial -> Nullable<Numeric>,
        funds_carried_adjusted -> Nullable<Numeric>,
        funds_carried_executed -> Nullable<Numeric>,
        funds_other_initial -> Nullable<Numeric>,
        funds_other_adjusted -> Nullable<Numeric>,
        funds_other_executed -> Nullable<Numeric>,
        funds_sources_stated -> Array<Text>,
        annual_target_expected -> Nullable<Text>,
        annual_target_achieved -> Nullable<Text>,
        annual_target_weight -> Nullable<Numeric>,
        three_public_budget -> Nullable<Numeric>,
        overseas_travel_budget -> Nullable<Numeric>,
        overseas_travel_share -> Nullable<Numeric>,
        vehicle_purchase_budget -> Nullable<Numeric>,
        vehicle_purchase_share -> Nullable<Numeric>,
        vehicle_operation_budget -> Nullable<Numeric>,
        vehicle_operation_share -> Nullable<Numeric>,
        reception_budget -> Nullable<Numeric>,
        reception_share -> Nullable<Numeric>,
        three_public_items_stated -> Array<Text>,
        running_costs_stated_change_pct -> Nullable<Numeric>,
        execution_rate_budget -> Nullable<Text>,
        execution_rate_figures -> Nullable<Text>,
        computed_funds_score -> Nullable<Numeric>,
    }
}

diesel::table! {
    evaluation_internal_units (evaluation_id, position) {
        evaluation_id -> Int8,
        position -> Int2,
        name -> Text,
        count -> Int4,
    }
}

diesel::table! {
    evaluation_income_lines (evaluation_id, position) {
        evaluation_id -> Int8,
        position -> Int2,
        category -> Text,
        amount -> Numeric,
        initial_budget -> Nullable<Numeric>,
        adjusted_budget -> Nullable<Numeric>,
        note -> Nullable<Text>,
        stated_share -> Nullable<Numeric>,
    }
}

diesel::table! {
    evaluation_expenditure_lines (evaluation_id, position) {
        evaluation_id -> Int8,
        position -> Int2,
        structure -> Text,
        economic_class -> Nullable<Text>,
        name -> Nullable<Text>,
        initial_budget -> Nullable<Numeric>,
        adjusted_budget -> Nullable<Numeric>,
        executed -> Nullable<Numeric>,
    }
}

diesel::table! {
    evaluation_three_public_prior (evaluation_id, position) {
        evaluation_id -> Int8,
        position -> Int2,
        item -> Text,
        fiscal_year -> Int2,
        amount -> Nullable<Numeric>,
        stated_change -> Nullable<Numeric>,
        stated_change_pct -> Nullable<Numeric>,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    evaluation_indicators (evaluation_id, position) {
        evaluation_id -> Int8,
        position -> Int2,
        level_1 -> Text,
        level_2 -> Text,
        name -> Text,
        code -> Nullable<Text>,
        unit_of_measure -> Nullable<Text>,
        direction -> Nullable<Text>,
        target -> Nullable<Numeric>,
        target_text -> Nullable<Text>,
        actual -> Nullable<Numeric>,
        actual_text -> Nullable<Text>,
        weight -> Nullable<Numeric>,
        score -> Nullable<Numeric>,
        applicable -> Bool,
        deviation_reason -> Nullable<Text>,
        level_1_points -> Nullable<Numeric>,
        achievement -> Nullable<Text>,
        matched_code -> Nullable<Text>,
    }
}

diesel::table! {
    evaluation_projects (evaluation_id, position) {
        evaluation_id -> Int8,
        position -> Int2,
        name -> Text,
        budget -> Nullable<Numeric>,
        executed -> Nullable<Numeric>,
        progress -> Nullable<Numeric>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    evaluation_narrative_sections (evaluation_id, position) {
        evaluation_id -> Int8,
        position -> Int2,
        category -> Text,
        title -> Nullable<Text>,
        body -> Text,
    }
}

diesel::table! {
    evaluation_consolidated_units (evaluation_id, position) {
        evaluation_id -> Int8,
        position -> Int2,
        name -> Text,
        unit_type -> Text,
        code -> Nullable<Text>,
    }
}

diesel::joinable!(evaluations -> regions (region_code));
diesel::joinable!(evaluation_consolidated_units -> evaluations (evaluation_id));
diesel::joinable!(evaluation_internal_units -> evaluations (evaluation_id));
diesel::joinable!(evaluation_income_lines -> evaluations (evaluation_id));
diesel::joinable!(evaluation_expenditure_lines -> evaluations (evaluation_id));
diesel::joinable!(evaluation_three_public_prior -> evaluations (evaluation_id));
diesel::joinable!(evaluation_indicators -> evaluations (evaluation_id));
diesel::joinable!(evaluation_projects -> evaluations (evaluation_id));
diesel::joinable!(evaluation_narrative_sections -> evaluations (evaluation_id));

diesel::allow_tables_to_appear_in_same_query!(
    regions,
    evaluations,
    evaluation_internal_units,
    evaluation_income_lines,
    evaluation_expenditure_lines,
    evaluation_three_public_prior,
    evaluation_indicators,
    evaluation_projects,
    evaluation_narrative_sections,
    evaluation_consolidated_units,
);

diesel::table! {
    evaluation_revisions (evaluation_id, revision) {
        evaluation_id -> Int8,
        revision -> Int4,
        action -> Text,
        status -> Text,
        actor -> Text,
        comment -> Nullable<Text>,
        record -> Nullable<Jsonb>,
        content_revision -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        request_hash -> Bytea,
        status -> Int2,
        headers -> Jsonb,
        body -> Bytea,
        created_at -> Timestamptz,
        claimed_until -> Nullable<Timestamptz>,
        claimed_by -> Nullable<Int4>,
    }
}

diesel::table! {
    scoring_rule_sets (region_code) {
        region_code -> Text,
        rules -> Jsonb,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(evaluation_revisions -> evaluations (evaluation_id));
diesel::allow_tables_to_appear_in_same_query!(evaluations, evaluation_revisions);

diesel::table! {
    api_tokens (id) {
        id -> Int8,
        name -> Text,
        role -> Text,
        region_code -> Nullable<Text>,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    source_documents (id) {
        id -> Int8,
        sha256 -> Bytea,
        media_type -> Text,
        file_name -> Nullable<Text>,
        size -> Int4,
        body -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    evaluation_sources (evaluation_id) {
        evaluation_id -> Int8,
        document_id -> Int8,
        sheet -> Nullable<Text>,
        imported_at -> Timestamptz,
    }
}

diesel::joinable!(evaluation_sources -> evaluations (evaluation_id));
diesel::joinable!(evaluation_sources -> source_documents (document_id));
diesel::allow_tables_to_appear_in_same_query!(evaluations, evaluation_sources, source_documents);

diesel::table! {
    /// A view (migration 000022) over `change_log`, which keeps what the records and their
    /// revisions do not say.
    changes (seq) {
        seq -> Int8,
        evaluation_id -> Int8,
        region_code -> Text,
        fiscal_year -> Int2,
        kind -> Text,
        unit -> Text,
        project_name -> Nullable<Text>,
        revision -> Int4,
        action -> Text,
        status -> Text,
        previous_status -> Nullable<Text>,
        actor -> Text,
        at -> Timestamptz,
        public -> Bool,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Int8,
        url -> Text,
        events -> Array<Text>,
        region_code -> Nullable<Text>,
        secret -> Text,
        after_seq -> Int8,
        created_by -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Int8,
        webhook_id -> Int8,
        change_seq -> Int8,
        evaluation_id -> Int8,
        state -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_status -> Nullable<Int2>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::allow_tables_to_appear_in_same_query!(webhooks, webhook_deliveries);

diesel::table! {
    indicator_definitions (code) {
        code -> Text,
        name -> Text,
        level_1 -> Text,
        level_2 -> Text,
        unit_of_measure -> Nullable<Text>,
        direction -> Nullable<Text>,
        kinds -> Array<Text>,
        aliases -> Array<Text>,
        scoring_method -> Nullable<Text>,
        source -> Nullable<Text>,
        name_keys -> Array<Text>,
        revision -> Int4,
        retired_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        updated_by -> Text,
    }
}
