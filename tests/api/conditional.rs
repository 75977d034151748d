//! Conditional reads and the response cache: ETags from the data version, 304 without the
//! query, Cache-Control by caller, and answers that never cross a write or a visibility.
use reqwest::Method;
use serde_json::json;

use crate::helpers::{minimal, spawn_app, TestApp};

const AGGREGATE: &str = "/api/v1/aggregates?measures=records,expenditure.total&group_by=county";

async fn get_as(app: &TestApp, token: Option<&str>, path: &str, headers: &[(&str, &str)]) -> crate::helpers::Reply {
    app.request_as(token, Method::GET, path, None, headers).await
}

/// The aggregate's record count over every row.
fn records(reply: &crate::helpers::Reply) -> i64 {
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["rows"].as_array().unwrap().iter().map(|row| row["records"].as_i64().unwrap()).sum()
}

#[tokio::test]
async fn reads_carry_an_etag_that_answers_304_until_a_write() {
    let app = spawn_app().await;
    app.create(&minimal("430482104", 2022, "荫田镇人民政府")).await;
    for path in [
        "/api/v1/evaluations?fiscal_year=2022",
        AGGREGATE,
        "/api/v1/coverage?region=430482&fiscal_year=2022",
        "/api/v1/model",
        "/api/v1/regions?parent=430482",
        "/api/v1/regions/430482",
    ] {
        let first = app.get(path).await;
        assert_eq!(first.status, 200, "{path}: {}", first.text);
        let etag = first.header("etag").unwrap_or_else(|| panic!("{path} has no ETag")).to_owned();
        assert!(etag.starts_with("W/\""), "{path}: {etag}");
        assert_eq!(first.header("cache-control"), Some("private, no-cache"), "{path}");
        let again = app.request(Method::GET, path, None, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, 304, "{path}: {}", again.text);
        assert_eq!(again.text, "", "{path}: a 304 has no body");
        assert_eq!(again.header("etag"), Some(etag.as_str()), "{path}");
    }
    // Any write moves the data version: the old tag no longer matches, and the new answer shows
    // the write.
    let list = "/api/v1/evaluations?fiscal_year=2022";
    let before = app.get(list).await;
    let etag = before.header("etag").unwrap().to_owned();
    app.create(&minimal("430482105", 2022, "另一镇人民政府")).await;
    let after = app.request(Method::GET, list, None, &[("if-none-match", &etag)]).await;
    assert_eq!(after.status, 200);
    assert_ne!(after.header("etag"), Some(etag.as_str()));
    assert_eq!(after.json()["items"].as_array().unwrap().len(), 2);
    // Errors carry no validator and nothing may keep them.
    let bad = app.get("/api/v1/evaluations?limit=0").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.header("etag"), None);
    assert_eq!(bad.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn anonymous_answers_may_be_kept_by_anyone_and_others_only_privately() {
    let app = spawn_app().await;
    let anonymous = get_as(&app, None, AGGREGATE, &[]).await;
    assert_eq!(anonymous.header("cache-control"), Some("public, no-cache"));
    assert!(anonymous.header("vary").unwrap().contains("Authorization"));
    let admin = app.get(AGGREGATE).await;
    assert_eq!(admin.header("cache-control"), Some("private, no-cache"));
    assert_ne!(anonymous.header("etag"), admin.header("etag"), "one URL, two visibilities, two tags");
    // A tag given to one caller does not revalidate another's answer.
    let etag = admin.header("etag").unwrap().to_owned();
    let crossed = get_as(&app, None, AGGREGATE, &[("if-none-match", &etag)]).await;
    assert_eq!(crossed.status, 200);
    // Writes and other reads keep no-store.
    assert_eq!(app.get("/api/v1/tokens").await.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn a_cached_answer_never_crosses_visibility() {
    let app = spawn_app().await;
    for (township, unit) in
        [("430482104", "荫田镇人民政府"), ("430482105", "乙镇人民政府"), ("430302001", "雨湖路街道办事处")]
    {
        app.create(&minimal(township, 2022, unit)).await;
    }
    let county_a = app.token("reviewer", Some("430482"), "reviewer-a").await;
    let county_b = app.token("reviewer", Some("430302"), "reviewer-b").await;
    // Each caller twice, in turns, so that every answer after the first could come from the cache.
    for _ in 0..2 {
        assert_eq!(records(&get_as(&app, None, AGGREGATE, &[]).await), 0, "anonymous: drafts are not published");
        assert_eq!(records(&app.get(AGGREGATE).await), 3, "admin: every record");
        assert_eq!(records(&get_as(&app, Some(&county_a), AGGREGATE, &[]).await), 2, "常宁市's reviewer");
        assert_eq!(records(&get_as(&app, Some(&county_b), AGGREGATE, &[]).await), 1, "雨湖区's reviewer");
    }
    let metrics = app.get("/metrics").await.text;
    let hits = metrics
        .lines()
        .find(|line| {
            line.starts_with("perfeval_response_cache_lookups_total{")
                && line.contains("route=\"/api/v1/aggregates\"")
                && line.contains("result=\"hit\"")
        })
        .unwrap_or_else(|| panic!("no cache hits counted:\n{metrics}"));
    // The counter is the process's (tests run side by side): at least this test's second round.
    let count: f64 = hits.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 4.0, "the second round came from the cache: {hits}");
}

#[tokio::test]
async fn a_write_through_one_instance_is_in_the_next_aggregate_through_another() {
    let app = spawn_app().await;
    let other = app.second_instance().await;
    let read = |address: String| {
        let app = &app;
        async move { app.request_at(&address, Some(&app.admin_token), Method::GET, AGGREGATE, None, &[]).await }
    };
    app.create(&minimal("430482104", 2022, "荫田镇人民政府")).await;
    // Both instances have the answer cached.
    for _ in 0..2 {
        assert_eq!(records(&read(app.address.clone()).await), 1);
        assert_eq!(records(&read(other.clone()).await), 1);
    }
    let etag = read(other.clone()).await.header("etag").unwrap().to_owned();
    // A write through the first; the very next read through the second shows it.
    let reply =
        app.request(Method::POST, "/api/v1/evaluations", Some(&minimal("430482105", 2022, "乙镇人民政府")), &[]).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(records(&read(other.clone()).await), 2);
    let revalidated =
        app.request_at(&other, Some(&app.admin_token), Method::GET, AGGREGATE, None, &[("if-none-match", &etag)]).await;
    assert_eq!(revalidated.status, 200, "the tag from before the write is stale on every instance");
    // And a delete through the second is in the first's next answer.
    let id = reply.json()["id"].as_i64().unwrap();
    let etag = reply.header("etag").unwrap().to_owned();
    let path = format!("/api/v1/evaluations/{id}");
    let deleted =
        app.request_at(&other, Some(&app.admin_token), Method::DELETE, &path, None, &[("if-match", &etag)]).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_eq!(records(&read(app.address.clone()).await), 1);
}

#[tokio::test]
async fn a_record_revalidates_with_its_etag() {
    let app = spawn_app().await;
    let (id, etag) = app.create(&minimal("430482104", 2022, "荫田镇人民政府")).await;
    let path = format!("/api/v1/evaluations/{id}");
    let same = app.request(Method::GET, &path, None, &[("if-none-match", &etag)]).await;
    assert_eq!(same.status, 304);
    assert_eq!(same.header("etag"), Some(etag.as_str()));
    let mut changed = minimal("430482104", 2022, "荫田镇人民政府");
    changed["expenditure"] = json!({"total": "950.00"});
    let replaced = app.put(&path, &changed, Some(&etag)).await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    let after = app.request(Method::GET, &path, None, &[("if-none-match", &etag)]).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.json()["expenditure"]["total"], "950.00");
    // Someone who may not read the record learns nothing from a revalidation either.
    let outsider = app.token("submitter", Some("430302001"), "outsider").await;
    let hidden = get_as(&app, Some(&outsider), &path, &[("if-none-match", "*")]).await;
    assert_eq!(hidden.status, 404);
}

/// Aggregates name their groups from division names held in memory. A change of the division
/// table made by another process (here straight in SQL, as `perfeval regions load` would) is seen
/// by every instance on its next aggregate, with no restart.
#[tokio::test]
async fn a_renamed_division_names_the_next_aggregate_on_every_instance() {
    let app = spawn_app().await;
    let other = app.second_instance().await;
    app.create(&minimal("430482104", 2022, "荫田镇人民政府")).await;
    let path = "/api/v1/aggregates?measures=records&group_by=county";
    let county_name = |reply: &crate::helpers::Reply| {
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()["rows"][0]["group"]["county"]["name"].as_str().map(str::to_owned)
    };
    assert_eq!(county_name(&app.get(path).await).as_deref(), Some("常宁市"));
    assert_eq!(
        county_name(&app.request_at(&other, Some(&app.admin_token), Method::GET, path, None, &[]).await).as_deref(),
        Some("常宁市")
    );

    let mut conn = app.db.connect().await;
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("UPDATE regions SET name = '常宁市（改）' WHERE code = '430482'"),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(county_name(&app.get(path).await).as_deref(), Some("常宁市（改）"));
    assert_eq!(
        county_name(&app.request_at(&other, Some(&app.admin_token), Method::GET, path, None, &[]).await).as_deref(),
        Some("常宁市（改）")
    );
}
