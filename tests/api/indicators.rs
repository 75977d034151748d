//! The indicator library: reading it, an admin's writes, codes checked on records, rows matched
//! by name, and library codes in aggregates.
use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{minimal, spawn_app, yintian};

fn definition(code: &str, name: &str) -> Value {
    json!({
        "code": code, "name": name, "level_1": "output", "level_2": "quantity",
        "unit_of_measure": "座", "direction": ">=", "kinds": ["department_overall"],
        "scoring_method": "实际值÷目标值×分值", "source": "测试",
    })
}

fn indicator(name: &str, code: Option<&str>, target: &str, actual: &str) -> Value {
    let mut row = json!({
        "level_1": "output", "level_2": "quantity", "name": name, "unit_of_measure": "栋",
        "direction": ">=", "target": target, "actual": actual,
    });
    if let Some(code) = code {
        row["code"] = json!(code);
    }
    row
}

#[tokio::test]
async fn the_seeded_library_is_read_by_anyone_in_code_order_pages_and_filters() {
    let app = spawn_app().await;
    let first = app.request_as(None, Method::GET, "/api/v1/indicator-definitions?limit=1000", None, &[]).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let all: Vec<Value> = first.json()["items"].as_array().unwrap().clone();
    assert!(all.len() >= 100, "seeded with the demo's, the reference report's and FORMS.md's rows");
    assert_eq!(first.json()["next_after"], Value::Null);

    // Every quantitative indicator of the reference report (荫田镇 2022) is in the library, by name.
    let names: BTreeSet<&str> = all.iter().map(|d| d["name"].as_str().unwrap()).collect();
    for row in yintian()["indicators"].as_array().unwrap() {
        assert!(names.contains(row["name"].as_str().unwrap()), "{} is in the library", row["name"]);
    }

    // Pages of 7 follow `next_after` and give every definition once, in code order.
    let mut paged: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(code) => format!("/api/v1/indicator-definitions?limit=7&after={code}"),
            None => "/api/v1/indicator-definitions?limit=7".to_owned(),
        };
        let page = app.get(&path).await.json();
        paged.extend(page["items"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap().to_owned()));
        match page["next_after"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    let codes: Vec<String> = all.iter().map(|d| d["code"].as_str().unwrap().to_owned()).collect();
    assert_eq!(paged, codes);
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted);

    // Filters: level 1 and 2, kind, and q over code, name and aliases, full-width or not.
    let satisfaction =
        app.get("/api/v1/indicator-definitions?level_1=satisfaction&kind=project&limit=1000").await.json();
    let items = satisfaction["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        assert_eq!(item["level_1"], "satisfaction");
        assert!(item["kinds"].as_array().unwrap().contains(&json!("project")), "{item}");
    }
    for q in ["%E8%87%AA%E5%BB%BA%E6%88%BF", "hn-02", "%E6%8B%86%E9%99%A4%E2%80%9C%E7%A9%BA%E5%BF%83"] {
        let found = app.get(&format!("/api/v1/indicator-definitions?q={q}")).await.json();
        assert!(!found["items"].as_array().unwrap().is_empty(), "q={q} finds something");
    }
    let houses = app.get("/api/v1/indicator-definitions?q=hn-02").await.json();
    assert_eq!(houses["items"][0]["code"], "HN-02");

    let one = app.request_as(None, Method::GET, "/api/v1/indicator-definitions/HN-02", None, &[]).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.header("etag"), Some("\"1\""));
    let body = one.json();
    assert_eq!(
        (&body["name"], &body["unit_of_measure"], &body["direction"], &body["level_2"], &body["retired"]),
        (&json!("排查农村自建房屋"), &json!("栋"), &json!(">="), &json!("quantity"), &json!(false))
    );
    app.get("/api/v1/indicator-definitions/NO-SUCH").await.problem(404, "not_found");
    app.get("/api/v1/indicator-definitions/a%20b").await.problem(404, "not_found");
    let bad = app.get("/api/v1/indicator-definitions?level_1=nonsense").await;
    bad.problem(400, "invalid_query");
    assert_eq!(bad.error_fields(), ["level_1"]);
    app.get("/api/v1/indicator-definitions?limit=0").await.problem(400, "invalid_query");
    app.get("/api/v1/indicator-definitions?q=").await.problem(400, "invalid_query");
    // A NUL cannot be stored or searched in PostgreSQL text: refused before the query (it was a 500).
    app.get("/api/v1/indicator-definitions?q=a%00b").await.problem(400, "invalid_query");
}

