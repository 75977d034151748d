-- GET /api/v1/evaluations/{id}: the statements `db::evaluations::fetch` sends, captured from
-- PostgreSQL's log (log_statement=all) of a request: the main row and the eight child tables
-- by evaluation id. The service sends them pipelined on one connection (diesel-async
-- try_join!), so they are pipelined here too: one round trip per record, as in the service.
-- :id_min and :id_max come from `-D` (the ids of the bench database are one dense range; the
-- script checks that before it runs this).
\set id random(:id_min, :id_max)
\startpipeline
SELECT id, status, revision, created_at, updated_at, computed_total_score, computed_grade, execution_rate,
       error_count, warning_count, region_code, fiscal_year, kind, unit, budget_unit_code, method,
       basis_documents, issuer, report_date, reported_in, duties, staffing_quota_administrative,
       staffing_quota_institutional, staff_at_year_end, official_vehicles, income_total, opening_carry_over,
       expenditure_total, expenditure_basic_total, expenditure_project_total, expenditure_business_total,
       year_end_carry_over, budget_initial, budget_adjusted, budget_executed, three_public_total,
       overseas_travel_amount, overseas_travel_delegations, overseas_travel_persons, vehicle_purchase_amount,
       vehicle_purchase_vehicles, vehicle_operation_amount, vehicle_operation_vehicles, reception_amount,
       reception_batches, reception_persons, running_costs_amount, running_costs_prior_amount,
       running_costs_prior_year, running_costs_stated_change, introduction, evaluation_purpose,
       evaluation_process, conclusion_text, total_score, grade, problems, suggestions, budget_disclosed,
       final_accounts_disclosed
FROM evaluations WHERE (id = :id);
SELECT evaluation_id, position, name, count FROM evaluation_internal_units
WHERE (evaluation_id = :id) ORDER BY position;
SELECT evaluation_id, position, category, amount, initial_budget, adjusted_budget, note FROM evaluation_income_lines
WHERE (evaluation_id = :id) ORDER BY position;
SELECT evaluation_id, position, structure, economic_class, name, initial_budget, adjusted_budget, executed
FROM evaluation_expenditure_lines WHERE (evaluation_id = :id) ORDER BY position;
SELECT evaluation_id, position, item, fiscal_year, amount, stated_change FROM evaluation_three_public_prior
WHERE (evaluation_id = :id) ORDER BY position;
SELECT evaluation_id, position, level_1, level_2, name, code, unit_of_measure, direction, target, target_text,
       actual, actual_text, weight, score, applicable, deviation_reason
FROM evaluation_indicators WHERE (evaluation_id = :id) ORDER BY position;
SELECT evaluation_id, position, name, budget, executed, progress, note FROM evaluation_projects
WHERE (evaluation_id = :id) ORDER BY position;
SELECT evaluation_id, position, category, title, body FROM evaluation_narrative_sections
WHERE (evaluation_id = :id) ORDER BY position;
SELECT action, from_status, to_status, actor, comment, revision, created_at FROM evaluation_transitions
WHERE (evaluation_id = :id) ORDER BY id;
\endpipeline
