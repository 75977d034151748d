//! Pre-aggregated sums of the indicator measures (`indicator.{code}.actual`, `….completion`),
//! kept like the records' sums (`super::sums`) and answering the aggregates they can.
//!
//! Per key (the records' sums' key: county, fiscal year, kind, status, grade) and library code
//! they hold: `count_actual`, the records whose rows state an actual, and `sum_actual`, the sum
//! of those; `both_completion`, the records with a row stating both the actual and the target,
//! and `num_completion` / `den_completion`, the sums of those rows' actuals and targets. That is
//! what the statement over the records computes per record: an indicator's actual is the sum of
//! its applicable rows' actuals, its completion the ratio of the sums over the rows that state
//! both.
//!
//! A record's contribution depends on its key (in `evaluations`) and its rows (in
//! `evaluation_indicators`), so triggers on both append to `indicator_sum_deltas`:
//! - on the rows, a statement trigger: for every record whose rows the statement changed, its
//!   contribution by code after the statement less its contribution before, each from a tally of
//!   rows (the rows now; the rows now less the new rows plus the old), under the record's key. A record already deleted (the rows of a cascade) is
//!   left out: its delete took its contribution away;
//! - on the records, a statement trigger on UPDATE moves the contribution of a record whose key
//!   changed (a review step, a new grade) from the old key to the new one, from its rows as they
//!   are (a replace updates the record before it rewrites the rows), and a row trigger BEFORE
//!   DELETE takes a record's contribution away while its rows are still there.
//!
//! `indicator_sums_compact()` moves the deltas into `indicator_sums` (with the records' sums, in
//! `sums::compact`), and a reader sums both (`indicator_totals`).
use crate::domain::measures::{Aggregation, MeasureSpec, Source};

/// The key columns (name, type, over a record `e` and its tally by code `s`).
const KEY: [(&str, &str, &str); 6] = [
    ("region_code", "text", "left(e.region_code, 6)"),
    ("fiscal_year", "smallint", "e.fiscal_year"),
    ("kind", "text", "e.kind"),
    ("status", "text", "e.status"),
    ("grade", "text", "coalesce(e.grade, e.computed_grade)"),
    ("code", "text", "s.code"),
];

/// (column, type, a record's contribution from its tally by code `s`) of every value column.
const VALUES: [(&str, &str, &str); 5] = [
    ("count_actual", "integer", "(s.actual_rows > 0)::integer"),
    ("sum_actual", "numeric", "s.actual"),
    ("both_completion", "integer", "(s.completed_rows > 0)::integer"),
    ("num_completion", "numeric", "s.completed_actual"),
    ("den_completion", "numeric", "s.completed_target"),
];

/// Each record's tally by code over `rows` (rows of `evaluation_indicators` with a `sign`, 1 or
/// -1): of its applicable rows with a code, given or matched, how many state an actual and what
/// they sum to, and how many state both an actual and a target and what those sum to. Counted
/// rather than summed to null, so that a record's tally before a statement is one pass over its
/// rows now, less the statement's new rows, plus its old ones.
fn tally_sql(rows: &str) -> String {
    format!(
        "SELECT r.evaluation_id, coalesce(r.code, r.matched_code) AS code, \
         sum(r.sign * (r.actual IS NOT NULL)::integer) AS actual_rows, sum(r.sign * coalesce(r.actual, 0)) AS actual, \
         sum(r.sign * (r.actual IS NOT NULL AND r.target IS NOT NULL)::integer) AS completed_rows, \
         sum(r.sign * CASE WHEN r.target IS NOT NULL THEN coalesce(r.actual, 0) ELSE 0 END) AS completed_actual, \
         sum(r.sign * CASE WHEN r.actual IS NOT NULL THEN coalesce(r.target, 0) ELSE 0 END) AS completed_target \
         FROM ({rows}) r WHERE r.applicable AND coalesce(r.code, r.matched_code) IS NOT NULL GROUP BY 1, 2"
    )
}

fn names<const N: usize>(columns: &[(&str, &str, &str); N], prefix: &str) -> String {
    columns.iter().map(|(name, _, _)| format!("{prefix}{name}")).collect::<Vec<_>>().join(", ")
}

