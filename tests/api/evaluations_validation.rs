//! Bad input gets a clear 4xx naming the field, and nothing is stored.
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, yintian, TestApp};

const TABLES: [&str; 8] = [
    "evaluations",
    "evaluation_internal_units",
    "evaluation_income_lines",
    "evaluation_expenditure_lines",
    "evaluation_three_public_prior",
    "evaluation_indicators",
    "evaluation_projects",
    "evaluation_narrative_sections",
];

async fn assert_nothing_stored(app: &TestApp) {
    for table in TABLES {
        assert_eq!(app.count_rows(table).await, 0, "{table} has rows after a refused request");
    }
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let reply =
        app.post_raw("/api/v1/evaluations", "application/json", br#"{"region_code": "430482104", "#.to_vec()).await;
    let problem = reply.problem(400, "malformed_json");
    assert!(problem["detail"].as_str().unwrap().contains("line 1"), "{problem}");
    let mut trailing = serde_json::to_vec(&yintian()).unwrap();
    trailing.extend_from_slice(b" trailing");
    let reply = app.post_raw("/api/v1/evaluations", "application/json", trailing).await;
    reply.problem(400, "malformed_json");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_wrong_type_is_400_naming_its_path() {
    let app = spawn_app().await;
    let mut record = yintian();
    record["expenditure"]["lines"][2]["executed"] = json!(true);
    let reply = app.post("/api/v1/evaluations", &record).await;
    reply.problem(400, "invalid_body");
    assert_eq!(reply.error_fields(), ["expenditure.lines[2].executed"]);
    let mut record = yintian();
    record["fiscal_year"] = json!("2022");
    let reply = app.post("/api/v1/evaluations", &record).await;
    assert_eq!(reply.error_fields(), ["fiscal_year"]);
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_whole_number_written_with_a_fraction_is_that_integer() {
    // JSON Schema counts 2022.0 as an integer, and Python's json writes a float so: the record
    // is stored with the integers it equals. A fraction that is not zero stays a wrong type.
    let app = spawn_app().await;
    let mut body = serde_json::to_string(&yintian()).unwrap();
    body = body.replacen("\"fiscal_year\":2022", "\"fiscal_year\":2022.0", 1);
    let body = body.replacen("\"staff_at_year_end\":78", "\"staff_at_year_end\":78.0", 1);
    assert!(body.contains("\"fiscal_year\":2022.0") && body.contains(":78.0"), "the fixture has both");
    let reply = app.post_raw("/api/v1/evaluations", "application/json", body.into_bytes()).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["fiscal_year"], 2022);
    assert_eq!(reply.json()["profile"]["staff_at_year_end"], 78);
    // With another fault further on, that fault is the answer (the fuzz run's case: a whole
    // float, then an amount that is not a number).
    let mut record = yintian();
    record["fiscal_year"] = json!(2022.0);
    record["expenditure"]["total"] = json!("lots");
    let reply = app.post("/api/v1/evaluations", &record).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(reply.error_fields(), ["expenditure.total"]);
    let mut record = yintian();
    record["fiscal_year"] = json!(2022.5);
    let reply = app.post("/api/v1/evaluations", &record).await;
    reply.problem(400, "invalid_body");
    assert_eq!(reply.error_fields(), ["fiscal_year"]);
}

#[tokio::test]
async fn an_unknown_or_missing_member_is_400_naming_its_path() {
    let app = spawn_app().await;
    let mut record = yintian();
    record["profile"]["dutiez"] = json!([]);
    let reply = app.post("/api/v1/evaluations", &record).await;
    reply.problem(400, "invalid_body");
    assert_eq!(reply.error_fields(), ["profile.dutiez"]);
    let mut record = yintian();
    record.as_object_mut().unwrap().remove("unit");
    let reply = app.post("/api/v1/evaluations", &record).await;
    reply.problem(400, "invalid_body");
    assert!(reply.json()["detail"].as_str().unwrap().contains("missing field `unit`"), "{}", reply.text);
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn an_unknown_region_is_422() {
    let app = spawn_app().await;
    let mut record = yintian();
    record["region_code"] = json!("430482999");
    let reply = app.post("/api/v1/evaluations", &record).await;
    reply.problem(422, "validation_failed");
    assert_eq!(
        reply.json()["errors"][0],
        json!({"field": "region_code", "code": "unknown_region", "message": "no township with this code in the division table"})
    );
    record["region_code"] = json!("4304");
    let reply = app.post("/api/v1/evaluations", &record).await;
    reply.problem(422, "validation_failed");
    assert_eq!(reply.json()["errors"][0]["code"], "not_a_township");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_year_outside_1990_to_2100_is_422() {
    let app = spawn_app().await;
    for year in [1989, 2101, -1] {
        let mut record = yintian();
        record["fiscal_year"] = json!(year);
        let reply = app.post("/api/v1/evaluations", &record).await;
        reply.problem(422, "validation_failed");
        assert_eq!(reply.error_fields(), ["fiscal_year"]);
    }
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn more_than_two_decimals_on_an_amount_is_422() {
    let app = spawn_app().await;
    let mut record = yintian();
    record["expenditure"]["lines"][1]["executed"] = json!("795200.001");
    record["three_public_expenses"]["reception"]["amount"] = json!(95000.125);
    let reply = app.post("/api/v1/evaluations", &record).await;
    reply.problem(422, "validation_failed");
    assert_eq!(reply.error_fields(), ["expenditure.lines[1].executed", "three_public_expenses.reception.amount"]);
    assert_eq!(reply.json()["errors"][0]["code"], "too_many_decimals");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_negative_amount_is_422_but_a_stated_decrease_is_not() {
    let app = spawn_app().await;
    let mut record = yintian();
    record["income"]["total"] = json!("-1.00");
    let reply = app.post("/api/v1/evaluations", &record).await;
    reply.problem(422, "validation_failed");
    assert_eq!(reply.error_fields(), ["income.total"]);
    assert_eq!(reply.json()["errors"][0]["code"], "negative");
    assert_nothing_stored(&app).await;
    // running_costs.stated_change is negative in the fixture itself, and that is fine.
    assert_eq!(yintian()["running_costs"]["stated_change"], "-128700.00");
    app.create(&yintian()).await;
}

#[tokio::test]
async fn nan_and_unknown_enum_values_are_422() {
    let app = spawn_app().await;
    let mut record = yintian();
    record["income"]["total"] = json!("NaN");
    let reply = app.post("/api/v1/evaluations", &record).await;
    reply.problem(422, "validation_failed");
    assert_eq!(reply.error_fields(), ["income.total"]);
    let mut record = yintian();
    record["kind"] = json!("annual_party");
    let reply = app.post("/api/v1/evaluations", &record).await;
    reply.problem(422, "validation_failed");
    assert_eq!(reply.error_fields(), ["kind"]);
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn every_bad_field_is_named_at_once() {
    let app = spawn_app().await;
    let mut record = yintian();
    record["unit"] = json!(" ");
    record["indicators"][3]["name"] = json!("");
    record["projects"][0]["progress"] = json!("1.5");
    record["profile"]["staff_at_year_end"] = json!(-78);
    let reply = app.post("/api/v1/evaluations", &record).await;
    reply.problem(422, "validation_failed");
    assert_eq!(
        reply.error_fields(),
        ["unit", "profile.staff_at_year_end", "indicators[3].name", "projects[0].progress"]
    );
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app_with(|settings| settings.max_body_bytes = 4096).await;
    let reply = app.post("/api/v1/evaluations", &yintian()).await;
    let problem = reply.problem(413, "payload_too_large");
    assert!(problem["detail"].as_str().unwrap().contains("4096"), "{problem}");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    let reply = app.post_raw("/api/v1/evaluations", "text/plain", serde_json::to_vec(&yintian()).unwrap()).await;
    reply.problem(415, "unsupported_media_type");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_failed_replace_leaves_the_stored_record_as_it_was() {
    let app = spawn_app().await;
    let (id, etag) = app.create(&yintian()).await;
    let path = format!("/api/v1/evaluations/{id}");
    let before = app.get(&path).await.json();
    let mut record = yintian();
    record["income"]["lines"][0]["amount"] = json!("-5");
    app.put(&path, &record, Some(&etag)).await.problem(422, "validation_failed");
    record["region_code"] = json!("430482999");
    record["income"]["lines"][0]["amount"] = json!("5");
    app.put(&path, &record, Some(&etag)).await.problem(422, "validation_failed");
    assert_eq!(app.get(&path).await.json(), before);
}
