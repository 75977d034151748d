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
        assert_eq!(pending, 14);
        conn.run_pending_migrations(perfeval::db::MIGRATIONS).expect("up again after down");
        assert!(conn.pending_migrations(perfeval::db::MIGRATIONS).unwrap().is_empty());
    })
    .await
    .unwrap();
}

/// Instances started at once on one new database all come up: one migrates and loads the
/// divisions while the others wait for it, then find nothing left to do. Without the lock two
/// of them would run the first migration side by side and one would fail on its tables.
#[tokio::test]
async fn instances_migrating_one_new_database_at_once_all_succeed() {
    let db = TestDatabase::empty().await;
    let runs = (0..4).map(|_| {
        let url = db.url.clone();
        tokio::spawn(async move { perfeval::db::migrate(&url).await })
    });
    for run in futures_util::future::join_all(runs).await {
        run.unwrap().expect("every instance's migration run succeeds");
    }
    let mut conn = db.connect().await;
    assert_eq!(
        perfeval::db::applied_migration_version(&mut conn).await.unwrap(),
        Some(perfeval::db::latest_migration_version())
    );
    assert_eq!(db.count_rows("__diesel_schema_migrations").await, 14, "each migration recorded once");
    assert_eq!(db.count_rows("regions").await, 44_703, "the built-in divisions are loaded");
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
        // Every migration from the forms one on, newest first.
        loop {
            let reverted = conn.revert_last_migration(perfeval::db::MIGRATIONS).expect("down.sql runs over records");
            if reverted.to_string().contains("000005") {
                break;
            }
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

/// Revisions stored as full copies (the schema before 2026-12-01-000009) read back the same after
/// the migration has turned the copies of unchanged content into pointers, and fewer copies remain.
#[tokio::test]
async fn every_revision_reads_back_the_same_after_copies_become_pointers() {
    use diesel::{sql_types::Text, QueryableByName};
    use diesel_async::RunQueryDsl;
    use serde_json::json;

    let app = crate::helpers::spawn_app().await;
    let mut ids = Vec::new();
    for (i, unit) in ["宜阳街道办事处", "培元街道办事处", "泉峰街道办事处"].iter().enumerate() {
        let record = crate::helpers::minimal(&format!("43048210{}", i + 1), 2022, unit);
        let (id, mut etag) = app.create(&record).await;
        // A replace that changes the content, one that changes nothing, and a review round.
        let mut changed = record.clone();
        changed["expenditure"]["total"] = json!("950.00");
        for body in [&changed, &changed] {
            let reply = app.put(&format!("/api/v1/evaluations/{id}"), body, Some(&etag)).await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            etag = reply.header("etag").unwrap().to_owned();
        }
        for action in ["submit", "return", "submit", "approve", "publish", "reopen"] {
            let body = if action == "return" {
                json!({"action": action, "comment": "补充说明"})
            } else {
                json!({"action": action})
            };
            let reply = app
                .request(
                    reqwest::Method::POST,
                    &format!("/api/v1/evaluations/{id}/transitions"),
                    Some(&body),
                    &[("if-match", &etag)],
                )
                .await;
            assert_eq!(reply.status, 200, "{action}: {}", reply.text);
            etag = reply.header("etag").unwrap().to_owned();
        }
        ids.push(id);
    }

    // The schema before: every revision a full copy.
    let url = app.db.url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).unwrap();
        // The idempotency claims', the sums' two, the regions version's, the data version's, the
        // indicator library's and the change feed's migrations come after the one under test.
        let claims = conn.revert_last_migration(perfeval::db::MIGRATIONS).unwrap();
        assert!(claims.to_string().contains("000016"), "{claims}");
        let records = conn.revert_last_migration(perfeval::db::MIGRATIONS).unwrap();
        assert!(records.to_string().contains("000015"), "{records}");
        let sums = conn.revert_last_migration(perfeval::db::MIGRATIONS).unwrap();
        assert!(sums.to_string().contains("000014"), "{sums}");
        let regions = conn.revert_last_migration(perfeval::db::MIGRATIONS).unwrap();
        assert!(regions.to_string().contains("000013"), "{regions}");
        let version = conn.revert_last_migration(perfeval::db::MIGRATIONS).unwrap();
        assert!(version.to_string().contains("000012"), "{version}");
        let library = conn.revert_last_migration(perfeval::db::MIGRATIONS).unwrap();
        assert!(library.to_string().contains("000011"), "{library}");
        let feed = conn.revert_last_migration(perfeval::db::MIGRATIONS).unwrap();
        assert!(feed.to_string().contains("000010"), "{feed}");
        let reverted = conn.revert_last_migration(perfeval::db::MIGRATIONS).unwrap();
        assert!(reverted.to_string().contains("000009"), "{reverted}");
    })
    .await
    .unwrap();
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = Text)]
        line: String,
    }
    let mut conn = app.db.connect().await;
    let rows: Vec<Version> = diesel::sql_query(
        "SELECT concat_ws(' ', evaluation_id, revision, action, status, actor, comment, record::text) AS line \
         FROM evaluation_revisions ORDER BY evaluation_id, revision",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let before: Vec<String> = rows.into_iter().map(|r| r.line).collect();
    assert_eq!(before.len(), 27, "9 revisions of 3 records");
    drop(conn);

    let url = app.db.url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).unwrap();
        conn.run_pending_migrations(perfeval::db::MIGRATIONS).unwrap();
    })
    .await
    .unwrap();
    // Through a service started afresh, every revision is the record as it was.
    let mut settings = perfeval::config::Settings::from_lookup(|_| None).unwrap();
    settings.database_url = Some(app.db.url.clone());
    settings.listen = "127.0.0.1:0".into();
    settings.rate_limit = 0;
    let fresh = perfeval::startup::Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", fresh.port());
    tokio::spawn(fresh.run_until_stopped());
    let client = reqwest::Client::new();
    let mut after = Vec::new();
    for id in &ids {
        let list: serde_json::Value = client
            .get(format!("{address}/api/v1/evaluations/{id}/revisions"))
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in list["items"].as_array().unwrap() {
            let n = item["revision"].as_i64().unwrap();
            let detail: serde_json::Value = client
                .get(format!("{address}/api/v1/evaluations/{id}/revisions/{n}"))
                .bearer_auth(&app.admin_token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            // The same text the database held: jsonb's own rendering of the record.
            let record: serde_json::Value = detail["record"].clone();
            let mut conn = app.db.connect().await;
            #[derive(QueryableByName)]
            struct Rendered {
                #[diesel(sql_type = Text)]
                text: String,
            }
            let rendered: Rendered = diesel::sql_query("SELECT ($1::text)::jsonb::text AS text")
                .bind::<Text, _>(record.to_string())
                .get_result(&mut conn)
                .await
                .unwrap();
            let words = [
                id.to_string(),
                n.to_string(),
                item["action"].as_str().unwrap().to_owned(),
                item["status"].as_str().unwrap().to_owned(),
                item["actor"].as_str().unwrap().to_owned(),
            ];
            let comment = item["comment"].as_str().map(|c| format!(" {c}")).unwrap_or_default();
            after.push(format!("{}{comment} {}", words.join(" "), rendered.text));
        }
    }
    assert_eq!(after, before, "every revision reads back as it was stored before");
    // Copies remain only where the content changed: the create and the first replace.
    assert_eq!(app.count_rows("evaluation_revisions WHERE record IS NOT NULL").await, 6);
    assert_eq!(app.count_rows("evaluation_revisions WHERE record IS NULL").await, 21);
}
