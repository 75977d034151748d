//! Pre-aggregated sums of the records (`evaluation_sums`), kept in every write's own transaction,
//! and the aggregates they can answer without reading the records.
//!
//! The sums are keyed by county, fiscal year, kind, status and grade: the dimensions an aggregate
//! groups and filters by, down to the county, and every visibility but a township's. Per key they
//! hold the record count and, for every column measure of the model, the sum and the count of the
//! values present; for every ratio, the sums of both sides over the records that state both.
//!
//! A statement-level trigger on `evaluations` appends each write's net change, grouped by key, to
//! `evaluation_sum_deltas`: writers only insert, so they never wait on each other or deadlock
//! over a key. `evaluation_sums_compact()` (run by `spawn_compactor` on one instance at a time)
//! moves the deltas into the sums in one transaction. A reader sums both (`evaluation_totals`), so
//! every answer is exact at the reader's snapshot whether or not a compaction has run.
//!
//! The migration that creates the tables and the trigger is generated from the measure catalogue
//! (`migration_sql`); a test fails when the two differ.
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::domain::measures::{catalogue, Aggregation, Dimension, MeasureSpec, Source};

use super::evaluation_list::{ListFilter, Visibility};

/// The longest region code prefix the sums can filter by: a county's.
const KEY_REGION_LEN: usize = 6;

/// What the sums hold per key for one measure, named after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// `sum_<name>` (0 where no value is present) and `count_<name>` (values present).
    Summed { name: String, expression: &'static str },
    /// `both_<name>` (records with both sides), `num_<name>` and `den_<name>` over them.
    Ratio { name: String, numerator: &'static str, denominator: &'static str },
}

/// The sums' columns for every column measure and ratio of the catalogue, in catalogue order.
pub fn columns() -> &'static [Column] {
    static COLUMNS: std::sync::LazyLock<Vec<Column>> = std::sync::LazyLock::new(|| {
        catalogue()
            .into_iter()
            .filter_map(|measure| {
                let name = measure.name.replace('.', "_");
                match measure.source {
                    Source::Column(expression) => Some(Column::Summed { name, expression }),
                    Source::Ratio { numerator, denominator } => Some(Column::Ratio { name, numerator, denominator }),
                    _ => None,
                }
            })
            .collect()
    });
    &COLUMNS
}

fn column_name(source: &Source) -> Option<&'static str> {
    columns().iter().find_map(|column| match (column, source) {
        (Column::Summed { name, expression }, Source::Column(wanted)) if expression == wanted => Some(name.as_str()),
        (Column::Ratio { name, numerator, denominator }, Source::Ratio { numerator: n, denominator: d })
            if numerator == n && denominator == d =>
        {
            Some(name.as_str())
        }
        _ => None,
    })
}

/// Whether the sums answer an aggregate of these levels, measures and filter exactly: no
/// township, no minimum, maximum or percentile, and a filter they hold. An indicator's actual
/// (its sum, average or count) and completion are answered from the indicator sums
/// (`super::indicator_sums`).
pub fn answer(levels: &[&[Dimension]], measures: &[MeasureSpec], filter: &ListFilter) -> bool {
    let dimensions_ok = levels.iter().flat_map(|level| level.iter()).all(|d| *d != Dimension::Township);
    let measures_ok = measures.iter().all(|spec| match &spec.measure.source {
        Source::Records => true,
        Source::Ratio { .. } => true,
        Source::Column(_) => matches!(spec.aggregation, Aggregation::Sum | Aggregation::Avg | Aggregation::Count),
        Source::IndicatorActual(_) | Source::IndicatorCompletion { .. } => super::indicator_sums::answers(spec),
    });
    dimensions_ok && measures_ok && hold(filter)
}

/// Whether the sums hold what a filter selects by: no text search or change time, and regions
/// and visibility no narrower than a county.
pub fn hold(filter: &ListFilter) -> bool {
    let short = |code: &String| code.len() <= KEY_REGION_LEN;
    filter.unit_contains.is_none()
        && filter.updated_since.is_none()
        && filter.region_prefixes.iter().all(short)
        && match &filter.visibility {
            Visibility::All | Visibility::Published => true,
            Visibility::PublishedOrUnder(prefix) => short(prefix),
        }
}

