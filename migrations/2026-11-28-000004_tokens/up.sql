-- API tokens: shown once at creation, stored only as a SHA-256 hash.
CREATE TABLE api_tokens (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL UNIQUE CHECK (name <> ''),
    role            text NOT NULL CHECK (role IN ('submitter', 'reviewer', 'admin')),
    region_code     text COLLATE "C" REFERENCES regions (code),
    token_hash      bytea NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    CONSTRAINT api_tokens_scope CHECK (role = 'admin' OR region_code IS NOT NULL)
);
