//! `GET /api/v1/evaluations`
use actix_web::{get, web, HttpRequest, HttpResponse};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    db::data_version::Versions,
    db::evaluation_list::{self, EvaluationSummaryRow, ListFilter, Sort, SortKey, SortValue},
    domain::record::{EvaluationKind, Grade, Status},
    error::ApiError,
    routes::{
        bad_cursor,
        export::{self, Cell, CellKind, Column, Format, Labels, Rows, Table},
        invalid_parameter, QueryPairs,
    },
    state::AppState,
};

/// Rows fetched per database round trip in an export.
const EXPORT_PAGE_SIZE: i64 = 1000;

/// Query parameters of the record list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct EvaluationListParams {
    /// 年度: one year (`2022`) or an inclusive range (`2019..2024`)
    #[param(example = "2022")]
    fiscal_year: Option<crate::routes::params::FiscalYears>,
    /// 区划: any ancestor code (2/4/6/9 digits, or 12), comma-separated; a record matches any
    #[param(example = json!(["4304"]), style = Form, explode = false, min_items = 1)]
    region: Option<Vec<crate::routes::params::RegionCodeText>>,
    /// 审核状态, comma-separated
    #[param(style = Form, explode = false, min_items = 1)]
    status: Option<Vec<Status>>,
    /// 评价类型, comma-separated
    #[param(style = Form, explode = false, min_items = 1)]
    kind: Option<Vec<EvaluationKind>>,
    /// 评价等级, as stated or else as computed, comma-separated
    #[param(style = Form, explode = false, min_items = 1)]
    grade: Option<Vec<Grade>>,
    /// 单位名称或项目名称包含 (unit or project name contains; empty: no filter)
    q: Option<crate::routes::params::SearchText>,
    /// Records written (created, replaced or moved in review) at or after this RFC 3339 time.
    /// A write is stamped when its transaction starts, so one that commits late can carry an
    /// earlier time: for a copy that misses nothing, and for deletions, follow `/changes`.
    #[param(example = "2026-12-01T00:00:00Z")]
    updated_since: Option<DateTime<Utc>>,
    /// Sort keys, comma-separated, `-` for descending: id, fiscal_year, region_code, unit, kind,
    /// status, total_score, income_total, expenditure_total, three_public_total, created_at,
    /// updated_at. Missing amounts sort below every amount. Default `id`.
    #[param(example = json!(["-total_score", "region_code"]), style = Form, explode = false, min_items = 1)]
    sort: Option<Vec<SortText>>,
    /// Page size, 1–1000 (default 50). In an export (`format` other than json), the most
    /// records to export (default all).
    #[param(minimum = 1)]
    limit: Option<i64>,
    /// Opaque cursor from the previous page's `next_cursor` (same filters and sort); not in
    /// an export
    cursor: Option<crate::routes::params::Cursor>,
    /// `exact` adds `total`, the number of matching records; not in an export
    #[param(inline)]
    count: Option<CountMode>,
    /// 导出格式 (export format): `json` (default, paginated), or every matching record as `csv`
    /// (UTF-8 with BOM, streamed), `ndjson` (one summary per line, streamed) or `xlsx` (at
    /// most 100,000 rows). Wins over the `Accept` header (`text/csv`, `application/x-ndjson`,
    /// `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`).
    #[param(inline)]
    format: Option<ExportFormat>,
    /// 表头语言 (labels) of csv and xlsx: `en` column names and codes (default), or `zh` Chinese
    /// headers (`支出总计(元)`) and Chinese names of the codes of kind, status and grade (`草稿`)
    #[param(inline)]
    labels: Option<HeaderLabels>,
}

/// A sort key, `-` before it for descending (`+` or nothing: ascending).
#[derive(ToSchema)]
#[schema(
    pattern = "^[-+]?(?:id|fiscal_year|region_code|unit|kind|status|total_score|income_total|expenditure_total|three_public_total|created_at|updated_at)$"
)]
#[allow(dead_code)]
pub struct SortText(String);

/// Response format of a list.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ExportFormat {
    Json,
    Csv,
    Ndjson,
    Xlsx,
}