/// The SQL of a grouped column over `evaluation_totals e`, for a dimension the sums hold.
pub fn dimension_sql(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Province => "left(e.region_code, 2)",
        Dimension::Prefecture => "left(e.region_code, 4)",
        Dimension::County | Dimension::Township => "e.region_code",
        Dimension::FiscalYear => "e.fiscal_year",
        Dimension::Kind => "e.kind",
        Dimension::Status => "e.status",
        Dimension::Grade => "e.grade",
    }
}

/// The grade of a key, as `coalesce(e.grade, e.computed_grade)` is a record's.
pub const GRADE_SQL: &str = "e.grade";

/// The SQL columns of a measure over `evaluation_totals e`, each the same value (and type, once
/// written as JSON) as the statement over the records gives: a sum is null where no record
/// states a value, an average is `sum / count` as PostgreSQL's own `avg` divides.
pub fn measure_sql(spec: &MeasureSpec) -> Vec<String> {
    let name = column_name(&spec.measure.source);
    match (&spec.measure.source, spec.aggregation, name) {
        (Source::Records, _, _) => vec!["sum(e.records)".to_owned()],
        (Source::Ratio { .. }, _, Some(name)) => vec![
            format!("CASE WHEN sum(e.both_{name}) > 0 THEN sum(e.num_{name}) END"),
            format!("CASE WHEN sum(e.both_{name}) > 0 THEN sum(e.den_{name}) END"),
        ],
        (Source::Column(_), Aggregation::Sum, Some(name)) => {
            vec![format!("CASE WHEN sum(e.count_{name}) > 0 THEN sum(e.sum_{name}) END")]
        }
        (Source::Column(_), Aggregation::Count, Some(name)) => vec![format!("sum(e.count_{name})")],
        (Source::Column(_), Aggregation::Avg, Some(name)) => {
            vec![format!("CASE WHEN sum(e.count_{name}) > 0 THEN sum(e.sum_{name}) / sum(e.count_{name}) END")]
        }
        (source, aggregation, _) => unreachable!("the sums do not answer {source:?} {aggregation:?}: see `answer`"),
    }
}

/// Moves the deltas into the sums, unless another instance is doing it. Returns the delta rows
/// moved.
pub async fn compact(conn: &mut AsyncPgConnection) -> diesel::QueryResult<i64> {
    #[derive(diesel::QueryableByName)]
    struct Moved {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        moved: i64,
    }
    let row: Moved = diesel::sql_query("SELECT evaluation_sums_compact() + indicator_sums_compact() AS moved")
        .get_result(conn)
        .await?;
    Ok(row.moved)
}

/// Compacts the deltas every `every`, on its own connection (reconnecting after a failure).
pub fn spawn_compactor(database_url: String, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut conn: Option<AsyncPgConnection> = None;
        loop {
            tokio::time::sleep(every).await;
            if conn.is_none() {
                conn = AsyncPgConnection::establish(&database_url)
                    .await
                    .inspect_err(|error| tracing::warn!(%error, "the sums' compactor could not connect"))
                    .ok();
            }
            if let Some(c) = conn.as_mut() {
                match compact(c).await {
                    Ok(0) => {}
                    Ok(moved) => tracing::debug!(moved, "compacted the sums' deltas"),
                    Err(error) => {
                        tracing::warn!(%error, "compacting the sums' deltas failed");
                        conn = None;
                    }
                }
            }
        }
    })
}

/// The key columns, as a record's expressions (over `e`) and as the sums name them.
const KEY: [(&str, &str, &str); 5] = [
    ("region_code", "text", "left(e.region_code, 6)"),
    ("fiscal_year", "smallint", "e.fiscal_year"),
    ("kind", "text", "e.kind"),
    ("status", "text", "e.status"),
    ("grade", "text", "coalesce(e.grade, e.computed_grade)"),
];

