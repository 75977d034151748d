//! `GET /api/v1/evaluations`
use actix_web::{get, web, HttpRequest, HttpResponse};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    db::evaluation_list::{self, EvaluationSummaryRow, ListFilter, Sort, SortKey, SortValue},
    domain::{
        record::{EvaluationKind, Grade, Status},
        region_code::RegionCode,
        validation::FISCAL_YEARS,
    },
    error::ApiError,
    routes::QueryPairs,
    startup::AppState,
};

/// Query parameters of the record list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct EvaluationListParams {
    /// 年度: one year (`2022`) or an inclusive range (`2019..2024`)
    #[param(example = "2022")]
    fiscal_year: Option<String>,
    /// 区划: any ancestor code (2/4/6/9 digits, or 12); repeatable, a record matches any
    #[param(example = "4304")]
    region: Option<Vec<String>>,
    /// 审核状态 (repeatable, or comma-separated)
    status: Option<Vec<Status>>,
    /// 评价类型 (repeatable, or comma-separated)
    kind: Option<Vec<EvaluationKind>>,
    /// 评价等级, as stated or else as computed (repeatable, or comma-separated)
    grade: Option<Vec<Grade>>,
    /// 单位名称包含 (unit name contains)
    q: Option<String>,
    /// Sort keys, comma-separated, `-` for descending: id, fiscal_year, region_code, unit, kind,
    /// status, total_score, income_total, expenditure_total, three_public_total, created_at,
    /// updated_at. Missing amounts sort below every amount. Default `id`.
    #[param(example = "-total_score,region_code")]
    sort: Option<String>,
    /// Page size, 1–1000 (default 50)
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// Opaque cursor from the previous page's `next_cursor` (same filters and sort)
    cursor: Option<String>,
    /// `exact` adds `total`, the number of matching records
    count: Option<CountMode>,
}

/// Whether to count the matches.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum CountMode {
    Exact,
}

/// One line of the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationSummary {
    /// 记录编号
    pub id: i64,
    /// 区划代码
    pub region_code: String,
    /// 区划名称
    pub region_name: String,
    /// 年度
    pub fiscal_year: i32,
    /// 评价类型
    pub kind: EvaluationKind,
    /// 单位名称
    pub unit: String,
    /// 审核状态
    pub status: Status,
    /// 版本号
    pub revision: i32,
    /// 收入总计 (元)
    #[schema(value_type = Option<String>)]
    pub income_total: Option<Decimal>,
    /// 支出总计 (元)
    #[schema(value_type = Option<String>)]
    pub expenditure_total: Option<Decimal>,
    /// 三公经费合计 (元)
    #[schema(value_type = Option<String>)]
    pub three_public_total: Option<Decimal>,
    /// 总得分: as stated, else as computed from the indicators
    #[schema(value_type = Option<String>)]
    pub total_score: Option<Decimal>,
    /// 评价等级: as stated, else as computed
    pub grade: Option<Grade>,
    /// 创建时间
    pub created_at: DateTime<Utc>,
    /// 更新时间
    pub updated_at: DateTime<Utc>,
}

