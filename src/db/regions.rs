//! The division table: loading it, and the region look-ups the API needs.
use std::{collections::HashMap, sync::Arc};

use anyhow::{bail, Context};
use diesel::{prelude::*, sql_types::Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::regions;
use crate::domain::region_code::{RegionCode, RegionLevel};

/// The built-in 2023 division table (统计用区划代码, cut-off 2023-06-30).
const BUILTIN_TABLES: [&str; 4] = [
    include_str!("../../data/divisions/provinces.csv"),
    include_str!("../../data/divisions/cities.csv"),
    include_str!("../../data/divisions/areas.csv"),
    include_str!("../../data/divisions/streets.csv"),
];

/// One row of `regions`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = regions)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
}

/// Reads division rows from CSV text with a header that has `code` and `name` columns
/// (the layout of `data/divisions/*.csv`); level and parent follow from the code.
pub fn parse_csv(text: &str) -> anyhow::Result<Vec<Region>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().context("reading the CSV header")?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(code_at), Some(name_at)) = (column("code"), column("name")) else {
        bail!("the CSV header must name `code` and `name` columns, found {:?}", headers.iter().collect::<Vec<_>>());
    };
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.with_context(|| format!("CSV line {line}"))?;
        let (code, name) = (record.get(code_at).unwrap_or(""), record.get(name_at).unwrap_or(""));
        let code = RegionCode::parse(code).map_err(|e| anyhow::anyhow!("CSV line {line}: code `{code}`: {e}"))?;
        if name.is_empty() {
            bail!("CSV line {line}: region {code} has no name");
        }
        let level = code.level();
        let parent_code = code.ancestors().pop().map(|p| p.to_string());
        rows.push(Region {
            code: code.to_string(),
            name: name.to_owned(),
            level: level.as_str().to_owned(),
            parent_code,
        });
    }
    Ok(rows)
}

