//! Read replicas (`PERFEVAL_REPLICA_URLS`): PostgreSQL standbys fed by streaming replication,
//! which serve the heavy reads (list pages and exports, aggregates, coverage).
//!
//! **Which server serves a read.** A read has already read the primary's data version `V` (its
//! validator, `routes::conditional`): every write acknowledged before the request began is at or
//! below `V`, whichever instance wrote it. On a usable replica, in one `REPEATABLE READ READ ONLY`
//! transaction, the replica's own `data_version.version` is read first; when it is at least `V`,
//! the read's statements run in that same transaction, whose snapshot therefore holds every write
//! up to `V`. Otherwise (the replica is behind) the transaction is ended and the read runs on the
//! primary. So no caller, the writer included, sees anything older than a write acknowledged
//! before its request began: this is "use the commit's position", with the data version as the
//! position, and it holds across instances because the position is read from the primary, not
//! remembered by the instance that wrote.
//!
//! **Health.** One task per process checks every replica every [`CHECK_INTERVAL`]: reachable, in
//! recovery, and its lag (0 when its replay position has reached the primary's WAL position read
//! just before, else the age of the last transaction it replayed). A replica down, promoted, or
//! lagging more than `PERFEVAL_REPLICA_MAX_LAG_MS` is skipped until it is back; a replica
//! connection that fails during a read marks it down at once and the read runs on the primary.
//! Callers never see a replica's failure.
use std::{
    ops::{Deref, DerefMut},
    sync::{
        atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use diesel::{sql_types::Text, QueryableByName};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    db::{Connection, Pool},
    error::ApiError,
};

/// How often each replica's health is checked.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(250);
/// A check that takes longer marks the replica down.
const CHECK_TIMEOUT: Duration = Duration::from_millis(1_000);
/// The longest a read waits for a replica's pooled connection before it runs on the primary.
const MAX_REPLICA_WAIT: Duration = Duration::from_millis(1_000);

pub const READS: &str = "perfeval_reads_total";
pub const REPLICA_UP: &str = "perfeval_replica_up";
pub const REPLICA_LAG: &str = "perfeval_replica_lag_seconds";

/// What a replica is fit for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Reachable, in recovery and within the lag bound: serves reads.
    Ok,
    /// Reachable but further behind than the bound: skipped.
    Lagging,
    /// Unreachable, failing, or not a standby (promoted): skipped.
    Down,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Lagging => "lagging",
            State::Down => "down",
        }
    }

    fn from_u8(value: u8) -> Self {
        match value {
            0 => State::Ok,
            1 => State::Lagging,
            _ => State::Down,
        }
    }
}

/// One replica's health, as the monitor last saw it (or a read found it failing).
struct Member {
    /// The URL without its password (nor query string): the `replica` label and `/readyz`'s `url`.
    label: String,
    state: AtomicU8,
    /// Milliseconds; `u64::MAX` when unknown (never reached).
    lag_ms: AtomicU64,
}

impl Member {
    fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::Relaxed))
    }

    fn set(&self, state: State, lag_ms: Option<u64>) {
        let before = State::from_u8(self.state.swap(state as u8, Ordering::Relaxed));
        self.lag_ms.store(lag_ms.unwrap_or(u64::MAX), Ordering::Relaxed);
        if before != state {
            match state {
                State::Ok => tracing::info!(replica = %self.label, "replica serves reads"),
                _ => tracing::warn!(
                    replica = %self.label,
                    state = state.as_str(),
                    lag_ms = lag_ms,
                    "replica skipped; the primary serves its reads"
                ),
            }
        }
        ::metrics::gauge!(REPLICA_UP, "replica" => self.label.clone()).set(if state == State::Down {
            0.0
        } else {
            1.0
        });
        if state != State::Down {
            // Behind by an unknown amount: +Inf.
            let seconds = lag_ms.map_or(f64::INFINITY, |lag| lag as f64 / 1000.0);
            ::metrics::gauge!(REPLICA_LAG, "replica" => self.label.clone()).set(seconds);
        }
    }
}

/// The replicas of this process and their health, shared by every worker and the monitor.
pub struct Replicas {
    urls: Vec<String>,
    members: Vec<Member>,
    max_lag_ms: u64,
    /// Spreads reads over the usable replicas in turn.
    next: AtomicUsize,
}

/// One replica in `/readyz`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplicaHealth {
    /// The replica's URL without its password
    #[schema(example = "postgres://perfeval@replica-1:5432/perfeval")]
    pub url: String,
    /// `ok` (serves reads), `lagging` (further behind than `PERFEVAL_REPLICA_MAX_LAG_MS`) or `down`
    #[schema(example = "ok")]
    pub state: &'static str,
    /// How far behind the primary it was at the last check, in milliseconds (absent when unknown)
    #[schema(example = 0)]
    pub lag_ms: Option<u64>,
}

