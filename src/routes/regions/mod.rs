//! `/api/v1/regions`: the division hierarchy.
pub mod get;
pub mod list;

use serde::Serialize;
use utoipa::ToSchema;

use crate::{db::regions::Region, domain::region_code::RegionLevel};

/// A division (行政区划).
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionView {
    /// 区划代码
    #[schema(example = "430482104")]
    pub code: String,
    /// 名称
    #[schema(example = "荫田镇")]
    pub name: String,
    /// 级别
    pub level: RegionLevel,
    /// 上级区划代码
    #[schema(example = "430482")]
    pub parent_code: Option<String>,
}

impl From<Region> for RegionView {
    fn from(region: Region) -> Self {
        Self {
            level: RegionLevel::parse(&region.level).unwrap_or(RegionLevel::Township),
            code: region.code,
            name: region.name,
            parent_code: region.parent_code,
        }
    }
}
