//! The computation of an aggregate over its grouped rows, with no I/O: finishing each group's
//! raw sums (ratios, percentiles, rounding to each measure's scale), the grouping levels a query
//! needs, the year-on-year comparison, shares of the parent level or of the total, ranks within
//! the parent region and the order of the rows. `db::aggregates` fetches the groups and
//! `routes::aggregates` parses the query, calls this and renders the page.
use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{ser::SerializeMap, Serialize, Serializer};
use utoipa::ToSchema;

use super::measures::{percentile, Dimension, MeasureSpec};

/// What an aggregate asks for, beside its filters and page.
#[derive(Debug, Clone, Copy)]
pub struct Shape<'a> {
    pub measures: &'a [MeasureSpec],
    pub dimensions: &'a [Dimension],
    /// The requested years (`compare` also fetches the year before the first, to compare with).
    pub fiscal_years: Option<(i16, i16)>,
    pub compare: bool,
    pub rollup: bool,
    /// `parent` or `total`.
    pub share: Option<&'a str>,
    pub rank: bool,
    /// Keys (dimension names or measure keys) and whether descending.
    pub order: &'a [(String, bool)],
}

/// One grouping level of an aggregate: `detail` (the query's own dimensions), each region level
/// above the grouped one (`prefecture`, `province`), and `total`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    pub name: String,
    pub dimensions: Vec<Dimension>,
    /// Whether its rows are needed: as rows (detail, rollup), or as the base of a share.
    pub needed: bool,
}

impl Shape<'_> {
    /// The grouped region dimension, if any.
    pub fn region(&self) -> Option<Dimension> {
        self.dimensions.iter().copied().find(|d| d.code_len().is_some())
    }

    /// The dimensions without the region: the grand total's grouping.
    pub fn others(&self) -> Vec<Dimension> {
        replace(self.dimensions, self.region().unwrap_or(Dimension::Province), None)
    }

    /// The levels to group by, in order, each marked needed or not.
    pub fn levels(&self) -> Vec<Level> {
        let region = self.region();
        let mut levels: Vec<(String, Vec<Dimension>)> = vec![("detail".to_owned(), self.dimensions.to_vec())];
        if let Some(region) = region {
            let mut ancestor = region.parent();
            while let Some(level) = ancestor {
                levels.push((level.as_str().to_owned(), replace(self.dimensions, region, Some(level))));
                ancestor = level.parent();
            }
            levels.push(("total".to_owned(), self.others()));
        }
        levels
            .into_iter()
            .enumerate()
            .map(|(index, (name, dimensions))| {
                let needed = index == 0
                    || self.rollup
                    || (index == 1 && self.share == Some("parent"))
                    || (name == "total" && self.share == Some("total"));
                Level { name, dimensions, needed }
            })
            .collect()
    }

    /// What the lines sort by: the order keys, then every dimension they leave out, ascending. No
    /// two groups of a level tie, so the order does not depend on the order the groups were
    /// fetched in, and a page can be cut in SQL in the same order (`db::aggregates::Page`).
    pub fn sort_keys(&self) -> Vec<(String, bool)> {
        let mut keys = self.order.to_vec();
        for dimension in self.dimensions {
            if !keys.iter().any(|(key, _)| key == dimension.as_str()) {
                keys.push((dimension.as_str().to_owned(), false));
            }
        }
        keys
    }

    /// Whether the grand total must be grouped on its own: a share of the total with no region
    /// level, whose levels hold no `total`.
    pub fn needs_separate_total(&self) -> bool {
        self.region().is_none() && self.share == Some("total")
    }

    /// Every row of the answer, ranked and sorted: the detail level, then (with rollup) each level
    /// above it. `per_level` holds the needed levels' finished rows in `levels()` order; `total`
    /// the grand total's rows when a share of the total needs them.
    pub fn lines<'a>(
        &self,
        per_level: &'a [(String, Vec<Dimension>, Vec<Row>)],
        total: Option<&'a [Row]>,
        others: &'a [Dimension],
    ) -> Vec<Line<'a>> {
        let region = self.region();
        let mut lines: Vec<Line> = Vec::new();
        for (position, (level, dimensions, rows)) in per_level.iter().enumerate() {
            if position > 0 && !self.rollup {
                continue;
            }
            let same_level = if self.compare { rows_by_key(rows, dimensions) } else { HashMap::new() };
            // With share: the rows the shares are of, by key. `parent`: the next level up, as each
            // level is computed (county → prefecture → province → total); the grand total has no
            // parent and is its own base (1.0000), as it is under `total`.
            let share_base = self.share.map(|mode| {
                let base = if mode == "parent" {
                    let (_, base_dimensions, base_rows) = per_level.get(position + 1).unwrap_or(&per_level[position]);
                    Some((base_rows.as_slice(), base_dimensions.as_slice()))
                } else {
                    total.map(|rows| (rows, others))
                };
                base.map(|(base_rows, base_dimensions)| (rows_by_key(base_rows, base_dimensions), base_dimensions))
            });
            let mut level_lines: Vec<Line> = Vec::new();
            for row in rows {
                if self.compare && !row.in_requested_years(dimensions, self.fiscal_years) {
                    continue;
                }
                let share = share_base.as_ref().map(|base| {
                    let base_row = base.as_ref().and_then(|(index, base_dimensions)| {
                        index.get(&row.key_on(dimensions, base_dimensions)).copied()
                    });
                    share(row, base_row, self.measures)
                });
                level_lines.push(Line {
                    level,
                    dimensions,
                    row,
                    previous: self.compare.then(|| same_level.get(&row.full_key(dimensions, -1)).copied()),
                    share,
                    rank: None,
                });
            }
            if self.rank && position == 0 {
                rank_rows(&mut level_lines, region, self);
            }
            sort_rows(&mut level_lines, self);
            lines.extend(level_lines);
        }
        lines
    }
}

