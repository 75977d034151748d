-- The original files records were imported from (an XLSX table, a Word or text report), kept
-- once per content and linked to every record drafted from them.
CREATE TABLE source_documents (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256          bytea NOT NULL UNIQUE,
    media_type      text NOT NULL CHECK (media_type <> ''),
    file_name       text,
    size            integer NOT NULL CHECK (size >= 0),
    body            bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE evaluation_sources (
    evaluation_id   bigint PRIMARY KEY REFERENCES evaluations (id) ON DELETE CASCADE,
    document_id     bigint NOT NULL REFERENCES source_documents (id),
    sheet           text,
    imported_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evaluation_sources_document_idx ON evaluation_sources (document_id);
