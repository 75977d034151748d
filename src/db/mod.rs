//! Database access: the connection pool, embedded migrations, and queries by table.
pub mod aggregates;
pub mod batch;
pub mod changes;
pub mod coverage;
pub mod data_version;
pub mod evaluation_list;
pub mod evaluations;
pub mod idempotency;
pub mod indicator_sums;
pub mod indicators;
pub mod numeric;
pub mod plain;
pub mod private_pg;
pub mod regions;
pub mod revisions;
pub mod schema;
pub mod sources;
pub mod statement_timer;
pub mod sums;
pub mod tokens;
pub mod webhooks;

use std::time::Duration;

use anyhow::Context;
use diesel::migration::MigrationSource;
use diesel_async::{
    async_connection_wrapper::AsyncConnectionWrapper,
    pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod},
    AsyncPgConnection, RunQueryDsl,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub type Pool = diesel_async::pooled_connection::deadpool::Pool<AsyncPgConnection>;
pub type PoolError = diesel_async::pooled_connection::deadpool::PoolError;
pub type Connection = diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Builds a pool. Connections are recycled with `Fast` (no test query per checkout, which
/// cost ~40% of throughput); a connection that broke is dropped on its first failed use.
/// A connection's driver task runs on the runtime that first asks for it: each HTTP worker has a
/// pool of its own (see `startup::run`), so its queries never hop to another thread, and a
/// worker stopped at shutdown takes only its own connections with it.
/// Checkouts take the most recently returned connection (LIFO): a light load keeps reusing the
/// same backends, whose caches and prepared plans are warm, where FIFO cycled one request at a
/// time through every connection of the pool.
/// A checkout waits at most `wait`, then the request gets 503 rather than hanging. Every
/// connection runs with `statement_timeout`, so no query holds a connection longer.
/// Every connection's statements are timed for `/metrics` ([`statement_timer::StatementTimer`]).
pub fn build_pool(
    database_url: &str,
    size: usize,
    wait: Duration,
    statement_timeout: Duration,
) -> anyhow::Result<Pool> {
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let timeout_ms = statement_timeout.as_millis();
    config.custom_setup = Box::new(move |url| {
        Box::pin(async move {
            use diesel_async::{AsyncConnection, SimpleAsyncConnection};
            let mut conn = AsyncPgConnection::establish(url).await?;
            conn.set_instrumentation(statement_timer::StatementTimer::default());
            conn.batch_execute(&format!("SET statement_timeout = {timeout_ms}"))
                .await
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
            Ok(conn)
        })
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    Pool::builder(manager)
        .max_size(size.max(1))
        .queue_mode(deadpool::managed::QueueMode::Lifo)
        .wait_timeout(Some(wait))
        .create_timeout(Some(wait))
        .recycle_timeout(Some(wait))
        .runtime(deadpool::Runtime::Tokio1)
        .post_recycle(diesel_async::pooled_connection::deadpool::Hook::sync_fn(|conn, _| {
            statement_timer::StatementTimer::reset(conn);
            Ok(())
        }))
        .build()
        .context("building the connection pool")
}

/// Version of the newest embedded migration, which `/readyz` expects the database to have.
pub fn latest_migration_version() -> String {
    MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .expect("embedded migrations are readable")
        .iter()
        .map(|m| m.name().version().to_string())
        .max()
        .unwrap_or_default()
}

/// The session advisory lock that serialises [`migrate`] across processes.
const MIGRATION_LOCK: i64 = 0x7065_7266_6576_616c; // "perfeval"

/// Runs pending migrations, then loads the built-in division table if `regions` is empty.
///
/// Several instances may start at once on one new database: each first takes a session advisory
/// lock, so one migrates and loads while the others wait, then find nothing left to do. The lock
/// is the session's, so a process that dies while holding it releases it with its connection.
///
/// Migrations go through `AsyncConnectionWrapper` on a blocking thread: diesel-async's own
/// migration harness panics under actix's runtime.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    under_migration_lock(database_url, async |conn| migrate_locked(database_url, conn).await).await
}

/// Runs `work` on a connection holding the migration lock ([`MIGRATION_LOCK`]).
async fn under_migration_lock<T>(
    database_url: &str,
    work: impl AsyncFnOnce(&mut AsyncPgConnection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let mut conn = connect(database_url).await?;
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .execute(&mut conn)
        .await
        .context("waiting for the migration lock")?;
    let done = work(&mut conn).await;
    // Dropping the connection would release the lock as well; unlocking says so at once.
    let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(&mut conn).await;
    done
}

async fn migrate_locked(database_url: &str, conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    let url = database_url.to_owned();
    let applied = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        use diesel::Connection as _;
        let mut conn =
            AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).context("connecting to run migrations")?;
        let applied =
            conn.run_pending_migrations(MIGRATIONS).map_err(|e| anyhow::anyhow!("running migrations: {e}"))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await
    .context("migration task")??;
    if applied.iter().any(|version| version.as_str() == CURRENT_CONTENT_MIGRATION) {
        let converted = revisions::drop_current_copies(conn).await.context("dropping copies of current content")?;
        tracing::info!(
            dropped = converted.changed,
            kept = converted.kept,
            "current contents are held by the records' tables alone"
        );
    }
    let loaded = regions::load_builtin_if_empty(conn).await?;
    if loaded > 0 {
        tracing::info!(regions = loaded, "loaded the built-in 2023 division table");
    }
    Ok(())
}

/// The migration after which a current content is held by the record's tables alone.
const CURRENT_CONTENT_MIGRATION: &str = "20261202000017";

/// Reverts every migration newer than `version` (a migration's version, its folder name's
/// digits: `20261202000016`), newest first, under the migration lock. Going below
/// [`CURRENT_CONTENT_MIGRATION`], it first stores a copy of every current content, as the schema
/// before holds them. Returns the versions reverted.
pub async fn revert_to(database_url: &str, version: &str) -> anyhow::Result<Vec<String>> {
    under_migration_lock(database_url, async |conn| revert_locked(database_url, conn, version).await).await
}

async fn revert_locked(database_url: &str, conn: &mut AsyncPgConnection, target: &str) -> anyhow::Result<Vec<String>> {
    let newest = applied_migration_version(conn).await?.unwrap_or_default();
    if newest.as_str() >= CURRENT_CONTENT_MIGRATION && target < CURRENT_CONTENT_MIGRATION {
        let stored = revisions::store_current_copies(conn).await.context("copying current contents")?;
        tracing::info!(stored, "current contents copied into their revisions");
    }
    let (url, target) = (database_url.to_owned(), target.to_owned());
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        use diesel::Connection as _;
        let mut conn =
            AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).context("connecting to revert migrations")?;
        let mut reverted = Vec::new();
        loop {
            let applied = conn.applied_migrations().map_err(|e| anyhow::anyhow!("reading migrations: {e}"))?;
            match applied.iter().map(ToString::to_string).max() {
                Some(newest) if newest.as_str() > target.as_str() => {}
                _ => return Ok(reverted),
            }
            let version =
                conn.revert_last_migration(MIGRATIONS).map_err(|e| anyhow::anyhow!("reverting migrations: {e}"))?;
            reverted.push(version.to_string());
        }
    })
    .await
    .context("migration task")?
}

