//! Grouped aggregates over evaluation records: one SQL statement for every grouping level, over
//! the pre-aggregated sums (`super::sums`) when they answer it, else over the records.
use diesel::{sql_types::Text, QueryResult};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde_json::value::RawValue as RawJson;

use super::{
    evaluation_list::{Builder, ListFilter},
    indicator_sums,
    regions::RegionNames,
    sums,
};
pub use crate::domain::aggregate::{GroupRow, RawValue};
use crate::domain::measures::{Aggregation, Dimension, MeasureSpec, Source};

/// What to compute: the groups of one or more levels over the same records.
pub struct GroupQuery<'a> {
    /// The dimensions of each level (none: one grand-total group).
    pub levels: &'a [&'a [Dimension]],
    pub measures: &'a [MeasureSpec],
    pub filter: &'a ListFilter,
    pub min_count: i64,
    /// The division names, by code, that name the region groups.
    pub names: &'a RegionNames,
    /// Only one page of a single level's groups, chosen by the statement (see `Page`).
    pub page: Option<Page<'a>>,
}

/// A page of the groups, ordered and cut in the statement, so that only its rows are sent: the
/// groups ordered by `order` (every dimension of the level, each descending or not), `limit` of
/// them from `offset`. The order is the one `domain::aggregate` sorts lines in
/// (`Shape::sort_keys`), and total, so each page is a slice of it: region codes of
/// one level are ASCII digits of one length (the same order in every collation, which lets the
/// sums' key index serve it), other texts compare as bytes (`COLLATE "C"`), and a missing grade
/// as the text `null`.
pub struct Page<'a> {
    pub order: &'a [(Dimension, bool)],
    pub offset: usize,
    pub limit: usize,
}

fn dimension_sql(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Province => "left(e.region_code, 2)",
        Dimension::Prefecture => "left(e.region_code, 4)",
        Dimension::County => "left(e.region_code, 6)",
        Dimension::Township => "e.region_code",
        Dimension::FiscalYear => "e.fiscal_year",
        Dimension::Kind => "e.kind",
        Dimension::Status => "e.status",
        Dimension::Grade => "coalesce(e.grade, e.computed_grade)",
    }
}

/// The SQL columns of one measure (one, or two for a ratio).
fn measure_sql(b: &mut Builder, spec: &MeasureSpec) -> Vec<String> {
    let per_record = |b: &mut Builder, source: &Source| -> String {
        match source {
            Source::Column(column) => (*column).to_owned(),
            Source::IndicatorActual(code) => {
                let code = b.bind_text(code.clone());
                format!("(SELECT sum(i.actual) FROM evaluation_indicators i WHERE i.evaluation_id = e.id AND coalesce(i.code, i.matched_code) = {code} AND i.applicable)")
            }
            _ => "1".to_owned(),
        }
    };
    match (&spec.measure.source, spec.aggregation) {
        (Source::Records, _) => vec!["count(*)".to_owned()],
        (Source::Ratio { numerator, denominator }, _) => {
            let both = format!("{numerator} IS NOT NULL AND {denominator} IS NOT NULL");
            vec![format!("sum({numerator}) FILTER (WHERE {both})"), format!("sum({denominator}) FILTER (WHERE {both})")]
        }
        (Source::IndicatorCompletion { code, reverse }, _) => {
            let code = b.bind_text(code.clone());
            let rows = format!(
                "FROM evaluation_indicators i WHERE i.evaluation_id = e.id AND coalesce(i.code, i.matched_code) = {code} \
                 AND i.applicable AND i.actual IS NOT NULL AND i.target IS NOT NULL"
            );
            let (actual, target) =
                (format!("sum((SELECT sum(i.actual) {rows}))"), format!("sum((SELECT sum(i.target) {rows}))"));
            if *reverse {
                vec![target, actual]
            } else {
                vec![actual, target]
            }
        }
        (source, aggregation) => {
            let x = per_record(b, source);
            vec![match aggregation {
                Aggregation::Sum => format!("sum({x})"),
                Aggregation::Avg => format!("avg({x})"),
                Aggregation::Min => format!("min({x})"),
                Aggregation::Max => format!("max({x})"),
                Aggregation::Count => format!("count({x})"),
                Aggregation::Median | Aggregation::P25 | Aggregation::P75 => {
                    format!("coalesce(array_agg({x} ORDER BY {x}) FILTER (WHERE {x} IS NOT NULL), '{{}}')")
                }
                Aggregation::Ratio => unreachable!("ratios are handled above"),
            }]
        }
    }
}