impl From<EvaluationSummaryRow> for EvaluationSummary {
    fn from(row: EvaluationSummaryRow) -> Self {
        Self {
            id: row.id,
            region_code: row.region_code,
            region_name: row.region_name,
            fiscal_year: i32::from(row.fiscal_year),
            kind: serde_plain::from_str(&row.kind).unwrap_or(EvaluationKind::DepartmentOverall),
            unit: row.unit,
            status: serde_plain::from_str(&row.status).unwrap_or(Status::Draft),
            revision: row.revision,
            income_total: row.income_total,
            expenditure_total: row.expenditure_total,
            three_public_total: row.three_public_total,
            total_score: row.total_score,
            grade: row.grade.as_deref().and_then(|g| serde_plain::from_str(g).ok()),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A page of records.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationPage {
    pub items: Vec<EvaluationSummary>,
    /// Cursor of the next page; absent on the last page
    pub next_cursor: Option<String>,
    /// Number of matching records (with `count=exact`)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

/// What a cursor carries: the sort it was made for and where the next page starts.
#[derive(Serialize, Deserialize)]
struct Cursor {
    sort: String,
    after: Vec<SortValue>,
}

/// List record summaries, filtered, sorted and paginated by keyset.
#[utoipa::path(
    tag = "evaluations",
    params(EvaluationListParams),
    responses(
        (status = 200, description = "A page of record summaries", body = EvaluationPage),
        (status = 400, description = "Malformed or unknown parameter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/evaluations")]
pub async fn list_evaluations(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let query = QueryPairs::from_request(&req);
    query.only(&["fiscal_year", "region", "status", "kind", "grade", "q", "sort", "limit", "cursor", "count"])?;
    let filter = ListFilter {
        fiscal_years: query.one("fiscal_year")?.map(parse_years).transpose()?,
        region_prefixes: query
            .all("region")
            .iter()
            .map(|code| {
                RegionCode::parse(code)
                    .map(|c| c.to_string())
                    .map_err(|e| ApiError::invalid_query("region", e.to_string()))
            })
            .collect::<Result<_, _>>()?,
        statuses: enum_values::<Status>(&query, "status")?,
        kinds: enum_values::<EvaluationKind>(&query, "kind")?,
        grades: enum_values::<Grade>(&query, "grade")?,
        unit_contains: match query.one("q")? {
            Some(q) if q.contains('\0') => return Err(ApiError::invalid_query("q", "must not contain NUL characters")),
            Some(q) if !q.is_empty() => Some(q.to_owned()),
            _ => None,
        },
    };
    let sort_text = query.one("sort")?.unwrap_or("id").to_owned();
    let sort = parse_sort(&sort_text)?;
    let order = evaluation_list::total_order(&sort);
    let after = match query.one("cursor")? {
        None => None,
        Some(text) => Some(decode_cursor(text, &sort_text, &order)?),
    };
    let limit = query.limit(50, 1000)?;
    let count = match query.one("count")? {
        None => false,
        Some("exact") => true,
        Some(_) => return Err(ApiError::invalid_query("count", "the only value is `exact`")),
    };
    let mut conn = state.pool.get().await?;
    let (rows, next) = evaluation_list::page(&mut conn, &filter, &sort, after, limit).await?;
    let total = if count { Some(evaluation_list::count(&mut conn, &filter).await?) } else { None };
    let next_cursor = next.map(|after| encode_cursor(&Cursor { sort: sort_text, after }));
    Ok(HttpResponse::Ok().json(EvaluationPage {
        items: rows.into_iter().map(EvaluationSummary::from).collect(),
        next_cursor,
        total,
    }))
}

/// `2022` or `2019..2024`.
fn parse_years(text: &str) -> Result<(i16, i16), ApiError> {
    let bad = || {
        ApiError::invalid_query(
            "fiscal_year",
            "must be a year (2022) or an inclusive range (2019..2024) within 1990–2100",
        )
    };
    let year = |t: &str| t.trim().parse::<i32>().ok().filter(|y| FISCAL_YEARS.contains(y)).map(|y| y as i16);
    let (from, to) = match text.split_once("..") {
        Some((from, to)) => (year(from).ok_or_else(bad)?, year(to).ok_or_else(bad)?),
        None => {
            let y = year(text).ok_or_else(bad)?;
            (y, y)
        }
    };
    if from > to {
        return Err(bad());
    }
    Ok((from, to))
}

fn enum_values<T: serde::de::DeserializeOwned + Serialize>(
    query: &QueryPairs,
    name: &str,
) -> Result<Vec<String>, ApiError> {
    query
        .all(name)
        .into_iter()
        .map(|value| {
            serde_plain::from_str::<T>(&value)
                .map(|_| value.clone())
                .map_err(|_| ApiError::invalid_query(name, format!("`{value}` is not a known value")))
        })
        .collect()
}

fn parse_sort(text: &str) -> Result<Vec<Sort>, ApiError> {
    let mut sort = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (descending, name) = match part.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, part.strip_prefix('+').unwrap_or(part)),
        };
        let key = SortKey::parse(name).ok_or_else(|| {
            let known: Vec<&str> = SortKey::ALL.iter().map(|k| k.name()).collect();
            ApiError::invalid_query("sort", format!("unknown sort key `{name}`; known: {}", known.join(", ")))
        })?;
        if sort.iter().any(|s: &Sort| s.key == key) {
            return Err(ApiError::invalid_query("sort", format!("`{name}` given twice")));
        }
        sort.push(Sort { key, descending });
    }
    Ok(sort)
}

fn encode_cursor(cursor: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).expect("a cursor serialises"))
}

fn decode_cursor(text: &str, sort_text: &str, order: &[Sort]) -> Result<Vec<SortValue>, ApiError> {
    let bad = || ApiError::invalid_query("cursor", "not a cursor this list issued for this sort");
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let fits = cursor.sort == sort_text
        && cursor.after.len() == order.len()
        && order.iter().zip(&cursor.after).all(|(sort, value)| sort.key.accepts(value));
    if fits {
        Ok(cursor.after)
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_years_and_ranges() {
        assert_eq!(parse_years("2022").unwrap(), (2022, 2022));
        assert_eq!(parse_years("2019..2024").unwrap(), (2019, 2024));
        for bad in ["2024..2019", "22", "2019..", "1989", "x"] {
            assert!(parse_years(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_sort_keys_with_direction() {
        let sort = parse_sort("-total_score,region_code").unwrap();
        assert_eq!(
            sort,
            vec![
                Sort { key: SortKey::TotalScore, descending: true },
                Sort { key: SortKey::RegionCode, descending: false }
            ]
        );
        assert!(parse_sort("-nope").is_err());
        assert!(parse_sort("id,-id").is_err());
    }

    #[test]
    fn cursors_round_trip_and_are_tied_to_their_sort() {
        let order = evaluation_list::total_order(&parse_sort("-total_score").unwrap());
        let cursor = Cursor {
            sort: "-total_score".into(),
            after: vec![SortValue::Decimal(Decimal::new(8950, 2)), SortValue::Int(7)],
        };
        let text = encode_cursor(&cursor);
        assert_eq!(decode_cursor(&text, "-total_score", &order).unwrap(), cursor.after);
        assert!(decode_cursor(&text, "fiscal_year", &order).is_err());
        assert!(decode_cursor("not-base64!", "-total_score", &order).is_err());
    }
}
