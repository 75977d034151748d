//! `GET /api/v1/aggregates`: grouped measures across townships and years, with year-on-year
//! comparison, subtotals, shares and ranks.
use std::collections::BTreeMap;

use actix_web::{get, web, HttpRequest, HttpResponse};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::{
    cache::VersionMemo,
    db::{
        aggregates::{self, GroupQuery, Page},
        data_version::Versions,
        evaluation_list::{self, ListFilter},
    },
    domain::{
        aggregate::{records_in, AggregateRow, Level, Line, MeasureKeys, Row, Shape},
        measures::{parse_measure, Dimension, MeasureSpec},
        record::{EvaluationKind, Grade, Status},
    },
    error::ApiError,
    routes::{
        export::{self, Cell, CellKind, Column, Format, Table},
        invalid_parameter, QueryPairs,
    },
    state::AppState,
};

/// Most rows an aggregate may produce (estimated before it runs).
pub const ROW_CAP: u64 = 50_000;

/// Query parameters of aggregates.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AggregateParams {
    /// Measures from `/api/v1/model`, comma-separated, each with an optional `:sum|avg|min|max|median|p25|p75|count` (a ratio takes none, `records` only `count`); indicator measures are `indicator.<code>.actual` and `indicator.<code>.completion` with a code from the library (422 otherwise)
    #[param(example = json!(["expenditure.total", "three_public.total", "score:avg"]), style = Form, explode = false, min_items = 1)]
    measures: Vec<MeasureText>,
    /// Dimensions to group by, comma-separated, each once and at most one region level (422 otherwise); none = one grand-total row
    #[param(example = json!(["county", "fiscal_year"]), style = Form, explode = false, min_items = 1)]
    group_by: Option<Vec<Dimension>>,
    /// 年度: one year or an inclusive range (`2019..2024`)
    fiscal_year: Option<crate::routes::params::FiscalYears>,
    /// 区划: any ancestor code, comma-separated
    #[param(style = Form, explode = false, min_items = 1)]
    region: Option<Vec<crate::routes::params::RegionCodeText>>,
    /// 审核状态, comma-separated
    #[param(style = Form, explode = false, min_items = 1)]
    status: Option<Vec<Status>>,
    /// 评价类型, comma-separated
    #[param(style = Form, explode = false, min_items = 1)]
    kind: Option<Vec<EvaluationKind>>,
    /// 评价等级, comma-separated
    #[param(style = Form, explode = false, min_items = 1)]
    grade: Option<Vec<Grade>>,
    /// 单位名称包含 (empty: no filter)
    q: Option<crate::routes::params::SearchText>,
    /// `previous_year`: each row also carries the previous year's values, the change and the change in percent (needs fiscal_year in group_by)
    #[param(inline)]
    compare: Option<Compare>,
    /// Subtotal rows for every region level above the grouped one, and a grand total
    rollup: Option<bool>,
    /// Each additive value as a share of its parent region (`parent`) or of the grand total (`total`), 4 decimals
    #[param(inline)]
    share: Option<ShareOf>,
    /// Rank within the parent region, by the first `order` measure (or the first measure), largest first
    rank: Option<bool>,
    /// Only groups with at least this many records
    #[param(minimum = 1)]
    min_count: Option<i64>,
    /// Sort keys: measure keys (`expenditure.total:sum` or `expenditure.total`) or dimensions, `-` for descending; ties are ordered by the grouped dimensions not named, ascending
    #[param(example = json!(["-expenditure.total"]), style = Form, explode = false, min_items = 1)]
    order: Option<Vec<OrderText>>,
    /// Rows per page, 1–1000 (default 100)
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// Opaque cursor from the previous page's `next_cursor`
    cursor: Option<crate::routes::params::Cursor>,
    /// Output format: json (default), csv (UTF-8 with BOM), xlsx or ndjson; `Accept` works too. Exports hold every row (no paging)
    #[param(inline)]
    format: Option<crate::routes::evaluations::list::ExportFormat>,
    /// Labels of csv/xlsx: `en` (default) or `zh` (中文 headers, and Chinese names of level, kind, status and grade)
    #[param(inline)]
    labels: Option<crate::routes::evaluations::list::HeaderLabels>,
}