/// (column, type, a record's contribution over `e` before its sign is applied) of every value
/// column, after the key.
fn value_columns() -> Vec<(String, &'static str, String)> {
    let mut out = vec![("records".to_owned(), "integer", "1".to_owned())];
    for column in columns() {
        match column {
            Column::Summed { name, expression } => {
                out.push((format!("sum_{name}"), "numeric", format!("coalesce({expression}, 0)")));
                out.push((format!("count_{name}"), "integer", format!("({expression} IS NOT NULL)::integer")));
            }
            Column::Ratio { name, numerator, denominator } => {
                let both = format!("{numerator} IS NOT NULL AND {denominator} IS NOT NULL");
                out.push((format!("both_{name}"), "integer", format!("({both})::integer")));
                out.push((format!("num_{name}"), "numeric", format!("CASE WHEN {both} THEN {numerator} ELSE 0 END")));
                out.push((format!("den_{name}"), "numeric", format!("CASE WHEN {both} THEN {denominator} ELSE 0 END")));
            }
        }
    }
    out
}

/// Every value column after the key, with its type: what `evaluation_totals` holds per key.
pub fn value_column_types() -> Vec<(String, &'static str)> {
    value_columns().into_iter().map(|(name, ty, _)| (name, ty)).collect()
}

/// Every key's values recounted from the records: what the sums must hold.
pub fn recount_sql() -> String {
    let values = value_columns();
    format!(
        "SELECT {}, {} FROM evaluations e GROUP BY {}",
        KEY.iter().map(|(name, _, sql)| format!("{sql} AS {name}")).collect::<Vec<_>>().join(", "),
        values.iter().map(|(name, _, sql)| format!("sum({sql}) AS {name}")).collect::<Vec<_>>().join(", "),
        (1..=KEY.len()).map(|p| p.to_string()).collect::<Vec<_>>().join(", "),
    )
}

/// Every key's values as a reader sees them (the sums and the deltas not yet compacted), in the
/// columns of `recount_sql`.
pub fn totals_sql() -> String {
    let values = value_columns();
    format!(
        "SELECT {}, {} FROM evaluation_totals e GROUP BY {} HAVING sum(e.records) <> 0",
        KEY.iter().map(|(name, _, _)| format!("e.{name}")).collect::<Vec<_>>().join(", "),
        values.iter().map(|(name, _, _)| format!("sum(e.{name}) AS {name}")).collect::<Vec<_>>().join(", "),
        (1..=KEY.len()).map(|p| p.to_string()).collect::<Vec<_>>().join(", "),
    )
}

/// The migration that creates the sums, their deltas, the view over both, the trigger and the
/// compaction, and fills the sums from the records already stored.
pub fn migration_sql() -> String {
    let values = value_columns();
    let key_names: Vec<&str> = KEY.iter().map(|(name, _, _)| *name).collect();
    let key_list = key_names.join(", ");
    let value_names: Vec<&str> = values.iter().map(|(name, _, _)| name.as_str()).collect();
    let all_names = format!("{key_list}, {}", value_names.join(", "));
    let indent = |lines: Vec<String>, by: &str, sep: &str| lines.join(&format!("{sep}\n{by}"));

    let mut definitions: Vec<String> = KEY
        .iter()
        .map(|(name, ty, _)| format!("{name} {ty}{}", if *name == "grade" { "" } else { " NOT NULL" }))
        .collect();
    definitions.extend(values.iter().map(|(name, ty, _)| format!("{name} {ty} NOT NULL")));

    // One record's signed contribution per value column, over the transition table `e`.
    let contribution = |sign: &str| -> Vec<String> {
        let mut cells: Vec<String> = KEY.iter().map(|(name, _, sql)| format!("{sql} AS {name}")).collect();
        cells.extend(values.iter().map(|(name, _, sql)| format!("{sign}{sql} AS {name}")));
        cells
    };
    let sums: Vec<String> = values.iter().map(|(name, _, _)| format!("sum(d.{name})")).collect();
    let nonzero: Vec<String> = values.iter().map(|(name, _, _)| format!("sum(d.{name}) <> 0")).collect();
    let insert_deltas = |from: &str| -> String {
        format!(
            "INSERT INTO evaluation_sum_deltas ({all_names})\n        \
             SELECT {}, {}\n        \
             FROM ({from}) d\n        \
             GROUP BY {}\n        \
             HAVING {};",
            key_names.iter().map(|k| format!("d.{k}")).collect::<Vec<_>>().join(", "),
            sums.join(", "),
            key_names.iter().map(|k| format!("d.{k}")).collect::<Vec<_>>().join(", "),
            nonzero.join(" OR "),
        )
    };
    let plus = format!("SELECT {} FROM new_rows e", contribution("").join(", "));
    let minus = format!("SELECT {} FROM old_rows e", contribution("-").join(", "));

    format!(
        "-- Generated by `perfeval::db::sums::migration_sql` from the measure catalogue; a test fails when they differ.
-- Pre-aggregated sums of the records, keyed by county, fiscal year, kind, status and grade: what
-- the aggregates that need no record answer from (src/db/sums.rs).
CREATE TABLE evaluation_sums (
    {definitions},
    CONSTRAINT evaluation_sums_key UNIQUE NULLS NOT DISTINCT ({key_list})
);
CREATE INDEX evaluation_sums_year ON evaluation_sums (fiscal_year, region_code);

{shared}
{compact}
-- The records already stored.
INSERT INTO evaluation_sums ({all_names})
{recount};
",
        definitions = indent(definitions, "    ", ","),
        key_list = key_list,
        shared = shared_sql(
            ("evaluation_sums", "evaluation_sum_deltas", "evaluation_totals"),
            "evaluations",
            &all_names,
            [insert_deltas(&plus), insert_deltas(&minus), insert_deltas(&format!("{minus} UNION ALL {plus}"))],
        ),
        compact = compact_sql("CREATE", false),
        recount = recount_sql(),
    )
}