/// The earlier measure whose sorted values a percentile measure shares: every percentile of one
/// source (a median, p25 and p75 of the score) reads the same sorted list, so the statement
/// sorts and sends it once.
fn shared_sorted(measures: &[MeasureSpec], index: usize) -> Option<usize> {
    let spec = &measures[index];
    spec.aggregation.percentile()?;
    measures[..index]
        .iter()
        .position(|earlier| earlier.aggregation.percentile().is_some() && earlier.measure.source == spec.measure.source)
}

/// The dimensions of every level, each once, in order of first use: the grouped columns of the
/// statement.
fn columns_of(levels: &[&[Dimension]]) -> Vec<Dimension> {
    let mut columns: Vec<Dimension> = Vec::new();
    for dimension in levels.iter().flat_map(|level| level.iter()) {
        if !columns.contains(dimension) {
            columns.push(*dimension);
        }
    }
    columns
}

/// The value of `GROUPING(all columns)` on a level's rows: a bit set for every column the level
/// does not group by, the first column the highest bit.
fn grouping_mask(columns: &[Dimension], level: &[Dimension]) -> i64 {
    columns.iter().fold(0, |mask, column| (mask << 1) | i64::from(!level.contains(column)))
}

/// Aggregates the filtered records at every level of the query, in one statement and so one scan
/// of the records: a level is a `GROUP BY`, several are `GROUPING SETS` (a rollup's county,
/// prefecture, province and total levels, or a share's base). Returns each level's groups, in
/// the order of `levels`.
pub async fn group(conn: &mut AsyncPgConnection, query: &GroupQuery<'_>) -> QueryResult<Vec<Vec<GroupRow>>> {
    let summed = sums::answer(query.levels, query.measures, query.filter);
    let totals = sums::totals_for(query.levels, query.filter);
    let dimension_sql = if summed { sums::dimension_sql } else { dimension_sql };
    let mut b = Builder::new("");
    let sets = query.levels.len() > 1;
    let columns = if sets { columns_of(query.levels) } else { query.levels.first().map_or(Vec::new(), |l| l.to_vec()) };
    let grouped: Vec<&str> = columns.iter().map(|d| dimension_sql(*d)).collect();
    let mut inner_columns: Vec<String> = Vec::new();
    if sets {
        inner_columns.push(format!("GROUPING({}) AS s", grouped.join(", ")));
    }
    for (i, sql) in grouped.iter().enumerate() {
        inner_columns.push(format!("{sql} AS d{i}"));
    }
    let count = if summed { "sum(e.records)" } else { "count(*)" };
    inner_columns.push(format!("{count} AS n"));
    // Over the sums, each indicator code's totals are a branch of what the statement reads.
    let codes = if summed { indicator_sums::codes(query.measures) } else { Vec::new() };
    let code_binds: Vec<String> = codes.iter().map(|code| b.bind_text(code.clone())).collect();
    let mut measure_columns = Vec::new();
    for (index, spec) in query.measures.iter().enumerate() {
        if shared_sorted(query.measures, index).is_some() {
            continue;
        }
        let code = match &spec.measure.source {
            Source::IndicatorActual(code) | Source::IndicatorCompletion { code, .. } => {
                codes.iter().position(|c| c == code)
            }
            _ => None,
        };
        let columns = match (summed, code) {
            (true, Some(k)) => indicator_sums::measure_sql(spec, k),
            (true, None) => sums::measure_sql(spec),
            (false, _) => measure_sql(&mut b, spec),
        };
        let names: Vec<String> = (0..columns.len()).map(|k| format!("m{}_{k}", measure_columns.len())).collect();
        for (column, name) in columns.iter().zip(&names) {
            inner_columns.push(format!("{column} AS {name}"));
        }
        measure_columns.push(names);
    }
    // Region groups are named from the names held in memory, not in the statement: a join let the
    // planner hash the whole division table (44,703 rows) to name a few hundred groups, and a
    // primary-key probe per grouped row cost as much as the grouping itself.
    let mut outer: Vec<String> = if sets { vec!["g.s".to_owned()] } else { Vec::new() };
    outer.extend((0..columns.len()).map(|i| format!("g.d{i}")));
    outer.push("g.n".to_owned());
    outer.extend(measure_columns.iter().flatten().map(|name| format!("g.{name}")));
    b.sql(&format!(
        "SELECT json_build_array({})::text AS row FROM (SELECT {} FROM {} e",
        outer.join(", "),
        inner_columns.join(", "),
        match (summed, code_binds.is_empty()) {
            (true, true) => totals.to_owned(),
            (true, false) => indicator_sums::from_sql(totals, &sums::value_column_types(), &code_binds),
            (false, _) => "evaluations".to_owned(),
        },
    ));
    if summed {
        b.filters_grading(query.filter, sums::GRADE_SQL);
    } else {
        b.filters(query.filter);
    }
    if sets {
        let sets: Vec<String> = query
            .levels
            .iter()
            .map(|level| format!("({})", level.iter().map(|d| dimension_sql(*d)).collect::<Vec<_>>().join(", ")))
            .collect();
        b.sql(&format!(" GROUP BY GROUPING SETS ({})", sets.join(", ")));
    } else if !columns.is_empty() {
        let positions: Vec<String> = (1..=columns.len()).map(|p| p.to_string()).collect();
        b.sql(&format!(" GROUP BY {}", positions.join(", ")));
    }
    let min = b.bind_value(super::evaluation_list::SortValue::Int(query.min_count));
    // A key whose records were all deleted may still sum to zero records until it is compacted.
    b.sql(&format!(" HAVING {count} >= {min} AND {count} > 0"));
    if let Some(page) = &query.page {
        assert!(!sets, "a page is cut from one level's groups");
        let order = page_order(&columns, page.order);
        let inner = order(&|i| grouped[i].to_owned());
        let outer = order(&|i| format!("g.d{i}"));
        let offset = b.bind_value(super::evaluation_list::SortValue::Int(page.offset as i64));
        let limit = b.bind_value(super::evaluation_list::SortValue::Int(page.limit as i64));
        // Ordered again outside: the subquery's order is the planner's to keep, not a promise.
        // (With no dimension there is one group, and nothing to order.)
        let (inner, outer) = if columns.is_empty() {
            (String::new(), String::new())
        } else {
            (format!(" ORDER BY {inner}"), format!(" ORDER BY {outer}"))
        };
        b.sql(&format!("{inner} LIMIT {limit} OFFSET {offset}) g{outer}"));
    } else {
        b.sql(") g");
    }
    // One text column, read by position.
    let rows: Vec<String> = b.prepared().by_position::<Text>().load(conn).await?;
    let masks: Vec<i64> = query.levels.iter().map(|level| grouping_mask(&columns, level)).collect();
    let mut per_level: Vec<Vec<GroupRow>> = query.levels.iter().map(|_| Vec::new()).collect();
    for row in &rows {
        let (level, group) =
            decode(row, query, &columns, &masks).map_err(|e| diesel::result::Error::DeserializationError(e.into()))?;
        per_level[level].push(group);
    }
    Ok(per_level)
}