/// A measure (the pattern is the model's measures: `crate::openapi` states it).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MeasureText(String);

/// A sort key: a grouped dimension or a requested measure, `-` before it for descending.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct OrderText(String);

/// The only comparison.
#[derive(ToSchema)]
#[allow(dead_code)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    PreviousYear,
}

/// What a share is of.
#[derive(ToSchema)]
#[allow(dead_code)]
#[serde(rename_all = "snake_case")]
pub enum ShareOf {
    Parent,
    Total,
}

/// The answer: the normalised query, the records behind it and the rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateResponse {
    /// The query as understood
    #[schema(value_type = Object)]
    pub query: serde_json::Value,
    /// 记录数: records matching the filters
    pub records: i64,
    pub rows: Vec<AggregateRow>,
    pub next_cursor: Option<String>,
    /// The library's definitions of the indicator measures asked for, by code (absent without any)
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub indicators: BTreeMap<String, IndicatorMeasureInfo>,
}

/// What the library says of an indicator an aggregate measures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndicatorMeasureInfo {
    /// 指标名称
    pub name: String,
    /// 计量单位 of its actual values
    pub unit_of_measure: Option<String>,
    /// 指标方向: with `<=`, completion is sum(target) ÷ sum(actual)
    pub direction: Option<crate::domain::record::Direction>,
    pub retired: bool,
}

/// Indicator measures name library codes: each must be in the library (400 otherwise), and
/// takes its name, unit and direction from there.
async fn library_measures(
    conn: &mut diesel_async::AsyncPgConnection,
    measures: &mut [MeasureSpec],
) -> Result<BTreeMap<String, IndicatorMeasureInfo>, ApiError> {
    let codes: Vec<String> =
        measures.iter().filter_map(|m| m.measure.source.indicator_code().map(str::to_owned)).collect();
    if codes.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut known = BTreeMap::new();
    for row in crate::db::indicators::by_codes(conn, &codes).await? {
        let definition = row.into_definition()?;
        known.insert(
            definition.code,
            IndicatorMeasureInfo {
                name: definition.name,
                unit_of_measure: definition.unit_of_measure,
                direction: definition.direction,
                retired: definition.retired,
            },
        );
    }
    for spec in measures.iter_mut() {
        let Some(code) = spec.measure.source.indicator_code().map(str::to_owned) else {
            continue;
        };
        let info = known.get(&code).ok_or_else(|| {
            invalid_parameter(
                "measures",
                "unknown_indicator",
                format!("no indicator `{code}` in the library; GET /api/v1/indicator-definitions lists them"),
            )
        })?;
        crate::domain::measures::describe_indicator(
            &mut spec.measure,
            &info.name,
            info.unit_of_measure.as_deref(),
            info.direction,
        );
    }
    Ok(known)
}

/// The parsed query.
#[derive(Clone)]
struct Plan {
    measures: Vec<MeasureSpec>,
    dimensions: Vec<Dimension>,
    filter: ListFilter,
    compare: bool,
    rollup: bool,
    share: Option<String>,
    rank: bool,
    min_count: i64,
    order: Vec<(String, bool)>,
    limit: usize,
    offset: usize,
    normalised: serde_json::Value,
}

impl Plan {
    /// The order of the lines, when only the detail level's groups are lines (no compare, rollup,
    /// share or rank) and every sort key is a dimension: then a statement can cut the page.
    fn page_order(&self) -> Option<Vec<(Dimension, bool)>> {
        if self.compare || self.rollup || self.share.is_some() || self.rank {
            return None;
        }
        let keys = self.shape().sort_keys();
        keys.iter().map(|(key, descending)| Dimension::parse(key).map(|d| (d, *descending))).collect()
    }

