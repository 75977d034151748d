//! Pre-aggregated sums of the indicator measures (`indicator.{code}.actual`, `….completion`),
//! kept like the records' sums (`super::sums`) and answering the aggregates they can.
//!
//! A record's indicator rows live in `evaluation_indicators`, which its statement-level trigger
//! cannot read reliably: a replace updates the record before it rewrites the rows, a delete
//! cascades after. So each record also carries what the measures need of its rows, written with
//! it (`indicator_values`, by library code; see `values_of`). A trigger expands the old and new
//! values of every changed record into `indicator_sum_deltas`, keyed by the records' sums' key
//! and the code; `indicator_sums_compact()` moves them into `indicator_sums`, and a reader sums
//! both (`indicator_totals`).
//!
//! Per key and code they hold: `count_actual`, the records whose rows state an actual, and
//! `sum_actual`, the sum of those; `both_completion`, the records with a row stating both the
//! actual and the target, and `num_completion` / `den_completion`, the sums of those rows'
//! actuals and targets. That is what the statement over the records computes per record: an
//! indicator's actual is the sum of its applicable rows' actuals, its completion the ratio of
//! the sums over the rows that state both.
use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::domain::{
    measures::{Aggregation, MeasureSpec, Source},
    record::EvaluationInput,
};

/// (actual, completion actual, completion target) of one code in one record.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Values {
    actual: Option<Decimal>,
    completed: Option<(Decimal, Decimal)>,
}

fn add(sum: Option<Decimal>, value: Decimal) -> Option<Decimal> {
    Some(sum.map_or(value, |s| s + value))
}

/// A record's `indicator_values`: for every library code its applicable rows give or were
/// matched to (`matched_code`), `[actual, completion actual, completion target]`, each the sum
/// over its rows or null; codes with none of the three are left out, and a record with no such
/// code holds null. Numbers keep their stated scale.
pub fn values_of(record: &EvaluationInput) -> Option<serde_json::Value> {
    let mut by_code: BTreeMap<&str, Values> = BTreeMap::new();
    for row in record.indicators.iter().filter(|row| row.applicable) {
        let Some(code) = row.code.as_deref().or(row.matched_code.as_deref()) else { continue };
        let values = by_code.entry(code).or_default();
        if let Some(actual) = row.actual {
            values.actual = add(values.actual, actual);
            if let Some(target) = row.target {
                let (a, t) = values.completed.unwrap_or_default();
                values.completed = Some((a + actual, t + target));
            }
        }
    }
    let number = |value: Option<Decimal>| match value {
        Some(d) => serde_json::Value::Number(d.to_string().parse().expect("a decimal is a JSON number")),
        None => serde_json::Value::Null,
    };
    let object: serde_json::Map<String, serde_json::Value> = by_code
        .into_iter()
        .filter(|(_, v)| v.actual.is_some() || v.completed.is_some())
        .map(|(code, v)| {
            let cells = vec![number(v.actual), number(v.completed.map(|c| c.0)), number(v.completed.map(|c| c.1))];
            (code.to_owned(), serde_json::Value::Array(cells))
        })
        .collect();
    (!object.is_empty()).then_some(serde_json::Value::Object(object))
}

/// The key columns: the records' sums' key (`super::sums`), then the code.
const KEY: [(&str, &str, &str); 6] = [
    ("region_code", "text", "left(e.region_code, 6)"),
    ("fiscal_year", "smallint", "e.fiscal_year"),
    ("kind", "text", "e.kind"),
    ("status", "text", "e.status"),
    ("grade", "text", "coalesce(e.grade, e.computed_grade)"),
    ("code", "text", "v.key"),
];

/// (column, type, one record's contribution from its code's value `v`) of every value column.
const VALUES: [(&str, &str, &str); 5] = [
    ("count_actual", "integer", "(v.value->>0 IS NOT NULL)::integer"),
    ("sum_actual", "numeric", "coalesce((v.value->>0)::numeric, 0)"),
    ("both_completion", "integer", "(v.value->>1 IS NOT NULL)::integer"),
    ("num_completion", "numeric", "coalesce((v.value->>1)::numeric, 0)"),
    ("den_completion", "numeric", "coalesce((v.value->>2)::numeric, 0)"),
];

fn names<const N: usize>(columns: &[(&str, &str, &str); N], prefix: &str) -> String {
    columns.iter().map(|(name, _, _)| format!("{prefix}{name}")).collect::<Vec<_>>().join(", ")
}

