//! The data version: one number that every committed write of records, divisions or the
//! indicator library moves (migration 000012: a deferred trigger bumps it once per transaction,
//! at commit, and notifies `perfeval_data`).
use diesel::{sql_types::BigInt, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    version: i64,
}

/// The version as committed now. Read it before the query whose answer it labels: the answer
/// then holds every write up to it (and perhaps later ones, which only make it fresher).
pub async fn current(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    let row: Row = super::Prepared(diesel::sql_query("SELECT version FROM data_version")).get_result(conn).await?;
    Ok(row.version)
}
