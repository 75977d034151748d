//! `/api/v1/webhooks`: admins register endpoints that are sent every change, signed, and watch
//! and replay their deliveries. The sending is done by the deliverer (`src/webhooks.rs`).
use std::io::Read;

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::changes::ChangeAction;
use crate::{
    auth::Actor,
    db::webhooks::{self, DeliveryRow, NewWebhook, WebhookRow},
    domain::region_code::RegionCode,
    error::{ApiError, FieldError},
    routes::{JsonBody, QueryPairs},
    state::AppState,
};

/// An endpoint to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookBody {
    /// Where events are POSTed: an http or https URL whose host is in `PERFEVAL_WEBHOOK_ALLOW`
    #[schema(example = "https://sync.example.gov.cn/perfeval")]
    pub url: String,
    /// The actions to send (none or empty: every action)
    #[serde(default)]
    pub events: Vec<ChangeAction>,
    /// Only changes under this region code (none: everywhere)
    pub region_code: Option<String>,
    /// The HMAC-SHA256 key, 16–256 characters; none: the service makes one and shows it once
    pub secret: Option<String>,
}

/// A registered endpoint (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    /// The actions sent; empty: every action
    pub events: Vec<ChangeAction>,
    pub region_code: Option<String>,
    /// The token holder who registered it
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<WebhookRow> for WebhookView {
    fn from(row: WebhookRow) -> Self {
        Self {
            id: row.id,
            url: row.url,
            events: row.events.iter().filter_map(|e| ChangeAction::parse(e)).collect(),
            region_code: row.region_code,
            created_by: row.created_by,
            created_at: row.created_at,
        }
    }
}

/// The endpoint just registered, with its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredWebhook {
    /// The key of the `Perfeval-Signature` HMAC
    pub secret: String,
    #[serde(flatten)]
    pub webhook: WebhookView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookView>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not yet delivered: waiting for its first attempt or a retry
    Pending,
    /// The endpoint answered 2xx
    Delivered,
    /// Every attempt failed; replay it to try again
    Failed,
}

impl DeliveryState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