/// Inserts or renames regions in one statement, parents before children. Returns the row count.
pub async fn upsert(conn: &mut AsyncPgConnection, mut rows: Vec<Region>) -> QueryResult<usize> {
    rows.sort_by(|a, b| (a.code.len(), &a.code).cmp(&(b.code.len(), &b.code)));
    let (mut codes, mut names, mut levels, mut parents) = (vec![], vec![], vec![], vec![]);
    for row in rows {
        codes.push(row.code);
        names.push(row.name);
        levels.push(row.level);
        parents.push(row.parent_code);
    }
    diesel::sql_query(
        "INSERT INTO regions (code, name, level, parent_code) \
         SELECT code, name, level, parent_code \
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS r(code, name, level, parent_code, n) \
         ORDER BY n \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name WHERE regions.name IS DISTINCT FROM excluded.name",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(&codes)
    .bind::<diesel::sql_types::Array<Text>, _>(&names)
    .bind::<diesel::sql_types::Array<Text>, _>(&levels)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Nullable<Text>>, _>(&parents)
    .execute(conn)
    .await?;
    Ok(codes.len())
}

/// All built-in rows (44,703: 31 provinces, 342 prefectures, 2,978 counties, 41,352 townships).
pub fn builtin_rows() -> Vec<Region> {
    BUILTIN_TABLES.iter().flat_map(|text| parse_csv(text).expect("the built-in division table is valid")).collect()
}

/// Loads the built-in table when `regions` is empty; returns the number of rows loaded.
pub async fn load_builtin_if_empty(conn: &mut AsyncPgConnection) -> anyhow::Result<usize> {
    let any: Option<String> = regions::table.select(regions::code).first(conn).await.optional()?;
    if any.is_some() {
        return Ok(0);
    }
    Ok(upsert(conn, builtin_rows()).await?)
}

/// One region by code.
pub async fn find(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<Option<Region>> {
    regions::table.find(code).select(Region::as_select()).first(conn).await.optional()
}

/// The regions with these codes, in code order.
pub async fn find_many(conn: &mut AsyncPgConnection, codes: &[String]) -> QueryResult<Vec<Region>> {
    regions::table.filter(regions::code.eq_any(codes)).order(regions::code).select(Region::as_select()).load(conn).await
}

/// Counts of the regions below `code`, per level.
pub async fn descendant_counts(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<Vec<(String, i64)>> {
    regions::table
        .filter(regions::code.like(format!("{code}_%")))
        .group_by(regions::level)
        .select((regions::level, diesel::dsl::count_star()))
        .load(conn)
        .await
}

/// Filters of the region list.
#[derive(Debug, Default, Clone)]
pub struct RegionFilter {
    pub level: Option<RegionLevel>,
    pub parent: Option<String>,
    /// Name contains this text.
    pub name_contains: Option<String>,
    /// Only codes after this one (keyset pagination).
    pub after: Option<String>,
    pub limit: i64,
}

/// A page of regions in code order.
pub async fn list(conn: &mut AsyncPgConnection, filter: &RegionFilter) -> QueryResult<Vec<Region>> {
    let mut query = regions::table.select(Region::as_select()).order(regions::code).limit(filter.limit).into_boxed();
    if let Some(level) = filter.level {
        query = query.filter(regions::level.eq(level.as_str()));
    }
    if let Some(parent) = &filter.parent {
        query = query.filter(regions::parent_code.eq(parent.clone()));
    }
    if let Some(text) = &filter.name_contains {
        query = query.filter(regions::name.like(format!("%{}%", escape_like(text))));
    }
    if let Some(after) = &filter.after {
        query = query.filter(regions::code.gt(after.clone()));
    }
    query.load(conn).await
}

/// Escapes `%`, `_` and `\` so user text matches literally in LIKE.
pub fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// How many regions of `level` lie under any of `prefixes` (all of them when none is given).
pub async fn count_at_level(conn: &mut AsyncPgConnection, level: &str, prefixes: &[String]) -> QueryResult<i64> {
    let mut query = regions::table.filter(regions::level.eq(level.to_owned())).into_boxed();
    if !prefixes.is_empty() {
        let mut any: Box<dyn BoxableExpression<regions::table, diesel::pg::Pg, SqlType = diesel::sql_types::Bool>> =
            Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("false"));
        for prefix in prefixes {
            any = Box::new(any.or(regions::code.like(format!("{prefix}%"))));
        }
        query = query.filter(any);
    }
    query.count().get_result(conn).await
}

/// The division names by code, held in memory for one regions version (`data_version`): aggregate
/// groups are named from here. The first use at a newer version reloads them, one statement for
/// the whole table, while other users wait for that load instead of each running it.
#[derive(Default)]
pub struct Names {
    held: tokio::sync::Mutex<Option<(i64, Arc<RegionNames>)>>,
}

/// Division names by code.
pub type RegionNames = HashMap<Box<str>, Box<str>>;

impl Names {
    pub async fn at(&self, version: i64, conn: &mut AsyncPgConnection) -> QueryResult<Arc<RegionNames>> {
        let mut held = self.held.lock().await;
        if let Some((at, names)) = held.as_ref() {
            if *at == version {
                return Ok(names.clone());
            }
        }
        let rows: Vec<(String, String)> = regions::table.select((regions::code, regions::name)).load(conn).await?;
        let names: Arc<RegionNames> = Arc::new(rows.into_iter().map(|(c, n)| (c.into(), n.into())).collect());
        *held = Some((version, names.clone()));
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_has_every_division() {
        let rows = builtin_rows();
        let count = |level: &str| rows.iter().filter(|r| r.level == level).count();
        assert_eq!(count("province"), 31);
        assert_eq!(count("prefecture"), 342);
        assert_eq!(count("county"), 2978);
        assert_eq!(count("township"), 41352);
        let hunan_townships = rows.iter().filter(|r| r.level == "township" && r.code.starts_with("43")).count();
        assert_eq!(hunan_townships, 2008);
        let yintian = rows.iter().find(|r| r.code == "430482104").unwrap();
        assert_eq!((yintian.name.as_str(), yintian.parent_code.as_deref()), ("荫田镇", Some("430482")));
    }

    #[test]
    fn parses_any_csv_with_code_and_name() {
        let rows = parse_csv("\u{feff}name,code\n\"湖南省\",43\n衡阳市,4304\n").unwrap();
        assert_eq!(
            rows[1],
            Region {
                code: "4304".into(),
                name: "衡阳市".into(),
                level: "prefecture".into(),
                parent_code: Some("43".into())
            }
        );
        let error = parse_csv("code,name\n43x,湖南省\n").unwrap_err().to_string();
        assert!(error.contains("line 2"), "{error}");
        assert!(parse_csv("id,label\n1,a\n").is_err());
    }

    #[test]
    fn like_escaping_keeps_wildcards_literal() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}

/// A township whose name a text contains, with the names of its county and prefecture.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct NamedTownship {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub code: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub county: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub prefecture: String,
}

/// The townships under `within` (a code prefix, or all) whose names occur in `text`.
pub async fn townships_named_in(
    conn: &mut AsyncPgConnection,
    text: &str,
    within: Option<&str>,
) -> QueryResult<Vec<NamedTownship>> {
    let prefix = within.unwrap_or("");
    super::Prepared(
        diesel::sql_query(
            "SELECT t.code, t.name, c.name AS county, p.name AS prefecture FROM regions t \
             JOIN regions c ON c.code = t.parent_code JOIN regions p ON p.code = c.parent_code \
             WHERE t.level = 'township' AND t.code >= $2 AND t.code < $3 AND strpos($1, t.name) > 0 \
             ORDER BY t.code",
        )
        .bind::<diesel::sql_types::Text, _>(text)
        .bind::<diesel::sql_types::Text, _>(prefix)
        .bind::<diesel::sql_types::Text, _>(format!("{prefix}~")),
    )
    .load(conn)
    .await
}