/// A measure's raw result in one group, before ratios and percentiles are finished in Rust.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Value(Option<Decimal>),
    /// The group's values in ascending order, for a percentile.
    Sorted(Vec<Decimal>),
    /// The two sums of a ratio.
    Ratio(Option<Decimal>, Option<Decimal>),
}

/// One group: its dimension values (with region names), record count and raw measures.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    /// Per dimension: a region code, a year or a text (null for a missing grade).
    pub keys: Vec<serde_json::Value>,
    /// Per dimension: the region's name for region dimensions.
    pub names: Vec<Option<String>>,
    pub records: i64,
    pub values: Vec<RawValue>,
}

/// The records behind an answer, counted from one level's groups where no group was left out
/// by `min_count`: every level's groups partition the filtered records. Groups of the years
/// before `first_year` (fetched only for `compare`) are not counted.
pub fn records_in(groups: &[GroupRow], dimensions: &[Dimension], first_year: Option<i16>) -> i64 {
    let year = dimensions.iter().position(|d| *d == Dimension::FiscalYear);
    groups
        .iter()
        .filter(|group| match (year, first_year) {
            (Some(index), Some(first)) => group.keys[index].as_i64().is_none_or(|y| y >= i64::from(first)),
            _ => true,
        })
        .map(|group| group.records)
        .sum()
}

/// A region in a row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionRef {
    pub code: String,
    pub name: Option<String>,
}

/// One aggregate row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AggregateRow {
    /// `detail` for grouped rows; for rollup rows the region level summed over (`prefecture`, `province`) or `total`
    pub level: String,
    /// The row's dimension values: regions as `{code, name}`, the others as values
    #[schema(value_type = Object)]
    pub group: BTreeMap<String, serde_json::Value>,
    /// 记录数: records behind this row
    pub records: i64,
    /// Values by measure key (`expenditure.total:sum`), decimal strings
    #[schema(value_type = HashMap<String, Option<String>>)]
    pub values: Values,
    /// The previous year's values (with `compare=previous_year`); null when that year has no records
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<HashMap<String, Option<String>>>)]
    pub previous: Option<Option<Values>>,
    /// value − previous
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<HashMap<String, Option<String>>>)]
    pub change: Option<Values>,
    /// (value − previous) / previous, 4 decimals
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<HashMap<String, Option<String>>>)]
    pub change_pct: Option<Values>,
    /// Share of the parent region or of the grand total, 4 decimals (additive measures only); a
    /// subtotal row's parent is the level above it (prefecture → province → total), and the grand
    /// total's share is 1.0000
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<HashMap<String, Option<String>>>)]
    pub share: Option<Values>,
    /// Rank within the parent region (1 = largest)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
}