/// Every key's values recounted from the indicator rows themselves (not from
/// `indicator_values`): what the sums must hold.
pub fn recount_sql() -> String {
    "SELECT left(e.region_code, 6) AS region_code, e.fiscal_year, e.kind, e.status, \
     coalesce(e.grade, e.computed_grade) AS grade, r.code, \
     count(r.actual)::integer AS count_actual, coalesce(sum(r.actual), 0) AS sum_actual, \
     count(r.completed_actual)::integer AS both_completion, coalesce(sum(r.completed_actual), 0) AS num_completion, \
     coalesce(sum(r.completed_target), 0) AS den_completion \
     FROM evaluations e JOIN (\
        SELECT i.evaluation_id, coalesce(i.code, i.matched_code) AS code, sum(i.actual) AS actual, \
        sum(i.actual) FILTER (WHERE i.target IS NOT NULL) AS completed_actual, \
        sum(i.target) FILTER (WHERE i.actual IS NOT NULL) AS completed_target \
        FROM evaluation_indicators i WHERE i.applicable AND coalesce(i.code, i.matched_code) IS NOT NULL GROUP BY 1, 2\
     ) r ON r.evaluation_id = e.id \
     GROUP BY 1, 2, 3, 4, 5, 6 HAVING count(r.actual) > 0 OR count(r.completed_actual) > 0"
        .to_owned()
}

/// Every key's values as a reader sees them (sums and deltas), in the columns of `recount_sql`.
pub fn totals_sql() -> String {
    format!(
        "SELECT {}, {} FROM indicator_totals e GROUP BY 1, 2, 3, 4, 5, 6 \
         HAVING sum(e.count_actual) <> 0 OR sum(e.both_completion) <> 0",
        names(&KEY, "e."),
        VALUES
            .iter()
            .map(|(name, _, _)| format!("sum(e.{name})::{ty} AS {name}", ty = ty(name)))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

fn ty(name: &str) -> &'static str {
    VALUES.iter().find(|(n, _, _)| *n == name).map_or("numeric", |(_, ty, _)| ty)
}

/// Whether the indicator sums answer this measure: an actual's sum, average or count, or a
/// completion.
pub fn answers(spec: &MeasureSpec) -> bool {
    match &spec.measure.source {
        Source::IndicatorActual(_) => {
            matches!(spec.aggregation, Aggregation::Sum | Aggregation::Avg | Aggregation::Count)
        }
        Source::IndicatorCompletion { .. } => true,
        _ => false,
    }
}

/// The codes of a query's indicator measures, each once, in order of first use: the `k` of
/// their columns `i{k}_…` in `from_sql`.
pub fn codes(measures: &[MeasureSpec]) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for spec in measures {
        if let Source::IndicatorActual(code) | Source::IndicatorCompletion { code, .. } = &spec.measure.source {
            if !codes.contains(code) {
                codes.push(code.clone());
            }
        }
    }
    codes
}

