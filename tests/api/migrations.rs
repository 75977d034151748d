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
        assert_eq!(pending, 20);
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
    assert_eq!(db.count_rows("__diesel_schema_migrations").await, 20, "each migration recorded once");
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

    // Every migration from the forms one on, newest first.
    let reverted = perfeval::db::revert_to(&app.db.url, "20261128000004").await.expect("down.sql runs over records");
    assert!(reverted.last().unwrap().contains("000005"), "{reverted:?}");
    let url = app.db.url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).unwrap();
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

    // The schema before: every revision a full copy. The migrations after the one under test are
    // reverted with it, the current-content one (000017) storing the copies its down.sql needs.
    let reverted = perfeval::db::revert_to(&app.db.url, "20261201000006").await.unwrap();
    assert_eq!(reverted.len(), 14, "{reverted:?}");
    assert!(reverted[0].contains("000022") && reverted[13].contains("000009"), "{reverted:?}");
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

    // The service's migration: the migrations, then the copies of current contents dropped.
    perfeval::db::migrate(&app.db.url).await.unwrap();
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
    // Copies remain only where the content changed and was later replaced: the create's. The
    // first replace's content is current, held by the record's tables alone.
    assert_eq!(app.count_rows("evaluation_revisions WHERE record IS NOT NULL").await, 3);
    assert_eq!(app.count_rows("evaluation_revisions WHERE record IS NULL").await, 24);
}

/// Every revision of a set of records, and the change feed, read back the same before the
/// current-content migration (2026-12-02-000017: current contents held by the records' tables
/// alone) and after it, and after the change-feed one (000018: changes written once): reverted
/// under stored records, each current content copied back, then run again.
#[tokio::test]
async fn every_revision_reads_back_the_same_across_the_current_content_migration() {
    use serde_json::json;

    let app = crate::helpers::spawn_app().await;
    let mut ids = Vec::new();
    for (i, unit) in ["宜阳街道办事处", "培元街道办事处", "泉峰街道办事处", "南岳镇人民政府"].iter().enumerate()
    {
        let record = crate::helpers::minimal(&format!("43048210{}", i + 1), 2022, unit);
        let (id, mut etag) = app.create(&record).await;
        // Record i: i replaces that change the content, one that does not, i review steps.
        let mut body = record.clone();
        for n in 0..i {
            body["expenditure"]["total"] = json!(format!("96{n}.00"));
            let reply = app.put(&format!("/api/v1/evaluations/{id}"), &body, Some(&etag)).await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            etag = reply.header("etag").unwrap().to_owned();
        }
        let reply = app.put(&format!("/api/v1/evaluations/{id}"), &body, Some(&etag)).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        etag = reply.header("etag").unwrap().to_owned();
        for action in ["submit", "approve", "publish"].iter().take(i) {
            let reply = app
                .request(
                    reqwest::Method::POST,
                    &format!("/api/v1/evaluations/{id}/transitions"),
                    Some(&json!({"action": action})),
                    &[("if-match", &etag)],
                )
                .await;
            assert_eq!(reply.status, 200, "{action}: {}", reply.text);
            etag = reply.header("etag").unwrap().to_owned();
        }
        ids.push(id);
    }
    let snapshot = async || {
        let mut bodies = vec![app.get("/api/v1/changes?limit=1000").await.text];
        for id in &ids {
            let list = app.get(&format!("/api/v1/evaluations/{id}/revisions")).await;
            assert_eq!(list.status, 200, "{}", list.text);
            for item in list.json()["items"].as_array().unwrap() {
                let n = item["revision"].as_i64().unwrap();
                let detail = app.get(&format!("/api/v1/evaluations/{id}/revisions/{n}")).await;
                assert_eq!(detail.status, 200, "{}", detail.text);
                bodies.push(detail.text);
            }
        }
        bodies
    };
    let before = snapshot().await;
    // 4 records: 1 + i + 1 + i revisions each.
    assert_eq!(before.len(), 1 + 2 + 4 + 6 + 8);
    // Copies only of replaced contents: 0 + 1 + 2 + 3.
    assert_eq!(app.count_rows("evaluation_revisions WHERE record IS NOT NULL").await, 6);

    let reverted = perfeval::db::revert_to(&app.db.url, "20261202000016").await.unwrap();
    assert_eq!(reverted.len(), 6, "{reverted:?}");
    // The schema before: every content version holds its copy.
    assert_eq!(app.count_rows("evaluation_revisions WHERE record IS NOT NULL").await, 10);
    assert_eq!(snapshot().await, before, "the same before the migration");

    perfeval::db::migrate(&app.db.url).await.unwrap();
    assert_eq!(app.count_rows("evaluation_revisions WHERE record IS NOT NULL").await, 6);
    assert_eq!(snapshot().await, before, "the same after it");
}