/// One event for one endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    pub webhook_id: i64,
    /// The event's id (the change's number), as sent in `Perfeval-Event-Id`
    pub event_id: i64,
    pub evaluation_id: i64,
    pub state: DeliveryState,
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries)
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last attempt, if the endpoint answered
    pub last_status: Option<i16>,
    /// Why the last attempt failed
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<DeliveryRow> for DeliveryView {
    fn from(row: DeliveryRow) -> Self {
        let state = match row.state.as_str() {
            "delivered" => DeliveryState::Delivered,
            "failed" => DeliveryState::Failed,
            _ => DeliveryState::Pending,
        };
        Self {
            id: row.id,
            webhook_id: row.webhook_id,
            event_id: row.change_seq,
            evaluation_id: row.evaluation_id,
            state,
            attempts: row.attempts,
            next_attempt_at: (state == DeliveryState::Pending).then_some(row.next_attempt_at),
            last_status: row.last_status,
            last_error: row.last_error,
            delivered_at: row.delivered_at,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryView>,
    /// Pass as `after` for the next page; absent on the last page
    pub next_after: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DeliveryParams {
    /// Only deliveries in this state
    state: Option<DeliveryState>,
    /// Deliveries after this delivery id (a page's `next_after`)
    #[param(minimum = 0)]
    after: Option<i64>,
    /// Page size, 1–1000 (default 100)
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

fn webhook_not_found(id: impl std::fmt::Display) -> ApiError {
    ApiError::not_found(format!("no webhook {id}"))
}

fn parse_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| webhook_not_found(text))
}

/// A new secret: `whsec_` and 48 hex digits from the kernel's random source.
fn new_secret() -> std::io::Result<String> {
    let mut bytes = [0_u8; 24];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(format!("whsec_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// Register a webhook endpoint (admin).
///
/// From now on every change that matches `events` and `region_code` is POSTed to `url` as an
/// `Event` (JSON) with `Perfeval-Event-Id`, `Perfeval-Delivery-Id` and `Perfeval-Signature:
/// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. Deliveries are at least once: a
/// receiver drops repeats by event id. A record's events reach an endpoint in order; an answer
/// other than 2xx is retried with exponential backoff, and after the last attempt the delivery
/// is `failed` until replayed (later events of that record then go on).
#[utoipa::path(
    tag = "webhooks",
    request_body = NewWebhookBody,
    responses(
        (status = 201, description = "Registered; `secret` is shown only now", body = RegisteredWebhook),
        (status = 400, description = "Malformed JSON, wrong type or unknown field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The URL is not allowed (`url`), the region is malformed (`region_code`) or the secret is too short or long (`secret`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    actor: Actor,
    body: JsonBody<NewWebhookBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_admin(), None)?;
    let new = body.0;
    let mut errors = Vec::new();
    if let Err(error) = crate::domain::webhook_target::check_target(new.url.trim(), &state.settings.webhooks.allow) {
        let code = match error {
            crate::domain::webhook_target::TargetError::NotAllowed(..) => "not_allowed",
            _ => "invalid_url",
        };
        errors.push(FieldError::new("url", code, error.to_string()));
    }
    let region_code = match new.region_code.as_deref().map(RegionCode::parse).transpose() {
        Ok(code) => code.map(|c| c.to_string()),
        Err(error) => {
            errors.push(FieldError::new("region_code", "invalid", error.to_string()));
            None
        }
    };
    if let Some(secret) = &new.secret {
        if !(16..=256).contains(&secret.chars().count()) {
            errors.push(FieldError::new("secret", "invalid_length", "must be 16 to 256 characters"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let secret = match new.secret {
        Some(secret) => secret,
        None => new_secret().map_err(|e| ApiError::Internal(e.into()))?,
    };
    let mut events: Vec<String> = new.events.iter().map(|e| e.as_str().to_owned()).collect();
    events.sort();
    events.dedup();
    let mut conn = state.pool.get().await?;
    let row = webhooks::create(
        &mut conn,
        NewWebhook { url: new.url.trim(), events, region_code, secret: &secret, created_by: &actor.name },
    )
    .await?;
    state.webhook_wake.notify_one();
    tracing::info!(target: "perfeval::audit", audit = "webhook_created", actor = %actor.name, webhook = row.id, url = %row.url, "webhook registered");
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/webhooks/{}", row.id)))
        .json(RegisteredWebhook { secret, webhook: row.into() }))
}

/// List webhook endpoints (admin).
#[utoipa::path(
    tag = "webhooks",
    responses(
        (status = 200, description = "Every endpoint, oldest first, never the secrets", body = WebhookList),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(actor: Actor, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_admin(), None)?;
    let mut conn = state.pool.get().await?;
    let items = webhooks::list(&mut conn).await?.into_iter().map(WebhookView::from).collect();
    Ok(HttpResponse::Ok().json(WebhookList { items }))
}

/// Read a webhook endpoint (admin).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookView),
        (status = 404, description = "No such endpoint", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    actor: Actor,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_admin(), None)?;
    let id = parse_id(&path)?;
    let mut conn = state.pool.get().await?;
    let row = webhooks::get(&mut conn, id).await?.ok_or_else(|| webhook_not_found(id))?;
    Ok(HttpResponse::Ok().json(WebhookView::from(row)))
}

/// Remove a webhook endpoint and its deliveries (admin).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such endpoint", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    actor: Actor,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_admin(), None)?;
    let id = parse_id(&path)?;
    let mut conn = state.pool.get().await?;
    if !webhooks::delete(&mut conn, id).await? {
        return Err(webhook_not_found(id));
    }
    tracing::info!(target: "perfeval::audit", audit = "webhook_deleted", actor = %actor.name, webhook = id, "webhook removed");
    Ok(HttpResponse::NoContent().finish())
}

/// An endpoint's deliveries and where each stands (admin).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id"), DeliveryParams),
    responses(
        (status = 200, description = "Deliveries, oldest first", body = DeliveryPage),
        (status = 400, description = "Malformed or unknown parameter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    req: HttpRequest,
    actor: Actor,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_admin(), None)?;
    let id = parse_id(&path)?;
    let query = QueryPairs::from_request(&req);
    query.only(&["state", "after", "limit"])?;
    let wanted = match query.one("state")? {
        None => None,
        Some(text) => Some(
            serde_plain::from_str::<DeliveryState>(text)
                .map_err(|_| ApiError::invalid_query("state", "must be pending, delivered or failed"))?,
        ),
    };
    let after = match query.one("after")? {
        None => 0,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::invalid_query("after", "must be a delivery id"))?,
    };
    let limit = query.limit(100, 1000)?;
    let mut conn = state.pool.get().await?;
    webhooks::get(&mut conn, id).await?.ok_or_else(|| webhook_not_found(id))?;
    let rows = webhooks::deliveries(&mut conn, id, wanted.map(DeliveryState::as_str), after, limit).await?;
    let next_after = (rows.len() as i64 == limit).then(|| rows.last().map(|r| r.id)).flatten();
    Ok(HttpResponse::Ok().json(DeliveryPage { items: rows.into_iter().map(DeliveryView::from).collect(), next_after }))
}

/// Send a delivery again (admin): a failed one, or one the receiver lost.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = i64, Path, description = "The endpoint's id"),
        ("delivery" = i64, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "Pending again, from its first attempt", body = DeliveryView),
        (status = 404, description = "No such endpoint or delivery", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery}/replay")]
pub async fn replay_delivery(
    actor: Actor,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_admin(), None)?;
    let (id, delivery) = path.into_inner();
    let id = parse_id(&id)?;
    let not_found = || ApiError::not_found(format!("webhook {id} has no delivery {delivery}"));
    let delivery = delivery.parse::<i64>().ok().filter(|d| *d > 0).ok_or_else(not_found)?;
    let mut conn = state.pool.get().await?;
    let row = webhooks::replay(&mut conn, id, delivery).await?.ok_or_else(not_found)?;
    state.webhook_wake.notify_one();
    tracing::info!(target: "perfeval::audit", audit = "webhook_replayed", actor = %actor.name, webhook = id, delivery, "webhook delivery replayed");
    Ok(HttpResponse::Accepted().json(DeliveryView::from(row)))
}
