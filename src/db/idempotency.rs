//! Stored first responses to POSTs carrying an `Idempotency-Key`.
use diesel::{pg::Pg, prelude::*};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::idempotency_keys;

/// A response as first sent: replayed byte for byte to a retry.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys, check_for_backend(Pg))]
pub struct StoredResponse {
    pub request_hash: Vec<u8>,
    pub status: i16,
    /// `[[name, value], …]`
    pub headers: serde_json::Value,
    pub body: Vec<u8>,
}

/// Where a key belongs: the method, path and caller, so keys of different endpoints never meet.
#[derive(Debug, Clone)]
pub struct KeyRef<'a> {
    pub scope: &'a str,
    pub key: &'a str,
}

/// The stored response for a key, if any. A claim not yet answered is no response.
pub async fn find(conn: &mut AsyncPgConnection, key: &KeyRef<'_>) -> QueryResult<Option<StoredResponse>> {
    Ok(find_entry(conn, key).await?.and_then(|entry| match entry {
        Entry::Answered(stored) => Some(stored),
        Entry::Claimed { .. } => None,
    }))
}

/// What is stored under a key.
#[derive(Debug)]
pub enum Entry {
    /// The first response.
    Answered(StoredResponse),
    /// A request with this body claimed the key and has not answered yet.
    Claimed { request_hash: Vec<u8> },
}

async fn find_entry(conn: &mut AsyncPgConnection, key: &KeyRef<'_>) -> QueryResult<Option<Entry>> {
    let row: Option<(StoredResponse, Option<chrono::DateTime<chrono::Utc>>)> = idempotency_keys::table
        .find((key.scope, key.key))
        .select((StoredResponse::as_select(), idempotency_keys::claimed_until))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(stored, claimed_until)| match claimed_until {
        Some(_) => Entry::Claimed { request_hash: stored.request_hash },
        None => Entry::Answered(stored),
    }))
}

/// What claiming a key found.
#[derive(Debug)]
pub enum Claim {
    /// The key is this request's to answer, until the claim lapses.
    Claimed,
    /// The key is answered, or claimed by a request still running.
    Taken(Entry),
}

/// Claims a key for a request whose writes commit before its answer exists (a batch, an import):
/// the key is free or released, or a claim with the same body lapsed. A claim names the session
/// on `conn`, which the request holds until it answers, and lapses when that session is gone
/// (its instance died) or after `lease` (its request was dropped while the instance lives on).
/// The session counts as the claimant's only if it started before the claim, so a later
/// session that happens to get the same pid does not keep a dead claim alive.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    key: &KeyRef<'_>,
    request_hash: &[u8],
    lease: std::time::Duration,
) -> QueryResult<Claim> {
    use diesel::sql_types::{Bytea, Integer, Text};
    // The key can vanish between the insert and the look-up (its claim released): try again.
    loop {
        let claimed = diesel::sql_query(
            "INSERT INTO idempotency_keys (scope, key, request_hash, status, body, claimed_until, claimed_by) \
             VALUES ($1, $2, $3, 0, '', now() + make_interval(secs => $4), pg_backend_pid()) \
             ON CONFLICT (scope, key) DO UPDATE \
             SET claimed_until = EXCLUDED.claimed_until, claimed_by = EXCLUDED.claimed_by, created_at = now() \
             WHERE idempotency_keys.request_hash = EXCLUDED.request_hash \
               AND idempotency_keys.claimed_until IS NOT NULL \
               AND (idempotency_keys.claimed_until < now() OR NOT EXISTS ( \
                   SELECT FROM pg_stat_activity session \
                   WHERE session.pid = idempotency_keys.claimed_by \
                     AND session.backend_start <= idempotency_keys.created_at))",
        )
        .bind::<Text, _>(key.scope)
        .bind::<Text, _>(key.key)
        .bind::<Bytea, _>(request_hash)
        .bind::<Integer, _>(i32::try_from(lease.as_secs()).unwrap_or(i32::MAX))
        .execute(conn)
        .await?;
        if claimed == 1 {
            return Ok(Claim::Claimed);
        }
        if let Some(entry) = find_entry(conn, key).await? {
            return Ok(Claim::Taken(entry));
        }
    }
}

/// Stores the answer to a claimed key, ending the claim; false when another request with the
/// same key and body (one that took a lapsed claim over) answered first.
pub async fn answer(conn: &mut AsyncPgConnection, key: &KeyRef<'_>, response: &StoredResponse) -> QueryResult<bool> {
    let answered = diesel::update(idempotency_keys::table.find((key.scope, key.key)))
        .filter(idempotency_keys::claimed_until.is_not_null())
        .filter(idempotency_keys::request_hash.eq(&response.request_hash))
        .set((
            idempotency_keys::status.eq(response.status),
            idempotency_keys::headers.eq(&response.headers),
            idempotency_keys::body.eq(&response.body),
            idempotency_keys::claimed_until.eq(None::<chrono::DateTime<chrono::Utc>>),
            idempotency_keys::claimed_by.eq(None::<i32>),
            idempotency_keys::created_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(answered == 1)
}

/// Gives a claim up (its request failed and wrote nothing it must answer for), so that a retry
/// runs at once.
pub async fn release(conn: &mut AsyncPgConnection, key: &KeyRef<'_>, request_hash: &[u8]) -> QueryResult<()> {
    diesel::delete(idempotency_keys::table.find((key.scope, key.key)))
        .filter(idempotency_keys::claimed_until.is_not_null())
        .filter(idempotency_keys::request_hash.eq(request_hash))
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores the response for a key; false when another request stored one first.
pub async fn store(conn: &mut AsyncPgConnection, key: &KeyRef<'_>, response: &StoredResponse) -> QueryResult<bool> {
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::scope.eq(key.scope),
            idempotency_keys::key.eq(key.key),
            idempotency_keys::request_hash.eq(&response.request_hash),
            idempotency_keys::status.eq(response.status),
            idempotency_keys::headers.eq(&response.headers),
            idempotency_keys::body.eq(&response.body),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}
