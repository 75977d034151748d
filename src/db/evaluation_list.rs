//! The record list: filters, any sort order, keyset pagination and an optional exact count.
use chrono::{DateTime, Utc};
use diesel::{
    pg::Pg,
    query_builder::{BoxedSqlQuery, SqlQuery},
    sql_types::{BigInt, Nullable, Numeric, SmallInt, Text, Timestamptz},
    QueryResult, Queryable, QueryableByName,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub use crate::domain::access::Visibility;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::regions::escape_like;
use crate::domain::record::{EvaluationKind, Grade, Status};

/// A column the list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Id,
    FiscalYear,
    RegionCode,
    Unit,
    Kind,
    Status,
    TotalScore,
    IncomeTotal,
    ExpenditureTotal,
    ThreePublicTotal,
    CreatedAt,
    UpdatedAt,
}

impl SortKey {
    pub const ALL: [SortKey; 12] = [
        Self::Id,
        Self::FiscalYear,
        Self::RegionCode,
        Self::Unit,
        Self::Kind,
        Self::Status,
        Self::TotalScore,
        Self::IncomeTotal,
        Self::ExpenditureTotal,
        Self::ThreePublicTotal,
        Self::CreatedAt,
        Self::UpdatedAt,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::FiscalYear => "fiscal_year",
            Self::RegionCode => "region_code",
            Self::Unit => "unit",
            Self::Kind => "kind",
            Self::Status => "status",
            Self::TotalScore => "total_score",
            Self::IncomeTotal => "income_total",
            Self::ExpenditureTotal => "expenditure_total",
            Self::ThreePublicTotal => "three_public_total",
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|key| key.name() == name)
    }

    /// The SQL it sorts on. Nullable amounts sort as -1 (below every real amount), so the
    /// keyset comparison never meets NULL.
    fn expression(self) -> &'static str {
        match self {
            Self::Id => "e.id",
            Self::FiscalYear => "e.fiscal_year",
            Self::RegionCode => "e.region_code",
            Self::Unit => "e.unit",
            Self::Kind => "e.kind",
            Self::Status => "e.status",
            Self::TotalScore => "coalesce(e.total_score, e.computed_total_score, -1)",
            Self::IncomeTotal => "coalesce(e.income_total, -1)",
            Self::ExpenditureTotal => "coalesce(e.expenditure_total, -1)",
            Self::ThreePublicTotal => "coalesce(e.three_public_total, -1)",
            Self::CreatedAt => "e.created_at",
            Self::UpdatedAt => "e.updated_at",
        }
    }

    /// Whether a cursor value has this key's type.
    pub fn accepts(self, value: &SortValue) -> bool {
        matches!(
            (self, value),
            (Self::Id | Self::FiscalYear, SortValue::Int(_))
                | (Self::RegionCode | Self::Unit | Self::Kind | Self::Status, SortValue::Text(_))
                | (
                    Self::TotalScore | Self::IncomeTotal | Self::ExpenditureTotal | Self::ThreePublicTotal,
                    SortValue::Decimal(_)
                )
                | (Self::CreatedAt | Self::UpdatedAt, SortValue::Time(_))
        )
    }

    fn value_of(self, row: &EvaluationSummaryRow) -> SortValue {
        let amount = |value: Option<Decimal>| SortValue::Decimal(value.unwrap_or(Decimal::NEGATIVE_ONE));
        match self {
            Self::Id => SortValue::Int(row.id),
            Self::FiscalYear => SortValue::Int(i64::from(row.fiscal_year)),
            Self::RegionCode => SortValue::Text(row.region_code.clone()),
            Self::Unit => SortValue::Text(row.unit.clone()),
            Self::Kind => SortValue::Text(super::evaluations::text(&row.kind)),
            Self::Status => SortValue::Text(super::evaluations::text(&row.status)),
            Self::TotalScore => amount(row.total_score),
            Self::IncomeTotal => amount(row.income_total),
            Self::ExpenditureTotal => amount(row.expenditure_total),
            Self::ThreePublicTotal => amount(row.three_public_total),
            Self::CreatedAt => SortValue::Time(row.created_at),
            Self::UpdatedAt => SortValue::Time(row.updated_at),
        }
    }
}

/// One sort key and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

/// The value of a sort key in the last row of a page: where the next page starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SortValue {
    #[serde(rename = "i")]
    Int(i64),
    #[serde(rename = "d")]
    Decimal(#[serde(with = "rust_decimal::serde::str")] Decimal),
    #[serde(rename = "t")]
    Time(DateTime<Utc>),
    #[serde(rename = "s")]
    Text(String),
}

/// What the list selects.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Inclusive range of fiscal years.
    pub fiscal_years: Option<(i16, i16)>,
    /// Region code prefixes (any ancestor code); a record matches any of them.
    pub region_prefixes: Vec<String>,
    pub statuses: Vec<String>,
    pub kinds: Vec<String>,
    pub grades: Vec<String>,
    /// Unit name or project name contains this text.
    pub unit_contains: Option<String>,
    /// Written (created, replaced or moved in review) at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    /// Which records the caller may see at all.
    pub visibility: Visibility,
}

