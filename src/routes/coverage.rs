//! `GET /api/v1/coverage`: which townships under a region have filed for a year, per child region.
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::{
    db::{coverage, coverage::ChildCoverageRow, regions},
    domain::{
        record::EvaluationKind,
        region_code::{RegionCode, RegionLevel},
        validation::FISCAL_YEARS,
    },
    error::ApiError,
    routes::QueryPairs,
    state::AppState,
};

/// Query parameters of the coverage report.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CoverageParams {
    /// 区划代码: 2, 4, 6, 9 or 12 digits; the report is per direct child (a township reports itself)
    #[param(example = "430482")]
    region: crate::routes::params::RegionCodeText,
    /// 年度 (fiscal year), 1990–2100
    #[param(example = 2022, minimum = 1990, maximum = 2100)]
    fiscal_year: i32,
    /// 评价类型: only records of this kind count as filed (default: any kind)
    kind: Option<EvaluationKind>,
}

/// Records by review status (审核状态).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusCounts {
    /// 草稿
    pub draft: i64,
    /// 已提交
    pub submitted: i64,
    /// 已退回
    pub returned: i64,
    /// 已审核
    pub approved: i64,
    /// 已公开
    pub published: i64,
}

impl std::ops::AddAssign for StatusCounts {
    fn add_assign(&mut self, other: Self) {
        self.draft += other.draft;
        self.submitted += other.submitted;
        self.returned += other.returned;
        self.approved += other.approved;
        self.published += other.published;
    }
}

/// A region and its filing figures (填报情况) for the year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoverageSummary {
    /// 区划代码
    #[schema(example = "430482")]
    pub code: String,
    /// 名称
    #[schema(example = "常宁市")]
    pub name: String,
    /// 级别
    pub level: RegionLevel,
    /// 应报乡镇数: townships under the region in the division table
    #[schema(example = 26)]
    pub expected: i64,
    /// 已报乡镇数: townships with at least one record of the year (and kind), published or not,
    /// whoever asks
    #[schema(example = 3)]
    pub filed: i64,
    /// 记录数（按审核状态）: the filed records the caller may see, by status; a township may have
    /// several. Anonymous callers see published records only
    pub by_status: StatusCounts,
    /// 已报未公开记录数: filed records not yet published (draft, submitted, returned or approved),
    /// counted for every caller, including those who may not see them: a count, no ids or names
    #[schema(example = 2)]
    pub filed_unpublished: i64,
}

/// A township that has not filed (未报乡镇): no record of the year (and kind) at all.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnfiledTownship {
    /// 区划代码
    #[schema(example = "430482001")]
    pub code: String,
    /// 名称
    #[schema(example = "宜阳街道")]
    pub name: String,
}

/// One child region: its figures and the townships under it that have not filed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChildCoverage {
    #[serde(flatten)]
    pub summary: CoverageSummary,
    /// 未报乡镇, in code order
    pub missing: Vec<UnfiledTownship>,
}

/// Filing coverage (填报覆盖情况) of a region for a year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoverageReport {
    /// The region asked for, with its totals
    pub region: CoverageSummary,
    /// 年度
    #[schema(example = 2022)]
    pub fiscal_year: i32,
    /// 评价类型 counted; absent or null means any kind
    pub kind: Option<EvaluationKind>,
    /// 下级区划, in code order: prefectures of a province, counties of a prefecture, townships of
    /// a county; for a township, the township itself
    pub children: Vec<ChildCoverage>,
}

impl From<ChildCoverageRow> for ChildCoverage {
    fn from(row: ChildCoverageRow) -> Self {
        let missing = row
            .missing_codes
            .into_iter()
            .zip(row.missing_names)
            .map(|(code, name)| UnfiledTownship { code, name })
            .collect();
        Self {
            summary: CoverageSummary {
                level: RegionLevel::parse(&row.level).unwrap_or(RegionLevel::Township),
                code: row.code,
                name: row.name,
                expected: row.expected,
                filed: row.filed,
                by_status: StatusCounts {
                    draft: row.draft,
                    submitted: row.submitted,
                    returned: row.returned,
                    approved: row.approved,
                    published: row.published,
                },
                filed_unpublished: row.filed_unpublished,
            },
            missing,
        }
    }
}