/// One connection outside the pool (migrations, command-line tasks).
pub async fn connect(database_url: &str) -> anyhow::Result<AsyncPgConnection> {
    use diesel_async::AsyncConnection;
    AsyncPgConnection::establish(database_url).await.context("connecting to PostgreSQL")
}

/// The newest migration version recorded in the database, if any.
pub async fn applied_migration_version(conn: &mut AsyncPgConnection) -> diesel::QueryResult<Option<String>> {
    #[derive(diesel::QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        version: Option<String>,
    }
    let row: Version =
        diesel::sql_query("SELECT max(version) AS version FROM __diesel_schema_migrations").get_result(conn).await?;
    Ok(row.version)
}

/// A query whose SQL text is cached as a prepared statement, keyed by that text.
///
/// diesel never caches `sql_query` (its text may be built from anything), so PostgreSQL would
/// parse and plan the list, aggregate and coverage statements on every request. Ours are built
/// only from fixed fragments with every value bound, so the set of texts is bounded (one per
/// combination of filters and sort keys) and each is planned once per connection.
#[derive(Debug, Clone)]
pub struct Prepared<Q>(pub Q);

impl<Q> diesel::query_builder::QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>> diesel::query_builder::QueryFragment<diesel::pg::Pg>
    for Prepared<Q>
{
    fn walk_ast<'b>(&'b self, pass: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> diesel::QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &diesel::pg::Pg) -> diesel::QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> Prepared<Q> {
    /// The same prepared query, its rows read by position as `ST` (see [`Positional`]).
    pub fn by_position<ST>(self) -> Positional<Q, ST> {
        Positional(self, std::marker::PhantomData)
    }
}

/// A [`Prepared`] `sql_query` whose rows are read by position, as the SQL types `ST` of its
/// select list, into a `Queryable` row type. `sql_query` rows are otherwise read by column name,
/// a linear search over the columns for every field of every row.
#[derive(Debug, Clone)]
pub struct Positional<Q, ST>(Prepared<Q>, std::marker::PhantomData<ST>);

impl<Q, ST> diesel::query_builder::QueryId for Positional<Q, ST> {
    type QueryId = <Prepared<Q> as diesel::query_builder::QueryId>::QueryId;
    const HAS_STATIC_QUERY_ID: bool = <Prepared<Q> as diesel::query_builder::QueryId>::HAS_STATIC_QUERY_ID;
}

impl<Q, ST: diesel::sql_types::SqlType> diesel::query_builder::Query for Positional<Q, ST> {
    type SqlType = ST;
}

impl<Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>, ST> diesel::query_builder::QueryFragment<diesel::pg::Pg>
    for Positional<Q, ST>
{
    fn walk_ast<'b>(&'b self, pass: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> diesel::QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, backend: &diesel::pg::Pg) -> diesel::QueryResult<bool> {
        self.0.is_safe_to_cache_prepared(backend)
    }
}

/// A second connection for one request's parallel work (batch writes, an aggregate's count),
/// only when one more would still be left for other requests and none is waited for; never waits
/// long. `None` means: do the work on the request's own connection.
pub async fn spare(pool: &Pool) -> Option<Connection> {
    let status = pool.status();
    let obtainable = status.available + status.max_size.saturating_sub(status.size);
    if obtainable < 2 || status.waiting > 0 {
        return None;
    }
    tokio::time::timeout(Duration::from_millis(20), pool.get()).await.ok().and_then(Result::ok)
}
