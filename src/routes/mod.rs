//! HTTP handlers by resource, and the one place that lists every route.
pub mod aggregates;
pub mod changes;
pub mod conditional;
pub mod coverage;
pub mod evaluations;
pub mod export;
pub mod filters;
pub mod health;
pub mod idempotency;
pub mod indicators;
pub mod model;
pub mod params;
pub mod regions;
pub mod tokens;
pub mod webhooks;

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use utoipa_actix_web::{scope, service_config::ServiceConfig};

pub use crate::auth::Actor;
use crate::{
    config::DEFAULT_MAX_BODY_BYTES,
    error::{ApiError, ErrorCode, FieldError},
    state::AppState,
};

/// Every route of the service. Routes are registered through utoipa's router, so none can
/// exist without its OpenAPI description.
pub fn configure(config: &mut ServiceConfig) {
    config.service(health::healthz).service(health::readyz).service(health::metrics).service(
        scope::scope("/api/v1")
            .service(health::openapi_json)
            .service(model::get_model)
            .service(aggregates::get_aggregates)
            .service(coverage::get_coverage)
            .service(regions::list::list_regions)
            .service(regions::get::get_region)
            .service(indicators::list_indicator_definitions)
            .service(indicators::create_indicator_definition)
            .service(indicators::get_indicator_definition)
            .service(indicators::replace_indicator_definition)
            .service(indicators::delete_indicator_definition)
            .service(indicators::retire_indicator_definition)
            .service(indicators::restore_indicator_definition)
            .service(evaluations::validate::validate_evaluation)
            .service(evaluations::batch::batch_evaluations)
            .service(evaluations::import::import_evaluations)
            .service(evaluations::create::create_evaluation)
            .service(evaluations::list::list_evaluations)
            .service(evaluations::get::get_evaluation)
            .service(evaluations::replace::replace_evaluation)
            .service(evaluations::delete::delete_evaluation)
            .service(evaluations::findings::get_findings)
            .service(evaluations::transitions::transition_evaluation)
            .service(evaluations::revisions::list_revisions)
            .service(evaluations::revisions::get_revision)
            .service(evaluations::source::get_source)
            .service(tokens::list_tokens)
            .service(tokens::create_token)
            .service(tokens::revoke_token)
            .service(changes::list_changes)
            .service(webhooks::list_webhooks)
            .service(webhooks::create_webhook)
            .service(webhooks::get_webhook)
            .service(webhooks::delete_webhook)
            .service(webhooks::list_deliveries)
            .service(webhooks::replay_delivery),
    );
}

/// A JSON request body read strictly: a size limit (413), a JSON media type (415), and
/// errors that name the JSON path of the offending member (400). The raw bytes are kept for
/// the Idempotency-Key check.
pub struct JsonBody<T>(pub T, pub web::Bytes);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = RawBody::from_request(req, payload);
        Box::pin(async move {
            let RawBody { bytes, .. } = body.await?;
            parse_json(&bytes).map(|value| JsonBody(value, bytes))
        })
    }
}

/// A request body read within the size limit, with its media type: JSON (`application/json`,
/// `+json`) or NDJSON (`application/x-ndjson`, `application/ndjson`); anything else is 415.
pub struct RawBody {
    pub bytes: web::Bytes,
    pub ndjson: bool,
}

impl FromRequest for RawBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<web::Data<AppState>>().map_or(DEFAULT_MAX_BODY_BYTES, |s| s.settings.max_body_bytes);
        let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
        let declared_length =
            req.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        let accepts_ndjson = req.path().ends_with("/batch");
        Box::pin(async move {
            let mut ndjson = false;
            if let Some(content_type) = content_type {
                let essence = content_type.split(';').next().unwrap_or("").trim();
                ndjson = accepts_ndjson && matches!(essence, "application/x-ndjson" | "application/ndjson");
                if essence != "application/json" && !essence.ends_with("+json") && !ndjson {
                    return Err(ApiError::UnsupportedMediaType(format!(
                        "the body must be application/json{}, not {essence}",
                        if accepts_ndjson { " or application/x-ndjson" } else { "" }
                    )));
                }
            }
            let bytes = read_within(&mut payload, declared_length, limit).await?;
            Ok(RawBody { bytes, ndjson })
        })
    }
}

/// A request body of any media type (a file), read within the size limit.
pub struct FileBody(pub web::Bytes);

impl FromRequest for FileBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<web::Data<AppState>>().map_or(DEFAULT_MAX_BODY_BYTES, |s| s.settings.max_body_bytes);
        let declared_length =
            req.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move { Ok(FileBody(read_within(&mut payload, declared_length, limit).await?)) })
    }
}