/// The `ORDER BY` of a page over the grouped columns, each written by `column` from its position.
fn page_order<'a>(
    columns: &'a [Dimension],
    order: &'a [(Dimension, bool)],
) -> impl Fn(&dyn Fn(usize) -> String) -> String + 'a {
    move |column| {
        order
            .iter()
            .map(|&(dimension, descending)| {
                let i = columns.iter().position(|c| *c == dimension).expect("a page is ordered by grouped dimensions");
                let direction = if descending { "DESC" } else { "ASC" };
                let column = column(i);
                if dimension.code_len().is_some() || dimension == Dimension::FiscalYear {
                    format!("{column} {direction}")
                } else if dimension == Dimension::Grade {
                    // A missing grade sorts as the text `null`, as the lines do.
                    format!("coalesce({column}, 'null') COLLATE \"C\" {direction}")
                } else {
                    format!("{column} COLLATE \"C\" {direction}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One row's JSON array, read without building a `serde_json::Value` per cell: the cells are
/// borrowed as raw JSON text and amounts parsed from it straight into decimals. Returns the
/// row's level (by its grouping mask when the statement has grouping sets) and its group.
fn decode(
    text: &str,
    query: &GroupQuery<'_>,
    columns: &[Dimension],
    masks: &[i64],
) -> Result<(usize, GroupRow), String> {
    let cells: Vec<&RawJson> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut it = cells.into_iter();
    let mut next = || it.next().ok_or("short row");
    let level = if masks.len() > 1 {
        let mask = next()?.get().parse::<i64>().map_err(|_| "no grouping mask")?;
        masks.iter().position(|m| *m == mask).ok_or("a grouping mask of no level")?
    } else {
        0
    };
    let mut cells_by_column = Vec::with_capacity(columns.len());
    for _ in columns {
        cells_by_column.push(next()?);
    }
    let dimensions = query.levels[level];
    let mut keys = Vec::with_capacity(dimensions.len());
    let mut names = Vec::with_capacity(dimensions.len());
    for dimension in dimensions {
        let column = columns.iter().position(|c| c == dimension).ok_or("a level's dimension is not a column")?;
        let key: serde_json::Value = serde_json::from_str(cells_by_column[column].get()).map_err(|e| e.to_string())?;
        names.push(match (dimension.code_len(), key.as_str()) {
            (Some(_), Some(code)) => query.names.get(code).map(|name| name.to_string()),
            _ => None,
        });
        keys.push(key);
    }
    let records = next()?.get().parse::<i64>().map_err(|_| "no count")?;
    let mut raw: Vec<RawValue> = Vec::with_capacity(query.measures.len());
    for (index, spec) in query.measures.iter().enumerate() {
        if let Some(earlier) = shared_sorted(query.measures, index) {
            raw.push(raw[earlier].clone());
            continue;
        }
        raw.push(match (&spec.measure.source, spec.aggregation) {
            (Source::Ratio { .. } | Source::IndicatorCompletion { .. }, _) => {
                RawValue::Ratio(decimal(next()?.get())?, decimal(next()?.get())?)
            }
            (_, aggregation) if aggregation.percentile().is_some() => {
                let list: Vec<&RawJson> = serde_json::from_str(next()?.get()).map_err(|e| e.to_string())?;
                let sorted = list
                    .iter()
                    .map(|v| decimal(v.get()).map(Option::unwrap_or_default))
                    .collect::<Result<Vec<_>, _>>()?;
                RawValue::Sorted(sorted)
            }
            _ => RawValue::Value(decimal(next()?.get())?),
        });
    }
    Ok((level, GroupRow { keys, names, records, values: raw }))
}

/// A JSON number's exact text (or `null`) as a decimal.
fn decimal(text: &str) -> Result<Option<Decimal>, String> {
    if text == "null" {
        return Ok(None);
    }
    text.parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(text))
        .map(Some)
        .map_err(|e| format!("not a number: {text}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_has_its_own_grouping_mask() {
        use Dimension::*;
        let levels: [&[Dimension]; 4] =
            [&[County, FiscalYear], &[Prefecture, FiscalYear], &[Province, FiscalYear], &[FiscalYear]];
        let columns = columns_of(&levels);
        assert_eq!(columns, [County, FiscalYear, Prefecture, Province]);
        let masks: Vec<i64> = levels.iter().map(|level| grouping_mask(&columns, level)).collect();
        // Bits, highest first: county, fiscal_year, prefecture, province; set = not grouped.
        assert_eq!(masks, [0b0011, 0b1001, 0b1010, 0b1011]);
        assert_eq!(grouping_mask(&columns, &[]), 0b1111);
    }
}