/// What an aggregate over the sums reads, as `e`, when it has indicator measures: the records'
/// totals with zero for every code's columns, and for each code (`binds[k]`, the bound
/// parameter of `codes[k]`) its totals with zero records and zero for every other column. The
/// filters over `e` reach into every branch.
pub fn from_sql(record_columns: &[(String, &'static str)], binds: &[String]) -> String {
    let code_columns = |k: usize| VALUES.iter().map(move |(name, ty, _)| (format!("i{k}_{name}"), *ty));
    let all_codes: Vec<(String, &str)> = (0..binds.len()).flat_map(code_columns).collect();
    let zero = |ty: &str| format!("0::{ty}");
    let mut branches = Vec::with_capacity(binds.len() + 1);
    let mut records: Vec<String> = vec!["t.*".to_owned()];
    records.extend(all_codes.iter().map(|(name, ty)| format!("{} AS {name}", zero(ty))));
    branches.push(format!("SELECT {} FROM evaluation_totals t", records.join(", ")));
    for (k, bind) in binds.iter().enumerate() {
        let mut cells: Vec<String> = KEY[..5].iter().map(|(name, _, _)| format!("i.{name}")).collect();
        cells.extend(record_columns.iter().map(|(name, ty)| format!("{} AS {name}", zero(ty))));
        for (j, (name, ty)) in all_codes.iter().enumerate() {
            let own = j / VALUES.len() == k;
            cells.push(if own {
                format!("i.{} AS {name}", VALUES[j % VALUES.len()].0)
            } else {
                format!("{} AS {name}", zero(ty))
            });
        }
        branches.push(format!("SELECT {} FROM indicator_totals i WHERE i.code = {bind}", cells.join(", ")));
    }
    format!("({})", branches.join(" UNION ALL "))
}

/// The SQL columns of an indicator measure over `from_sql`'s `e`, the code being `codes[k]`:
/// the same values as the statement over the records gives.
pub fn measure_sql(spec: &MeasureSpec, k: usize) -> Vec<String> {
    let column = |name: &str| format!("e.i{k}_{name}");
    let (count, sum, both, num, den) = (
        column("count_actual"),
        column("sum_actual"),
        column("both_completion"),
        column("num_completion"),
        column("den_completion"),
    );
    match (&spec.measure.source, spec.aggregation) {
        (Source::IndicatorActual(_), Aggregation::Sum) => {
            vec![format!("CASE WHEN sum({count}) > 0 THEN sum({sum}) END")]
        }
        (Source::IndicatorActual(_), Aggregation::Count) => vec![format!("sum({count})")],
        (Source::IndicatorActual(_), Aggregation::Avg) => {
            vec![format!("CASE WHEN sum({count}) > 0 THEN sum({sum}) / sum({count}) END")]
        }
        (Source::IndicatorCompletion { reverse, .. }, _) => {
            let actual = format!("CASE WHEN sum({both}) > 0 THEN sum({num}) END");
            let target = format!("CASE WHEN sum({both}) > 0 THEN sum({den}) END");
            if *reverse {
                vec![target, actual]
            } else {
                vec![actual, target]
            }
        }
        (source, aggregation) => unreachable!("the indicator sums do not answer {source:?} {aggregation:?}"),
    }
}

/// The migration that adds `indicator_values`, fills it from the rows stored, and creates the
/// indicator sums, their deltas, the view over both, the trigger and the compaction.
pub fn migration_sql() -> String {
    let key_list = names(&KEY, "");
    let all_names = format!("{key_list}, {}", names(&VALUES, ""));
    let mut definitions: Vec<String> = KEY
        .iter()
        .map(|(name, ty, _)| format!("{name} {ty}{}", if *name == "grade" { "" } else { " NOT NULL" }))
        .collect();
    definitions.extend(VALUES.iter().map(|(name, ty, _)| format!("{name} {ty} NOT NULL")));
    let contribution = |sign: &str, rows: &str| -> String {
        let mut cells: Vec<String> = KEY.iter().map(|(name, _, sql)| format!("{sql} AS {name}")).collect();
        cells.extend(VALUES.iter().map(|(name, _, sql)| format!("{sign}{sql} AS {name}")));
        format!("SELECT {} FROM {rows} e CROSS JOIN LATERAL jsonb_each(e.indicator_values) v", cells.join(", "))
    };
    let key_d = names(&KEY, "d.");
    let sums: Vec<String> = VALUES.iter().map(|(name, _, _)| format!("sum(d.{name})")).collect();
    let insert_deltas = |from: String| -> String {
        format!(
            "INSERT INTO indicator_sum_deltas ({all_names})\n        \
             SELECT {key_d}, {}\n        \
             FROM ({from}) d\n        \
             GROUP BY {key_d}\n        \
             HAVING {};",
            sums.join(", "),
            sums.iter().map(|s| format!("{s} <> 0")).collect::<Vec<_>>().join(" OR "),
        )
    };
    let plus = contribution("", "new_rows");
    let minus = contribution("-", "old_rows");
    let merge: Vec<String> = VALUES.iter().map(|(name, _, _)| format!("{name} = s.{name} + excluded.{name}")).collect();
    format!(
        "-- Generated by `perfeval::db::indicator_sums::migration_sql`; a test fails when they differ.
-- Pre-aggregated sums of the indicator measures, keyed as the records' sums are and by library
-- code (src/db/indicator_sums.rs).

-- What the indicator measures need of a record's rows, written with the record: by code,
-- [actual, completion actual, completion target], each a sum over its applicable rows or null.
ALTER TABLE evaluations ADD COLUMN indicator_values jsonb;

-- The records already stored, from their rows. Nothing anyone reads changes: the records' sums
-- and the data version are left out of this one update (their triggers would otherwise hold
-- every row of it, twice, until the end of the migration).
ALTER TABLE evaluations DISABLE TRIGGER evaluation_sums_update, DISABLE TRIGGER evaluations_bump_data_version;
UPDATE evaluations e SET indicator_values = r.indicator_values
FROM (
    SELECT c.evaluation_id, jsonb_object_agg(c.code, jsonb_build_array(c.actual, c.completed_actual, c.completed_target)) AS indicator_values
    FROM (
        SELECT i.evaluation_id, coalesce(i.code, i.matched_code) AS code, sum(i.actual) AS actual,
               sum(i.actual) FILTER (WHERE i.target IS NOT NULL) AS completed_actual,
               sum(i.target) FILTER (WHERE i.actual IS NOT NULL) AS completed_target
        FROM evaluation_indicators i
        WHERE i.applicable AND coalesce(i.code, i.matched_code) IS NOT NULL
        GROUP BY 1, 2
    ) c
    WHERE c.actual IS NOT NULL
    GROUP BY c.evaluation_id
) r
WHERE r.evaluation_id = e.id;
ALTER TABLE evaluations ENABLE TRIGGER evaluation_sums_update, ENABLE TRIGGER evaluations_bump_data_version;

CREATE TABLE indicator_sums (
    {definitions},
    CONSTRAINT indicator_sums_key UNIQUE NULLS NOT DISTINCT (code, fiscal_year, region_code, kind, status, grade)
);

{shared}
-- Moves the deltas into the sums in one transaction, one compactor at a time; returns the delta
-- rows moved (0 when another session holds the lock). A key and code whose records are all gone
-- is deleted by the position its merge returned, not by scanning the sums.
CREATE FUNCTION indicator_sums_compact() RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
    moved bigint;
    emptied tid[];
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('perfeval.indicator_sums')) THEN
        RETURN 0;
    END IF;
    WITH d AS (DELETE FROM indicator_sum_deltas RETURNING *),
    merged AS (
        SELECT {key_d}, count(*) AS n, {sums_as}
        FROM d GROUP BY {key_d}
    ), written AS (
        INSERT INTO indicator_sums AS s ({all_names})
        SELECT {all_names} FROM merged ORDER BY {key_list}
        ON CONFLICT ON CONSTRAINT indicator_sums_key DO UPDATE SET
            {merge}
        RETURNING s.ctid AS at, s.count_actual, s.both_completion
    )
    SELECT (SELECT coalesce(sum(n), 0) FROM merged),
           array(SELECT at FROM written WHERE count_actual = 0 AND both_completion = 0)
    INTO moved, emptied;
    DELETE FROM indicator_sums WHERE ctid = ANY (emptied);
    RETURN moved;
END
$fn$;

-- The records already stored.
INSERT INTO indicator_sums ({all_names})
SELECT {key_d}, {sums_as}
FROM ({fill}) d
GROUP BY {key_d}
HAVING sum(d.count_actual) > 0 OR sum(d.both_completion) > 0;
",
        definitions = definitions.join(",\n    "),
        shared = super::sums::shared_sql(
            ("indicator_sums", "indicator_sum_deltas", "indicator_totals"),
            &all_names,
            [insert_deltas(plus.clone()), insert_deltas(minus.clone()), insert_deltas(format!("{minus} UNION ALL {plus}"))],
        ),
        sums_as = VALUES.iter().map(|(name, _, _)| format!("sum(d.{name}) AS {name}")).collect::<Vec<_>>().join(", "),
        merge = merge.join(",\n            "),
        fill = contribution("", "evaluations"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIGRATION: &str = include_str!("../../migrations/2026-12-03-000020_indicator_sums/up.sql");

    #[test]
    fn the_migration_is_generated_from_the_columns() {
        let generated = migration_sql();
        if generated != MIGRATION {
            if std::env::var_os("PERFEVAL_WRITE_SUMS_MIGRATION").is_some() {
                std::fs::write(
                    concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/2026-12-03-000020_indicator_sums/up.sql"),
                    &generated,
                )
                .unwrap();
            }
            panic!(
                "migrations/2026-12-03-000020_indicator_sums/up.sql differs from \
                 db::indicator_sums::migration_sql(); rerun with PERFEVAL_WRITE_SUMS_MIGRATION=1 to write it"
            );
        }
    }
}