/// The compaction function, `create`d (`CREATE` or `CREATE OR REPLACE`): it moves the deltas
/// into the sums, and with `provinces` into the province sums too, in one transaction, one
/// compactor at a time.
fn compact_sql(create: &str, provinces: bool) -> String {
    let values = value_columns();
    let key_names: Vec<&str> = KEY.iter().map(|(name, _, _)| *name).collect();
    let key_list = key_names.join(", ");
    let value_list = values.iter().map(|(name, _, _)| name.as_str()).collect::<Vec<_>>().join(", ");
    let all_names = format!("{key_list}, {value_list}");
    let key_d = key_names.iter().map(|k| format!("d.{k}")).collect::<Vec<_>>().join(", ");
    let sums = values.iter().map(|(name, _, _)| format!("sum(d.{name}) AS {name}")).collect::<Vec<_>>().join(", ");
    let merge = values
        .iter()
        .map(|(name, _, _)| format!("{name} = s.{name} + excluded.{name}"))
        .collect::<Vec<_>>()
        .join(",\n            ");
    let (province_merge, province_delete) = if provinces {
        let rest = &key_names[1..];
        let sums_m = values.iter().map(|(name, _, _)| format!("sum(m.{name})")).collect::<Vec<_>>().join(", ");
        (
            format!(
                "    ), provinces AS (
        INSERT INTO province_sums AS s ({all_names})
        SELECT left(m.region_code, 2), {}, {sums_m} FROM merged m
        GROUP BY left(m.region_code, 2), {} ORDER BY 1, {}
        ON CONFLICT ON CONSTRAINT province_sums_key DO UPDATE SET
            {merge}
",
                rest.iter().map(|k| format!("m.{k}")).collect::<Vec<_>>().join(", "),
                rest.iter().map(|k| format!("m.{k}")).collect::<Vec<_>>().join(", "),
                (2..=key_names.len()).map(|p| p.to_string()).collect::<Vec<_>>().join(", "),
            ),
            "    DELETE FROM province_sums WHERE records = 0;\n",
        )
    } else {
        (String::new(), "")
    };
    let what = if provinces { "the sums and the province sums" } else { "the sums" };
    format!(
        "-- Moves the deltas into {what} in one transaction, one compactor at a time; returns the delta
-- rows moved (0 when another session holds the lock).
{create} FUNCTION evaluation_sums_compact() RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
    moved bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('perfeval.evaluation_sums')) THEN
        RETURN 0;
    END IF;
    WITH d AS (DELETE FROM evaluation_sum_deltas RETURNING *),
    merged AS (
        SELECT {key_d}, count(*) AS n, {sums}
        FROM d GROUP BY {key_d}
    ), written AS (
        INSERT INTO evaluation_sums AS s ({all_names})
        SELECT {key_list}, {value_list} FROM merged ORDER BY {key_list}
        ON CONFLICT ON CONSTRAINT evaluation_sums_key DO UPDATE SET
            {merge}
{province_merge}    )
    SELECT coalesce(sum(n), 0) INTO moved FROM merged;
    DELETE FROM evaluation_sums WHERE records = 0;
{province_delete}    RETURN moved;
END
$fn$;
"
    )
}

