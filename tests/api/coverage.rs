//! `GET /api/v1/coverage`: which townships under a region have filed, per child region.
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{minimal, spawn_app, TestApp};

/// (code, name) of the direct children of `parent`, in code order, from the region list.
async fn children(app: &TestApp, parent: &str) -> Vec<(String, String)> {
    let body = app.get(&format!("/api/v1/regions?parent={parent}&limit=1000")).await.json();
    assert_eq!(body["next_cursor"], Value::Null, "one page holds every child of {parent}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| (item["code"].as_str().unwrap().to_owned(), item["name"].as_str().unwrap().to_owned()))
        .collect()
}

fn missing_list(townships: &[(String, String)]) -> Value {
    townships.iter().map(|(code, name)| json!({"code": code, "name": name})).collect()
}

fn by_status(draft: i64, submitted: i64) -> Value {
    json!({"draft": draft, "submitted": submitted, "returned": 0, "approved": 0, "published": 0})
}

/// The child row of `code`.
fn child<'a>(body: &'a Value, code: &str) -> &'a Value {
    body["children"].as_array().unwrap().iter().find(|c| c["code"] == code).unwrap_or_else(|| panic!("{body}"))
}

/// Three townships of 常宁市 filed for 2022 (the second then submitted), a fourth only for 2021,
/// and one township of 邵阳市 for 2022. Returns 常宁市's townships.
async fn seed(app: &TestApp) -> Vec<(String, String)> {
    let townships = children(app, "430482").await;
    assert!(townships.len() > 4, "{townships:?}");
    let mut ids = Vec::new();
    for (code, name) in &townships[..3] {
        ids.push(app.create(&minimal(code, 2022, &format!("常宁市{name}人民政府"))).await);
    }
    let (code, name) = &townships[3];
    app.create(&minimal(code, 2021, &format!("常宁市{name}人民政府"))).await;
    app.create(&minimal("430502001", 2022, "双清区兴隆街道办事处")).await;
    let (id, etag) = &ids[1];
    let reply = app
        .request(
            Method::POST,
            &format!("/api/v1/evaluations/{id}/transitions"),
            Some(&json!({"action": "submit"})),
            &[("if-match", etag.as_str())],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["workflow"]["status"], "submitted");
    townships
}

#[tokio::test]
async fn a_county_reports_each_township_and_those_that_have_not_filed() {
    let app = spawn_app().await;
    let townships = seed(&app).await;
    let reply = app.get("/api/v1/coverage?region=430482&fiscal_year=2022").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    let expected = townships.len() as i64;
    assert_eq!(
        body["region"],
        json!({
            "code": "430482", "name": "常宁市", "level": "county",
            "expected": expected, "filed": 3, "by_status": by_status(2, 1), "filed_unpublished": 3,
        })
    );
    assert_eq!(body["fiscal_year"], 2022);
    assert_eq!(body["kind"], Value::Null);

    // One row per township, in code order; each expects itself.
    let rows = body["children"].as_array().unwrap();
    let codes: Vec<&str> = rows.iter().map(|r| r["code"].as_str().unwrap()).collect();
    let township_codes: Vec<&str> = townships.iter().map(|(code, _)| code.as_str()).collect();
    assert_eq!(codes, township_codes);
    for (index, (row, (code, name))) in rows.iter().zip(&townships).enumerate() {
        let filed = index < 3;
        let expected_row = json!({
            "code": code, "name": name, "level": "township",
            "expected": 1, "filed": i64::from(filed),
            "by_status": match index { 0 | 2 => by_status(1, 0), 1 => by_status(0, 1), _ => by_status(0, 0) },
            "filed_unpublished": i64::from(filed),
            "missing": if filed { json!([]) } else { json!([{"code": code, "name": name}]) },
        });
        assert_eq!(row, &expected_row);
    }
}

