//! Every migration's down.sql undoes its up.sql: run, revert all, run again.
use diesel::Connection;
use diesel_async::{async_connection_wrapper::AsyncConnectionWrapper, AsyncPgConnection};
use diesel_migrations::MigrationHarness;

use crate::helpers::TestDatabase;

#[tokio::test]
async fn migrations_run_revert_and_run_again() {
    let db = TestDatabase::new().await;
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).unwrap();
        assert!(conn.pending_migrations(perfeval::db::MIGRATIONS).unwrap().is_empty(), "the template is migrated");
        conn.revert_all_migrations(perfeval::db::MIGRATIONS).expect("every down.sql runs");
        let pending = conn.pending_migrations(perfeval::db::MIGRATIONS).unwrap().len();
        assert_eq!(pending, 5);
        conn.run_pending_migrations(perfeval::db::MIGRATIONS).expect("up again after down");
        assert!(conn.pending_migrations(perfeval::db::MIGRATIONS).unwrap().is_empty());
    })
    .await
    .unwrap();
}