/// Labels of an export: column names and codes, or Chinese headers and names.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum HeaderLabels {
    En,
    Zh,
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
    /// 项目名称: of a project record
    pub project_name: Option<String>,
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
    #[serde(serialize_with = "serialize_timestamp")]
    pub created_at: DateTime<Utc>,
    /// 更新时间
    #[serde(serialize_with = "serialize_timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// A timestamp exactly as chrono's `Serialize` writes it (RFC 3339 in UTC with `Z`, the
/// fraction in 3, 6 or 9 digits or none), written into a stack buffer instead of through
/// `fmt`: two timestamps on each of 50 rows made the formatter about 4% of a list page's CPU.
fn serialize_timestamp<S: serde::Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    use chrono::{Datelike, Timelike};
    let year = time.year();
    let nanos = time.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return time.serialize(serializer);
    }
    fn put(buf: &mut [u8], mut value: u32) {
        for byte in buf.iter_mut().rev() {
            *byte = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    let mut buf = *b"0000-00-00T00:00:00.000000000Z";
    put(&mut buf[0..4], year as u32);
    put(&mut buf[5..7], time.month());
    put(&mut buf[8..10], time.day());
    put(&mut buf[11..13], time.hour());
    put(&mut buf[14..16], time.minute());
    put(&mut buf[17..19], time.second());
    let end = match nanos {
        0 => 19,
        n if n % 1_000_000 == 0 => {
            put(&mut buf[20..23], n / 1_000_000);
            23
        }
        n if n % 1_000 == 0 => {
            put(&mut buf[20..26], n / 1_000);
            26
        }
        n => {
            put(&mut buf[20..29], n);
            29
        }
    };
    buf[end] = b'Z';
    serializer.serialize_str(std::str::from_utf8(&buf[..=end]).expect("ASCII digits"))
}

impl From<EvaluationSummaryRow> for EvaluationSummary {
    fn from(row: EvaluationSummaryRow) -> Self {
        Self {
            id: row.id,
            region_code: row.region_code,
            region_name: row.region_name,
            fiscal_year: i32::from(row.fiscal_year),
            kind: row.kind,
            unit: row.unit,
            project_name: row.project_name,
            status: row.status,
            revision: row.revision,
            income_total: row.income_total,
            expenditure_total: row.expenditure_total,
            three_public_total: row.three_public_total,
            total_score: row.total_score,
            grade: row.grade,
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

/// List record summaries, filtered, sorted and paginated by keyset; or export them all.
///
/// With `format=csv|ndjson|xlsx` (or `Accept: text/csv`, `application/x-ndjson`, the XLSX type)
/// the answer is every matching record, in the same sort, as a download; `limit` caps it.
#[utoipa::path(
    tag = "evaluations",
    params(EvaluationListParams),
    responses(
        (status = 200, description = "A page of record summaries (JSON); or, with `format` or `Accept`, every \
            matching record as a download (`Content-Disposition: attachment; filename=\"evaluations.csv\"`): CSV \
            with a UTF-8 BOM and a header row, NDJSON with one `EvaluationSummary` per line, or an XLSX workbook \
            with one sheet. CSV and NDJSON stream; a failure part-way cuts the response short.",
            content(
                (EvaluationPage = "application/json"),
                (String = "text/csv"),
                (String = "application/x-ndjson"),
                ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )
        ),
        (status = 400, description = "Malformed or unknown parameter, or `cursor`/`count` in an export", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Well formed but not answerable: an xlsx export of more than 100,000 records (`format`, `too_many_rows`), a page above 1000, a cursor for another sort, `cursor` or `count` in an export, a sort key twice, a backwards year range", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/evaluations")]
pub async fn list_evaluations(
    req: HttpRequest,
    actor: crate::auth::Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = QueryPairs::from_request(&req);
    query.only(&[
        "fiscal_year",
        "region",
        "status",
        "kind",
        "grade",
        "q",
        "updated_since",
        "sort",
        "limit",
        "cursor",
        "count",
        "format",
        "labels",
    ])?;
    let format = export::negotiate(&req, &query)?;
    let labels = export::labels(&query)?;
    let mut filter = crate::routes::filters::parse_filter(&query)?;
    filter.visibility = actor.principal.visibility();
    filter.updated_since = match query.one("updated_since")? {
        None => None,
        Some(text) => Some(
            DateTime::parse_from_rfc3339(text)
                .map_err(|_| {
                    ApiError::invalid_query("updated_since", "must be an RFC 3339 time (2026-12-01T08:00:00Z)")
                })?
                .with_timezone(&Utc),
        ),
    };
    let sort_text = query.one("sort")?.unwrap_or("id").to_owned();
    let sort = parse_sort(&sort_text)?;
    if format.is_export() {
        // Streamed, so not kept; still answered 304 when nothing changed.
        let compute =
            |versions: Versions| export_evaluations(state.clone(), versions.data, &query, format, labels, filter, sort);
        return crate::routes::conditional::answer(&req, &actor, &state, "/api/v1/evaluations", false, compute).await;
    }
    let order = evaluation_list::total_order(&sort);
    let after = match query.one("cursor")? {
        None => None,
        Some(text) => Some(decode_cursor(text, &sort_text, &order)?),
    };
    // The document states no maximum, because an export takes any `limit`; a page holds 1000.
    let limit = match query.limit(50, i64::MAX)? {
        n if n > 1000 => {
            return Err(invalid_parameter(
                "limit",
                "page_too_large",
                "a page holds at most 1000 records; an export (format=csv, ndjson or xlsx) holds more",
            ))
        }
        n => n,
    };
    let count = match query.one("count")? {
        None => false,
        Some("exact") => true,
        Some(_) => return Err(ApiError::invalid_query("count", "the only value is `exact`")),
    };
    let reading = state.clone();
    let compute = |versions: Versions| async move {
        // On a replica whose snapshot holds `versions`, else on the primary (`crate::replicas`).
        let (rows, next, total) =
            crate::replicas::on_read!(reading.reads, reading.pool, versions.data, |conn| async {
                let (rows, next) = evaluation_list::page(conn, &filter, &sort, after.clone(), limit).await?;
                let total = if count { Some(evaluation_list::count(conn, &filter).await?) } else { None };
                Ok::<_, ApiError>((rows, next, total))
            })?;
        let next_cursor = next.map(|after| encode_cursor(&Cursor { sort: sort_text, after }));
        let page =
            EvaluationPage { items: rows.into_iter().map(EvaluationSummary::from).collect(), next_cursor, total };
        // Sized for the page up front (a summary is about 400 bytes), not grown by doubling.
        let mut body = Vec::with_capacity(128 + 512 * page.items.len());
        serde_json::to_writer(&mut body, &page).map_err(|e| ApiError::Internal(e.into()))?;
        Ok(HttpResponse::Ok().content_type(actix_web::http::header::ContentType::json()).body(body))
    };
    crate::routes::conditional::answer(&req, &actor, &state, "/api/v1/evaluations", true, compute).await
}

/// Every matching record in an export format, fetched a page at a time, each page holding every
/// write up to data version `at` (on a replica when one does, `crate::replicas`).
async fn export_evaluations(
    state: web::Data<AppState>,
    at: i64,
    query: &QueryPairs,
    format: Format,
    labels: Labels,
    filter: ListFilter,
    sort: Vec<Sort>,
) -> Result<HttpResponse, ApiError> {
    for name in ["cursor", "count"] {
        if query.one(name)?.is_some() {
            return Err(invalid_parameter(
                name,
                "not_in_export",
                "not used in an export, which holds every matching record",
            ));
        }
    }
    let cap = match query.one("limit")? {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ApiError::invalid_query("limit", "must be a whole number of at least 1"))?,
        ),
    };
    if format == Format::Xlsx {
        let matching = crate::replicas::on_read!(state.reads, state.pool, at, |conn| async {
            evaluation_list::count(conn, &filter).await.map_err(ApiError::from)
        })?;
        let rows = cap.map_or(matching, |cap| cap.min(matching));
        if rows > export::XLSX_MAX_ROWS as i64 {
            return Err(export::too_many_rows_for_xlsx(rows));
        }
    }

    /// Where the next page starts, and how many rows `limit` still allows.
    struct Position {
        after: Option<Vec<SortValue>>,
        remaining: Option<i64>,
    }
    let rows = export::pages(Position { after: None, remaining: cap }, move |position: Position| {
        let (state, filter, sort) = (state.clone(), filter.clone(), sort.clone());
        async move {
            let size = position.remaining.map_or(EXPORT_PAGE_SIZE, |r| r.min(EXPORT_PAGE_SIZE));
            // A connection per page: a slow download holds none while the client reads.
            let (page, next) = crate::replicas::on_read!(state.reads, state.pool, at, |conn| async {
                evaluation_list::page(conn, &filter, &sort, position.after.clone(), size).await.map_err(ApiError::from)
            })?;
            let remaining = position.remaining.map(|r| r - page.len() as i64);
            let next = next
                .filter(|_| remaining.is_none_or(|r| r > 0))
                .map(|after| Position { after: Some(after), remaining });
            let rows: Rows = page.into_iter().map(|row| summary_cells(EvaluationSummary::from(row))).collect();
            Ok((rows, next))
        }
    });
    export::respond(format, Table { columns: summary_columns(), labels, file_stem: "evaluations" }, rows).await
}

/// The export's columns: the fields of [`EvaluationSummary`], labelled as its docs say.
fn summary_columns() -> Vec<Column> {
    use CellKind::{Decimal, Integer, Text};
    [
        ("id", "记录编号", Integer),
        ("region_code", "区划代码", Text),
        ("region_name", "区划名称", Text),
        ("fiscal_year", "年度", Integer),
        ("kind", "评价类型", Text),
        ("unit", "单位名称", Text),
        ("project_name", "项目名称", Text),
        ("status", "审核状态", Text),
        ("revision", "版本号", Integer),
        ("income_total", "收入总计(元)", Decimal),
        ("expenditure_total", "支出总计(元)", Decimal),
        ("three_public_total", "三公经费合计(元)", Decimal),
        ("total_score", "总得分", Decimal),
        ("grade", "评价等级", Text),
        ("created_at", "创建时间", Text),
        ("updated_at", "更新时间", Text),
    ]
    .into_iter()
    .map(|(name, label, kind)| {
        let column = Column::new(name, label, kind);
        match name {
            "kind" => column.with_values_zh(export::kind_zh),
            "status" => column.with_values_zh(export::status_zh),
            "grade" => column.with_values_zh(export::grade_zh),
            _ => column,
        }
    })
    .collect()
}

/// One summary as cells in [`summary_columns`] order, each written as the JSON list writes it.
fn summary_cells(summary: EvaluationSummary) -> Vec<Cell> {
    let time = |t: DateTime<Utc>| Cell::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
    vec![
        summary.id.into(),
        summary.region_code.into(),
        summary.region_name.into(),
        summary.fiscal_year.into(),
        plain(&summary.kind),
        summary.unit.into(),
        summary.project_name.map_or(Cell::Null, Cell::Text),
        plain(&summary.status),
        summary.revision.into(),
        summary.income_total.into(),
        summary.expenditure_total.into(),
        summary.three_public_total.into(),
        summary.total_score.into(),
        summary.grade.as_ref().map_or(Cell::Null, plain),
        time(summary.created_at),
        time(summary.updated_at),
    ]
}

/// An enum value as its JSON string (`department_overall`).
fn plain<T: Serialize>(value: &T) -> Cell {
    Cell::Text(serde_plain::to_string(value).expect("a unit variant serialises as plain text"))
}

fn parse_sort(text: &str) -> Result<Vec<Sort>, ApiError> {
    let mut sort = Vec::new();
    for part in text.split(',') {
        let (descending, name) = match part.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, part.strip_prefix('+').unwrap_or(part)),
        };
        let key = SortKey::parse(name).ok_or_else(|| {
            let known: Vec<&str> = SortKey::ALL.iter().map(|k| k.name()).collect();
            ApiError::invalid_query("sort", format!("unknown sort key `{name}`; known: {}", known.join(", ")))
        })?;
        if sort.iter().any(|s: &Sort| s.key == key) {
            return Err(invalid_parameter("sort", "repeated_key", format!("`{name}` given twice")));
        }
        sort.push(Sort { key, descending });
    }
    Ok(sort)
}