#[tokio::test]
async fn admins_add_replace_retire_restore_and_delete_definitions_that_no_record_uses() {
    let app = spawn_app().await;
    let path = "/api/v1/indicator-definitions";
    let submitter = app.token("submitter", Some("430482104"), "荫田镇").await;
    let new = definition("T-01", "新建村级活动中心");
    app.request_as(Some(&submitter), Method::POST, path, Some(&new), &[]).await.problem(403, "forbidden");
    app.request_as(None, Method::POST, path, Some(&new), &[]).await.problem(401, "unauthorized");

    let created = app.post(path, &new).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.header("location"), Some("/api/v1/indicator-definitions/T-01"));
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.json()["updated_by"], "test-admin");
    app.post(path, &new).await.problem(409, "indicator_exists");

    let mut invalid = definition("bad code", " ");
    invalid["kinds"] = json!([]);
    let refused = app.post(path, &invalid).await;
    refused.problem(422, "validation_failed");
    assert_eq!(refused.error_fields(), ["code", "name", "kinds"]);
    let mut no_code = definition("X", "无编码");
    no_code.as_object_mut().unwrap().remove("code");
    assert_eq!(app.post(path, &no_code).await.error_fields(), ["code"]);

    let mut changed = new.clone();
    changed["unit_of_measure"] = json!("个");
    changed["aliases"] = json!(["村级活动场所建设"]);
    app.put(&format!("{path}/T-01"), &changed, None).await.problem(428, "precondition_required");
    app.put(&format!("{path}/T-01"), &changed, Some("\"7\"")).await.problem(412, "precondition_failed");
    changed["code"] = json!("T-02");
    app.put(&format!("{path}/T-01"), &changed, Some("\"1\"")).await.problem(422, "validation_failed");
    changed["code"] = json!("T-01");
    let replaced = app.put(&format!("{path}/T-01"), &changed, Some("\"1\"")).await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert_eq!(replaced.header("etag"), Some("\"2\""));
    assert_eq!(app.get(&format!("{path}/T-01")).await.json()["unit_of_measure"], "个");

    // Retired: gone from the default list, there with include_retired, readable by code.
    let retired = app.post(&format!("{path}/T-01/retire"), &json!({})).await;
    assert_eq!(retired.status, 200, "{}", retired.text);
    assert_eq!(retired.json()["retired"], true);
    let listed = |body: Value| body["items"].as_array().unwrap().iter().any(|d| d["code"] == "T-01");
    assert!(!listed(app.get(&format!("{path}?q=T-01")).await.json()));
    assert!(listed(app.get(&format!("{path}?q=T-01&include_retired=true")).await.json()));
    let restored = app.post(&format!("{path}/T-01/restore"), &json!({})).await;
    assert_eq!((restored.status.as_u16(), restored.json()["retired"].clone()), (200, json!(false)));

    // A code a record uses cannot be deleted; it can be retired, and the record keeps it.
    let mut record = minimal("430482104", 2022, "荫田镇人民政府");
    record["indicators"] = json!([indicator("新建村级活动中心", Some("T-01"), "2", "2")]);
    let (id, _) = app.create(&record).await;
    let etag = app.get(&format!("{path}/T-01")).await.header("etag").unwrap().to_owned();
    app.delete(&format!("{path}/T-01"), Some(&etag)).await.problem(409, "indicator_in_use");
    assert_eq!(app.get(&format!("{path}/T-01")).await.status, 200);
    app.post(&format!("{path}/T-01/retire"), &json!({})).await;
    let kept = app.get(&format!("/api/v1/evaluations/{id}")).await.json();
    assert_eq!(kept["indicators"][0]["code"], "T-01");

    // One no record uses is deleted, with If-Match.
    app.post(path, &definition("T-09", "临时指标")).await;
    app.delete(&format!("{path}/T-09"), None).await.problem(428, "precondition_required");
    let deleted = app.delete(&format!("{path}/T-09"), Some("\"1\"")).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    app.get(&format!("{path}/T-09")).await.problem(404, "not_found");
}

#[tokio::test]
async fn a_code_outside_the_library_or_for_another_kind_is_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let mut record = minimal("430482104", 2022, "荫田镇人民政府");
    record["indicators"] = json!([
        indicator("排查农村自建房屋", Some("HN-02"), "10", "10"),
        indicator("某指标", Some("NOPE-1"), "1", "1"),
        indicator("项目总成本", Some("AH-05"), "90", "90"),
    ]);
    let refused = app.post("/api/v1/evaluations", &record).await;
    refused.problem(422, "validation_failed");
    let errors = refused.json()["errors"].clone();
    assert_eq!(errors[0]["field"], "indicators[1].code");
    assert_eq!(errors[0]["code"], "unknown_indicator_code");
    assert_eq!(errors[1]["field"], "indicators[2].code");
    assert_eq!(errors[1]["code"], "indicator_not_for_kind");
    assert_eq!(app.count_rows("evaluations").await, 0);

    // validate says the same; a batch marks the item invalid and writes the others.
    app.post("/api/v1/evaluations/validate", &record).await.problem(422, "validation_failed");
    let good = minimal("430482101", 2022, "某镇人民政府");
    let batch = app.post("/api/v1/evaluations/batch", &json!([record, good])).await;
    assert_eq!(batch.status, 200, "{}", batch.text);
    let items = batch.json()["items"].clone();
    assert_eq!(items[0]["outcome"], "invalid");
    assert_eq!(items[0]["errors"][0]["field"], "indicators[1].code");
    assert_eq!(items[1]["outcome"], "created");
    assert_eq!(app.count_rows("evaluations").await, 1);
    assert_eq!(app.count_rows("evaluation_indicators").await, 0);
}

