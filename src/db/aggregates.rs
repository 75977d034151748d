//! Grouped aggregates over evaluation records: one SQL statement per grouping level.
use diesel::{sql_types::Text, QueryResult};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde_json::value::RawValue as RawJson;

use super::{
    evaluation_list::{Builder, ListFilter},
    regions::RegionNames,
};
pub use crate::domain::aggregate::{GroupRow, RawValue};
use crate::domain::measures::{Aggregation, Dimension, MeasureSpec, Source};

/// What to compute at one grouping level.
pub struct GroupQuery<'a> {
    pub dimensions: &'a [Dimension],
    pub measures: &'a [MeasureSpec],
    pub filter: &'a ListFilter,
    pub min_count: i64,
    /// The division names, by code, that name the region groups.
    pub names: &'a RegionNames,
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

/// Aggregates the filtered records grouped by `dimensions` (none: one grand-total group).
pub async fn group(conn: &mut AsyncPgConnection, query: &GroupQuery<'_>) -> QueryResult<Vec<GroupRow>> {
    let mut b = Builder::new("");
    let mut inner_columns: Vec<String> = Vec::new();
    for (i, dimension) in query.dimensions.iter().enumerate() {
        inner_columns.push(format!("{} AS d{i}", dimension_sql(*dimension)));
    }
    inner_columns.push("count(*) AS n".to_owned());
    let mut measure_columns = Vec::new();
    for spec in query.measures {
        let columns = measure_sql(&mut b, spec);
        let names: Vec<String> = (0..columns.len()).map(|k| format!("m{}_{k}", measure_columns.len())).collect();
        for (column, name) in columns.iter().zip(&names) {
            inner_columns.push(format!("{column} AS {name}"));
        }
        measure_columns.push(names);
    }
    // Region groups are named from the names held in memory, not in the statement: a join let the
    // planner hash the whole division table (44,703 rows) to name a few hundred groups, and a
    // primary-key probe per grouped row cost as much as the grouping itself.
    let mut outer: Vec<String> = (0..query.dimensions.len()).map(|i| format!("g.d{i}")).collect();
    outer.push("g.n".to_owned());
    outer.extend(measure_columns.iter().flatten().map(|name| format!("g.{name}")));
    b.sql(&format!(
        "SELECT json_build_array({})::text AS row FROM (SELECT {} FROM evaluations e",
        outer.join(", "),
        inner_columns.join(", ")
    ));
    b.filters(query.filter);
    if !query.dimensions.is_empty() {
        let positions: Vec<String> = (1..=query.dimensions.len()).map(|p| p.to_string()).collect();
        b.sql(&format!(" GROUP BY {}", positions.join(", ")));
    }
    let min = b.bind_value(super::evaluation_list::SortValue::Int(query.min_count));
    b.sql(&format!(" HAVING count(*) >= {min}) g"));
    // One text column, read by position.
    let rows: Vec<String> = b.prepared().by_position::<Text>().load(conn).await?;
    rows.iter()
        .map(|row| decode(row, query))
        .collect::<Result<_, _>>()
        .map_err(|e| diesel::result::Error::DeserializationError(e.into()))
}

/// One row's JSON array, read without building a `serde_json::Value` per cell: the cells are
/// borrowed as raw JSON text and amounts parsed from it straight into decimals.
fn decode(text: &str, query: &GroupQuery<'_>) -> Result<GroupRow, String> {
    let cells: Vec<&RawJson> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut it = cells.into_iter();
    let mut next = || it.next().ok_or("short row");
    let mut keys = Vec::with_capacity(query.dimensions.len());
    let mut names = Vec::with_capacity(query.dimensions.len());
    for dimension in query.dimensions {
        let key: serde_json::Value = serde_json::from_str(next()?.get()).map_err(|e| e.to_string())?;
        names.push(match (dimension.code_len(), key.as_str()) {
            (Some(_), Some(code)) => query.names.get(code).map(|name| name.to_string()),
            _ => None,
        });
        keys.push(key);
    }
    let records = next()?.get().parse::<i64>().map_err(|_| "no count")?;
    let mut raw = Vec::with_capacity(query.measures.len());
    for spec in query.measures {
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
    Ok(GroupRow { keys, names, records, values: raw })
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
