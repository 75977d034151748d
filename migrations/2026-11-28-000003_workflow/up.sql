-- Checking and reviewing: derived scores, review workflow, revision history, idempotent
-- POSTs and the scoring rule sets (data, not code).
ALTER TABLE evaluations
    ADD COLUMN computed_total_score numeric(5, 2) CHECK (computed_total_score BETWEEN 0 AND 100),
    ADD COLUMN computed_grade text CHECK (computed_grade IN ('excellent', 'good', 'fair', 'poor')),
    ADD COLUMN execution_rate numeric(12, 4) CHECK (execution_rate >= 0),
    ADD COLUMN error_count integer NOT NULL DEFAULT 0 CHECK (error_count >= 0),
    ADD COLUMN warning_count integer NOT NULL DEFAULT 0 CHECK (warning_count >= 0);

-- Every stored version of a record, as the JSON the API returned for it.
CREATE TABLE evaluation_revisions (
    evaluation_id   bigint NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    revision        integer NOT NULL CHECK (revision >= 1),
    action          text NOT NULL CHECK (action IN ('create', 'replace', 'submit', 'return', 'approve', 'publish', 'reopen')),
    status          text NOT NULL,
    actor           text NOT NULL,
    comment         text,
    record          jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (evaluation_id, revision)
);

-- Review transitions (提交, 退回, 审核, 公开, 重新打开) with who, when and why.
CREATE TABLE evaluation_transitions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    evaluation_id   bigint NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    action          text NOT NULL CHECK (action IN ('submit', 'return', 'approve', 'publish', 'reopen')),
    from_status     text NOT NULL,
    to_status       text NOT NULL,
    actor           text NOT NULL,
    comment         text,
    revision        integer NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evaluation_transitions_evaluation_idx ON evaluation_transitions (evaluation_id, id);

-- The first response to a POST with an Idempotency-Key, replayed for retries of the same body.
CREATE TABLE idempotency_keys (
    scope           text NOT NULL,
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash    bytea NOT NULL,
    status          smallint NOT NULL,
    headers         jsonb NOT NULL DEFAULT '[]',
    body            bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Weights, grade bands and execution-rate caps: a national default ('') and per-province overrides.
CREATE TABLE scoring_rule_sets (
    region_code     text COLLATE "C" PRIMARY KEY CHECK (region_code = '' OR region_code ~ '^[0-9]{2}$'),
    rules           jsonb NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO scoring_rule_sets (region_code, rules) VALUES ('', '{
    "weights": [
        {"category": "budget_execution", "weight": "10"},
        {"category": "output", "weight": "50"},
        {"category": "effect", "weight": "30"},
        {"category": "satisfaction", "weight": "10"}
    ],
    "grade_bands": [
        {"grade": "excellent", "min_score": "90"},
        {"grade": "good", "min_score": "80"},
        {"grade": "fair", "min_score": "60"},
        {"grade": "poor", "min_score": "0"}
    ],
    "execution_caps": []
}');
