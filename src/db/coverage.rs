//! Filing coverage: which townships under a region have records for a year, per child region.
use diesel::{
    sql_types::{Array, BigInt, Integer, Nullable, SmallInt, Text},
    QueryResult, QueryableByName,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::domain::{
    access::Visibility,
    record::Status,
    region_code::{RegionCode, RegionLevel},
};

/// One child region (or, for a township, the township itself) with its filing figures.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct ChildCoverageRow {
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub level: String,
    /// Townships under the child.
    #[diesel(sql_type = BigInt)]
    pub expected: i64,
    /// Townships with at least one matching record.
    #[diesel(sql_type = BigInt)]
    pub filed: i64,
    /// Matching records the caller may see, by status.
    #[diesel(sql_type = BigInt)]
    pub draft: i64,
    #[diesel(sql_type = BigInt)]
    pub submitted: i64,
    #[diesel(sql_type = BigInt)]
    pub returned: i64,
    #[diesel(sql_type = BigInt)]
    pub approved: i64,
    #[diesel(sql_type = BigInt)]
    pub published: i64,
    /// Matching records not published, whether or not the caller may see them.
    #[diesel(sql_type = BigInt)]
    pub filed_unpublished: i64,
    /// Codes of the townships without a matching record, in code order.
    #[diesel(sql_type = Array<Text>)]
    pub missing_codes: Vec<String>,
    /// Their names, in the same order.
    #[diesel(sql_type = Array<Text>)]
    pub missing_names: Vec<String>,
}

/// Per child of `region` (the next level down; a township is its own only child): townships
/// expected, filed for `fiscal_year` (and `kind`, when given), the records `visibility` shows by
/// status, the records not yet published, and the townships that have not filed.
///
/// Filed and not filed are facts about every record, whoever asks: a township whose records are
/// not yet published to this caller has filed all the same, and is counted as filed and in
/// `filed_unpublished`, never listed as missing. Only counts cross the visibility line.
///
/// One statement. Townships and records under the region are both read as a code range
/// (`[code, code || '~')` under the "C" collation: `regions (level, code)` and
/// `evaluations (fiscal_year, region_code, id)`), appended and grouped by township code. A
/// UNION ALL rather than a join, so that no statistics (a freshly loaded table has none) can
/// lead the planner into a nested loop of townships × records: all of Hunan takes ~5 ms.
pub async fn by_child(
    conn: &mut AsyncPgConnection,
    region: &RegionCode,
    fiscal_year: i16,
    kind: Option<&str>,
    visibility: &Visibility,
) -> QueryResult<Vec<ChildCoverageRow>> {
    let child_level = RegionLevel::ALL
        .into_iter()
        .find(|level| level.code_len() > region.as_str().len())
        .unwrap_or(RegionLevel::Township);
    let statuses = [Status::Draft, Status::Submitted, Status::Returned, Status::Approved, Status::Published];
    let mut query = diesel::sql_query(COVERAGE_BY_CHILD)
        .into_boxed()
        .bind::<Text, _>(region.as_str().to_owned())
        .bind::<Text, _>(format!("{region}~"))
        .bind::<SmallInt, _>(fiscal_year)
        .bind::<Nullable<Text>, _>(kind.map(str::to_owned))
        .bind::<Text, _>(RegionLevel::Township.as_str())
        .bind::<Text, _>(child_level.as_str())
        .bind::<Integer, _>(child_level.code_len() as i32);
    for status in statuses {
        query = query.bind::<Text, _>(status.as_str());
    }
    // $13: every record is visible; else published ones and those in [$14, $15). Visibility
    // only decides what `by_status` counts.
    let (all, low, high) = match visibility {
        Visibility::All => (true, String::new(), String::new()),
        Visibility::Published => (false, String::new(), String::new()),
        Visibility::PublishedOrUnder(prefix) => (false, prefix.clone(), format!("{prefix}~")),
    };
    query = query.bind::<diesel::sql_types::Bool, _>(all).bind::<Text, _>(low).bind::<Text, _>(high);
    crate::db::Prepared(query).load(conn).await
}

/// $1/$2 the region's code range, $3 fiscal year, $4 kind or NULL, $5 'township', $6 the child
/// level and $7 its code length, $8–$12 the statuses draft, submitted, returned, approved,
/// published, $13–$15 the visibility. Township rows carry a name and no status, record rows a
/// status, whether the caller may see them, and no name.
const COVERAGE_BY_CHILD: &str = "\
WITH per_township AS (
    SELECT u.code, max(u.name) AS name, count(u.status) AS records,
           count(*) FILTER (WHERE u.visible AND u.status = $8) AS draft,
           count(*) FILTER (WHERE u.visible AND u.status = $9) AS submitted,
           count(*) FILTER (WHERE u.visible AND u.status = $10) AS returned,
           count(*) FILTER (WHERE u.visible AND u.status = $11) AS approved,
           count(*) FILTER (WHERE u.status = $12) AS published,
           count(*) FILTER (WHERE u.status <> $12) AS filed_unpublished
    FROM (
        SELECT t.code, t.name, NULL::text AS status, false AS visible
        FROM regions t
        WHERE t.level = $5 AND t.code >= $1 AND t.code < $2
        UNION ALL
        SELECT e.region_code, NULL, e.status,
               ($13 OR e.status = $12 OR (e.region_code >= $14 AND e.region_code < $15))
        FROM evaluations e
        WHERE e.fiscal_year = $3 AND e.region_code >= $1 AND e.region_code < $2
          AND ($4::text IS NULL OR e.kind = $4)
    ) u
    GROUP BY u.code
    HAVING count(u.name) > 0
), per_child AS MATERIALIZED (
    SELECT left(code, $7) AS child_code,
           count(*) AS expected,
           count(*) FILTER (WHERE records > 0) AS filed,
           sum(draft)::bigint AS draft,
           sum(submitted)::bigint AS submitted,
           sum(returned)::bigint AS returned,
           sum(approved)::bigint AS approved,
           sum(published)::bigint AS published,
           sum(filed_unpublished)::bigint AS filed_unpublished,
           array_agg(code ORDER BY code) FILTER (WHERE records = 0) AS missing_codes,
           array_agg(name ORDER BY code) FILTER (WHERE records = 0) AS missing_names
    FROM per_township
    GROUP BY 1
)
SELECT c.code, c.name, c.level,
       coalesce(p.expected, 0) AS expected,
       coalesce(p.filed, 0) AS filed,
       coalesce(p.draft, 0) AS draft,
       coalesce(p.submitted, 0) AS submitted,
       coalesce(p.returned, 0) AS returned,
       coalesce(p.approved, 0) AS approved,
       coalesce(p.published, 0) AS published,
       coalesce(p.filed_unpublished, 0) AS filed_unpublished,
       coalesce(p.missing_codes, '{}'::text[]) AS missing_codes,
       coalesce(p.missing_names, '{}'::text[]) AS missing_names
FROM regions c
LEFT JOIN per_child p ON p.child_code = c.code
WHERE c.level = $6 AND c.code >= $1 AND c.code < $2
ORDER BY c.code";