/// One line of the list, read by position: the columns of `SUMMARY_COLUMNS` in order.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct EvaluationSummaryRow {
    pub id: i64,
    pub region_code: String,
    pub region_name: String,
    pub fiscal_year: i16,
    #[diesel(deserialize_as = crate::db::plain::Plain<EvaluationKind>)]
    pub kind: EvaluationKind,
    pub unit: String,
    pub project_name: Option<String>,
    #[diesel(deserialize_as = crate::db::plain::Plain<Status>)]
    pub status: Status,
    pub revision: i32,
    #[diesel(deserialize_as = crate::db::numeric::OptionalDecimal)]
    pub income_total: Option<Decimal>,
    #[diesel(deserialize_as = crate::db::numeric::OptionalDecimal)]
    pub expenditure_total: Option<Decimal>,
    #[diesel(deserialize_as = crate::db::numeric::OptionalDecimal)]
    pub three_public_total: Option<Decimal>,
    #[diesel(deserialize_as = crate::db::numeric::OptionalDecimal)]
    pub total_score: Option<Decimal>,
    #[diesel(deserialize_as = crate::db::plain::OptionalPlain<Grade>)]
    pub grade: Option<Grade>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The SQL types of `SUMMARY_COLUMNS`, in order.
type SummarySqlType = (
    BigInt,
    Text,
    Text,
    SmallInt,
    Text,
    Text,
    Nullable<Text>,
    Text,
    diesel::sql_types::Integer,
    Nullable<Numeric>,
    Nullable<Numeric>,
    Nullable<Numeric>,
    Nullable<Numeric>,
    Nullable<Text>,
    Timestamptz,
    Timestamptz,
);

pub(crate) type Query = BoxedSqlQuery<'static, Pg, SqlQuery>;

/// Builds SQL text and its binds together, numbering the placeholders.
pub(crate) struct Builder {
    pub(crate) query: Query,
    next: usize,
}

impl Builder {
    pub(crate) fn new(sql: &str) -> Self {
        Self { query: diesel::sql_query(sql).into_boxed(), next: 1 }
    }

    pub(crate) fn sql(&mut self, text: &str) -> &mut Self {
        self.query = std::mem::replace(&mut self.query, diesel::sql_query("").into_boxed()).sql(text);
        self
    }

    /// The finished query, planned once per connection.
    pub(crate) fn prepared(self) -> crate::db::Prepared<Query> {
        crate::db::Prepared(self.query)
    }

    fn placeholder(&mut self) -> String {
        let text = format!("${}", self.next);
        self.next += 1;
        text
    }

    pub(crate) fn bind_text(&mut self, value: String) -> String {
        let p = self.placeholder();
        self.query = std::mem::replace(&mut self.query, diesel::sql_query("").into_boxed()).bind::<Text, _>(value);
        p
    }

    fn bind_texts(&mut self, values: Vec<String>) -> String {
        let p = self.placeholder();
        self.query = std::mem::replace(&mut self.query, diesel::sql_query("").into_boxed())
            .bind::<diesel::sql_types::Array<Text>, _>(values);
        p
    }

    pub(crate) fn bind_value(&mut self, value: SortValue) -> String {
        let p = self.placeholder();
        let query = std::mem::replace(&mut self.query, diesel::sql_query("").into_boxed());
        self.query = match value {
            SortValue::Int(v) => query.bind::<BigInt, _>(v),
            SortValue::Decimal(v) => query.bind::<Numeric, _>(v),
            SortValue::Time(v) => query.bind::<Timestamptz, _>(v),
            SortValue::Text(v) => query.bind::<Text, _>(v),
        };
        p
    }

    /// ` WHERE …` for the list filters, on `evaluations e`.
    pub(crate) fn filters(&mut self, filter: &ListFilter) {
        self.filters_grading(filter, "coalesce(e.grade, e.computed_grade)");
    }

    /// The list filters, a record's grade being `grade` (the sums hold it as one column).
    pub(crate) fn filters_grading(&mut self, filter: &ListFilter, grade: &str) {
        self.sql(" WHERE true");
        if let Some((from, to)) = filter.fiscal_years {
            let (from, to) = (self.bind_value(SortValue::Int(from.into())), self.bind_value(SortValue::Int(to.into())));
            self.sql(&format!(" AND e.fiscal_year BETWEEN {from} AND {to}"));
        }
        if !filter.region_prefixes.is_empty() {
            // A code prefix is a range under the "C" collation: [prefix, prefix + '~').
            let ranges: Vec<String> = filter
                .region_prefixes
                .iter()
                .map(|prefix| {
                    let low = self.bind_text(prefix.clone());
                    let high = self.bind_text(format!("{prefix}~"));
                    format!("(e.region_code >= {low} AND e.region_code < {high})")
                })
                .collect();
            self.sql(&format!(" AND ({})", ranges.join(" OR ")));
        }
        for (column, values) in [("e.status", &filter.statuses), ("e.kind", &filter.kinds), (grade, &filter.grades)] {
            if !values.is_empty() {
                let p = self.bind_texts(values.clone());
                self.sql(&format!(" AND {column} = ANY({p})"));
            }
        }
        if let Some(since) = filter.updated_since {
            let p = self.bind_value(SortValue::Time(since));
            self.sql(&format!(" AND e.updated_at >= {p}"));
        }
        if let Some(text) = &filter.unit_contains {
            let p = self.bind_text(format!("%{}%", escape_like(text)));
            self.sql(&format!(" AND (e.unit ILIKE {p} OR e.project_name ILIKE {p})"));
        }
        match &filter.visibility {
            Visibility::All => {}
            Visibility::Published => {
                self.sql(" AND e.status = 'published'");
            }
            Visibility::PublishedOrUnder(prefix) => {
                let low = self.bind_text(prefix.clone());
                let high = self.bind_text(format!("{prefix}~"));
                self.sql(&format!(
                    " AND (e.status = 'published' OR (e.region_code >= {low} AND e.region_code < {high}))"
                ));
            }
        }
    }
}