/// Three records, one returned, fixed and resubmitted, one approved, published, reopened and
/// fixed, one never reviewed: their ids.
async fn reviewed_records(app: &crate::helpers::TestApp) -> Vec<i64> {
    use serde_json::json;
    let steps: [&[(&str, Option<&str>)]; 3] = [
        &[("submit", None), ("return", Some("请补充项目绩效目标完成情况说明")), ("fix", None), ("submit", None)],
        &[
            ("submit", None),
            ("approve", Some("同意")),
            ("publish", None),
            ("reopen", Some("更正三公经费")),
            ("fix", None),
        ],
        &[],
    ];
    let mut ids = Vec::new();
    for (i, path) in steps.iter().enumerate() {
        let mut record = crate::helpers::minimal(&format!("43048210{}", i + 1), 2023, "南岳镇人民政府");
        let (id, mut etag) = app.create(&record).await;
        for (n, (action, comment)) in path.iter().enumerate() {
            let reply = if *action == "fix" {
                record["expenditure"]["total"] = json!(format!("97{n}.00"));
                app.put(&format!("/api/v1/evaluations/{id}"), &record, Some(&etag)).await
            } else {
                let body = json!({"action": action, "comment": comment});
                let path = format!("/api/v1/evaluations/{id}/transitions");
                app.request(reqwest::Method::POST, &path, Some(&body), &[("if-match", &etag)]).await
            };
            assert_eq!(reply.status, 200, "{action}: {}", reply.text);
            etag = reply.header("etag").unwrap().to_owned();
        }
        ids.push(id);
    }
    ids
}

