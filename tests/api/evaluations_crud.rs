use serde_json::{json, Value};

use crate::helpers::{minimal, spawn_app, without_matched_codes, yintian};

/// Asserts that every member the client sent comes back unchanged.
#[track_caller]
fn assert_round_trip(sent: &Value, got: &Value) {
    let got = &without_matched_codes(got);
    for (member, value) in sent.as_object().unwrap() {
        assert_eq!(&got[member], value, "member `{member}` differs");
    }
}

#[tokio::test]
async fn the_reference_report_round_trips_exactly() {
    let app = spawn_app().await;
    let fixture = yintian();
    let reply = app.post("/api/v1/evaluations", &fixture).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let created = reply.json();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(reply.header("location"), Some(format!("/api/v1/evaluations/{id}").as_str()));
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_round_trip(&fixture, &created);
    assert_eq!(created["workflow"], json!({"status": "draft", "revision": 1, "history": []}));

    let read = app.get(&format!("/api/v1/evaluations/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.header("etag"), Some("\"1\""));
    let stored = read.json();
    assert_round_trip(&fixture, &stored);
    let mut created_without_findings = created.clone();
    let findings =
        created_without_findings.as_object_mut().unwrap().remove("findings").expect("the POST answer has findings");
    assert!(findings.is_array());
    assert_eq!(stored, created_without_findings, "the POST answer is the stored record");

    // The figures of DOMAIN.md's table, in 元.
    assert_eq!(stored["income"]["total"], "18094800.00");
    assert_eq!(stored["expenditure"]["basic_total"], "9080400.00");
    assert_eq!(stored["expenditure"]["project_total"], "9014400.00");
    assert_eq!(
        stored["three_public_expenses"]["reception"],
        json!({"amount": "95000.00", "batches": 281, "persons": 3600})
    );
    assert_eq!(stored["running_costs"]["stated_change"], "-128700.00");
    assert_eq!(stored["profile"]["duties"].as_array().unwrap().len(), 11);
    assert_eq!(stored["profile"]["staffing_quota"], json!({"administrative": 18, "institutional": 60}));
    let indicator =
        |name: &str| stored["indicators"].as_array().unwrap().iter().find(|i| i["name"] == name).cloned().unwrap();
    assert_eq!(indicator("排查农村自建房屋")["actual"], "12939");
    assert_eq!(indicator("拆除“空心”闲置危房")["actual"], "438");
    assert_eq!(indicator("各村聘请保洁员")["actual"], "108");
    assert_eq!(indicator("每天处理垃圾")["unit_of_measure"], "吨/日");
    assert_eq!(indicator("小二型水库除险加固")["actual"], "18");
    assert_eq!(indicator("适龄儿童义务教育普及率")["actual"], "100");

    // Stored in normalised rows, not as a blob.
    assert_eq!(app.count_rows("evaluation_indicators").await, fixture["indicators"].as_array().unwrap().len() as i64);
    assert_eq!(
        app.count_rows("evaluation_narrative_sections").await,
        fixture["narrative"]["sections"].as_array().unwrap().len() as i64
    );
}

#[tokio::test]
async fn json_numbers_are_read_exactly_from_their_text() {
    let app = spawn_app().await;
    let body = r#"{"region_code":"430482104","fiscal_year":2022,"kind":"project","unit":"u","project":{"name":"p"},
        "income":{"total":99999999999999.99,"lines":[{"category":"other","amount":0.1},{"category":"business","amount":18094800}]},
        "indicators":[{"level_1":"output","level_2":"quantity","name":"n","target":9.2883,"actual":0.000001}]}"#;
    let reply = app.post_raw("/api/v1/evaluations", "application/json", body.as_bytes().to_vec()).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let stored = app.get(&format!("/api/v1/evaluations/{}", reply.json()["id"])).await.json();
    assert_eq!(stored["income"]["total"], "99999999999999.99");
    assert_eq!(stored["income"]["lines"][0]["amount"], "0.10");
    assert_eq!(stored["income"]["lines"][1]["amount"], "18094800.00");
    assert_eq!(stored["indicators"][0]["target"], "9.2883");
    assert_eq!(stored["indicators"][0]["actual"], "0.000001");
}

#[tokio::test]
async fn a_duplicate_identity_is_refused_naming_the_existing_record() {
    let app = spawn_app().await;
    let (id, _) = app.create(&yintian()).await;
    let reply = app.post("/api/v1/evaluations", &yintian()).await;
    let problem = reply.problem(409, "duplicate_record");
    assert_eq!(problem["existing_id"], id);
    assert_eq!(reply.header("location"), Some(format!("/api/v1/evaluations/{id}").as_str()));
    assert_eq!(app.count_rows("evaluations").await, 1);
    // Another kind for the same township and year is another record.
    let mut project = yintian();
    project["kind"] = json!("project");
    project["project"] = json!({"name": "荫田水厂管网建设"});
    app.create(&project).await;
    assert_eq!(app.count_rows("evaluations").await, 2);
}