const SUMMARY_COLUMNS: &str =
    "SELECT e.id, e.region_code, r.name AS region_name, e.fiscal_year, e.kind, e.unit, e.project_name, e.status, \
     e.revision, e.income_total, e.expenditure_total, e.three_public_total, \
     coalesce(e.total_score, e.computed_total_score) AS total_score, coalesce(e.grade, e.computed_grade) AS grade, \
     e.created_at, e.updated_at \
     FROM evaluations e JOIN regions r ON r.code = e.region_code";

/// The sort order with `id` appended as the final tie-break, so the order is total.
pub fn total_order(sort: &[Sort]) -> Vec<Sort> {
    let mut order = sort.to_vec();
    if !order.iter().any(|s| s.key == SortKey::Id) {
        order.push(Sort { key: SortKey::Id, descending: false });
    }
    order
}

/// A page of summaries: up to `limit` rows after `after` (the sort values of the previous
/// page's last row), and whether more follow.
pub async fn page(
    conn: &mut AsyncPgConnection,
    filter: &ListFilter,
    sort: &[Sort],
    after: Option<Vec<SortValue>>,
    limit: i64,
) -> QueryResult<(Vec<EvaluationSummaryRow>, Option<Vec<SortValue>>)> {
    let order = total_order(sort);
    let mut b = Builder::new(SUMMARY_COLUMNS);
    b.filters(filter);
    if let Some(values) = after.filter(|v| v.len() == order.len()) {
        // (k1 > v1) OR (k1 = v1 AND k2 > v2) OR …, each comparison in its key's direction.
        let mut alternatives = Vec::new();
        let mut equal_prefix = Vec::new();
        for (sort, value) in order.iter().zip(values) {
            let p = b.bind_value(value);
            let expression = sort.key.expression();
            let op = if sort.descending { "<" } else { ">" };
            let mut terms = equal_prefix.clone();
            terms.push(format!("{expression} {op} {p}"));
            alternatives.push(format!("({})", terms.join(" AND ")));
            equal_prefix.push(format!("{expression} = {p}"));
        }
        b.sql(&format!(" AND ({})", alternatives.join(" OR ")));
    }
    let order_by: Vec<String> =
        order.iter().map(|s| format!("{} {}", s.key.expression(), if s.descending { "DESC" } else { "ASC" })).collect();
    let page_size = b.bind_value(SortValue::Int(limit + 1));
    b.sql(&format!(" ORDER BY {} LIMIT {page_size}", order_by.join(", ")));
    let mut rows: Vec<EvaluationSummaryRow> = b.prepared().by_position::<SummarySqlType>().load(conn).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|last| order.iter().map(|s| s.key.value_of(last)).collect())
    } else {
        None
    };
    Ok((rows, next))
}

/// How many records match the filter.
pub async fn count(conn: &mut AsyncPgConnection, filter: &ListFilter) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        total: i64,
    }
    // From the pre-aggregated sums when they hold the filter: a few rows per county and year,
    // where counting the records reads every one of them.
    let b = if super::sums::hold(filter) {
        let mut b = Builder::new("SELECT coalesce(sum(e.records), 0)::bigint AS total FROM evaluation_totals e");
        b.filters_grading(filter, super::sums::GRADE_SQL);
        b
    } else {
        let mut b = Builder::new("SELECT count(*) AS total FROM evaluations e");
        b.filters(filter);
        b
    };
    let row: Count = b.prepared().get_result(conn).await?;
    Ok(row.total)
}

/// How many fiscal years have records.
///
/// Year by year through `evaluations_year_region_idx` (each step the first year after the last
/// one found: a few index probes), where `count(DISTINCT fiscal_year)` read every record.
pub async fn distinct_years(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Years {
        #[diesel(sql_type = BigInt)]
        years: i64,
    }
    let query = diesel::sql_query(
        "WITH RECURSIVE y(year) AS (SELECT min(fiscal_year) FROM evaluations \
         UNION ALL SELECT (SELECT min(fiscal_year) FROM evaluations WHERE fiscal_year > y.year) FROM y \
         WHERE y.year IS NOT NULL) SELECT count(year) AS years FROM y",
    );
    let row: Years = super::Prepared(query).get_result(conn).await?;
    Ok(row.years)
}