/// The measure keys of a query (`expenditure.total:sum`), shared by every row's [`Values`].
#[derive(Debug)]
pub struct MeasureKeys {
    /// In the order of the plan's measures.
    names: Vec<String>,
    /// Positions in `names`, in sorted key order: the order a row's object lists them in.
    sorted: Vec<usize>,
}

impl MeasureKeys {
    pub fn new(measures: &[MeasureSpec]) -> Arc<Self> {
        let names: Vec<String> = measures.iter().map(MeasureSpec::key).collect();
        let mut sorted: Vec<usize> = (0..names.len()).collect();
        sorted.sort_by(|&a, &b| names[a].cmp(&names[b]));
        Arc::new(Self { names, sorted })
    }
}

/// A row's values by measure key: one per measure, in the plan's order, with the keys shared
/// instead of copied into every row. Written as a JSON object with its keys in sorted order.
#[derive(Debug, Clone)]
pub struct Values {
    keys: Arc<MeasureKeys>,
    values: Vec<Option<Decimal>>,
}

impl Values {
    /// The value of measure `key`, if the row has one.
    pub fn get(&self, key: &str) -> Option<Decimal> {
        self.keys.names.iter().position(|name| name == key).and_then(|i| self.values[i])
    }

    /// Values on the same keys, each computed from the measure's position and this value.
    fn map(&self, mut f: impl FnMut(usize, Option<Decimal>) -> Option<Decimal>) -> Self {
        Self { keys: self.keys.clone(), values: self.values.iter().enumerate().map(|(i, v)| f(i, *v)).collect() }
    }
}

impl Serialize for Values {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.values.len()))?;
        for &i in &self.keys.sorted {
            map.serialize_entry(&self.keys.names[i], &self.values[i])?;
        }
        map.end()
    }
}

/// A finished group: exact values rounded to each measure's scale.
#[derive(Debug, Clone)]
pub struct Row {
    keys: Vec<serde_json::Value>,
    names: Vec<Option<String>>,
    records: i64,
    values: Values,
}

fn round(value: Decimal, scale: u32) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(scale);
    rounded
}

impl Row {
    pub fn finish(row: GroupRow, measures: &[MeasureSpec], keys: &Arc<MeasureKeys>) -> Self {
        let values = measures
            .iter()
            .zip(row.values)
            .map(|(spec, raw)| {
                let scale = spec.scale();
                let value = match raw {
                    RawValue::Value(v) => v,
                    RawValue::Sorted(sorted) => spec.aggregation.percentile().and_then(|p| percentile(&sorted, p)),
                    RawValue::Ratio(Some(numerator), Some(denominator)) if !denominator.is_zero() => {
                        Some(numerator / denominator)
                    }
                    RawValue::Ratio(..) => None,
                };
                value.map(|v| round(v, scale))
            })
            .collect();
        Self { keys: row.keys, names: row.names, records: row.records, values: Values { keys: keys.clone(), values } }
    }

    /// A key of the row's dimension values, with the fiscal year shifted by `year_offset`.
    fn full_key(&self, dimensions: &[Dimension], year_offset: i64) -> String {
        dimensions
            .iter()
            .zip(&self.keys)
            .map(|(d, v)| match (d, v.as_i64()) {
                (Dimension::FiscalYear, Some(year)) => (year + year_offset).to_string(),
                _ => v.to_string(),
            })
            .collect::<Vec<_>>()
            .join("|")
    }

    /// The row's value of `dimension`, when `dimensions` (the row's grouping) has it.
    fn key(&self, dimensions: &[Dimension], dimension: Dimension) -> Option<&serde_json::Value> {
        dimensions.iter().position(|d| *d == dimension).map(|i| &self.keys[i])
    }

    /// A key of the row's values on `base` dimensions, its region truncated to the base level.
    fn key_on(&self, dimensions: &[Dimension], base: &[Dimension]) -> String {
        base.iter()
            .map(|b| {
                if let Some(len) = b.code_len() {
                    let region = dimensions.iter().zip(&self.keys).find(|(d, _)| d.code_len().is_some());
                    region
                        .and_then(|(_, v)| v.as_str())
                        .map(|code| format!("\"{}\"", &code[..len.min(code.len())]))
                        .unwrap_or_default()
                } else {
                    self.key(dimensions, *b).map(|v| v.to_string()).unwrap_or_default()
                }
            })
            .collect::<Vec<_>>()
            .join("|")
    }