#[tokio::test]
async fn rows_without_a_code_are_matched_by_name_and_the_record_says_so() {
    let app = spawn_app().await;
    let (id, _) = app.create(&yintian()).await;
    let stored = app.get(&format!("/api/v1/evaluations/{id}")).await.json();
    let rows = stored["indicators"].as_array().unwrap();
    let houses = rows.iter().find(|r| r["name"] == "排查农村自建房屋").unwrap();
    assert_eq!(houses["matched_code"], "HN-02");
    assert_eq!(houses.get("code"), None, "the stated row keeps no code of its own");
    assert!(rows.iter().all(|r| r["matched_code"].is_string()), "every row of the reference report matches");

    // Full-width forms, spaces and quotes do not stop a match; a matched_code sent in is ignored.
    let mut record = minimal("430482101", 2022, "某镇人民政府");
    let mut spaced = indicator("排查 农村自建房屋", None, "5", "5");
    spaced["matched_code"] = json!("HN-07");
    record["indicators"] =
        json!([spaced, indicator("拆除\"空心\"闲置危房", None, "1", "1"), indicator("全新的指标", None, "1", "1")]);
    let (id, _) = app.create(&record).await;
    let rows = app.get(&format!("/api/v1/evaluations/{id}")).await.json()["indicators"].clone();
    assert_eq!(rows[0]["matched_code"], "HN-02");
    assert_eq!(rows[0]["name"], "排查 农村自建房屋", "the name is kept as written");
    assert_eq!(
        rows[1]["matched_code"],
        app.get("/api/v1/indicator-definitions?q=%E6%8B%86%E9%99%A4%E7%A9%BA%E5%BF%83").await.json()["items"][0]
            ["code"]
    );
    assert_eq!(rows[2].get("matched_code"), None);
}

#[tokio::test]
async fn library_codes_aggregate_with_the_library_unit_and_unknown_codes_are_refused() {
    let app = spawn_app().await;
    // Two rows given the code, one matched by name: all three count for HN-02.
    for (region, code, target, actual) in [
        ("430482101", Some("HN-02"), "100", "90"),
        ("430482104", Some("HN-02"), "50", "50"),
        ("430482105", None, "10", "6"),
    ] {
        let mut record = minimal(region, 2022, &format!("{region}单位"));
        record["indicators"] = json!([indicator("排查农村自建房屋", code, target, actual)]);
        app.create(&record).await;
    }
    let body = app
        .get("/api/v1/aggregates?measures=indicator.HN-02.actual,indicator.HN-02.completion&group_by=fiscal_year")
        .await;
    assert_eq!(body.status, 200, "{}", body.text);
    let body = body.json();
    assert_eq!(body["rows"][0]["values"]["indicator.HN-02.actual:sum"], "146.00");
    assert_eq!(body["rows"][0]["values"]["indicator.HN-02.completion:ratio"], "0.9125");
    assert_eq!(body["indicators"]["HN-02"]["unit_of_measure"], "栋");
    assert_eq!(body["indicators"]["HN-02"]["name"], "排查农村自建房屋");

    let refused = app.get("/api/v1/aggregates?measures=indicator.NOPE.actual").await;
    refused.problem(422, "validation_failed");
    assert_eq!(refused.error_fields(), ["measures"]);

    // A `<=` indicator's completion is target ÷ actual (项目总成本, project records).
    let mut project = minimal("430482104", 2022, "棠溪镇人民政府");
    project["kind"] = json!("project");
    project["project"] = json!({"name": "委托业务项目"});
    project["indicators"] = json!([{
        "level_1": "output", "level_2": "cost", "name": "项目总成本", "code": "AH-05",
        "unit_of_measure": "万元", "direction": "<=", "target": "90", "actual": "80",
    }]);
    app.create(&project).await;
    let cost = app.get("/api/v1/aggregates?measures=indicator.AH-05.completion").await.json();
    assert_eq!(cost["rows"][0]["values"]["indicator.AH-05.completion:ratio"], "1.1250");
    assert_eq!(cost["indicators"]["AH-05"]["direction"], "<=");

    // /model lists the library's indicators with their measures.
    let model = app.get("/api/v1/model").await.json();
    let houses = model["indicators"].as_array().unwrap().iter().find(|i| i["code"] == "HN-02").unwrap().clone();
    assert_eq!(houses["measures"], json!(["indicator.HN-02.actual", "indicator.HN-02.completion"]));
    assert_eq!(houses["unit_of_measure"], "栋");
}
