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

/// The stored response for a key, if any.
pub async fn find(conn: &mut AsyncPgConnection, key: &KeyRef<'_>) -> QueryResult<Option<StoredResponse>> {
    idempotency_keys::table.find((key.scope, key.key)).select(StoredResponse::as_select()).first(conn).await.optional()
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