    fn in_requested_years(&self, dimensions: &[Dimension], fiscal_years: Option<(i16, i16)>) -> bool {
        let year = self.key(dimensions, Dimension::FiscalYear).and_then(|v| v.as_i64());
        match (year, fiscal_years) {
            (Some(year), Some((from, to))) => (i64::from(from)..=i64::from(to)).contains(&year),
            _ => true,
        }
    }

    fn to_output(&self, level: &str, dimensions: &[Dimension]) -> AggregateRow {
        let group = dimensions
            .iter()
            .zip(self.keys.iter().zip(&self.names))
            .map(|(d, (key, name))| {
                let value =
                    if d.code_len().is_some() { serde_json::json!({"code": key, "name": name}) } else { key.clone() };
                (d.as_str().to_owned(), value)
            })
            .collect();
        AggregateRow {
            level: level.to_owned(),
            group,
            records: self.records,
            values: self.values.clone(),
            previous: None,
            change: None,
            change_pct: None,
            share: None,
            rank: None,
        }
    }
}

/// Rows by [`Row::full_key`].
fn rows_by_key<'a>(rows: &'a [Row], dimensions: &[Dimension]) -> HashMap<String, &'a Row> {
    rows.iter().map(|r| (r.full_key(dimensions, 0), r)).collect()
}

/// The dimensions with the region dimension replaced by `with` (or removed).
pub fn replace(dimensions: &[Dimension], region: Dimension, with: Option<Dimension>) -> Vec<Dimension> {
    dimensions.iter().filter_map(|&d| if d == region { with } else { Some(d) }).collect()
}

/// Per measure: value − previous, or with `percent` (value − previous) / previous to 4 decimals.
fn change(values: &Values, previous: Option<&Values>, percent: bool) -> Values {
    values.map(|i, value| {
        let before = previous.and_then(|p| p.values[i]);
        match (value, before) {
            (Some(now), Some(before)) if percent => (!before.is_zero()).then(|| round((now - before) / before, 4)),
            (Some(now), Some(before)) => Some(now - before),
            _ => None,
        }
    })
}

/// Per additive measure: the row's value as a share of `base`'s, to 4 decimals.
fn share(row: &Row, base: Option<&Row>, measures: &[MeasureSpec]) -> Values {
    row.values.map(|i, part| match (part, base.and_then(|b| b.values.values[i])) {
        (Some(part), Some(whole)) if measures[i].is_additive() && !whole.is_zero() => Some(round(part / whole, 4)),
        _ => None,
    })
}

/// A row of the answer before it is written out: one for every group, so all can be ranked
/// and sorted, and written (change, share, group object) only when it is on the page.
pub struct Line<'a> {
    level: &'a str,
    dimensions: &'a [Dimension],
    row: &'a Row,
    /// With compare: the previous year's row, if that year has one.
    previous: Option<Option<&'a Row>>,
    share: Option<Values>,
    rank: Option<i64>,
}

impl Line<'_> {
    /// The line's value of `dimension`, if it is grouped by it.
    fn key(&self, dimension: Dimension) -> Option<&serde_json::Value> {
        self.row.key(self.dimensions, dimension)
    }

    /// The line's region, at whatever level it is grouped by one.
    fn region_key(&self) -> Option<&serde_json::Value> {
        self.dimensions.iter().zip(&self.row.keys).find(|(d, _)| d.code_len().is_some()).map(|(_, key)| key)
    }

    pub fn into_output(self) -> AggregateRow {
        let mut out = self.row.to_output(self.level, self.dimensions);
        if let Some(previous) = self.previous {
            let previous = previous.map(|p| &p.values);
            out.change = Some(change(&self.row.values, previous, false));
            out.change_pct = Some(change(&self.row.values, previous, true));
            out.previous = Some(previous.cloned());
        }
        out.share = self.share;
        out.rank = self.rank;
        out
    }
}

