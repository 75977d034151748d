//! The change feed as a syncing system reads it: every write once, in commit order, deletes
//! as tombstones, visibility by role, and lists that take `updated_since`.
use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use diesel_async::SimpleAsyncConnection;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{minimal, spawn_app, TestApp};

const TOWNSHIP: &str = "430482104";
const OTHER_TOWNSHIP: &str = "430482105";

async fn transition(app: &TestApp, token: Option<&str>, id: i64, etag: &str, action: &str) -> String {
    let reply = app
        .request_as(
            token.or(Some(&app.admin_token)),
            Method::POST,
            &format!("/api/v1/evaluations/{id}/transitions"),
            Some(&json!({"action": action})),
            &[("if-match", etag)],
        )
        .await;
    assert_eq!(reply.status, 200, "{action}: {}", reply.text);
    reply.header("etag").unwrap().to_owned()
}

/// Follows the feed from `since` until a page says there is no more; returns the items and
/// the cursor to resume from.
async fn drain(app: &TestApp, token: Option<&str>, since: Option<String>, query: &str) -> (Vec<Value>, String) {
    let mut since = since;
    let mut items = Vec::new();
    loop {
        let mut path = format!("/api/v1/changes?limit=7{query}");
        if let Some(cursor) = &since {
            path.push_str(&format!("&since={cursor}"));
        }
        let reply = app.request_as(token, Method::GET, &path, None, &[]).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let page = reply.json();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        since = Some(page["next_cursor"].as_str().unwrap().to_owned());
        if page["more"] == false {
            return (items, since.unwrap());
        }
    }
}