impl Replicas {
    /// Every replica starts `down`, until its first check.
    pub fn new(urls: &[String], max_lag_ms: u64) -> Self {
        let members = urls
            .iter()
            .map(|url| {
                let member = Member {
                    label: crate::config::without_password(url),
                    state: AtomicU8::new(State::Down as u8),
                    lag_ms: u64::MAX.into(),
                };
                ::metrics::gauge!(REPLICA_UP, "replica" => member.label.clone()).set(0.0);
                member
            })
            .collect();
        // Shown at 0 from the start (without moving a count another application of this process
        // made: tests build many).
        for server in ["primary", "replica"] {
            ::metrics::counter!(READS, "server" => server).increment(0);
        }
        Self { urls: urls.to_vec(), members, max_lag_ms, next: AtomicUsize::new(0) }
    }

    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// Each replica's state for `/readyz`; `None` without replicas.
    pub fn report(&self) -> Option<Vec<ReplicaHealth>> {
        if self.is_empty() {
            return None;
        }
        Some(
            self.members
                .iter()
                .map(|m| {
                    let lag = m.lag_ms.load(Ordering::Relaxed);
                    ReplicaHealth {
                        url: m.label.clone(),
                        state: m.state().as_str(),
                        lag_ms: (lag != u64::MAX).then_some(lag),
                    }
                })
                .collect(),
        )
    }

    /// The state a check's findings give (a lag of `None`: behind by an unknown amount).
    fn judge(&self, in_recovery: bool, lag_ms: Option<u64>) -> State {
        match lag_ms {
            _ if !in_recovery => State::Down,
            Some(lag) if lag <= self.max_lag_ms => State::Ok,
            _ => State::Lagging,
        }
    }
}

/// A worker's way to its reads: a small pool per replica (driven by the worker's runtime, like
/// its primary pool) and the process's health of each.
pub struct Reads {
    replicas: Arc<Replicas>,
    pools: Vec<Pool>,
}

impl Reads {
    pub fn new(replicas: Arc<Replicas>, pools: Vec<Pool>) -> Self {
        Self { replicas, pools }
    }

    pub fn replicas(&self) -> &Replicas {
        &self.replicas
    }

    /// A connection for a read that must hold every write up to data version `at`: a usable
    /// replica's, inside a repeatable-read transaction whose snapshot holds `at`, else the
    /// primary's.
    pub async fn connect(&self, primary: &Pool, at: i64) -> Result<ReadConn, ApiError> {
        if let Some(conn) = self.replica(at).await {
            return Ok(conn);
        }
        Ok(ReadConn::primary(primary.get().await?))
    }

    async fn replica(&self, at: i64) -> Option<ReadConn> {
        let count = self.pools.len();
        if count == 0 {
            return None;
        }
        let first = self.replicas.next.fetch_add(1, Ordering::Relaxed);
        for turn in 0..count {
            let index = (first + turn) % count;
            let member = &self.replicas.members[index];
            if member.state() != State::Ok {
                continue;
            }
            let conn = match tokio::time::timeout(MAX_REPLICA_WAIT, self.pools[index].get()).await {
                Ok(Ok(conn)) => conn,
                // Its connections are all in use: the primary serves this one.
                Err(_) | Ok(Err(deadpool::managed::PoolError::Timeout(_))) => continue,
                Ok(Err(error)) => {
                    tracing::warn!(replica = %member.label, error = %error, "replica unreachable");
                    member.set(State::Down, None);
                    continue;
                }
            };
            let mut read = ReadConn { conn: Some(conn), replica: Some(index), open: false };
            match read.begin(at).await {
                Ok(true) => return Some(read),
                Ok(false) => {
                    // Behind the request: not a read it served.
                    read.close().await;
                    ::metrics::counter!("perfeval_replica_behind_total").increment(1);
                }
                Err(error) => {
                    tracing::warn!(replica = %member.label, error = %error, "replica failed; the primary serves");
                    member.set(State::Down, None);
                }
            }
        }
        None
    }

    /// After a read on a replica failed with [`falls_back`]'s error: a connection error marks the
    /// replica down at once (the monitor marks it `ok` again once it answers).
    pub fn failed(&self, read: ReadConn, error: &ApiError) {
        if let Some(index) = read.replica {
            let member = &self.replicas.members[index];
            tracing::warn!(replica = %member.label, error = %error, "replica read failed; the primary serves it");
            if matches!(error, ApiError::Unavailable(_)) {
                member.set(State::Down, None);
            }
        }
        drop(read);
    }
}

