-- The statistical division hierarchy (统计用区划代码): province 2 digits, prefecture 4,
-- county 6, township 9. Codes sort bytewise (COLLATE "C") so that a code prefix is an
-- index range.
CREATE TABLE regions (
    code        text COLLATE "C" PRIMARY KEY,
    name        text NOT NULL CHECK (name <> ''),
    level       text NOT NULL CHECK (level IN ('province', 'prefecture', 'county', 'township')),
    parent_code text COLLATE "C" REFERENCES regions (code) ON DELETE RESTRICT,
    CONSTRAINT regions_code_shape CHECK (
        (level = 'province' AND code ~ '^[0-9]{2}$' AND parent_code IS NULL)
        OR (level = 'prefecture' AND code ~ '^[0-9]{4}$' AND parent_code = left(code, 2))
        OR (level = 'county' AND code ~ '^[0-9]{6}$' AND parent_code = left(code, 4))
        OR (level = 'township' AND code ~ '^[0-9]{9}$' AND parent_code = left(code, 6))
    )
);

CREATE INDEX regions_parent_code_idx ON regions (parent_code, code);
CREATE INDEX regions_level_idx ON regions (level, code);
