//! `GET /api/v1/model`: what aggregates accept.
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    db::indicators,
    domain::{
        measures::{catalogue, Aggregation, Dimension},
        record::{Direction, IndicatorLevel1, IndicatorLevel2},
    },
    error::ApiError,
    state::AppState,
};

/// A measure aggregates can compute.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureView {
    /// Name to use in `measures=`
    #[schema(example = "expenditure.total")]
    pub name: String,
    /// 中文名称
    #[schema(example = "支出总计")]
    pub label_zh: String,
    /// 单位 (元, 人, 分, 比率, …)
    pub unit: String,
    /// Aggregation used when none is given
    pub default_aggregation: Aggregation,
    /// Aggregations it accepts after a colon (`expenditure.total:median`); ratios accept none
    pub aggregations: Vec<Aggregation>,
}

/// A dimension aggregates can group by.
#[derive(Debug, Serialize, ToSchema)]
pub struct DimensionView {
    pub name: Dimension,
    /// 中文名称
    pub label_zh: &'static str,
}

/// The measures and dimensions of `GET /api/v1/aggregates`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Model {
    pub measures: Vec<MeasureView>,
    /// Indicator measures, by the code of an indicator in the library
    #[schema(example = json!(["indicator.{code}.actual", "indicator.{code}.completion"]))]
    pub indicator_measures: Vec<String>,
    /// The indicators of the library in use, with their measures (retired ones aggregate too, by code)
    pub indicators: Vec<ModelIndicator>,
    pub dimensions: Vec<DimensionView>,
}

/// An indicator of the library, as aggregates measure it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelIndicator {
    #[schema(example = "HN-02")]
    pub code: String,
    /// 指标名称
    pub name: String,
    pub level_1: IndicatorLevel1,
    pub level_2: IndicatorLevel2,
    /// 计量单位 of its actual values
    pub unit_of_measure: Option<String>,
    pub direction: Option<Direction>,
    /// Its measure names: `indicator.<code>.actual` and `indicator.<code>.completion`
    pub measures: Vec<String>,
}

/// The measures (name, 中文 label, unit, default aggregation) and dimensions aggregates accept.
#[utoipa::path(
    tag = "aggregates",
    responses(
        (status = 200, description = "The model", body = Model),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/model")]
pub async fn get_model(
    req: actix_web::HttpRequest,
    actor: crate::auth::Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    crate::routes::conditional::answer(&req, &actor, &state, "/api/v1/model", true, |_| model(state.clone())).await
}

async fn model(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.get().await?;
    let indicators = indicators::active(&mut conn)
        .await?
        .into_iter()
        .map(|row| {
            let d = row.into_definition()?;
            Ok(ModelIndicator {
                measures: vec![format!("indicator.{}.actual", d.code), format!("indicator.{}.completion", d.code)],
                code: d.code,
                name: d.name,
                level_1: d.level_1,
                level_2: d.level_2,
                unit_of_measure: d.unit_of_measure,
                direction: d.direction,
            })
        })
        .collect::<Result<Vec<_>, diesel::result::Error>>()?;
    let measures = catalogue()
        .into_iter()
        .map(|m| MeasureView {
            aggregations: match m.default {
                Aggregation::Ratio => Vec::new(),
                Aggregation::Count => vec![Aggregation::Count],
                _ => Aggregation::SELECTABLE.to_vec(),
            },
            name: m.name,
            label_zh: m.label_zh,
            unit: m.unit.into_owned(),
            default_aggregation: m.default,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Model {
        measures,
        indicators,
        indicator_measures: vec![
            "indicator.{code}.actual: 实际完成值 (sum by default; any aggregation)".to_owned(),
            "indicator.{code}.completion: 完成率, sum(actual) / sum(target); sum(target) / sum(actual) for a `<=` indicator".to_owned(),
        ],
        dimensions: Dimension::ALL.into_iter().map(|d| DimensionView { name: d, label_zh: d.label_zh() }).collect(),
    }))
}