fn encode_cursor(cursor: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).expect("a cursor serialises"))
}

fn decode_cursor(text: &str, sort_text: &str, order: &[Sort]) -> Result<Vec<SortValue>, ApiError> {
    let bad = || bad_cursor("cursor", text, "not a cursor this list issued for this sort");
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
    fn timestamps_are_written_exactly_as_chrono_writes_them() {
        #[derive(Serialize)]
        struct Fast(#[serde(serialize_with = "serialize_timestamp")] DateTime<Utc>);
        let base = DateTime::parse_from_rfc3339("2026-11-28T15:23:36Z").unwrap().with_timezone(&Utc);
        let mut times = vec![
            base,
            DateTime::parse_from_rfc3339("0001-01-01T00:00:00.5Z").unwrap().with_timezone(&Utc),
            DateTime::parse_from_rfc3339("9999-12-31T23:59:59.999999999Z").unwrap().with_timezone(&Utc),
            DateTime::parse_from_rfc3339("2000-02-29T08:09:10.010Z").unwrap().with_timezone(&Utc),
            // Years outside 0–9999 fall back to chrono.
            chrono::NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc(),
            chrono::NaiveDate::from_ymd_opt(-5, 6, 7).unwrap().and_hms_milli_opt(1, 2, 3, 4).unwrap().and_utc(),
        ];
        // Every fraction length: none, milliseconds, microseconds (PostgreSQL's), nanoseconds.
        let mut step: i64 = 1;
        for _ in 0..2_000 {
            step = step.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let nanos = step.rem_euclid(3_000_000_000_000_000_000);
            let rounding = [1, 1_000, 1_000_000, 1_000_000_000][(step >> 60 & 3) as usize];
            times.push(DateTime::from_timestamp_nanos(nanos - nanos % rounding));
        }
        for time in times {
            assert_eq!(serde_json::to_string(&Fast(time)).unwrap(), serde_json::to_string(&time).unwrap(), "{time:?}");
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

    #[test]
    fn export_columns_are_the_summary_fields_labelled_by_their_docs() {
        use utoipa::{
            openapi::{RefOr, Schema},
            PartialSchema,
        };
        let RefOr::T(Schema::Object(schema)) = EvaluationSummary::schema() else { panic!("an object schema") };
        // In declaration order (utoipa's `preserve_order`).
        let properties: Vec<(String, serde_json::Value)> =
            schema.properties.into_iter().map(|(name, p)| (name, serde_json::to_value(p).unwrap())).collect();
        let columns = summary_columns();
        assert_eq!(
            columns.iter().map(|c| c.name.as_ref()).collect::<Vec<_>>(),
            properties.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>()
        );
        fn description(value: &serde_json::Value) -> Option<&str> {
            value["description"].as_str().or_else(|| value["oneOf"].as_array()?.iter().find_map(description))
        }
        for (column, (_, property)) in columns.iter().zip(&properties) {
            let doc = description(property).unwrap();
            let chinese: String = doc.split(':').next().unwrap().chars().filter(|c| *c != ' ').collect();
            assert_eq!(column.label_zh, chinese, "{}", column.name);
        }
    }

    #[test]
    fn export_cells_are_written_as_the_json_list_writes_them() {
        let time = "2024-03-01T08:00:00.123456Z".parse::<DateTime<Utc>>().unwrap();
        let summary = || EvaluationSummary {
            id: 7,
            region_code: "430482104".into(),
            region_name: "荫田镇".into(),
            fiscal_year: 2022,
            kind: EvaluationKind::DepartmentOverall,
            unit: "常宁市荫田镇人民政府".into(),
            project_name: None,
            status: Status::Draft,
            revision: 1,
            income_total: Some(Decimal::new(1_809_480_000, 2)),
            expenditure_total: None,
            three_public_total: Some(Decimal::new(0, 2)),
            total_score: Some(Decimal::new(89_5000, 4)),
            grade: Some(Grade::Good),
            created_at: time,
            updated_at: time,
        };
        let json = serde_json::to_value(summary()).unwrap();
        let columns = summary_columns();
        for (column, cell) in columns.iter().zip(summary_cells(summary())) {
            let expected = &json[column.name.as_ref()];
            let actual = match cell {
                Cell::Null => serde_json::Value::Null,
                Cell::Text(text) => text.into(),
                Cell::Integer(n) => n.into(),
                Cell::Decimal(d) => d.to_string().into(),
            };
            assert_eq!(&actual, expected, "{}", column.name);
        }
    }
}