#[tokio::test]
async fn replacing_needs_the_current_etag() {
    let app = spawn_app().await;
    let (id, etag) = app.create(&yintian()).await;
    let path = format!("/api/v1/evaluations/{id}");
    let mut changed = yintian();
    changed["indicators"] = json!([{"level_1": "output", "level_2": "quantity", "name": "排查房屋", "unit_of_measure": "栋",
        "direction": ">=", "target": "13000", "actual": "12939", "weight": "10", "score": "9.95"}]);
    changed["conclusion"]["total_score"] = json!("89.5");

    app.put(&path, &changed, None).await.problem(428, "precondition_required");
    let stale = app.put(&path, &changed, Some("\"7\"")).await;
    stale.problem(412, "precondition_failed");
    assert_eq!(stale.header("etag"), Some(etag.as_str()));

    let reply = app.put(&path, &changed, Some(&etag)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("etag"), Some("\"2\""));
    let stored = app.get(&path).await.json();
    assert_eq!(stored["workflow"]["revision"], 2);
    assert_eq!(stored["indicators"].as_array().unwrap().len(), 1);
    assert_eq!(stored["indicators"][0]["weight"], "10.00");
    assert_eq!(stored["conclusion"]["total_score"], "89.50");
    assert_eq!(app.count_rows("evaluation_indicators").await, 1, "old rows are replaced, not kept");
}

#[tokio::test]
async fn of_two_writers_holding_the_same_etag_one_wins_and_the_other_gets_412() {
    let app = spawn_app().await;
    let (id, etag) = app.create(&yintian()).await;
    let path = format!("/api/v1/evaluations/{id}");
    let mut first = yintian();
    first["issuer"] = json!("第一");
    let mut second = yintian();
    second["issuer"] = json!("第二");
    let (a, b) = tokio::join!(app.put(&path, &first, Some(&etag)), app.put(&path, &second, Some(&etag)));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 412], "{} / {}", a.text, b.text);
    let winner = if a.status == 200 { "第一" } else { "第二" };
    let stored = app.get(&path).await.json();
    assert_eq!(stored["issuer"], winner);
    assert_eq!(stored["workflow"]["revision"], 2);
}

#[tokio::test]
async fn changing_identity_onto_another_record_is_a_conflict() {
    let app = spawn_app().await;
    let (first, _) = app.create(&minimal("430482104", 2021, "甲")).await;
    let (second, etag) = app.create(&minimal("430482104", 2022, "甲")).await;
    let reply = app.put(&format!("/api/v1/evaluations/{second}"), &minimal("430482104", 2021, "甲"), Some(&etag)).await;
    assert_eq!(reply.problem(409, "duplicate_record")["existing_id"], first);
    assert_eq!(app.get(&format!("/api/v1/evaluations/{second}")).await.json()["fiscal_year"], 2022);
}

#[tokio::test]
async fn deleting_a_draft_removes_it_and_all_its_rows() {
    let app = spawn_app().await;
    let (id, etag) = app.create(&yintian()).await;
    let path = format!("/api/v1/evaluations/{id}");
    app.delete(&path, None).await.problem(428, "precondition_required");
    app.delete(&path, Some("\"2\"")).await.problem(412, "precondition_failed");
    let reply = app.delete(&path, Some(&etag)).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    app.get(&path).await.problem(404, "not_found");
    for table in [
        "evaluations",
        "evaluation_indicators",
        "evaluation_income_lines",
        "evaluation_narrative_sections",
        "evaluation_projects",
    ] {
        assert_eq!(app.count_rows(table).await, 0, "{table}");
    }
    app.delete(&path, Some("*")).await.problem(404, "not_found");
}

#[tokio::test]
async fn a_record_that_is_not_a_draft_cannot_be_deleted_or_replaced() {
    let app = spawn_app().await;
    let (id, etag) = app.create(&yintian()).await;
    let mut conn = app.db.connect().await;
    diesel_async::RunQueryDsl::execute(diesel::sql_query("UPDATE evaluations SET status = 'approved'"), &mut conn)
        .await
        .unwrap();
    let path = format!("/api/v1/evaluations/{id}");
    app.delete(&path, Some(&etag)).await.problem(409, "invalid_state");
    app.put(&path, &yintian(), Some(&etag)).await.problem(409, "invalid_state");
    assert_eq!(app.count_rows("evaluations").await, 1);
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let app = spawn_app().await;
    for id in ["1", "0", "-3", "abc", "99999999999999999999"] {
        app.get(&format!("/api/v1/evaluations/{id}")).await.problem(404, "not_found");
    }
    app.put("/api/v1/evaluations/42", &yintian(), Some("\"1\"")).await.problem(404, "not_found");
}
