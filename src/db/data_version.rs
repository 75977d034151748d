//! The data version: one number that every committed write of records, divisions or the
//! indicator library moves (migration 000012: a deferred trigger bumps it once per transaction,
//! at commit, and notifies `perfeval_data`), and beside it the regions version, which only writes
//! of the division table move (migration 000013).
use diesel::{sql_types::BigInt, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// The versions as committed at one moment.
#[derive(QueryableByName, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Versions {
    /// Moved by every write of what reads show.
    #[diesel(sql_type = BigInt)]
    pub data: i64,
    /// Moved by writes of the division table only.
    #[diesel(sql_type = BigInt)]
    pub regions: i64,
}

/// The versions as committed now. Read them before the query whose answer they label: the answer
/// then holds every write up to them (and perhaps later ones, which only make it fresher).
pub async fn current(conn: &mut AsyncPgConnection) -> QueryResult<Versions> {
    super::Prepared(diesel::sql_query("SELECT version AS data, regions_version AS regions FROM data_version"))
        .get_result(conn)
        .await
}