/// The measure key rows are ranked and primarily ordered by.
fn rank_key(shape: &Shape) -> String {
    shape
        .order
        .iter()
        .find(|(key, _)| shape.measures.iter().any(|m| &m.key() == key))
        .map(|(key, _)| key.clone())
        .unwrap_or_else(|| shape.measures[0].key())
}

fn rank_rows(lines: &mut [Line], region: Option<Dimension>, shape: &Shape) {
    let key = rank_key(shape);
    // The line's dimension values with its region cut to the parent's code.
    let parent_of = |line: &Line| -> String {
        let mut parts: Vec<String> = Vec::new();
        for (dimension, value) in line.dimensions.iter().zip(&line.row.keys) {
            match region {
                Some(r) if *dimension == r => {
                    let code = value.as_str().unwrap_or("");
                    let len = r.parent().and_then(|p| p.code_len()).unwrap_or(0);
                    parts.push(code[..len.min(code.len())].to_owned());
                }
                _ => parts.push(value.to_string()),
            }
        }
        parts.join("|")
    };
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        groups.entry(parent_of(line)).or_default().push(i);
    }
    for members in groups.values() {
        let mut ordered = members.clone();
        ordered.sort_by(|&a, &b| {
            let va = lines[a].row.values.get(&key);
            let vb = lines[b].row.values.get(&key);
            vb.cmp(&va)
        });
        for (position, &i) in ordered.iter().enumerate() {
            lines[i].rank = Some(position as i64 + 1);
        }
    }
}

fn sort_rows(lines: &mut [Line], shape: &Shape) {
    let order = shape.sort_keys();
    // Each line's key is computed once (not on every comparison): regions by code, numbers as numbers.
    lines.sort_by_cached_key(|line| {
        order
            .iter()
            .map(|(key, descending)| {
                let part = match Dimension::parse(key) {
                    // A rollup line above the level ordered by sorts by its own region instead.
                    Some(d) => match line.key(d).or_else(|| d.code_len().and_then(|_| line.region_key())) {
                        Some(value) if d.code_len().is_some() => SortKey::Text(value.as_str().unwrap_or("").to_owned()),
                        Some(value) => match value.as_i64() {
                            Some(n) => SortKey::Number(n),
                            None => SortKey::Text(value.as_str().map_or_else(|| value.to_string(), str::to_owned)),
                        },
                        None => SortKey::Missing,
                    },
                    None => SortKey::Amount(line.row.values.get(key)),
                };
                if *descending {
                    std::cmp::Reverse(part).into()
                } else {
                    part.into()
                }
            })
            .collect::<Vec<Directed>>()
    });
}

/// One part of a row's sort key.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Missing,
    Number(i64),
    Amount(Option<Decimal>),
    Text(String),
}

/// A key part in its direction.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Directed {
    Ascending(SortKey),
    Descending(std::cmp::Reverse<SortKey>),
}

impl From<SortKey> for Directed {
    fn from(key: SortKey) -> Self {
        Self::Ascending(key)
    }
}