/// Filing coverage (填报覆盖情况) of a region for a fiscal year.
///
/// Per direct child region (prefectures of a province, counties of a prefecture, townships of a
/// county; a township reports itself): the townships expected (every township under it in the
/// division table), how many have filed (at least one record of the year, and of `kind` when
/// given), the filed records by status, the filed records not yet published, and the townships
/// that have not filed, in code order. The region itself carries the same totals. The 12-digit
/// township form is accepted.
///
/// `by_status` counts the records the caller may see (anonymous callers: the published ones).
/// `filed`, `filed_unpublished` and `missing` are the same for every caller: a township whose
/// records are not yet published has filed, and is counted in `filed_unpublished`, not listed as
/// missing; only the count crosses the visibility line, never an id or a name of such a record.
#[utoipa::path(
    tag = "aggregates",
    params(CoverageParams),
    responses(
        (status = 200, description = "Coverage of the region", body = CoverageReport),
        (status = 400, description = "Missing, malformed or unknown parameter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such region", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/coverage")]
pub async fn get_coverage(
    req: HttpRequest,
    actor: crate::auth::Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = QueryPairs::from_request(&req);
    query.only(&["region", "fiscal_year", "kind"])?;
    let region = query.one("region")?.ok_or_else(|| ApiError::invalid_query("region", "required"))?;
    let region = RegionCode::parse(region).map_err(|e| ApiError::invalid_query("region", e.to_string()))?;
    let fiscal_year = query.one("fiscal_year")?.ok_or_else(|| ApiError::invalid_query("fiscal_year", "required"))?;
    let fiscal_year = fiscal_year
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|year| FISCAL_YEARS.contains(year))
        .ok_or_else(|| ApiError::invalid_query("fiscal_year", "must be a year within 1990–2100"))?;
    let kind = match query.one("kind")? {
        None => None,
        Some(text) => Some(
            serde_plain::from_str::<EvaluationKind>(text)
                .map_err(|_| ApiError::invalid_query("kind", format!("`{text}` is not a known value")))?,
        ),
    };
    let kind_text = kind.map(|k| serde_plain::to_string(&k).expect("a kind is plain text"));

    let visibility = actor.principal.visibility();
    let reading = state.clone();
    let compute = |versions: crate::db::data_version::Versions| async move {
        // On a replica whose snapshot holds `versions`, else on the primary (`crate::replicas`).
        let (found, rows) = crate::replicas::on_read!(reading.reads, reading.pool, versions.data, |conn| async {
            let found = regions::find(conn, region.as_str())
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no region `{region}`")))?;
            let rows = coverage::by_child(conn, &region, fiscal_year as i16, kind_text.as_deref(), &visibility).await?;
            Ok::<_, ApiError>((found, rows))
        })?;
        report(found, rows, region, fiscal_year, kind)
    };
    crate::routes::conditional::answer(&req, &actor, &state, "/api/v1/coverage", true, compute).await
}

fn report(
    found: regions::Region,
    rows: Vec<ChildCoverageRow>,
    region: RegionCode,
    fiscal_year: i32,
    kind: Option<EvaluationKind>,
) -> Result<HttpResponse, ApiError> {
    let children: Vec<ChildCoverage> = rows.into_iter().map(ChildCoverage::from).collect();
    let mut totals = CoverageSummary {
        level: region.level(),
        code: found.code,
        name: found.name,
        expected: 0,
        filed: 0,
        by_status: StatusCounts::default(),
        filed_unpublished: 0,
    };
    // Every township lies under exactly one child, so the children's figures add up.
    for child in &children {
        totals.expected += child.summary.expected;
        totals.filed += child.summary.filed;
        totals.by_status += child.summary.by_status;
        totals.filed_unpublished += child.summary.filed_unpublished;
    }
    Ok(HttpResponse::Ok().json(CoverageReport { region: totals, fiscal_year, kind, children }))
}
