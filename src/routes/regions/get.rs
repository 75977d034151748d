//! `GET /api/v1/regions/{code}`
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::RegionView;
use crate::{
    db::regions,
    domain::region_code::{RegionCode, RegionLevel},
    error::ApiError,
    state::AppState,
};

/// Numbers of divisions below a region.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ChildCounts {
    /// 直接下级 (direct children)
    pub children: i64,
    /// 地级 below
    pub prefectures: i64,
    /// 县级 below
    pub counties: i64,
    /// 乡级 below
    pub townships: i64,
}

/// One region with its ancestors and child counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionDetail {
    #[serde(flatten)]
    pub region: RegionView,
    /// 上级区划, top first (province, prefecture, county)
    pub ancestors: Vec<RegionView>,
    /// 下级区划数
    pub child_counts: ChildCounts,
}

/// One division, with its ancestors and the number of divisions below it.
///
/// The 12-digit township form (`430482104000`) is accepted.
#[utoipa::path(
    tag = "regions",
    params(("code" = String, Path, description = "区划代码: 2, 4, 6, 9 or 12 digits", example = "430482104", pattern = "^[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{3}(?:000)?)?)?)?$")),
    responses(
        (status = 200, description = "The region", body = RegionDetail),
        (status = 404, description = "No such region", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/regions/{code}")]
pub async fn get_region(
    req: actix_web::HttpRequest,
    actor: crate::auth::Actor,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let compute = |_| region(path.into_inner(), state.clone());
    crate::routes::conditional::answer(&req, &actor, &state, "/api/v1/regions/{code}", true, compute).await
}

async fn region(path: String, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let code = RegionCode::parse(&path).map_err(|_| ApiError::not_found(format!("no region `{path}`")))?;
    let mut conn = state.pool.get().await?;
    let region = regions::find(&mut conn, code.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no region `{code}`")))?;
    let ancestor_codes: Vec<String> = code.ancestors().iter().map(ToString::to_string).collect();
    let ancestors = regions::find_many(&mut conn, &ancestor_codes).await?;
    let mut counts = ChildCounts::default();
    let child_level = RegionLevel::ALL.into_iter().find(|l| l.code_len() > code.as_str().len());
    for (level, count) in regions::descendant_counts(&mut conn, code.as_str()).await? {
        match RegionLevel::parse(&level) {
            Some(RegionLevel::Prefecture) => counts.prefectures = count,
            Some(RegionLevel::County) => counts.counties = count,
            Some(RegionLevel::Township) => counts.townships = count,
            _ => {}
        }
        if RegionLevel::parse(&level) == child_level {
            counts.children = count;
        }
    }
    Ok(HttpResponse::Ok().json(RegionDetail {
        region: region.into(),
        ancestors: ancestors.into_iter().map(RegionView::from).collect(),
        child_counts: counts,
    }))
}