fn key(change: &Value) -> (i64, i64, String) {
    (
        change["evaluation_id"].as_i64().unwrap(),
        change["revision"].as_i64().unwrap(),
        change["action"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_writers_and_a_follower_see_every_change_exactly_once_in_commit_order() {
    let app = Arc::new(spawn_app().await);
    let done = Arc::new(AtomicBool::new(false));

    // A slow writer: its change is made first and committed last, after the follower has been
    // given cursors past everything the fast writers committed meanwhile.
    let (slow, _) = app.create(&minimal(TOWNSHIP, 2022, "慢写入者")).await;
    let mut slow_writer = app.db.connect().await;
    slow_writer
        .batch_execute(&format!(
            "BEGIN; \
             UPDATE evaluations SET revision = 2 WHERE id = {slow}; \
             INSERT INTO evaluation_revisions (evaluation_id, revision, action, status, actor, content_revision) \
             VALUES ({slow}, 2, 'replace', 'draft', 'slow-writer', 1);"
        ))
        .await
        .unwrap();

    // The follower polls the feed from the start while the writers commit.
    let follower = {
        let (app, done) = (app.clone(), done.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut since = None;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let (items, next) = drain(&app, Some(&app.admin_token), since.clone(), "").await;
                seen.extend(items);
                since = Some(next);
                if finished {
                    return seen;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
    };

    // 20 writers: each creates a record, replaces it and then submits it (even writers) or
    // deletes it (odd writers), twice over.
    let mut writers = Vec::new();
    for writer in 0..20 {
        let app = app.clone();
        writers.push(tokio::spawn(async move {
            let mut expected = Vec::new();
            for round in 0..2 {
                let unit = format!("写入者{writer}-{round}");
                let mut record = minimal(TOWNSHIP, 2023, &unit);
                let (id, etag) = app.create(&record).await;
                expected.push((id, 1, "create".to_owned()));
                record["expenditure"]["total"] = json!("950.00");
                let replaced = app.put(&format!("/api/v1/evaluations/{id}"), &record, Some(&etag)).await;
                assert_eq!(replaced.status, 200, "{}", replaced.text);
                expected.push((id, 2, "replace".to_owned()));
                let etag = replaced.header("etag").unwrap().to_owned();
                if writer % 2 == 0 {
                    transition(&app, None, id, &etag, "submit").await;
                    expected.push((id, 3, "submit".to_owned()));
                } else {
                    let deleted = app.delete(&format!("/api/v1/evaluations/{id}"), Some(&etag)).await;
                    assert_eq!(deleted.status, 204, "{}", deleted.text);
                    expected.push((id, 2, "delete".to_owned()));
                }
            }
            expected
        }));
    }
    let mut expected = vec![(slow, 1, "create".to_owned()), (slow, 2, "replace".to_owned())];
    for writer in writers {
        expected.extend(writer.await.unwrap());
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    slow_writer.batch_execute("COMMIT").await.unwrap();
    done.store(true, Ordering::SeqCst);
    let seen = follower.await.unwrap();

    // Every write once, none twice.
    let seen_keys: Vec<_> = seen.iter().map(key).collect();
    let unique: HashSet<_> = seen_keys.iter().cloned().collect();
    assert_eq!(unique.len(), seen_keys.len(), "a change was seen twice");
    let expected_set: HashSet<_> = expected.iter().cloned().collect();
    assert!(
        unique == expected_set,
        "the follower missed {:?} and invented {:?}",
        expected_set.difference(&unique).collect::<Vec<_>>(),
        unique.difference(&expected_set).collect::<Vec<_>>()
    );
    assert_eq!(seen.len(), 2 + 20 * 2 * 3);
    assert_eq!(key(seen.last().unwrap()), (slow, 2, "replace".to_owned()), "the slow writer's change commits last");

    // Each record's changes in the order they were made, deletes as tombstones with identity.
    let mut by_record: HashMap<i64, Vec<String>> = HashMap::new();
    for change in &seen {
        by_record.entry(change["evaluation_id"].as_i64().unwrap()).or_default().push(key(change).2);
    }
    for (id, actions) in by_record.iter().filter(|(id, _)| **id != slow) {
        let last = actions.last().unwrap().as_str();
        assert!(
            actions == &["create", "replace", last] && ["submit", "delete"].contains(&last),
            "record {id}: {actions:?}"
        );
    }
    let tombstone = seen.iter().find(|c| c["action"] == "delete").unwrap();
    assert_eq!(tombstone["region_code"], TOWNSHIP);
    assert_eq!(tombstone["fiscal_year"], 2023);
    assert!(tombstone["unit"].as_str().unwrap().starts_with("写入者"));
    assert_eq!(tombstone["status"], "draft");
    assert_eq!(tombstone["actor"], "test-admin");

    // What the follower saw while writers committed is exactly the feed read afterwards: no
    // change committed behind a cursor it had been given.
    let (after, _) = drain(&app, Some(&app.admin_token), None, "").await;
    assert_eq!(after.iter().map(key).collect::<Vec<_>>(), seen_keys, "the feed's order changed after the fact");
    let cursors: Vec<&str> = seen.iter().map(|c| c["cursor"].as_str().unwrap()).collect();
    assert_eq!(cursors.iter().collect::<HashSet<_>>().len(), cursors.len());
}

#[tokio::test]
async fn each_caller_sees_the_changes_its_role_and_region_allow() {
    let app = spawn_app().await;
    let submitter = app.token("submitter", Some(TOWNSHIP), "township-a").await;
    let other_submitter = app.token("submitter", Some(OTHER_TOWNSHIP), "township-b").await;
    let reviewer = app.token("reviewer", Some("430482"), "county").await;

    let mine = minimal(TOWNSHIP, 2023, "甲镇人民政府");
    let reply = app.request_as(Some(&submitter), Method::POST, "/api/v1/evaluations", Some(&mine), &[]).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let (id, etag) = (reply.json()["id"].as_i64().unwrap(), reply.header("etag").unwrap().to_owned());
    let theirs = minimal(OTHER_TOWNSHIP, 2023, "乙镇人民政府");
    let reply = app.request_as(Some(&other_submitter), Method::POST, "/api/v1/evaluations", Some(&theirs), &[]).await;
    assert_eq!(reply.status, 201, "{}", reply.text);

    // A submitter's feed holds only its township's changes.
    let (feed, _) = drain(&app, Some(&submitter), None, "").await;
    assert_eq!(feed.iter().map(key).collect::<Vec<_>>(), vec![(id, 1, "create".to_owned())]);
    assert_eq!(feed[0]["actor"], "township-a");
    // Anonymous callers see nothing of drafts.
    let (feed, cursor) = drain(&app, None, None, "").await;
    assert!(feed.is_empty(), "{feed:?}");

    // Through review to publication and back: anonymous callers see the publication and the
    // withdrawal, nothing else; the county reviewer sees every step of both townships.
    let etag = transition(&app, Some(&submitter), id, &etag, "submit").await;
    let etag = transition(&app, Some(&reviewer), id, &etag, "approve").await;
    let etag = transition(&app, Some(&reviewer), id, &etag, "publish").await;
    transition(&app, None, id, &etag, "reopen").await;
    let (public, _) = drain(&app, None, Some(cursor), "").await;
    let public: Vec<_> = public.iter().map(|c| (key(c).2, c["previous_status"].clone())).collect();
    assert_eq!(public, vec![("publish".to_owned(), json!("approved")), ("reopen".to_owned(), json!("published"))]);
    let (county, _) = drain(&app, Some(&reviewer), None, "").await;
    assert_eq!(county.len(), 6, "{county:?}");
    let (township_b, _) = drain(&app, Some(&reviewer), None, &format!("&region={OTHER_TOWNSHIP}")).await;
    assert_eq!(township_b.len(), 1);
    assert_eq!(township_b[0]["unit"], "乙镇人民政府");
    let (submits, _) = drain(&app, Some(&reviewer), None, "&action=submit,publish").await;
    assert_eq!(submits.iter().map(|c| key(c).2).collect::<Vec<_>>(), ["submit", "publish"]);
    // The other township's submitter sees its own change and the public ones of township A.
    let (feed, _) = drain(&app, Some(&other_submitter), None, "").await;
    assert_eq!(feed.iter().map(|c| key(c).2).collect::<Vec<_>>(), ["create", "publish", "reopen"]);
}

#[tokio::test]
async fn an_empty_page_still_moves_the_cursor_and_a_poll_picks_up_what_commits_next() {
    let app = spawn_app().await;
    let (id, _) = app.create(&minimal(TOWNSHIP, 2022, "丙镇")).await;
    let (items, cursor) = drain(&app, Some(&app.admin_token), None, "&kind=project").await;
    assert!(items.is_empty());
    let (items, cursor) = drain(&app, Some(&app.admin_token), Some(cursor), "").await;
    assert!(items.is_empty(), "the cursor of a filtered empty page is past the change it skipped: {items:?}");
    let (second, _) = app.create(&minimal(TOWNSHIP, 2022, "丁镇")).await;
    let (items, _) = drain(&app, Some(&app.admin_token), Some(cursor), "").await;
    assert_eq!(items.iter().map(key).collect::<Vec<_>>(), vec![(second, 1, "create".to_owned())]);
    assert_ne!(id, second);
}

#[tokio::test]
async fn malformed_cursors_and_parameters_are_400_naming_them() {
    let app = spawn_app().await;
    // Well formed (URL-safe base64) but not given out by the feed: 422.
    for cursor in ["42", "not-a-cursor", "YzE6LTE"] {
        let reply = app.get(&format!("/api/v1/changes?since={cursor}")).await;
        reply.problem(422, "validation_failed");
        assert_eq!(reply.error_fields(), ["since"], "{cursor}");
    }
    for (query, field) in [
        ("since=not%20a%20cursor", "since"),
        ("since=", "since"),
        ("region=", "region"),
        ("region=43,", "region"),
        ("region=43x", "region"),
        ("kind=village", "kind"),
        ("action=erase", "action"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("sinse=1", "sinse"),
    ] {
        let reply = app.get(&format!("/api/v1/changes?{query}")).await;
        reply.problem(400, "invalid_query");
        assert_eq!(reply.error_fields(), vec![field.to_owned()], "{query}");
    }
}

#[tokio::test]
async fn lists_take_updated_since() {
    let app = spawn_app().await;
    let (old, _) = app.create(&minimal(TOWNSHIP, 2022, "旧记录")).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (new, _) = app.create(&minimal(TOWNSHIP, 2022, "新记录")).await;
    let since = between.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let reply = app.get(&format!("/api/v1/evaluations?updated_since={since}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let ids: Vec<i64> = reply.json()["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![new]);
    let csv = app.get(&format!("/api/v1/evaluations?format=csv&updated_since={since}")).await;
    assert_eq!(csv.text.lines().count(), 2, "{}", csv.text);
    assert!(csv.text.contains("新记录") && !csv.text.contains("旧记录"));
    let all = app.get("/api/v1/evaluations?updated_since=2000-01-01T00:00:00%2B08:00").await;
    assert_eq!(all.json()["items"].as_array().unwrap().len(), 2);
    let bad = app.get("/api/v1/evaluations?updated_since=yesterday").await;
    bad.problem(400, "invalid_query");
    assert_eq!(bad.error_fields(), vec!["updated_since"]);
    assert_ne!(old, new);
}
