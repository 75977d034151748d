//! `GET /api/v1/regions`
use actix_web::{get, web, HttpRequest, HttpResponse};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::RegionView;
use crate::{
    db::regions::{self, RegionFilter},
    domain::region_code::{RegionCode, RegionLevel},
    error::ApiError,
    routes::QueryPairs,
    state::AppState,
};

/// Query parameters of the region list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RegionListParams {
    /// 级别: province, prefecture, county or township
    level: Option<RegionLevel>,
    /// 上级区划代码: only the direct children of this region
    #[param(example = "430482")]
    parent: Option<crate::routes::params::RegionCodeText>,
    /// 名称包含 (name contains; empty: no filter)
    #[param(example = "荫田")]
    q: Option<crate::routes::params::SearchText>,
    /// Page size, 1–1000 (default 50)
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// Opaque cursor from the previous page's `next_cursor`
    cursor: Option<crate::routes::params::Cursor>,
}

/// A page of regions.
#[derive(Serialize, ToSchema)]
pub struct RegionPage {
    pub items: Vec<RegionView>,
    /// Cursor of the next page; absent on the last page
    pub next_cursor: Option<String>,
}

/// List divisions, filtered by level, parent and name, in code order.
#[utoipa::path(
    tag = "regions",
    params(RegionListParams),
    responses(
        (status = 200, description = "A page of regions", body = RegionPage),
        (status = 400, description = "Malformed or unknown parameter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A well-formed cursor this list did not give out", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/regions")]
pub async fn list_regions(
    req: HttpRequest,
    actor: crate::auth::Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let compute = |_| regions_page(&req, state.clone());
    crate::routes::conditional::answer(&req, &actor, &state, "/api/v1/regions", true, compute).await
}

async fn regions_page(req: &HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let query = QueryPairs::from_request(req);
    query.only(&["level", "parent", "q", "limit", "cursor"])?;
    let level = match query.one("level")? {
        None => None,
        Some(text) => Some(
            RegionLevel::parse(text)
                .ok_or_else(|| ApiError::invalid_query("level", "must be province, prefecture, county or township"))?,
        ),
    };
    let parent = match query.one("parent")? {
        None => None,
        Some(text) => {
            Some(RegionCode::parse(text).map_err(|e| ApiError::invalid_query("parent", e.to_string()))?.to_string())
        }
    };
    let name_contains = query.one("q")?.filter(|q| !q.is_empty()).map(str::to_owned);
    if name_contains.as_deref().is_some_and(|q| q.contains('\0')) {
        return Err(ApiError::invalid_query("q", "must not contain NUL characters"));
    }
    let after = match query.one("cursor")? {
        None => None,
        Some(cursor) => Some(
            decode_cursor(cursor)
                .ok_or_else(|| crate::routes::bad_cursor("cursor", cursor, "not a cursor this list issued"))?,
        ),
    };
    let limit = query.limit(50, 1000)?;
    let filter = RegionFilter { level, parent, name_contains, after, limit: limit + 1 };
    let mut conn = state.pool.get().await?;
    let mut rows = regions::list(&mut conn, &filter).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|last| URL_SAFE_NO_PAD.encode(&last.code))
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(RegionPage { items: rows.into_iter().map(RegionView::from).collect(), next_cursor }))
}

fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let code = String::from_utf8(bytes).ok()?;
    RegionCode::parse(&code).ok().map(|c| c.to_string())
}