/// Each record as GET returns it (its review history with who, when, why and the status change)
/// and every revision of it, read back the same before the review transitions became the
/// revisions they made (2026-12-03-000019: no table of transitions) and after it, and after it was
/// reverted (the table rebuilt from the revisions) and run again.
#[tokio::test]
async fn the_review_history_reads_back_the_same_after_transitions_become_their_revisions() {
    let app = crate::helpers::spawn_app().await;
    let ids = reviewed_records(&app).await;
    let snapshot = async || {
        let mut bodies = Vec::new();
        for id in &ids {
            let record = app.get(&format!("/api/v1/evaluations/{id}")).await;
            assert_eq!(record.status, 200, "{}", record.text);
            bodies.push(record.text);
            let list = app.get(&format!("/api/v1/evaluations/{id}/revisions")).await;
            assert_eq!(list.status, 200, "{}", list.text);
            for item in list.json()["items"].as_array().unwrap() {
                let n = item["revision"].as_i64().unwrap();
                bodies.push(app.get(&format!("/api/v1/evaluations/{id}/revisions/{n}")).await.text);
            }
        }
        bodies
    };
    let after = snapshot().await;
    // The first record's history as GET states it: four steps, with the status each one left.
    let first: serde_json::Value = serde_json::from_str(&after[0]).unwrap();
    let steps: Vec<String> = first["workflow"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| {
            format!(
                "{} {}→{} r{} {}",
                step["action"].as_str().unwrap(),
                step["from_status"].as_str().unwrap(),
                step["to_status"].as_str().unwrap(),
                step["revision"],
                step["comment"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            "submit draft→submitted r2 -",
            "return submitted→returned r3 请补充项目绩效目标完成情况说明",
            "submit returned→submitted r5 -",
        ]
    );

    let reverted = perfeval::db::revert_to(&app.db.url, "20261202000018").await.unwrap();
    assert_eq!(reverted.len(), 4, "{reverted:?}");
    // The table as it was: a row per review step of the three records (4 - 1 fix, 5 - 1 fix, 0).
    assert_eq!(app.count_rows("evaluation_transitions").await, 3 + 4);
    assert_eq!(snapshot().await, after, "the same with a table of transitions");

    perfeval::db::migrate(&app.db.url).await.unwrap();
    assert_eq!(app.count_rows("pg_tables WHERE tablename = 'evaluation_transitions'").await, 0);
    assert_eq!(snapshot().await, after, "the same after it went again");
}

/// A table of transitions that says something its revisions do not (here, another actor) stops
/// the migration: the table stays, with its rows, and the migration stays pending.
#[tokio::test]
async fn a_transition_its_revision_contradicts_stops_the_migration_and_loses_nothing() {
    use diesel_async::RunQueryDsl;
    let app = crate::helpers::spawn_app().await;
    reviewed_records(&app).await;
    perfeval::db::revert_to(&app.db.url, "20261202000018").await.unwrap();
    let mut conn = app.db.connect().await;
    diesel::sql_query("UPDATE evaluation_transitions SET actor = '县财政局 张三' WHERE action = 'approve'")
        .execute(&mut conn)
        .await
        .unwrap();

    let error = perfeval::db::migrate(&app.db.url).await.expect_err("the migration refuses");
    assert!(format!("{error:#}").contains("1 review transitions differ from the revisions they made"), "{error:#}");
    assert_eq!(app.count_rows("evaluation_transitions").await, 7);
    assert_eq!(app.count_rows("evaluation_transitions WHERE actor = '县财政局 张三'").await, 1);
}

/// The feed reads back the same when its lines stop repeating what the records and revisions
/// say (2026-12-04-000022: a line points at its record and revision), after it is reverted (the
/// table rebuilt in full) and run again; and a line keeps what it said when its record is later
/// renamed or deleted.
#[tokio::test]
async fn the_change_feed_reads_back_the_same_when_its_lines_point_at_the_revisions() {
    use serde_json::json;
    let app = crate::helpers::spawn_app().await;
    let ids = reviewed_records(&app).await;
    // The third record is renamed (another unit), then the second is deleted.
    let path = format!("/api/v1/evaluations/{}", ids[2]);
    let current = app.get(&path).await;
    let mut record = crate::helpers::minimal("430482103", 2023, "南岳镇人民政府（本级）");
    let renamed = app.put(&path, &record, current.header("etag")).await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    let path = format!("/api/v1/evaluations/{}", ids[1]);
    let etag = app.get(&path).await.header("etag").unwrap().to_owned();
    assert_eq!(app.delete(&path, Some(&etag)).await.status, 204);

    let feed = async || app.get("/api/v1/changes?limit=1000").await.json()["items"].clone();
    let before = feed().await;
    let lines: Vec<String> = before
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {}",
                c["evaluation_id"],
                c["action"].as_str().unwrap(),
                c["revision"],
                c["unit"].as_str().unwrap()
            )
        })
        .collect();
    let (first, second, third) = (ids[0], ids[1], ids[2]);
    let mut expected = Vec::new();
    for (n, action) in ["create", "submit", "return", "replace", "submit"].iter().enumerate() {
        expected.push(format!("{first} {action} {} 南岳镇人民政府", n + 1));
    }
    for (n, action) in ["create", "submit", "approve", "publish", "reopen", "replace"].iter().enumerate() {
        expected.push(format!("{second} {action} {} 南岳镇人民政府", n + 1));
    }
    expected.push(format!("{third} create 1 南岳镇人民政府"));
    expected.push(format!("{third} replace 2 南岳镇人民政府（本级）"));
    expected.push(format!("{second} delete 6 南岳镇人民政府"));
    assert_eq!(lines, expected);
    // What the lines state themselves: the tombstone, the deleted record's six lines and the
    // renamed record's line from before the rename. Every other line points.
    assert_eq!(app.count_rows("change_log WHERE action IS NOT NULL").await, 1 + 6 + 1);
    assert_eq!(app.count_rows("change_log WHERE action IS NULL").await, 5 + 1);

    let reverted = perfeval::db::revert_to(&app.db.url, "20261203000021").await.unwrap();
    assert_eq!(reverted, ["20261204000022"]);
    assert_eq!(app.count_rows("pg_tables WHERE tablename = 'changes'").await, 1);
    assert_eq!(feed().await, before, "the same from the table in full");

    perfeval::db::migrate(&app.db.url).await.unwrap();
    assert_eq!(app.count_rows("change_log WHERE action IS NOT NULL").await, 1 + 6 + 1);
    assert_eq!(feed().await, before, "the same after the migration");

    // The third record renamed again and deleted after the migration: its lines keep their unit.
    let path = format!("/api/v1/evaluations/{third}");
    let current = app.get(&path).await;
    record["unit"] = json!("南岳镇");
    let renamed = app.put(&path, &record, current.header("etag")).await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    let etag = renamed.header("etag").unwrap().to_owned();
    assert_eq!(app.delete(&path, Some(&etag)).await.status, 204);
    let after = feed().await;
    let after = after.as_array().unwrap();
    assert_eq!(&after[..before.as_array().unwrap().len()], before.as_array().unwrap().as_slice());
    let tail: Vec<String> = after[before.as_array().unwrap().len()..]
        .iter()
        .map(|c| format!("{} {} {}", c["action"].as_str().unwrap(), c["revision"], c["unit"].as_str().unwrap()))
        .collect();
    assert_eq!(tail, ["replace 3 南岳镇", "delete 3 南岳镇"]);
    assert_eq!(app.count_rows("change_log WHERE action IS NULL").await, 5);
}