/// The body, refused with 413 as soon as it (or its declared length) passes `limit`.
async fn read_within(
    payload: &mut Payload,
    declared_length: Option<usize>,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    if declared_length.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::invalid_body("", format!("reading the body failed: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses JSON into `T`, naming the path of the first member that does not fit.
///
/// A whole number written with a fraction (`2022.0`, as Python's `json` writes a float) is the
/// integer it equals, as JSON Schema counts it: when the direct parse stumbles on one, the body
/// is written again with such numbers as integers and parsed once more, and that parse's error
/// (if any) is the answer. Every other body takes the direct parse alone.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let first = match parse_json_as_is(body) {
        Err(error @ ApiError::BadRequest { .. }) if is_float_for_integer(&error) => error,
        parsed => return parsed,
    };
    let Ok(mut tree) = serde_json::from_slice::<serde_json::Value>(body) else { return Err(first) };
    if !integral_floats_to_integers(&mut tree) {
        return Err(first);
    }
    match serde_json::to_vec(&tree) {
        Ok(rewritten) => parse_json_as_is(&rewritten),
        Err(_) => Err(first),
    }
}

/// Whether the parse stopped at a float where an integer belongs.
fn is_float_for_integer(error: &ApiError) -> bool {
    matches!(error, ApiError::BadRequest { errors, .. }
        if errors.first().is_some_and(|e| e.message.starts_with("invalid type: floating point")))
}

fn parse_json_as_is<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        json_error(if path == "." { "$".to_owned() } else { path }, error.into_inner())
    })?;
    deserializer.end().map_err(|error| json_error("$".to_owned(), error))?;
    Ok(value)
}

/// Makes every whole number written with a fraction an integer; whether there was one.
fn integral_floats_to_integers(value: &mut serde_json::Value) -> bool {
    match value {
        serde_json::Value::Number(number) if number.is_f64() => {
            let float = number.as_f64().unwrap_or(f64::NAN);
            // Within ±2^53 every whole f64 is exactly the integer it prints as.
            let whole = float.fract() == 0.0 && float.abs() <= 9_007_199_254_740_992.0;
            if whole {
                *value = serde_json::Value::from(float as i64);
            }
            whole
        }
        serde_json::Value::Array(items) => items.iter_mut().fold(false, |any, v| integral_floats_to_integers(v) | any),
        serde_json::Value::Object(members) => {
            members.values_mut().fold(false, |any, v| integral_floats_to_integers(v) | any)
        }
        _ => false,
    }
}

/// Syntax errors and wrong types or members are 400; a member of the right JSON type whose
/// value is not acceptable (`"NaN"` for an amount, an unknown enum value) is 422.
fn json_error(path: String, error: serde_json::Error) -> ApiError {
    match error.classify() {
        serde_json::error::Category::Data => {
            let message = strip_position(&error.to_string());
            if message.starts_with("invalid value") || message.starts_with("unknown variant") {
                ApiError::invalid_field(path, "invalid_value", message)
            } else {
                ApiError::invalid_body(path, message)
            }
        }
        _ => ApiError::BadRequest {
            code: ErrorCode::MalformedJson,
            detail: format!("the body is not valid JSON: {error}"),
            errors: Vec::new(),
        },
    }
}

/// serde_json appends " at line L column C"; the JSON path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// Query parameters as decoded pairs, in order, repeats kept (`region=43&region=44`).
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    pub fn from_request(req: &HttpRequest) -> Self {
        Self(form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect())
    }

    /// Rejects any parameter not in `known`, so a typo is not silently ignored.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.iter().find(|(name, _)| !known.contains(&name.as_str())) {
            Some((name, _)) => {
                Err(ApiError::invalid_query(name.clone(), format!("unknown parameter; known: {}", known.join(", "))))
            }
            None => Ok(()),
        }
    }

    /// Every value of a list parameter, given as a comma list (`status=draft,submitted`, as the
    /// document states it) or repeated (`region=43&region=44`). An empty item is refused: the
    /// way to ask for no filter is to leave the parameter out.
    pub fn all(&self, name: &str) -> Result<Vec<String>, ApiError> {
        let values: Vec<String> =
            self.0.iter().filter(|(n, _)| n == name).flat_map(|(_, v)| v.split(',')).map(str::to_owned).collect();
        if values.iter().any(String::is_empty) {
            return Err(ApiError::invalid_query(name, "an empty value; leave the parameter out for no filter"));
        }
        Ok(values)
    }

    /// The single value of a parameter; given twice is an error.
    pub fn one(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::invalid_query(name, "given more than once"));
        }
        Ok(first)
    }

    /// A boolean parameter: `true` or `false` (absent: false).
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.one(name)? {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::invalid_query(name, "must be true or false")),
        }
    }

    /// `limit`: 1 to `max`, default `default`.
    pub fn limit(&self, default: i64, max: i64) -> Result<i64, ApiError> {
        match self.one("limit")? {
            None => Ok(default),
            Some(text) => match text.parse::<i64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::invalid_query("limit", format!("must be a whole number from 1 to {max}"))),
            },
        }
    }
}

/// The refusal of a cursor: 400 when the text is not even the shape of one (URL-safe base64, as
/// the document's pattern states), 422 when it is but this list did not give it out for this query.
pub fn bad_cursor(name: &str, text: &str, message: &str) -> ApiError {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        invalid_parameter(name, "unknown_cursor", message)
    } else {
        ApiError::invalid_query(name, message)
    }
}

/// A 422 naming a query parameter: the value has the documented shape but does not fit (an
/// unknown code, a cursor for another query, two parameters that do not go together).
pub fn invalid_parameter(name: &str, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::Validation(vec![FieldError::new(name, code, message)])
}