/// The truncation of the sums with the records, `create`d, with or without the province sums.
fn truncate_sql(create: &str, provinces: bool) -> String {
    let tables = if provinces {
        "evaluation_sums, evaluation_sum_deltas, province_sums"
    } else {
        "evaluation_sums, evaluation_sum_deltas"
    };
    format!(
        "{create} FUNCTION evaluation_sums_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    TRUNCATE {tables};
    RETURN NULL;
END
$fn$;
"
    )
}

/// The migration that adds the province sums (`province_sums`): the records' sums summed up to
/// the province, which answer an aggregate that neither groups nor filters below a province from
/// a few thousand rows instead of a hundred thousand. The compaction moves the deltas into both;
/// a reader of them sums the deltas too, each truncated to its province (`province_totals`).
pub fn province_migration_sql() -> String {
    let values = value_columns();
    let key_names: Vec<&str> = KEY.iter().map(|(name, _, _)| *name).collect();
    let key_list = key_names.join(", ");
    let value_list = values.iter().map(|(name, _, _)| name.as_str()).collect::<Vec<_>>().join(", ");
    let rest = key_names[1..].join(", ");
    let sums = values.iter().map(|(name, _, _)| format!("sum({name})")).collect::<Vec<_>>().join(", ");
    format!(
        "-- Generated by `perfeval::db::sums::province_migration_sql`; a test fails when they differ.
-- The records' sums summed up to the province (src/db/sums.rs, `totals_for`).
CREATE TABLE province_sums (LIKE evaluation_sums);
ALTER TABLE province_sums ADD CONSTRAINT province_sums_key UNIQUE NULLS NOT DISTINCT ({key_list});

-- What a reader of them sums: exact at its snapshot, compacted or not.
CREATE VIEW province_totals AS
    SELECT {key_list}, {value_list} FROM province_sums
    UNION ALL
    SELECT left(region_code, 2) AS region_code, {rest}, {value_list} FROM evaluation_sum_deltas;

{compact}
{truncate}
-- The sums already compacted (the deltas are read as they are).
INSERT INTO province_sums ({key_list}, {value_list})
SELECT left(region_code, 2), {rest}, {sums}
FROM evaluation_sums
GROUP BY left(region_code, 2), {rest};
",
        compact = compact_sql("CREATE OR REPLACE", true),
        truncate = truncate_sql("CREATE OR REPLACE", true),
    )
}

/// Its down.sql: the compaction and truncation as they were, and no province sums.
pub fn province_down_sql() -> String {
    format!(
        "-- Generated by `perfeval::db::sums::province_down_sql`; a test fails when they differ.
{}
{}
DROP VIEW province_totals;
DROP TABLE province_sums;
",
        compact_sql("CREATE OR REPLACE", false),
        truncate_sql("CREATE OR REPLACE", false),
    )
}

/// Where an aggregate over the sums reads: the province sums when it neither groups nor filters
/// below a province (nor does the caller's visibility), else the county sums.
pub fn totals_for(levels: &[&[Dimension]], filter: &ListFilter) -> &'static str {
    let province = |code: &String| code.len() <= 2;
    let dimensions_ok = levels
        .iter()
        .flat_map(|level| level.iter())
        .all(|d| !matches!(d, Dimension::Prefecture | Dimension::County | Dimension::Township));
    let filter_ok = filter.region_prefixes.iter().all(province)
        && match &filter.visibility {
            Visibility::All | Visibility::Published => true,
            Visibility::PublishedOrUnder(prefix) => province(prefix),
        };
    if dimensions_ok && filter_ok {
        "province_totals"
    } else {
        "evaluation_totals"
    }
}

/// The province sums recounted from the records, in the columns of `recount_sql`.
pub fn province_recount_sql() -> String {
    recount_sql().replacen("left(e.region_code, 6) AS region_code", "left(e.region_code, 2) AS region_code", 1)
}

