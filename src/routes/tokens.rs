//! `/api/v1/tokens`: admins list, make and revoke API tokens. A token is shown once, when it
//! is made; only its SHA-256 hash is stored.
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    auth::Actor,
    db::tokens::{self, IssueError, TokenHolder},
    domain::access::Role,
    error::ApiError,
    routes::JsonBody,
    state::AppState,
};

/// A token's holder (never the token).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    /// Unique name, recorded with every write made with the token
    pub name: String,
    pub role: Role,
    /// The region the token acts in; none for admins
    pub region_code: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it was revoked; revoked tokens answer 401
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenHolder> for TokenView {
    fn from(holder: TokenHolder) -> Self {
        Self {
            id: holder.id,
            role: Role::parse(&holder.role).unwrap_or(Role::Anonymous),
            name: holder.name,
            region_code: holder.region_code,
            created_at: holder.created_at,
            revoked_at: holder.revoked_at,
        }
    }
}

/// Every token, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenView>,
}

/// A token to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Unique name (1–200 characters)
    pub name: String,
    /// submitter, reviewer or admin
    pub role: Role,
    /// A township (9 digits) for a submitter, any region for a reviewer, none for an admin
    pub region_code: Option<String>,
}

/// The token just made: `token` is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedToken {
    /// The bearer token; send it as `Authorization: Bearer <token>`
    pub token: String,
    #[serde(flatten)]
    pub holder: TokenView,
}

/// List tokens (admin).
#[utoipa::path(
    tag = "tokens",
    responses((status = 200, description = "Every token, never the tokens themselves", body = TokenList))
)]
#[get("/tokens")]
pub async fn list_tokens(actor: Actor, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_admin(), None)?;
    let mut conn = state.pool.get().await?;
    let items = tokens::list(&mut conn).await?.into_iter().map(TokenView::from).collect();
    Ok(HttpResponse::Ok().json(TokenList { items }))
}

/// Make a token (admin). The answer holds the token; it is never shown again.
#[utoipa::path(
    tag = "tokens",
    request_body = NewToken,
    responses(
        (status = 201, description = "Made; `token` is shown only now", body = IssuedToken),
        (status = 400, description = "Malformed JSON, wrong type or unknown field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A token of that name exists", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The role and region do not fit together, or the region is unknown", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tokens")]
pub async fn create_token(
    actor: Actor,
    body: JsonBody<NewToken>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_admin(), None)?;
    let new = body.0;
    let mut conn = state.pool.get().await?;
    let (token, holder) = tokens::issue(&mut conn, &new.name, new.role.as_str(), new.region_code.as_deref())
        .await
        .map_err(|error| match error {
            IssueError::Invalid(field, why) => {
                let field = if field == "region" { "region_code" } else { field };
                ApiError::invalid_field(field, "invalid", why)
            }
            IssueError::NameTaken => ApiError::InvalidState(format!("a token named `{}` exists", new.name.trim())),
            IssueError::Random(e) => ApiError::Internal(anyhow::Error::new(e)),
            IssueError::Database(e) => e.into(),
        })?;
    tracing::info!(
        target: "perfeval::audit",
        audit = "token_created",
        actor = %actor.name,
        token_name = %holder.name,
        role = %holder.role,
        "token created"
    );
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/tokens/{}", holder.name)))
        .json(IssuedToken { token, holder: holder.into() }))
}

/// Revoke a token by name (admin). It answers 401 from then on.
#[utoipa::path(
    tag = "tokens",
    params(("name" = String, Path, description = "The token's name")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No live token of that name", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/tokens/{name}")]
pub async fn revoke_token(
    actor: Actor,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_admin(), None)?;
    let name = path.into_inner();
    let mut conn = state.pool.get().await?;
    if !tokens::revoke(&mut conn, &name).await? {
        return Err(ApiError::not_found(format!("no live token named `{name}`")));
    }
    state.token_cache.forget(&name);
    tracing::info!(target: "perfeval::audit", audit = "token_revoked", actor = %actor.name, token_name = %name, "token revoked");
    Ok(HttpResponse::NoContent().finish())
}
