DROP TABLE evaluation_narrative_sections;
DROP TABLE evaluation_projects;
DROP TABLE evaluation_indicators;
DROP TABLE evaluation_three_public_prior;
DROP TABLE evaluation_expenditure_lines;
DROP TABLE evaluation_income_lines;
DROP TABLE evaluation_internal_units;
DROP TABLE evaluations;