impl From<std::cmp::Reverse<SortKey>> for Directed {
    fn from(key: std::cmp::Reverse<SortKey>) -> Self {
        Self::Descending(key)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::measures::parse_measure;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn shape<'a>(measures: &'a [MeasureSpec], dimensions: &'a [Dimension]) -> Shape<'a> {
        Shape {
            measures,
            dimensions,
            fiscal_years: None,
            compare: false,
            rollup: false,
            share: None,
            rank: false,
            order: &[],
        }
    }

    #[test]
    fn the_records_are_the_groups_counts_without_the_year_fetched_to_compare_with() {
        let group = |keys: Vec<serde_json::Value>, records: i64| GroupRow {
            names: keys.iter().map(|_| None).collect(),
            keys,
            records,
            values: Vec::new(),
        };
        let groups = [
            group(vec![json!("430482"), json!(2021)], 5),
            group(vec![json!("430482"), json!(2022)], 7),
            group(vec![json!("430481"), json!(2022)], 2),
        ];
        let dimensions = [Dimension::County, Dimension::FiscalYear];
        assert_eq!(records_in(&groups, &dimensions, None), 14);
        assert_eq!(records_in(&groups, &dimensions, Some(2022)), 9);
        assert_eq!(records_in(&groups[..1], &dimensions[..1], Some(2022)), 5, "no year grouped: every group counts");
        assert_eq!(records_in(&[], &dimensions, None), 0);
    }

    fn row(keys: &[serde_json::Value], records: i64, amount: Decimal, measures: &[MeasureSpec]) -> Row {
        let group = GroupRow {
            keys: keys.to_vec(),
            names: keys.iter().map(|_| None).collect(),
            records,
            values: vec![RawValue::Value(Some(amount))],
        };
        Row::finish(group, measures, &MeasureKeys::new(measures))
    }

    #[test]
    fn a_county_grouping_with_shares_of_the_parent_needs_the_prefecture_level_only() {
        let measures = [parse_measure("expenditure.total").unwrap()];
        let dimensions = [Dimension::County, Dimension::FiscalYear];
        let shape = Shape { share: Some("parent"), ..shape(&measures, &dimensions) };
        let levels: Vec<(String, bool)> = shape.levels().into_iter().map(|l| (l.name, l.needed)).collect();
        assert_eq!(
            levels,
            [("detail".into(), true), ("prefecture".into(), true), ("province".into(), false), ("total".into(), false)]
        );
        assert_eq!(shape.others(), [Dimension::FiscalYear]);
        assert!(!shape.needs_separate_total());
        let ungrouped = Shape { share: Some("total"), ..shape };
        assert!(Shape { dimensions: &[Dimension::Kind], ..ungrouped }.needs_separate_total());
    }

    #[test]
    fn rows_compare_with_the_year_before_share_their_parent_and_rank_within_it() {
        let measures = [parse_measure("expenditure.total").unwrap()];
        let dimensions = [Dimension::County, Dimension::FiscalYear];
        let parent = [Dimension::Prefecture, Dimension::FiscalYear];
        let counties = vec![
            row(&[json!("430482"), json!(2022)], 2, dec("100"), &measures),
            row(&[json!("430482"), json!(2021)], 2, dec("80"), &measures),
            row(&[json!("430481"), json!(2022)], 3, dec("300"), &measures),
        ];
        let prefectures = vec![
            row(&[json!("4304"), json!(2022)], 5, dec("400"), &measures),
            row(&[json!("4304"), json!(2021)], 2, dec("80"), &measures),
        ];
        let per_level = vec![
            ("detail".to_owned(), dimensions.to_vec(), counties),
            ("prefecture".to_owned(), parent.to_vec(), prefectures),
        ];
        let shape = Shape {
            fiscal_years: Some((2022, 2022)),
            compare: true,
            share: Some("parent"),
            rank: true,
            ..shape(&measures, &dimensions)
        };
        let others = shape.others();
        let rows: Vec<AggregateRow> =
            shape.lines(&per_level, None, &others).into_iter().map(Line::into_output).collect();
        // Only the requested year is a row (2021 is fetched to compare with), ordered by county.
        let counties: Vec<&serde_json::Value> = rows.iter().map(|r| &r.group["county"]["code"]).collect();
        assert_eq!(counties, [&json!("430481"), &json!("430482")]);
        let key = "expenditure.total:sum";
        let (first, second) = (&rows[0], &rows[1]);
        assert_eq!(first.share.as_ref().unwrap().get(key), Some(dec("0.7500")));
        assert_eq!(second.share.as_ref().unwrap().get(key), Some(dec("0.2500")));
        assert_eq!((first.rank, second.rank), (Some(1), Some(2)));
        // 430481 has no 2021 row: no previous values, no change.
        assert_eq!(first.previous.as_ref().map(Option::is_none), Some(true));
        assert_eq!(first.change.as_ref().unwrap().get(key), None);
        assert_eq!(second.change.as_ref().unwrap().get(key), Some(dec("20.00")));
        assert_eq!(second.change_pct.as_ref().unwrap().get(key), Some(dec("0.2500")));
    }

    #[test]
    fn values_round_half_away_from_zero_to_the_measures_scale() {
        assert_eq!(round(dec("0.12345"), 4), dec("0.1235"));
        assert_eq!(round(dec("-0.12345"), 4), dec("-0.1235"));
        assert_eq!(round(dec("7"), 2).to_string(), "7.00");
    }
}