/// Whether a read that failed on a replica runs again on the primary: a connection error (the
/// replica went away), or a statement the replica cancelled for a conflict with its recovery
/// (SQLSTATE 40001, which the primary would not have).
pub fn falls_back(error: &ApiError) -> bool {
    match error {
        ApiError::Unavailable(_) => true,
        ApiError::Internal(cause) => cause.downcast_ref::<diesel::result::Error>().is_some_and(|e| {
            matches!(
                e,
                diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::SerializationFailure, _)
            ) || e.to_string().contains("conflict with recovery")
        }),
        _ => false,
    }
}

/// One read's connection: a replica's (in its checked transaction) or the primary's. Ended with
/// [`ReadConn::finish`]; dropped with its transaction open, the connection is closed rather than
/// returned to its pool.
pub struct ReadConn {
    conn: Option<Connection>,
    /// The replica's index, `None` on the primary.
    replica: Option<usize>,
    /// A transaction of ours is open on it.
    open: bool,
}

impl ReadConn {
    pub fn primary(conn: Connection) -> Self {
        Self { conn: Some(conn), replica: None, open: false }
    }

    pub fn on_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// Opens the transaction; whether its snapshot holds data version `at`.
    async fn begin(&mut self, at: i64) -> Result<bool, ApiError> {
        self.open = true;
        self.batch_execute("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
        let versions = crate::db::data_version::current(self).await?;
        Ok(versions.data >= at)
    }

    /// Ends the transaction, if one is open (a connection whose transaction could not be ended is
    /// closed when dropped).
    async fn close(&mut self) {
        if self.open && self.batch_execute("COMMIT").await.is_ok() {
            self.open = false;
        }
    }

    /// Ends the read: its transaction is closed and the connection goes back to its pool; the
    /// read is counted by the server that served it.
    pub async fn finish(mut self) {
        self.close().await;
        let server = if self.replica.is_some() { "replica" } else { "primary" };
        ::metrics::counter!(READS, "server" => server).increment(1);
    }
}

impl Deref for ReadConn {
    type Target = AsyncPgConnection;
    fn deref(&self) -> &AsyncPgConnection {
        self.conn.as_ref().expect("a read's connection is held until it ends")
    }
}

impl DerefMut for ReadConn {
    fn deref_mut(&mut self) -> &mut AsyncPgConnection {
        self.conn.as_mut().expect("a read's connection is held until it ends")
    }
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        if self.open {
            if let Some(conn) = self.conn.take() {
                // Its transaction (and snapshot) must not be handed to the next read.
                drop(Connection::take(conn));
            }
        }
    }
}

/// Runs a read's statements on a [`ReadConn`] for data version `$at`: `$body` is an async block
/// using `$conn` (a `&mut ReadConn`) and giving `Result<_, ApiError>`. When it fails on a
/// replica with a connection error (or a recovery conflict), it runs again on the primary.
macro_rules! on_read {
    ($reads:expr, $pool:expr, $at:expr, |$conn:ident| $body:expr) => {{
        let reads: &$crate::replicas::Reads = &$reads;
        let pool: &$crate::db::Pool = &$pool;
        let mut read = reads.connect(pool, $at).await?;
        let first = {
            let $conn: &mut $crate::replicas::ReadConn = &mut read;
            $body.await
        };
        match first {
            Err(error) if read.on_replica() && $crate::replicas::falls_back(&error) => {
                reads.failed(read, &error);
                let mut read = $crate::replicas::ReadConn::primary(pool.get().await?);
                let result = {
                    let $conn: &mut $crate::replicas::ReadConn = &mut read;
                    $body.await
                };
                read.finish().await;
                result
            }
            result => {
                read.finish().await;
                result
            }
        }
    }};
}
pub(crate) use on_read;

/// Checks every replica every [`CHECK_INTERVAL`], for the life of the process.
pub fn spawn_monitor(primary_url: String, replicas: Arc<Replicas>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut primary: Option<AsyncPgConnection> = None;
        let mut conns: Vec<Option<AsyncPgConnection>> = replicas.urls.iter().map(|_| None).collect();
        let mut tick = tokio::time::interval(CHECK_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let position = match tokio::time::timeout(CHECK_TIMEOUT, primary_position(&mut primary, &primary_url)).await
            {
                Ok(Ok(position)) => Some(position),
                _ => {
                    primary = None;
                    None
                }
            };
            let checks = conns.iter_mut().zip(&replicas.urls).map(|(conn, url)| {
                let position = position.clone();
                async move {
                    let found = tokio::time::timeout(CHECK_TIMEOUT, check(conn, url, position.as_deref())).await;
                    match found {
                        Ok(Ok(found)) => Some(found),
                        Ok(Err(error)) => {
                            tracing::debug!(%error, "replica check failed");
                            *conn = None;
                            None
                        }
                        Err(_) => {
                            *conn = None;
                            None
                        }
                    }
                }
            });
            let results = futures_util::future::join_all(checks).await;
            for (member, found) in replicas.members.iter().zip(results) {
                match found {
                    Some((in_recovery, lag_ms)) => member.set(replicas.judge(in_recovery, lag_ms), lag_ms),
                    None => member.set(State::Down, None),
                }
            }
        }
    })
}

