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
        assert_eq!(pending, 6);
        conn.run_pending_migrations(perfeval::db::MIGRATIONS).expect("up again after down");
        assert!(conn.pending_migrations(perfeval::db::MIGRATIONS).unwrap().is_empty());
    })
    .await
    .unwrap();
}

/// Records written before the forms migration (2026-12-01-000005) read back unchanged after it:
/// the record, its versions and its list line. The migration is reverted under stored records (the
/// schema the earlier service wrote) and run again, and a service started afresh reads them.
#[tokio::test]
async fn records_written_before_the_forms_migration_read_back_unchanged_after_it() {
    use crate::helpers::{minimal, yintian};
    let app = crate::helpers::spawn_app().await;
    let mut with_prior = yintian();
    with_prior["fiscal_year"] = serde_json::json!(2021);
    let mut ids = Vec::new();
    for record in [yintian(), with_prior, minimal("430482101", 2022, "常宁市宜阳街道办事处")] {
        ids.push(app.create(&record).await.0);
    }
    let (submitted, etag) = (ids[2], "\"1\"");
    let reply = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/evaluations/{submitted}/transitions"),
            Some(&serde_json::json!({"action": "submit"})),
            &[("if-match", etag)],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);

    async fn snapshot(address: &str, token: &str, ids: &[i64]) -> Vec<String> {
        let client = reqwest::Client::new();
        let mut bodies = Vec::new();
        let mut paths: Vec<String> = vec!["/api/v1/evaluations?sort=id".into()];
        for id in ids {
            paths.push(format!("/api/v1/evaluations/{id}"));
            paths.push(format!("/api/v1/evaluations/{id}/revisions"));
            paths.push(format!("/api/v1/evaluations/{id}/revisions/1"));
            paths.push(format!("/api/v1/evaluations/{id}/findings"));
        }
        for path in paths {
            let reply = client.get(format!("{address}{path}")).bearer_auth(token).send().await.unwrap();
            assert_eq!(reply.status(), 200, "{path}");
            bodies.push(format!("{path}: {}", reply.text().await.unwrap()));
        }
        bodies
    }
    let before = snapshot(&app.address, &app.admin_token, &ids).await;

    let url = app.db.url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).unwrap();
        for number in ["000006", "000005"] {
            let reverted = conn.revert_last_migration(perfeval::db::MIGRATIONS).expect("down.sql runs over records");
            assert!(reverted.to_string().contains(number), "reverted {reverted}, not migration {number}");
        }
        conn.run_pending_migrations(perfeval::db::MIGRATIONS).expect("up.sql runs over records");
    })
    .await
    .unwrap();

    let mut settings = perfeval::config::Settings::from_lookup(|_| None).unwrap();
    settings.database_url = Some(app.db.url.clone());
    settings.listen = "127.0.0.1:0".into();
    settings.rate_limit = 0;
    let fresh = perfeval::startup::Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", fresh.port());
    tokio::spawn(fresh.run_until_stopped());
    let after = snapshot(&address, &app.admin_token, &ids).await;
    for (before, after) in before.iter().zip(&after) {
        assert_eq!(before, after);
    }
    assert_eq!(before.len(), after.len());
}