    fn shape(&self) -> Shape<'_> {
        Shape {
            measures: &self.measures,
            dimensions: &self.dimensions,
            fiscal_years: self.filter.fiscal_years,
            compare: self.compare,
            rollup: self.rollup,
            share: self.share.as_deref(),
            rank: self.rank,
            order: &self.order,
        }
    }
}

/// Grouped aggregates: measures by region level, year, kind, status or grade.
///
/// Over the records the filters select. Money sums are exact; ratio measures are ratios of sums.
#[utoipa::path(
    tag = "aggregates",
    params(AggregateParams),
    responses(
        (status = 200, description = "The rows", content(
            (AggregateResponse = "application/json"),
            (String = "text/csv"),
            (String = "application/x-ndjson"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "Malformed or unknown parameter, measure or dimension", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Well formed but not answerable: an indicator code not in the library, two region levels or a dimension twice in group_by, compare without fiscal_year in group_by, share=parent without a region below province, an order key not grouped or requested, a cursor for another query, a backwards year range, or more rows than the cap", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/aggregates")]
pub async fn get_aggregates(
    req: HttpRequest,
    actor: crate::auth::Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = QueryPairs::from_request(&req);
    let format = export::negotiate(&req, &query)?;
    let labels = export::labels(&query)?;
    let mut plan = plan(&query)?;
    plan.filter.visibility = actor.principal.visibility();
    let compute = |versions| aggregate(state.clone(), versions, format, labels, plan);
    crate::routes::conditional::answer(&req, &actor, &state, "/api/v1/aggregates", true, compute).await
}

/// The aggregate of a parsed query at the versions read, in its format.
async fn aggregate(
    state: web::Data<AppState>,
    versions: Versions,
    format: Format,
    labels: export::Labels,
    plan: Plan,
) -> Result<HttpResponse, ApiError> {
    // On a replica whose snapshot holds `versions`, else on the primary (`crate::replicas`).
    let export = format.is_export();
    let (plan, indicators, records, per_level, total_rows, skipped) =
        crate::replicas::on_read!(state.reads, state.pool, versions.data, |conn| async {
            fetch(conn, &state, versions, &plan, export).await
        })?;
    let shape = plan.shape();
    let others = shape.others();

    // Every group becomes a line, ranked and sorted; only the lines on the page are written out.
    let lines = shape.lines(&per_level, total_rows.as_deref(), &others);

    if export {
        return export_rows(format, labels, &plan, lines.into_iter().map(Line::into_output).collect()).await;
    }
    // The lines from the `skipped`th on: every one, or the page and one more when the statement
    // cut the page.
    let total = skipped + lines.len();
    let page: Vec<AggregateRow> =
        lines.into_iter().skip(plan.offset - skipped).take(plan.limit).map(Line::into_output).collect();
    let next_cursor =
        (plan.offset + plan.limit < total).then(|| encode_cursor(&plan.normalised, plan.offset + plan.limit));
    Ok(HttpResponse::Ok().json(AggregateResponse {
        query: plan.normalised,
        records,
        rows: page,
        next_cursor,
        indicators,
    }))
}

/// The grouped rows of each level, the total rows and the record count, read on one read's
/// connection; with the plan whose indicator measures the library has described, and how many
/// of the detail level's first lines the statement left out (its page's offset, when it cut one).
type Fetched = (
    Plan,
    BTreeMap<String, IndicatorMeasureInfo>,
    i64,
    Vec<(String, Vec<Dimension>, Vec<Row>)>,
    Option<Vec<Row>>,
    usize,
);

async fn fetch(
    read: &mut crate::replicas::ReadConn,
    state: &AppState,
    versions: Versions,
    plan: &Plan,
    export: bool,
) -> Result<Fetched, ApiError> {
    let mut plan = plan.clone();
    // A second connection only on the primary: a replica's statements all run in its one
    // checked snapshot.
    let may_split = !read.on_replica();
    let conn: &mut diesel_async::AsyncPgConnection = read;
    let indicators = library_measures(conn, &mut plan.measures).await?;
    estimate_rows(conn, &plan, &state.version_memo, versions.data).await?;
    let names = state.region_names.at(versions.regions, conn).await?;

    // With compare, also aggregate the year before the first requested one.
    let mut fetch_filter = plan.filter.clone();
    if plan.compare {
        if let Some((from, to)) = fetch_filter.fiscal_years {
            fetch_filter.fiscal_years = Some((from - 1, to));
        }
    }
    let shape = plan.shape();
    let others = shape.others();
    let measure_keys = MeasureKeys::new(&plan.measures);
    // A page the statement can cut (its rows in the order the lines sort in, and one more to
    // tell whether a next page exists): only from the sums, whose key index serves the common
    // orders and whose record count is one more cheap read. Over the records, the cut would cost
    // a second scan to count them.
    let page_order = plan
        .page_order()
        .filter(|_| !export && crate::db::sums::answer(&[plan.dimensions.as_slice()], &plan.measures, &fetch_filter));
    let page = page_order.as_deref().map(|order| Page { order, offset: plan.offset, limit: plan.limit + 1 });
    let skipped = if page.is_some() { plan.offset } else { 0 };
    // When no group is left out by `min_count` or by a page, the grouped rows hold the record
    // count too.
    let counted_by_groups = plan.min_count <= 1 && page.is_none();
    let grouping = async {
        let conn: &mut diesel_async::AsyncPgConnection = &mut *conn;
        let levels: Vec<Level> = shape.levels().into_iter().filter(|level| level.needed).collect();
        let dimensions: Vec<&[Dimension]> = levels.iter().map(|level| level.dimensions.as_slice()).collect();
        // Every needed level in one statement: one scan of the records.
        let grouped = aggregates::group(
            conn,
            &GroupQuery {
                levels: &dimensions,
                measures: &plan.measures,
                filter: &fetch_filter,
                min_count: plan.min_count,
                names: &names,
                page,
            },
        )
        .await?;
        let records = counted_by_groups.then(|| {
            let first_year = plan.filter.fiscal_years.filter(|_| plan.compare).map(|(from, _)| from);
            records_in(&grouped[0], dimensions[0], first_year)
        });
        let mut total_rows: Option<Vec<Row>> = None;
        let mut per_level: Vec<(String, Vec<Dimension>, Vec<Row>)> = Vec::new();
        for (Level { name, dimensions, .. }, rows) in levels.into_iter().zip(grouped) {
            let rows: Vec<Row> = rows.into_iter().map(|r| Row::finish(r, &plan.measures, &measure_keys)).collect();
            if name == "total" {
                total_rows = Some(rows.clone());
            }
            per_level.push((name, dimensions, rows));
        }
        if shape.needs_separate_total() {
            let rows = aggregates::group(
                conn,
                &GroupQuery {
                    levels: &[others.as_slice()],
                    measures: &plan.measures,
                    filter: &fetch_filter,
                    min_count: 1,
                    names: &names,
                    page: None,
                },
            )
            .await?
            .remove(0);
            total_rows = Some(rows.into_iter().map(|r| Row::finish(r, &plan.measures, &measure_keys)).collect());
        }
        Ok::<_, ApiError>((records, per_level, total_rows))
    };
    // Otherwise the records are counted on their own: when a second connection is free at once,
    // on that one meanwhile, so PostgreSQL runs both scans on two cores.
    let mut spare = if counted_by_groups || !may_split { None } else { crate::db::spare(&state.pool).await };
    let (records, per_level, total_rows) = match spare.as_deref_mut() {
        Some(other) => {
            let (records, (_, per_level, total_rows)) = futures_util::try_join!(
                async { evaluation_list::count(other, &plan.filter).await.map_err(ApiError::from) },
                grouping
            )?;
            (records, per_level, total_rows)
        }
        None => {
            let (records, per_level, total_rows) = grouping.await?;
            let records = match records {
                Some(records) => records,
                None => evaluation_list::count(conn, &plan.filter).await?,
            };
            (records, per_level, total_rows)
        }
    };
    drop(spare);
    Ok((plan, indicators, records, per_level, total_rows, skipped))
}

/// The rows as a table for csv, xlsx or ndjson: level, the dimensions (regions as code and
/// name), the record count, then per measure its value and, when asked for, previous value,
/// change, change in percent and share, and the rank.
async fn export_rows(
    format: Format,
    labels: export::Labels,
    plan: &Plan,
    rows: Vec<AggregateRow>,
) -> Result<HttpResponse, ApiError> {
    let mut columns = vec![Column::new("level", "层级", CellKind::Text).with_values_zh(level_zh)];
    for dimension in &plan.dimensions {
        if dimension.code_len().is_some() {
            columns.push(Column::new(
                format!("{}_code", dimension.as_str()),
                format!("{}代码", dimension.label_zh()),
                CellKind::Text,
            ));
            columns.push(Column::new(
                format!("{}_name", dimension.as_str()),
                format!("{}名称", dimension.label_zh()),
                CellKind::Text,
            ));
        } else {
            let kind = if *dimension == Dimension::FiscalYear { CellKind::Integer } else { CellKind::Text };
            let column = Column::new(dimension.as_str(), dimension.label_zh(), kind);
            columns.push(match dimension {
                Dimension::Kind => column.with_values_zh(export::kind_zh),
                Dimension::Status => column.with_values_zh(export::status_zh),
                Dimension::Grade => column.with_values_zh(export::grade_zh),
                _ => column,
            });
        }
    }
    columns.push(Column::new("records", "记录数", CellKind::Integer));
    let extras: Vec<(&str, &str, bool)> = [
        ("previous", "上年", plan.compare),
        ("change", "增减额", plan.compare),
        ("change_pct", "增减率", plan.compare),
        ("share", "占比", plan.share.is_some()),
    ]
    .into_iter()
    .filter(|e| e.2)
    .collect();
    for spec in &plan.measures {
        let label = format!("{}({})", spec.measure.label_zh, spec.aggregation.as_str());
        columns.push(Column::new(spec.key(), label.clone(), CellKind::Decimal));
        for (name, label_zh, _) in &extras {
            columns.push(Column::new(
                format!("{}.{name}", spec.key()),
                format!("{label}{label_zh}"),
                CellKind::Decimal,
            ));
        }
    }
    if plan.rank {
        columns.push(Column::new("rank", "排名", CellKind::Integer));
    }
    let cells: Vec<Vec<Cell>> = rows
        .into_iter()
        .map(|row| {
            let mut cells = vec![Cell::from(row.level.as_str())];
            for dimension in &plan.dimensions {
                let value = row.group.get(dimension.as_str());
                if dimension.code_len().is_some() {
                    cells.push(value.and_then(|v| v["code"].as_str()).map(Cell::from).unwrap_or(Cell::Null));
                    cells.push(value.and_then(|v| v["name"].as_str()).map(Cell::from).unwrap_or(Cell::Null));
                } else {
                    cells.push(match value {
                        Some(serde_json::Value::Number(n)) => n.as_i64().map(Cell::Integer).unwrap_or(Cell::Null),
                        Some(serde_json::Value::String(text)) => Cell::from(text.as_str()),
                        _ => Cell::Null,
                    });
                }
            }
            cells.push(Cell::Integer(row.records));
            for spec in &plan.measures {
                let key = spec.key();
                cells.push(Cell::from(row.values.get(&key)));
                for (name, _, _) in &extras {
                    let value = match *name {
                        "previous" => row.previous.as_ref().and_then(|p| p.as_ref()).and_then(|p| p.get(&key)),
                        "change" => row.change.as_ref().and_then(|c| c.get(&key)),
                        "change_pct" => row.change_pct.as_ref().and_then(|c| c.get(&key)),
                        _ => row.share.as_ref().and_then(|c| c.get(&key)),
                    };
                    cells.push(Cell::from(value));
                }
            }
            if plan.rank {
                cells.push(Cell::from(row.rank));
            }
            cells
        })
        .collect();
    let table = Table { columns, labels, file_stem: "aggregates" };
    export::respond(format, table, futures_util::stream::iter([Ok(cells)])).await
}

/// 层级 with `labels=zh`: 明细 for grouped rows, a subtotal by its region level, 总计.
fn level_zh(level: &str) -> Option<&'static str> {
    Some(match level {
        "detail" => "明细",
        "province" => "省小计",
        "prefecture" => "市(州)小计",
        "county" => "县(市、区)小计",
        "total" => "总计",
        _ => return None,
    })
}

fn plan(query: &QueryPairs) -> Result<Plan, ApiError> {
    query.only(&[
        "measures",
        "group_by",
        "fiscal_year",
        "region",
        "status",
        "kind",
        "grade",
        "q",
        "compare",
        "rollup",
        "share",
        "rank",
        "min_count",
        "order",
        "limit",
        "cursor",
        "format",
        "labels",
    ])?;
    let measure_names = query.all("measures")?;
    if measure_names.is_empty() {
        return Err(ApiError::invalid_query("measures", "name at least one measure; GET /api/v1/model lists them"));
    }
    let mut measures: Vec<MeasureSpec> = Vec::new();
    for name in &measure_names {
        let spec = parse_measure(name).map_err(|message| ApiError::invalid_query("measures", message))?;
        if !measures.iter().any(|m| m.key() == spec.key()) {
            measures.push(spec);
        }
    }
    let mut dimensions: Vec<Dimension> = Vec::new();
    for name in query.all("group_by")? {
        let dimension = Dimension::parse(&name).ok_or_else(|| {
            ApiError::invalid_query(
                "group_by",
                format!("unknown dimension `{name}`; use province, prefecture, county, township, fiscal_year, kind, status or grade"),
            )
        })?;
        if dimensions.contains(&dimension) {
            return Err(invalid_parameter("group_by", "repeated_dimension", format!("`{name}` given twice")));
        }
        dimensions.push(dimension);
    }
    if dimensions.iter().filter(|d| d.code_len().is_some()).count() > 1 {
        return Err(invalid_parameter("group_by", "one_region_level", "group by at most one region level"));
    }
    let filter = crate::routes::filters::parse_filter(query)?;
    let compare = match query.one("compare")? {
        None => false,
        Some("previous_year") => true,
        Some(_) => return Err(ApiError::invalid_query("compare", "the only value is `previous_year`")),
    };
    if compare && !dimensions.contains(&Dimension::FiscalYear) {
        return Err(invalid_parameter(
            "compare",
            "needs_fiscal_year",
            "compare=previous_year needs fiscal_year in group_by",
        ));
    }
    let flag = |name: &str| -> Result<bool, ApiError> {
        match query.one(name)? {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::invalid_query(name, "must be true or false")),
        }
    };
    let rollup = flag("rollup")?;
    let rank = flag("rank")?;
    let share = match query.one("share")? {
        None => None,
        Some(mode @ ("parent" | "total")) => Some(mode.to_owned()),
        Some(_) => return Err(ApiError::invalid_query("share", "must be `parent` or `total`")),
    };
    let region = dimensions.iter().copied().find(|d| d.code_len().is_some());
    if share.as_deref() == Some("parent") && region.and_then(|r| r.parent()).is_none() {
        return Err(invalid_parameter(
            "share",
            "needs_region",
            "share=parent needs a region level below province in group_by",
        ));
    }
    let min_count = match query.one("min_count")? {
        None => 1,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| ApiError::invalid_query("min_count", "must be a whole number of at least 1"))?,
    };
    let mut order = Vec::new();
    for part in query.all("order")? {
        let (descending, name) = match part.strip_prefix('-') {
            Some(name) => (true, name.to_owned()),
            None => (false, part.clone()),
        };
        let key = match Dimension::parse(&name) {
            Some(dimension) if dimensions.contains(&dimension) => name,
            Some(_) => {
                return Err(invalid_parameter("order", "not_grouped", format!("`{name}` is not in group_by")));
            }
            None => {
                let spec = parse_measure(&name).map_err(|_| {
                    ApiError::invalid_query("order", format!("`{name}` is neither a dimension nor a measure"))
                })?;
                if !measures.iter().any(|m| m.key() == spec.key()) {
                    return Err(invalid_parameter(
                        "order",
                        "not_requested",
                        format!("`{name}` is not among the requested measures"),
                    ));
                }
                spec.key()
            }
        };
        order.push((key, descending));
    }
    let limit = query.limit(100, 1000)? as usize;
    let mut normalised = serde_json::json!({
        "measures": measures.iter().map(MeasureSpec::key).collect::<Vec<_>>(),
        "group_by": dimensions.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
        "filters": {
            "fiscal_year": filter.fiscal_years.map(|(a, b)| if a == b { a.to_string() } else { format!("{a}..{b}") }),
            "region": filter.region_prefixes,
            "status": filter.statuses,
            "kind": filter.kinds,
            "grade": filter.grades,
            "q": filter.unit_contains,
        },
        "compare": compare.then_some("previous_year"),
        "rollup": rollup,
        "share": share,
        "rank": rank,
        "min_count": min_count,
        "order": order.iter().map(|(k, d)| if *d { format!("-{k}") } else { k.clone() }).collect::<Vec<_>>(),
        "limit": limit,
    });
    let offset = match query.one("cursor")? {
        None => 0,
        Some(cursor) => decode_cursor(cursor, &normalised)
            .ok_or_else(|| crate::routes::bad_cursor("cursor", cursor, "not a cursor for this query"))?,
    };
    normalised["offset"] = offset.into();
    Ok(Plan { measures, dimensions, filter, compare, rollup, share, rank, min_count, order, limit, offset, normalised })
}

