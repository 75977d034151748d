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

/// Stores a token's hash under a name; the caller shows the token once.
pub async fn create(
    conn: &mut AsyncPgConnection,
    name: &str,
    role: &str,
    region_code: Option<&str>,
    token: &str,
) -> QueryResult<()> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::name.eq(name),
            api_tokens::role.eq(role),
            api_tokens::region_code.eq(region_code),
            api_tokens::token_hash.eq(hash(token)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The holder of a live (not revoked) token.
pub async fn resolve(conn: &mut AsyncPgConnection, token: &str) -> QueryResult<Option<TokenHolder>> {
    api_tokens::table
        .filter(api_tokens::token_hash.eq(hash(token)))
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
