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
        (name = "indicators", description = "指标库 (the indicator library: the definitions indicator rows name by code)"),
        (name = "aggregates", description = "汇总分析 (aggregates across townships, counties, prefectures and years)"),
        (name = "changes", description = "变更记录 (the change feed, for systems that keep a copy)"),
        (name = "webhooks", description = "Webhooks: every change POSTed, signed, to registered endpoints (admin)"),
        (name = "tokens", description = "API tokens (admin)"),
        (name = "health", description = "Probes"),
    ),
    components(schemas(
        crate::error::Problem,
        crate::error::ErrorCode,
        crate::error::FieldError,
        crate::webhooks::Event,
        crate::routes::params::RegionCodeText,
        crate::routes::params::FiscalYears,
        crate::routes::params::Cursor,
        crate::routes::params::SearchText,
        crate::routes::evaluations::list::SortText,
    )),
    modifiers(&BearerTokens)
)]
pub struct ApiDoc;

/// Finishes the document once every route is in it: the responses every `/api/v1` operation
/// shares, and closed schemas extended by `allOf` merged into one object (a closed schema's
/// `additionalProperties: false` would otherwise refuse the extension's own fields).
pub fn complete(openapi: &mut utoipa::openapi::OpenApi) {
    MeasurePatterns.modify(openapi);
    BatchItems.modify(openapi);
    ConditionalReads.modify(openapi);
    CommonResponses.modify(openapi);
    SecurityRequirements.modify(openapi);
    merge_closed_extensions(openapi);
}

/// The shapes of aggregate measures and sort keys, built from the model's catalogue so that the
/// document and the parser cannot drift apart.
struct MeasurePatterns;

impl Modify for MeasurePatterns {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let measure = crate::domain::measures::measure_pattern();
        let dimensions: Vec<&str> = crate::domain::measures::Dimension::ALL.iter().map(|d| d.as_str()).collect();
        let components = openapi.components.get_or_insert_with(Default::default);
        let text = |description: &str, pattern: String| {
            ObjectBuilder::new().schema_type(Type::String).description(Some(description)).pattern(Some(pattern)).build()
        };
        components.schemas.insert(
            "MeasureText".to_owned(),
            text(
                "A measure of `/api/v1/model`, with an aggregation where it takes one (`expenditure.total:avg`)",
                format!("^{measure}$"),
            )
            .into(),
        );
        components.schemas.insert(
            "OrderText".to_owned(),
            text(
                "A grouped dimension or a requested measure, `-` before it for descending",
                format!("^-?(?:{}|{measure})$", dimensions.join("|")),
            )
            .into(),
        );
    }
}

/// The reads that `routes::conditional` labels: each answers `If-None-Match` with 304, and says
/// so, with the `ETag` and `Cache-Control` of its 200.
struct ConditionalReads;

impl Modify for ConditionalReads {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{header::HeaderBuilder, schema::Type, ObjectBuilder, ResponseBuilder};
        let header = |description: &str| {
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some(description))
                .build()
        };
        for path in [
            "/api/v1/evaluations",
            "/api/v1/evaluations/{id}",
            "/api/v1/aggregates",
            "/api/v1/coverage",
            "/api/v1/model",
            "/api/v1/regions",
            "/api/v1/regions/{code}",
        ] {
            let operation = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.get.as_mut())
                .unwrap_or_else(|| panic!("GET {path} is documented"));
            let record = path == "/api/v1/evaluations/{id}";
            let etag = if record {
                "The record's revision; send it back as If-None-Match to revalidate"
            } else {
                "Weak validator of this answer at the current data version; send it back as If-None-Match"
            };
            let not_modified = ResponseBuilder::new()
                .description("Not modified: the If-None-Match validator is still the current answer's")
                .header("ETag", header(etag))
                .build();
            operation.responses.responses.insert("304".to_owned(), not_modified.into());
            if record {
                continue;
            }
            if let Some(utoipa::openapi::RefOr::T(ok)) = operation.responses.responses.get_mut("200") {
                ok.headers.insert("ETag".to_owned(), header(etag));
                ok.headers.insert(
                    "Cache-Control".to_owned(),
                    header("`public, no-cache` for an anonymous caller, else `private, no-cache`"),
                );
            }
        }
    }
}

/// A batch takes any array of objects up to its cap: each item is a record as `EvaluationInput`
/// states it, and an item that is not one is that item's `invalid` result while the others are
/// written. `anyOf` says both, so that a client is typed and a validator refuses only what the
/// service refuses as a whole (an item that is not an object).
struct BatchItems;

impl Modify for BatchItems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, Type},
            Ref,
        };
        let items = AnyOfBuilder::new()
            .item(Ref::from_schema_name("EvaluationInput"))
            .item(ObjectBuilder::new().schema_type(Type::Object))
            .description(Some(
                "A record as EvaluationInput states it; an object that is not one is that item's `invalid` result",
            ));
        let array = ArrayBuilder::new()
            .items(items)
            .max_items(Some(crate::routes::evaluations::batch::MAX_BATCH_RECORDS))
            .build();
        let body = openapi
            .paths
            .paths
            .get_mut("/api/v1/evaluations/batch")
            .and_then(|item| item.post.as_mut())
            .and_then(|operation| operation.request_body.as_mut())
            .expect("POST /api/v1/evaluations/batch has a request body");
        body.content.get_mut("application/json").expect("a batch is application/json").schema = Some(array.into());
    }
}

