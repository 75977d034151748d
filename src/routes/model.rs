//! `GET /api/v1/model`: what aggregates accept.
use actix_web::{get, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::measures::{catalogue, Aggregation, Dimension};

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
    pub unit: &'static str,
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
    pub dimensions: Vec<DimensionView>,
}

/// The measures (name, 中文 label, unit, default aggregation) and dimensions aggregates accept.
#[utoipa::path(tag = "aggregates", responses((status = 200, description = "The model", body = Model)))]
#[get("/model")]
pub async fn get_model() -> HttpResponse {
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
            unit: m.unit,
            default_aggregation: m.default,
        })
        .collect();
    HttpResponse::Ok().json(Model {
        measures,
        indicator_measures: vec![
            "indicator.{code}.actual: 实际完成值 (sum by default; any aggregation)".to_owned(),
            "indicator.{code}.completion: 完成率, sum(actual) / sum(target)".to_owned(),
        ],
        dimensions: Dimension::ALL.into_iter().map(|d| DimensionView { name: d, label_zh: d.label_zh() }).collect(),
    })
}
