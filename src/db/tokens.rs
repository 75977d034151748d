//! API tokens: created on the command line, stored as SHA-256 hashes, resolved per request.
use chrono::{DateTime, Utc};
use diesel::{pg::Pg, prelude::*};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};

use super::schema::api_tokens;

/// A token's holder as stored (never the token itself).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = api_tokens, check_for_backend(Pg))]
pub struct TokenHolder {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub region_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The stored form of a token.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new random token: `pe_` and 64 hex digits from the kernel's random source.
pub fn generate() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0_u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(format!("pe_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// Why a token could not be made.
#[derive(Debug)]
pub enum IssueError {
    /// A field is not acceptable: its name and why.
    Invalid(&'static str, String),
    /// A token of that name exists (names are unique, even after revocation).
    NameTaken,
    /// The kernel's random source could not be read.
    Random(std::io::Error),
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for IssueError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error)
    }
}

/// Makes a token for `role` in `region` (a township for submitters, any region for reviewers,
/// none for admins), stores its hash under `name`, and returns the token — to be shown once.
pub async fn issue(
    conn: &mut AsyncPgConnection,
    name: &str,
    role: &str,
    region: Option<&str>,
) -> Result<(String, TokenHolder), IssueError> {
    use crate::domain::{access::Role, region_code::RegionCode};
    let name = name.trim();
    if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(IssueError::Invalid("name", "must be 1 to 200 printable characters".to_owned()));
    }
    let role = match Role::parse(role) {
        Some(role) if role != Role::Anonymous => role,
        _ => return Err(IssueError::Invalid("role", "must be submitter, reviewer or admin".to_owned())),
    };
    let region = match (region, role) {
        (None, Role::Admin) => None,
        (Some(_), Role::Admin) => {
            return Err(IssueError::Invalid("region", "admin tokens act everywhere; give no region".to_owned()))
        }
        (None, _) => return Err(IssueError::Invalid("region", format!("is required for a {}", role.as_str()))),
        (Some(code), _) => Some(RegionCode::parse(code).map_err(|e| IssueError::Invalid("region", e.to_string()))?),
    };
    if role == Role::Submitter && region.as_ref().is_some_and(|r| r.as_str().len() != 9) {
        return Err(IssueError::Invalid("region", "a submitter's region is a township (9 digits)".to_owned()));
    }
    if let Some(code) = &region {
        if super::regions::find(conn, code.as_str()).await?.is_none() {
            return Err(IssueError::Invalid("region", format!("{code} is not in the division table")));
        }
    }
    let token = generate().map_err(IssueError::Random)?;
    let holder = diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::name.eq(name),
            api_tokens::role.eq(role.as_str()),
            api_tokens::region_code.eq(region.as_ref().map(|r| r.as_str())),
            api_tokens::token_hash.eq(hash(&token)),
        ))
        .on_conflict_do_nothing()
        .returning(TokenHolder::as_returning())
        .get_result(conn)
        .await
        .optional()?
        .ok_or(IssueError::NameTaken)?;
    Ok((token, holder))
}

/// The holder of a live (not revoked) token, by the token's hash.
pub async fn resolve_hash(conn: &mut AsyncPgConnection, token_hash: &[u8]) -> QueryResult<Option<TokenHolder>> {
    api_tokens::table
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .select(TokenHolder::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<TokenHolder>> {
    api_tokens::table.order(api_tokens::id).select(TokenHolder::as_select()).load(conn).await
}

/// Revokes a token by name; false when there is no live token of that name.
pub async fn revoke(conn: &mut AsyncPgConnection, name: &str) -> QueryResult<bool> {
    let changed =
        diesel::update(api_tokens::table.filter(api_tokens::name.eq(name)).filter(api_tokens::revoked_at.is_null()))
            .set(api_tokens::revoked_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
    Ok(changed == 1)
}