/// `allOf: [{$ref: Closed}, {properties…}]` becomes one closed object with both sets of properties.
fn merge_closed_extensions(openapi: &mut utoipa::openapi::OpenApi) {
    use serde_json::{Map, Value};
    let Some(components) = openapi.components.as_mut() else { return };
    let Ok(Value::Object(mut schemas)) = serde_json::to_value(&components.schemas) else { return };
    let closed = |schema: &Value| schema.get("additionalProperties") == Some(&Value::Bool(false));
    let names: Vec<String> = schemas.keys().cloned().collect();
    for name in names {
        let Some(parts) = schemas[&name].get("allOf").and_then(Value::as_array).cloned() else { continue };
        let resolve = |part: &Value| match part.get("$ref").and_then(Value::as_str) {
            Some(reference) => schemas.get(reference.trim_start_matches("#/components/schemas/")).cloned(),
            None => Some(part.clone()),
        };
        let resolved: Option<Vec<Value>> = parts.iter().map(resolve).collect();
        let Some(resolved) = resolved else { continue };
        if !resolved.iter().any(closed) || resolved.iter().any(|p| p.get("allOf").is_some()) {
            continue;
        }
        let mut properties = Map::new();
        let mut required: Vec<Value> = Vec::new();
        for part in &resolved {
            if let Some(Value::Object(props)) = part.get("properties") {
                properties.extend(props.clone());
            }
            for field in part.get("required").and_then(Value::as_array).into_iter().flatten() {
                if !required.contains(field) {
                    required.push(field.clone());
                }
            }
        }
        let mut merged = Map::new();
        merged.insert("type".into(), "object".into());
        merged.insert("required".into(), Value::Array(required));
        merged.insert("properties".into(), Value::Object(properties));
        merged.insert("additionalProperties".into(), Value::Bool(false));
        if let Some(description) = schemas[&name].get("description") {
            merged.insert("description".into(), description.clone());
        }
        schemas.insert(name, Value::Object(merged));
    }
    // A schema utoipa cannot read back would silently leave every extension unmerged.
    components.schemas = serde_json::from_value(Value::Object(schemas)).expect("the merged schemas read back");
}

/// The bearer token scheme (tokens made with `perfeval token create`). Which operations need a
/// token is stated per operation, by `SecurityRequirements`.
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
    }
}

/// Operations that answer 401 to a caller without a token (`Principal::require_token` and the
/// role checks after it): the role-gated ones, and the batch and import, which answer an
/// out-of-region record per item instead of 403.
fn needs_token(operation_id: &str) -> bool {
    ROLE_GATED.contains(&operation_id) || ["batch_evaluations", "import_evaluations"].contains(&operation_id)
}

/// Each `/api/v1` operation's security: the bearer token for those that `needs_token`; for every
/// other one the token or none (`[{}, {"bearer_token": []}]`: optional), as anonymous callers
/// may use them (and see published records through them). The probes outside `/api/v1` take
/// no token and state no security. The access matrix test (`tests/api/access.rs`) checks this
/// against what each operation answers an anonymous caller.
struct SecurityRequirements;

impl Modify for SecurityRequirements {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let bearer = || SecurityRequirement::new("bearer_token", Vec::<String>::new());
        openapi.security = None;
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") {
                continue;
            }
            for operation in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete].into_iter().flatten() {
                let needs_token = operation.operation_id.as_deref().is_some_and(needs_token);
                operation.security =
                    Some(if needs_token { vec![bearer()] } else { vec![SecurityRequirement::default(), bearer()] });
            }
        }
    }
}

/// The answers any `/api/v1` operation can give besides its own: a bad token (401), an
/// exhausted request rate (429), an unavailable database or a statement timeout (503); and for
/// operations that need a role, 403. Documented once here so no operation can miss them.
struct CommonResponses;

/// Operations that answer 403 when the caller's role or region does not allow them.
const ROLE_GATED: [&str; 20] = [
    "create_evaluation",
    "replace_evaluation",
    "delete_evaluation",
    "transition_evaluation",
    "list_revisions",
    "get_revision",
    "list_tokens",
    "create_token",
    "revoke_token",
    "list_webhooks",
    "create_webhook",
    "get_webhook",
    "delete_webhook",
    "list_deliveries",
    "replay_delivery",
    "create_indicator_definition",
    "replace_indicator_definition",
    "delete_indicator_definition",
    "retire_indicator_definition",
    "restore_indicator_definition",
];

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{header::HeaderBuilder, ContentBuilder, ObjectBuilder, Ref, ResponseBuilder, Type};
        let problem = |description: &str, retry_after: bool| {
            let mut response = ResponseBuilder::new().description(description).content(
                "application/problem+json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
            );
            if retry_after {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(ObjectBuilder::new().schema_type(Type::Integer))
                        .description(Some("Seconds to wait before retrying"))
                        .build(),
                );
            }
            response.build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") {
                continue;
            }
            for operation in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete].into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                let mut add = |status: &str, response| {
                    responses.insert(status.to_owned(), utoipa::openapi::RefOr::T(response));
                };
                add("401", problem("The bearer token is malformed, unknown or revoked, or this needs one", false));
                add("429", problem("This token's (or, without one, this address's) request rate is spent", true));
                add(
                    "503",
                    problem(
                        "The database is unreachable, no pooled connection came free in time, or a statement \
                         ran past the statement timeout",
                        true,
                    ),
                );
                if operation.operation_id.as_deref().is_some_and(|id| ROLE_GATED.contains(&id)) {
                    add("403", problem("The token's role or region does not allow this", false));
                }
            }
        }
    }
}