/// Refuses a grouping whose possible rows exceed the cap, before running it. The counts it needs
/// from the database (years with records, divisions at a level) are kept for the data version,
/// so a repeated dashboard query sends no statement for them.
async fn estimate_rows(
    conn: &mut diesel_async::AsyncPgConnection,
    plan: &Plan,
    memo: &VersionMemo,
    version: i64,
) -> Result<(), ApiError> {
    let mut estimate: u64 = 1;
    for dimension in &plan.dimensions {
        let cardinality = match dimension {
            Dimension::FiscalYear => match plan.filter.fiscal_years {
                Some((from, to)) => (to - from + 1) as u64,
                None => match memo.get(version, "years") {
                    Some(years) => years,
                    None => {
                        let years = crate::db::evaluation_list::distinct_years(conn).await? as u64;
                        memo.put(version, "years".to_owned(), years);
                        years
                    }
                },
            },
            Dimension::Kind => 4,
            Dimension::Status => 5,
            Dimension::Grade => 5,
            region => {
                let key = format!("{}:{}", region.as_str(), plan.filter.region_prefixes.join(","));
                match memo.get(version, &key) {
                    Some(count) => count,
                    None => {
                        let count =
                            crate::db::regions::count_at_level(conn, region.as_str(), &plan.filter.region_prefixes)
                                .await? as u64;
                        memo.put(version, key, count);
                        count
                    }
                }
            }
        };
        estimate = estimate.saturating_mul(cardinality.max(1));
    }
    if estimate > ROW_CAP {
        return Err(invalid_parameter(
            "group_by",
            "too_many_rows",
            format!("this grouping can produce up to {estimate} rows, above the cap of {ROW_CAP}; narrow fiscal_year or region"),
        ));
    }
    Ok(())
}

fn encode_cursor(query: &serde_json::Value, offset: usize) -> String {
    let mut key = query.clone();
    key["offset"] = serde_json::Value::Null;
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&serde_json::json!({"q": key, "o": offset})).unwrap_or_default())
}

fn decode_cursor(cursor: &str, query: &serde_json::Value) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let mut key = query.clone();
    key["offset"] = serde_json::Value::Null;
    (value["q"] == key).then(|| value["o"].as_u64()).flatten().map(|o| o as usize)
}