/// Every key's values recounted from the records and their indicator rows: what the sums must
/// hold.
pub fn recount_sql() -> String {
    format!(
        "SELECT {}, {} FROM evaluations e JOIN ({}) s ON s.evaluation_id = e.id \
         GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum((s.actual_rows > 0)::integer) > 0",
        KEY.iter().map(|(name, _, sql)| format!("{sql} AS {name}")).collect::<Vec<_>>().join(", "),
        VALUES.iter().map(|(name, ty, sql)| format!("sum({sql})::{ty} AS {name}")).collect::<Vec<_>>().join(", "),
        tally_sql("SELECT i.*, 1 AS sign FROM evaluation_indicators i"),
    )
}

/// Every key's values as a reader sees them (sums and deltas), in the columns of `recount_sql`.
pub fn totals_sql() -> String {
    format!(
        "SELECT {}, {} FROM indicator_totals e GROUP BY 1, 2, 3, 4, 5, 6 \
         HAVING sum(e.count_actual) <> 0 OR sum(e.both_completion) <> 0",
        names(&KEY, "e."),
        VALUES.iter().map(|(name, ty, _)| format!("sum(e.{name})::{ty} AS {name}")).collect::<Vec<_>>().join(", "),
    )
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
/// totals (`totals`, the county or the province ones: `sums::totals_for`) with zero for every
/// code's columns, and for each code (`binds[k]`, the bound
/// parameter of `codes[k]`) its totals with zero records and zero for every other column. The
/// filters over `e` reach into every branch.
pub fn from_sql(totals: &str, record_columns: &[(String, &'static str)], binds: &[String]) -> String {
    let code_columns = |k: usize| VALUES.iter().map(move |(name, ty, _)| (format!("i{k}_{name}"), *ty));
    let all_codes: Vec<(String, &str)> = (0..binds.len()).flat_map(code_columns).collect();
    let zero = |ty: &str| format!("0::{ty}");
    let mut branches = Vec::with_capacity(binds.len() + 1);
    let mut records: Vec<String> = vec!["t.*".to_owned()];
    records.extend(all_codes.iter().map(|(name, ty)| format!("{} AS {name}", zero(ty))));
    branches.push(format!("SELECT {} FROM {totals} t", records.join(", ")));
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

/// The migration that creates the indicator sums, their deltas, the view over both, the
/// triggers and the compaction, and fills the sums from the rows already stored.
pub fn migration_sql() -> String {
    let key_list = names(&KEY, "");
    let all_names = format!("{key_list}, {}", names(&VALUES, ""));
    let mut definitions: Vec<String> = KEY
        .iter()
        .map(|(name, ty, _)| format!("{name} {ty}{}", if *name == "grade" { "" } else { " NOT NULL" }))
        .collect();
    definitions.extend(VALUES.iter().map(|(name, ty, _)| format!("{name} {ty} NOT NULL")));
    let key_of = |record: &str| -> Vec<String> {
        KEY.iter().map(|(name, _, sql)| format!("{} AS {name}", sql.replace("e.", &format!("{record}.")))).collect()
    };
    // Each record's signed contribution (`sign`: an SQL factor) from its tally `s`, keyed over `e`.
    let contribution = |sign: &str, state: String, records: &str| -> String {
        let mut cells = key_of("e");
        cells.extend(VALUES.iter().map(|(name, _, sql)| format!("{sign}{sql} AS {name}")));
        format!("SELECT {} FROM ({state}) s JOIN {records} ON e.id = s.evaluation_id", cells.join(", "))
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
    // The rows of the records a statement on the rows touched: now, and before it (now, less
    // the new rows, plus the old).
    let now = |touched: &str| {
        format!(
            "SELECT i.*, 1 AS sign FROM evaluation_indicators i \
             WHERE i.evaluation_id IN (SELECT evaluation_id FROM {touched})"
        )
    };
    let (new, old) = ("SELECT n.*, -1 AS sign FROM new_rows n", "SELECT o.*, 1 AS sign FROM old_rows o");
    let rows_change = |touched: &str, before: String| -> String {
        insert_deltas(format!(
            "{} UNION ALL {}",
            contribution("", tally_sql(&now(touched)), "evaluations e"),
            contribution("-", tally_sql(&before), "evaluations e"),
        ))
    };
    let both = "(SELECT evaluation_id FROM new_rows UNION SELECT evaluation_id FROM old_rows) t";
    let inserted = rows_change("new_rows", format!("{} UNION ALL {new}", now("new_rows")));
    let deleted = rows_change("old_rows", format!("{} UNION ALL {old}", now("old_rows")));
    let updated = rows_change(both, format!("{} UNION ALL {new} UNION ALL {old}", now(both)));
    // A record whose key changed: its contribution from the old key to the new.
    let key_sql: Vec<&str> = KEY[..5].iter().map(|(_, _, sql)| *sql).collect();
    let moved_key = |record: &str| {
        key_sql.iter().map(|sql| sql.replace("e.", &format!("{record}."))).collect::<Vec<_>>().join(", ")
    };
    let moved = format!(
        "SELECT n.id, n.region_code, n.fiscal_year, n.kind, n.status, n.grade, n.computed_grade, 1 AS sign \
         FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ({old}) IS DISTINCT FROM ({new}) \
         UNION ALL SELECT o.id, o.region_code, o.fiscal_year, o.kind, o.status, o.grade, o.computed_grade, -1 \
         FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ({old}) IS DISTINCT FROM ({new})",
        old = moved_key("o"),
        new = moved_key("n"),
    );
    let key_moves = insert_deltas(contribution(
        "e.sign * ",
        tally_sql("SELECT i.*, 1 AS sign FROM evaluation_indicators i WHERE i.evaluation_id IN (SELECT id FROM moved)"),
        "moved e",
    ))
    .replacen(
        "INSERT INTO indicator_sum_deltas",
        &format!("WITH moved AS ({moved})\n        INSERT INTO indicator_sum_deltas"),
        1,
    );
    let record_deleted = {
        let mut cells = key_of("OLD");
        cells.extend(VALUES.iter().map(|(name, _, sql)| format!("-{sql} AS {name}")));
        format!(
            "INSERT INTO indicator_sum_deltas ({all_names})\n    \
             SELECT {}\n    \
             FROM ({}) s\n    \
             WHERE s.actual_rows > 0;",
            cells.join(", "),
            tally_sql("SELECT i.*, 1 AS sign FROM evaluation_indicators i WHERE i.evaluation_id = OLD.id"),
        )
    };
    let merge: Vec<String> = VALUES.iter().map(|(name, _, _)| format!("{name} = s.{name} + excluded.{name}")).collect();
    format!(
        "-- Generated by `perfeval::db::indicator_sums::migration_sql`; a test fails when they differ.
-- Pre-aggregated sums of the indicator measures, keyed as the records' sums are and by library
-- code (src/db/indicator_sums.rs).
CREATE TABLE indicator_sums (
    {definitions},
    CONSTRAINT indicator_sums_key UNIQUE NULLS NOT DISTINCT (code, fiscal_year, region_code, kind, status, grade)
);

{shared}
-- A record whose key changed (a review step, a new grade) takes its contribution from its old key
-- to its new one, from its rows as they are.
CREATE FUNCTION indicator_sums_key_moved() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    {key_moves}
    RETURN NULL;
END
$fn$;
CREATE TRIGGER indicator_sums_key_moved AFTER UPDATE ON evaluations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION indicator_sums_key_moved();

-- A record deleted takes its contribution away while its rows are still there (they go after it,
-- by the foreign key's cascade, and the rows' trigger leaves out a record already gone).
CREATE FUNCTION indicator_sums_record_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    {record_deleted}
    RETURN OLD;
END
$fn$;
CREATE TRIGGER indicator_sums_record_deleted BEFORE DELETE ON evaluations
    FOR EACH ROW EXECUTE FUNCTION indicator_sums_record_deleted();

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
{recount};
",
        definitions = definitions.join(",\n    "),
        shared = super::sums::shared_sql(
            ("indicator_sums", "indicator_sum_deltas", "indicator_totals"),
            "evaluation_indicators",
            &all_names,
            [inserted, deleted, updated],
        ),
        sums_as = VALUES.iter().map(|(name, _, _)| format!("sum(d.{name}) AS {name}")).collect::<Vec<_>>().join(", "),
        merge = merge.join(",\n            "),
        recount = recount_sql(),
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
