//! The OpenAPI 3.1 document's frame; paths and schemas come from the handlers.
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    Modify, OpenApi,
};

/// Top of the document: title, description, tags and shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "perfeval",
        description = "预算绩效评价 (budget performance evaluation) records of Chinese township governments: \
            structured self-evaluations (绩效自评) with income, expenditure, 三公经费, indicators, projects and \
            conclusions, stored exactly (amounts are decimal strings in 元), checked, reviewed and aggregated.\n\n\
            Every error is `application/problem+json` (RFC 9457) with a stable `code`; validation errors list \
            `{field, code, message}` with JSON paths. Request bodies are limited to 32 MiB (413 above); \
            list pages to 1000 items.",
        license(name = "MIT OR Apache-2.0")
    ),
    tags(
        (name = "evaluations", description = "绩效评价记录 (evaluation records)"),
        (name = "regions", description = "行政区划 (the 2023 division hierarchy)"),
        (name = "aggregates", description = "汇总分析 (aggregates across townships, counties, prefectures and years)"),
        (name = "health", description = "Probes"),
    ),
    components(schemas(crate::error::Problem, crate::error::ErrorCode, crate::error::FieldError)),
    modifiers(&BearerTokens)
)]
pub struct ApiDoc;

/// Bearer tokens (made with `perfeval token create`), optional: without one a caller is anonymous.
struct BearerTokens;

impl Modify for BearerTokens {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `perfeval token create --role R --region CODE --name TEXT`"))
                    .build(),
            ),
        );
        openapi.security =
            Some(vec![SecurityRequirement::default(), SecurityRequirement::new("bearer_token", Vec::<String>::new())]);
    }
}
