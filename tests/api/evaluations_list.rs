use std::collections::HashSet;

use serde_json::json;

use crate::helpers::{minimal, spawn_app, yintian, TestApp};

fn ids(body: &serde_json::Value) -> Vec<i64> {
    body["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

/// 荫田镇 2022 (the fixture), plus records elsewhere in 衡阳市, in 邵阳市 (4305) and other years.
async fn seed(app: &TestApp) -> i64 {
    let (yintian_id, _) = app.create(&yintian()).await;
    let mut others = vec![
        minimal("430482101", 2022, "常宁市柏坊镇人民政府"),
        minimal("430482104", 2021, "常宁市荫田镇人民政府"),
        minimal("430502001", 2022, "双清区兴隆街道办事处"),
        minimal("430482104", 2019, "常宁市荫田镇人民政府"),
    ];
    others[0]["expenditure"]["total"] = json!("5000.00");
    others[2]["expenditure"]["total"] = json!("7000.00");
    others[3].as_object_mut().unwrap().remove("expenditure");
    for record in &others {
        app.create(record).await;
    }
    yintian_id
}

#[tokio::test]
async fn finds_the_reference_record_by_prefecture_and_year_only() {
    let app = spawn_app().await;
    let id = seed(&app).await;
    let reply = app.get("/api/v1/evaluations?region=4304&fiscal_year=2022&q=%E8%8D%AB%E7%94%B0").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(ids(&body), [id]);
    let item = &body["items"][0];
    assert_eq!(item["region_name"], "荫田镇");
    assert_eq!(item["unit"], "常宁市荫田镇人民政府");
    assert_eq!(item["expenditure_total"], "18094800.00");
    assert_eq!(item["status"], "draft");
    assert_eq!(body["next_cursor"], serde_json::Value::Null);

    let by_prefecture = app.get("/api/v1/evaluations?region=4304&fiscal_year=2022").await.json();
    assert_eq!(by_prefecture["items"].as_array().unwrap().len(), 2);
    let elsewhere = app.get("/api/v1/evaluations?region=4305&fiscal_year=2022").await.json();
    assert!(!ids(&elsewhere).contains(&id));
    assert_eq!(elsewhere["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn region_takes_any_ancestor_and_repeats_as_a_union() {
    let app = spawn_app().await;
    seed(&app).await;
    let count = |path: String| {
        let app = &app;
        async move { app.get(&path).await.json()["items"].as_array().unwrap().len() }
    };
    assert_eq!(count("/api/v1/evaluations?region=43".into()).await, 5);
    assert_eq!(count("/api/v1/evaluations?region=430482".into()).await, 4);
    assert_eq!(count("/api/v1/evaluations?region=430482104000".into()).await, 3);
    assert_eq!(count("/api/v1/evaluations?region=430482101&region=430502".into()).await, 2);
    assert_eq!(count("/api/v1/evaluations?region=44".into()).await, 0);
}

#[tokio::test]
async fn filters_by_year_range_kind_and_status_with_an_exact_count() {
    let app = spawn_app().await;
    seed(&app).await;
    let body = app.get("/api/v1/evaluations?fiscal_year=2019..2021&count=exact").await.json();
    assert_eq!(body["total"], 2);
    assert!(body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| (2019..=2021).contains(&i["fiscal_year"].as_i64().unwrap())));
    assert_eq!(app.get("/api/v1/evaluations?kind=project").await.json()["items"], json!([]));
    assert_eq!(app.get("/api/v1/evaluations?status=draft,submitted&count=exact").await.json()["total"], 5);
    assert_eq!(app.get("/api/v1/evaluations?status=approved&count=exact").await.json()["total"], 0);
}

#[tokio::test]
async fn sorts_and_pages_by_keyset_without_gaps_or_repeats() {
    let app = spawn_app().await;
    seed(&app).await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/evaluations?sort=-expenditure_total,region_code&limit=2&count=exact".to_owned();
    loop {
        let body = app.get(&path).await.json();
        assert_eq!(body["total"], 5);
        for item in body["items"].as_array().unwrap() {
            seen.push((item["expenditure_total"].as_str().map(str::to_owned), item["id"].as_i64().unwrap()));
        }
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!(
                    "/api/v1/evaluations?sort=-expenditure_total,region_code&limit=2&count=exact&cursor={cursor}"
                )
            }
            None => break,
        }
    }
    let totals: Vec<Option<&str>> = seen.iter().map(|(t, _)| t.as_deref()).collect();
    assert_eq!(totals, [Some("18094800.00"), Some("7000.00"), Some("5000.00"), Some("900.00"), None]);
    assert_eq!(seen.iter().map(|(_, id)| id).collect::<HashSet<_>>().len(), 5);
}

#[tokio::test]
async fn bad_list_parameters_are_400_naming_the_parameter() {
    let app = spawn_app().await;
    for (query, parameter) in [
        ("fiscal_year=20x2", "fiscal_year"),
        ("fiscal_year=%202022", "fiscal_year"),
        ("region=43x", "region"),
        ("region=", "region"),
        ("status=lost", "status"),
        ("status=draft,", "status"),
        ("grade=", "grade"),
        ("sort=-colour", "sort"),
        ("sort=id,", "sort"),
        ("limit=0", "limit"),
        ("cursor=bm90IGEgY3Vyc29y%3D", "cursor"),
        ("count=roughly", "count"),
        ("updated_since=%202026-12-01T00:00:00Z", "updated_since"),
        ("page=2", "page"),
    ] {
        let reply = app.get(&format!("/api/v1/evaluations?{query}")).await;
        reply.problem(400, "invalid_query");
        assert_eq!(reply.error_fields(), [parameter], "{query}");
    }
    // Well formed, as the document states the shape, but not answerable: 422.
    for (query, parameter) in [
        ("fiscal_year=2024..2019", "fiscal_year"),
        ("cursor=bm90IGEgY3Vyc29y", "cursor"),
        ("sort=id,-id", "sort"),
        ("limit=1001", "limit"),
    ] {
        let reply = app.get(&format!("/api/v1/evaluations?{query}")).await;
        reply.problem(422, "validation_failed");
        assert_eq!(reply.error_fields(), [parameter], "{query}");
    }
}

#[tokio::test]
async fn a_cursor_only_works_with_the_sort_it_was_made_for() {
    let app = spawn_app().await;
    seed(&app).await;
    let body = app.get("/api/v1/evaluations?sort=fiscal_year&limit=1").await.json();
    let cursor = body["next_cursor"].as_str().unwrap();
    let reply = app.get(&format!("/api/v1/evaluations?sort=unit&limit=1&cursor={cursor}")).await;
    reply.problem(422, "validation_failed");
    let next = app.get(&format!("/api/v1/evaluations?sort=fiscal_year&limit=1&cursor={cursor}")).await;
    assert_eq!(next.status, 200);
}

#[tokio::test]
async fn pages_sorted_by_kind_and_status_follow_their_cursors_to_the_same_order() {
    let app = spawn_app().await;
    let kinds = ["finance_evaluation", "department_overall", "department_evaluation"];
    for (i, code) in ["430482101", "430482104", "430482105", "430481001", "430502001", "430502002"].iter().enumerate() {
        let mut record = minimal(code, 2022, &format!("单位{i}"));
        record["kind"] = json!(kinds[i % kinds.len()]);
        let reply = app.post("/api/v1/evaluations", &record).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    for sort in ["kind", "-kind,status", "status,-kind"] {
        let whole = app.get(&format!("/api/v1/evaluations?sort={sort}&limit=100")).await.json();
        let expected = ids(&whole);
        assert_eq!(expected.len(), 6);
        let kinds_in_order: Vec<&str> =
            whole["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
        let mut sorted = kinds_in_order.clone();
        sorted.sort();
        // Every record is a draft: the kind decides the order.
        if sort.contains("-kind") {
            sorted.reverse();
        }
        assert_eq!(kinds_in_order, sorted, "{sort}");
        let mut paged = Vec::new();
        let mut path = format!("/api/v1/evaluations?sort={sort}&limit=2");
        loop {
            let body = app.get(&path).await.json();
            paged.extend(ids(&body));
            match body["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/v1/evaluations?sort={sort}&limit=2&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(paged, expected, "{sort}");
    }
}