#[tokio::test]
async fn a_prefecture_reports_each_county() {
    let app = spawn_app().await;
    let changning = seed(&app).await;
    let body = app.get("/api/v1/coverage?region=4304&fiscal_year=2022").await.json();
    let counties = children(&app, "4304").await;
    let codes: Vec<&str> = body["children"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(codes, counties.iter().map(|(code, _)| code.as_str()).collect::<Vec<_>>());

    let row = child(&body, "430482");
    assert_eq!((&row["name"], &row["level"]), (&json!("常宁市"), &json!("county")));
    assert_eq!(row["expected"], changning.len() as i64);
    assert_eq!(row["filed"], 3);
    assert_eq!(row["by_status"], by_status(2, 1));
    assert_eq!(row["missing"], missing_list(&changning[3..]));

    let mut all_townships = changning.len() as i64;
    for (county, _) in counties.iter().filter(|(code, _)| code != "430482") {
        let townships = children(&app, county).await;
        all_townships += townships.len() as i64;
        let row = child(&body, county);
        assert_eq!(row["expected"], townships.len() as i64, "{county}");
        assert_eq!(row["filed"], 0, "{county}");
        assert_eq!(row["by_status"], by_status(0, 0), "{county}");
        assert_eq!(row["missing"], missing_list(&townships), "{county}");
    }
    assert_eq!(
        body["region"],
        json!({
            "code": "4304", "name": "衡阳市", "level": "prefecture",
            "expected": all_townships, "filed": 3, "by_status": by_status(2, 1), "filed_unpublished": 3,
        })
    );
}

#[tokio::test]
async fn a_province_adds_up_its_prefectures() {
    let app = spawn_app().await;
    seed(&app).await;
    let body = app.get("/api/v1/coverage?region=43&fiscal_year=2022").await.json();
    assert_eq!(body["region"]["expected"], 2008);
    assert_eq!(body["region"]["filed"], 4);
    assert_eq!(body["region"]["by_status"], by_status(3, 1));
    let prefectures = children(&app, "43").await;
    assert_eq!(body["children"].as_array().unwrap().len(), prefectures.len());
    assert_eq!(child(&body, "4304")["filed"], 3);
    assert_eq!(child(&body, "4305")["filed"], 1);
    let shaoyang_missing = child(&body, "4305")["missing"].as_array().unwrap().clone();
    assert_eq!(shaoyang_missing.len() as i64, child(&body, "4305")["expected"].as_i64().unwrap() - 1);
    assert!(!shaoyang_missing.iter().any(|t| t["code"] == "430502001"));
    let missing: i64 =
        body["children"].as_array().unwrap().iter().map(|c| c["missing"].as_array().unwrap().len() as i64).sum();
    assert_eq!(missing, 2008 - 4);
}

#[tokio::test]
async fn a_township_reports_itself_in_either_code_form() {
    let app = spawn_app().await;
    let townships = seed(&app).await;
    let (filed_code, filed_name) = &townships[1];
    let body = app.get(&format!("/api/v1/coverage?region={filed_code}000&fiscal_year=2022")).await.json();
    assert_eq!(
        body["region"],
        json!({
            "code": filed_code, "name": filed_name, "level": "township",
            "expected": 1, "filed": 1, "by_status": by_status(0, 1), "filed_unpublished": 1,
        })
    );
    assert_eq!(body["children"].as_array().unwrap().len(), 1);
    assert_eq!(body["children"][0]["missing"], json!([]));

    // Filed for 2021 only: missing for 2022, filed for 2021.
    let (code, name) = &townships[3];
    let body = app.get(&format!("/api/v1/coverage?region={code}&fiscal_year=2022")).await.json();
    assert_eq!((&body["region"]["expected"], &body["region"]["filed"]), (&json!(1), &json!(0)));
    assert_eq!(body["children"][0]["missing"], json!([{"code": code, "name": name}]));
    let body = app.get(&format!("/api/v1/coverage?region={code}&fiscal_year=2021")).await.json();
    assert_eq!(body["region"]["filed"], 1);
    assert_eq!(body["region"]["by_status"], by_status(1, 0));
}

#[tokio::test]
async fn kind_narrows_what_counts_as_filed_and_records_are_counted_per_status() {
    let app = spawn_app().await;
    let townships = seed(&app).await;
    let body = app.get("/api/v1/coverage?region=430482&fiscal_year=2022&kind=project").await.json();
    assert_eq!(body["kind"], "project");
    assert_eq!(body["region"]["filed"], 0);
    assert_eq!(body["region"]["by_status"], by_status(0, 0));
    assert_eq!(body["region"]["expected"], townships.len() as i64);
    let missing: Vec<Value> = body["children"].as_array().unwrap().iter().map(|c| c["missing"][0].clone()).collect();
    assert_eq!(Value::Array(missing), missing_list(&townships));

    // A project record for a township that already filed: one more record, no more townships.
    let (code, name) = &townships[0];
    let mut project = minimal(code, 2022, &format!("常宁市{name}人民政府"));
    project["kind"] = json!("project");
    project["project"] = json!({"name": "村级补助及运转经费"});
    app.create(&project).await;
    let any = app.get("/api/v1/coverage?region=430482&fiscal_year=2022").await.json();
    assert_eq!(any["region"]["filed"], 3);
    assert_eq!(any["region"]["by_status"], by_status(3, 1));
    assert_eq!(child(&any, code)["by_status"], by_status(2, 0));
    let projects = app.get("/api/v1/coverage?region=430482&fiscal_year=2022&kind=project").await.json();
    assert_eq!(projects["region"]["filed"], 1);
    assert_eq!(child(&projects, code)["missing"], json!([]));
    let overall = app.get("/api/v1/coverage?region=430482&fiscal_year=2022&kind=department_overall").await.json();
    assert_eq!(overall["region"]["filed"], 3);
    assert_eq!(overall["region"]["by_status"], by_status(2, 1));
}

/// Takes a record through submit, approve and publish.
async fn publish(app: &TestApp, id: i64, etag: &str) {
    let mut etag = etag.to_owned();
    for action in ["submit", "approve", "publish"] {
        let path = format!("/api/v1/evaluations/{id}/transitions");
        let reply = app.request(Method::POST, &path, Some(&json!({"action": action})), &[("if-match", &etag)]).await;
        assert_eq!(reply.status, 200, "{action}: {}", reply.text);
        etag = reply.header("etag").unwrap().to_owned();
    }
}

/// Anonymous callers see the published records by status and, beside them, how many filed
/// records are not yet published; a township that filed is never listed as not filed, whoever
/// asks. Nothing else of the unpublished records shows: the rows have the same members as ever.
#[tokio::test]
async fn anonymous_callers_see_filed_unpublished_counts_and_no_filed_township_as_missing() {
    let app = spawn_app().await;
    let townships = seed(&app).await;
    let (code, name) = &townships[4];
    let (id, etag) = app.create(&minimal(code, 2022, &format!("常宁市{name}人民政府"))).await;
    publish(&app, id, &etag).await;
    let published = json!({"draft": 0, "submitted": 0, "returned": 0, "approved": 0, "published": 1});
    let nothing = by_status(0, 0);

    let anonymous =
        app.request_as(None, Method::GET, "/api/v1/coverage?region=430482&fiscal_year=2022", None, &[]).await;
    assert_eq!(anonymous.status, 200, "{}", anonymous.text);
    let body = anonymous.json();
    assert_eq!(
        body["region"],
        json!({
            "code": "430482", "name": "常宁市", "level": "county", "expected": townships.len(),
            "filed": 4, "by_status": published, "filed_unpublished": 3,
        })
    );
    for (index, (code, name)) in townships.iter().enumerate() {
        let row = child(&body, code);
        let mut members: Vec<&str> = row.as_object().unwrap().keys().map(String::as_str).collect();
        members.sort_unstable();
        assert_eq!(
            members,
            ["by_status", "code", "expected", "filed", "filed_unpublished", "level", "missing", "name"],
            "counts only"
        );
        let (filed, by_status, unpublished) = match index {
            0..=2 => (1, &nothing, 1),
            4 => (1, &published, 0),
            _ => (0, &nothing, 0),
        };
        assert_eq!(
            (&row["filed"], &row["by_status"], &row["filed_unpublished"]),
            (&json!(filed), by_status, &json!(unpublished)),
            "{code}"
        );
        let missing = if filed == 1 { json!([]) } else { json!([{"code": code, "name": name}]) };
        assert_eq!(row["missing"], missing, "{code}: a township that filed is not missing");
    }

    // An admin sees the same townships filed and missing, and every record by status.
    let admin = app.get("/api/v1/coverage?region=430482&fiscal_year=2022").await.json();
    assert_eq!(admin["region"]["filed"], 4);
    assert_eq!(admin["region"]["filed_unpublished"], 3);
    assert_eq!(
        admin["region"]["by_status"],
        json!({"draft": 2, "submitted": 1, "returned": 0, "approved": 0, "published": 1})
    );
    for (code, _) in &townships {
        assert_eq!(child(&admin, code)["missing"], child(&body, code)["missing"], "{code}");
        assert_eq!(child(&admin, code)["filed_unpublished"], child(&body, code)["filed_unpublished"], "{code}");
    }

    // A prefecture and a province add up their children, for anonymous callers too.
    let prefecture =
        app.request_as(None, Method::GET, "/api/v1/coverage?region=43&fiscal_year=2022", None, &[]).await.json();
    assert_eq!(prefecture["region"]["filed"], 5);
    assert_eq!(prefecture["region"]["filed_unpublished"], 4);
    assert_eq!(prefecture["region"]["by_status"], published);
    assert_eq!(child(&prefecture, "4304")["filed_unpublished"], 3);
    assert_eq!(child(&prefecture, "4305")["filed_unpublished"], 1);
    let missing: usize =
        prefecture["children"].as_array().unwrap().iter().map(|c| c["missing"].as_array().unwrap().len()).sum();
    assert_eq!(missing, 2008 - 5);
}

#[tokio::test]
async fn bad_parameters_are_named_and_unknown_regions_are_not_found() {
    let app = spawn_app().await;
    for (query, parameter) in [
        ("fiscal_year=2022", "region"),
        ("region=&fiscal_year=2022", "region"),
        ("region=43x&fiscal_year=2022", "region"),
        ("region=4304821&fiscal_year=2022", "region"),
        ("region=430482104001&fiscal_year=2022", "region"),
        ("region=43&region=44&fiscal_year=2022", "region"),
        ("region=430482", "fiscal_year"),
        ("region=430482&fiscal_year=20x2", "fiscal_year"),
        ("region=430482&fiscal_year=1989", "fiscal_year"),
        ("region=430482&fiscal_year=2019..2022", "fiscal_year"),
        ("region=430482&fiscal_year=2022&kind=annual", "kind"),
        ("region=430482&fiscal_year=2022&status=draft", "status"),
    ] {
        let reply = app.get(&format!("/api/v1/coverage?{query}")).await;
        reply.problem(400, "invalid_query");
        assert_eq!(reply.error_fields(), [parameter], "{query}: {}", reply.text);
    }
    for region in ["439999", "99", "430482999", "430482999000"] {
        let reply = app.get(&format!("/api/v1/coverage?region={region}&fiscal_year=2022")).await;
        let body = reply.problem(404, "not_found");
        assert!(body["detail"].as_str().unwrap().contains(&region[..region.len().min(9)]), "{body}");
    }
}