/// The province sums as a reader sees them, in the columns of `recount_sql`.
pub fn province_totals_sql() -> String {
    totals_sql().replacen("FROM evaluation_totals e", "FROM province_totals e", 1)
}

/// What the records' sums and the indicator sums (`super::indicator_sums`) both create, for
/// (sums table, deltas table, totals view) holding `all_names`: the deltas, the view a reader
/// sums, the trigger function that appends each statement's net change to the deltas
/// (`inserts`: over the new rows of an INSERT, the old rows of a DELETE, both of an UPDATE), its
/// three statement triggers on `table`, and the truncation of both tables with it.
pub(super) fn shared_sql(
    (sums, deltas, totals): (&str, &str, &str),
    table: &str,
    all_names: &str,
    inserts: [String; 3],
) -> String {
    let [plus, minus, both] = inserts;
    format!(
        "-- Each write's net change, appended by the trigger; writers never update a shared row.
CREATE TABLE {deltas} (LIKE {sums});

-- What a reader sums: exact at its snapshot, compacted or not.
CREATE VIEW {totals} AS
    SELECT {all_names} FROM {sums}
    UNION ALL
    SELECT {all_names} FROM {deltas};

CREATE FUNCTION {sums}_delta() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {plus}
    ELSIF TG_OP = 'DELETE' THEN
        {minus}
    ELSE
        {both}
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER {sums}_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {sums}_delta();
CREATE TRIGGER {sums}_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {sums}_delta();
CREATE TRIGGER {sums}_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {sums}_delta();

CREATE FUNCTION {sums}_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    TRUNCATE {sums}, {deltas};
    RETURN NULL;
END
$fn$;
CREATE TRIGGER {sums}_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {sums}_truncate();
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIGRATION: &str = include_str!("../../migrations/2026-12-02-000014_sums/up.sql");
    const PROVINCES: &str = include_str!("../../migrations/2026-12-03-000021_province_sums/up.sql");
    const PROVINCES_DOWN: &str = include_str!("../../migrations/2026-12-03-000021_province_sums/down.sql");

    #[test]
    fn the_province_migration_and_its_down_are_generated() {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/2026-12-03-000021_province_sums");
        for (file, committed, generated) in
            [("up.sql", PROVINCES, province_migration_sql()), ("down.sql", PROVINCES_DOWN, province_down_sql())]
        {
            if generated != committed {
                if std::env::var_os("PERFEVAL_WRITE_SUMS_MIGRATION").is_some() {
                    std::fs::write(format!("{folder}/{file}"), &generated).unwrap();
                }
                panic!(
                    "{folder}/{file} differs from what db::sums generates; rerun with PERFEVAL_WRITE_SUMS_MIGRATION=1"
                );
            }
        }
        // Its down.sql puts back the compaction and truncation 000014 made, from the same text.
        assert!(MIGRATION.contains(compact_sql("CREATE", false).as_str()));
        assert!(MIGRATION.contains(truncate_sql("CREATE", false).as_str()));
    }

    #[test]
    fn the_migration_is_generated_from_the_catalogue() {
        let generated = migration_sql();
        if generated != MIGRATION {
            if std::env::var_os("PERFEVAL_WRITE_SUMS_MIGRATION").is_some() {
                std::fs::write(
                    concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/2026-12-02-000014_sums/up.sql"),
                    &generated,
                )
                .unwrap();
            }
            panic!(
                "migrations/2026-12-02-000014_sums/up.sql differs from db::sums::migration_sql(); \
                 rerun with PERFEVAL_WRITE_SUMS_MIGRATION=1 to write it (a released migration is \
                 never rewritten: add a new one instead)"
            );
        }
    }

    #[test]
    fn every_column_measure_and_ratio_has_sums() {
        let measures = catalogue();
        let held = measures.iter().filter(|m| matches!(m.source, Source::Column(_) | Source::Ratio { .. })).count();
        assert_eq!(columns().len(), held);
        assert_eq!(held, 45);
        for measure in &measures {
            if matches!(measure.source, Source::Column(_) | Source::Ratio { .. }) {
                assert!(column_name(&measure.source).is_some(), "{}", measure.name);
            }
        }
    }
}