#[derive(QueryableByName)]
struct Position {
    #[diesel(sql_type = Text)]
    lsn: String,
}

/// The primary's current WAL position.
async fn primary_position(conn: &mut Option<AsyncPgConnection>, url: &str) -> anyhow::Result<String> {
    if conn.is_none() {
        *conn = Some(crate::db::connect(url).await?);
    }
    use diesel_async::RunQueryDsl;
    let conn = conn.as_mut().expect("connected above");
    let row: Position = diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn").get_result(conn).await?;
    Ok(row.lsn)
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    in_recovery: bool,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    lag_ms: Option<i64>,
}

/// Whether the replica is in recovery, and its lag in milliseconds: 0 when it has replayed up to
/// `position` (the primary's, read just before), else the age of its last replayed transaction;
/// `None` when it is behind and has replayed none since it started (behind by an unknown amount).
async fn check(
    conn: &mut Option<AsyncPgConnection>,
    url: &str,
    position: Option<&str>,
) -> anyhow::Result<(bool, Option<u64>)> {
    if conn.is_none() {
        *conn = Some(crate::db::connect(url).await?);
    }
    use diesel_async::RunQueryDsl;
    let conn = conn.as_mut().expect("connected above");
    let found: Found = diesel::sql_query(
        "SELECT pg_is_in_recovery() AS in_recovery, \
         CASE WHEN $1::pg_lsn IS NOT NULL AND pg_last_wal_replay_lsn() >= $1::pg_lsn THEN 0 \
              WHEN pg_last_xact_replay_timestamp() IS NULL THEN NULL \
              ELSE GREATEST(0, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint \
         END AS lag_ms",
    )
    .bind::<diesel::sql_types::Nullable<Text>, _>(position)
    .get_result(conn)
    .await?;
    Ok((found.in_recovery, found.lag_ms.map(|lag| lag.max(0) as u64)))
}

/// A replica's pool: as the primary's, with a shorter wait (a read that would wait longer runs on
/// the primary).
pub fn build_pool(url: &str, size: usize, wait: Duration, statement_timeout: Duration) -> anyhow::Result<Pool> {
    crate::db::build_pool(url, size, wait.min(MAX_REPLICA_WAIT), statement_timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            crate::config::without_password("postgres://app:s3cr%40t@db-2:5432/perfeval"),
            "postgres://app@db-2:5432/perfeval"
        );
        assert_eq!(
            crate::config::without_password("postgres://app@db-2/perfeval?password=x"),
            "postgres://app@db-2/perfeval"
        );
        assert_eq!(crate::config::without_password("postgresql://db-2/perfeval"), "postgresql://db-2/perfeval");
        assert_eq!(
            crate::config::without_password("postgres://postgres@%2Ftmp%2Fstandby:5432/perfeval"),
            "postgres://postgres@%2Ftmp%2Fstandby:5432/perfeval"
        );
    }

    #[test]
    fn connection_errors_fall_back_to_the_primary_and_answers_do_not() {
        assert!(falls_back(&ApiError::Unavailable("connection closed".into())));
        assert!(!falls_back(&ApiError::not_found("no region `43`")), "a 404 is the answer");
        assert!(!falls_back(&ApiError::QueryTimeout("statement timeout".into())), "the primary would time out too");
    }

    #[test]
    fn a_replica_is_judged_by_recovery_and_lag() {
        let replicas = Replicas::new(&["postgres://r/db".to_owned()], 1000);
        assert_eq!(replicas.judge(true, Some(0)), State::Ok);
        assert_eq!(replicas.judge(true, Some(1000)), State::Ok);
        assert_eq!(replicas.judge(true, Some(1001)), State::Lagging);
        assert_eq!(replicas.judge(true, None), State::Lagging, "behind, and no transaction replayed to date it");
        assert_eq!(replicas.judge(false, Some(0)), State::Down, "a promoted replica is no standby");
        assert_eq!(replicas.report().unwrap()[0].state, "down", "until its first check");
    }
}
