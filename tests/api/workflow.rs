//! Checking and reviewing: findings, scores and grades, the review workflow, revisions and
//! idempotent POSTs, as a county reviewer would see them.
use serde_json::{json, Value};

use reqwest::Method;

use crate::helpers::{minimal, spawn_app, yintian, Reply, TestApp};

fn findings_of(body: &Value) -> Vec<Value> {
    body["findings"].as_array().cloned().unwrap_or_default()
}

fn by_rule<'a>(findings: &'a [Value], rule: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["rule"] == rule).collect()
}

async fn transition(app: &TestApp, id: i64, etag: &str, action: &str, comment: Option<&str>) -> Reply {
    let body = match comment {
        Some(comment) => json!({"action": action, "comment": comment}),
        None => json!({"action": action}),
    };
    app.request(
        reqwest::Method::POST,
        &format!("/api/v1/evaluations/{id}/transitions"),
        Some(&body),
        &[("if-match", etag)],
    )
    .await
}

/// A complete indicator table: weights 50 + 30 + 20 and the given scores.
fn scored(scores: [&str; 3], weights: [&str; 3]) -> Value {
    let mut record = yintian();
    record["indicators"] = json!([
        {"level_1": "output", "level_2": "quantity", "name": "排查农村自建房屋", "unit_of_measure": "栋", "direction": ">=",
         "target": "12939", "actual": "12939", "weight": weights[0], "score": scores[0]},
        {"level_1": "effect", "level_2": "social_benefit", "name": "适龄儿童义务教育普及率", "unit_of_measure": "%", "direction": ">=",
         "target": "100", "actual": "100", "weight": weights[1], "score": scores[1]},
        {"level_1": "satisfaction", "level_2": "service_satisfaction", "name": "群众满意度", "unit_of_measure": "%", "direction": ">=",
         "target": "100", "actual": "95", "weight": weights[2], "score": scores[2]},
    ]);
    record
}

#[tokio::test]
async fn the_reference_report_passes_the_cross_footing_rules() {
    let app = spawn_app().await;
    let reply = app.post("/api/v1/evaluations/validate", &yintian()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let findings = findings_of(&reply.json());
    for finding in &findings {
        let number = finding["rule_number"].as_u64().unwrap();
        if [1, 2, 3, 4, 5, 8].contains(&number) {
            assert_eq!(finding["severity"], "note", "rule {number} must pass: {finding}");
        }
    }
    assert_eq!(reply.json()["submittable"], true);
    assert_eq!(app.count_rows("evaluations").await, 0, "validate stores nothing");
}

#[tokio::test]
async fn a_basic_total_off_by_ten_thousand_yuan_units_fails_rule_3() {
    let app = spawn_app().await;
    let mut record = yintian();
    record["expenditure"]["basic_total"] = json!("9180400.00");
    let body = app.post("/api/v1/evaluations/validate", &record).await.json();
    let findings = findings_of(&body);
    let rule3 = by_rule(&findings, "basic_expenditure_total");
    assert_eq!(rule3.len(), 1, "{findings:?}");
    assert_eq!(rule3[0]["severity"], "error");
    assert_eq!(rule3[0]["rule_number"], 3);
    assert!(rule3[0]["fields"].as_array().unwrap().contains(&json!("expenditure.basic_total")));
    assert_eq!(rule3[0]["stated"], "9180400.00");
    assert_eq!(rule3[0]["computed"], "9080400.00");
    assert_eq!(body["submittable"], false);
}

#[tokio::test]
async fn a_prior_year_record_that_disagrees_with_the_stated_prior_figure_is_flagged() {
    let app = spawn_app().await;
    let mut prior = yintian();
    prior["fiscal_year"] = json!(2021);
    prior["three_public_expenses"]["vehicle_operation"]["amount"] = json!("12000.00");
    app.create(&prior).await;
    let (id, _) = app.create(&yintian()).await;
    let body = app.get(&format!("/api/v1/evaluations/{id}/findings")).await.json();
    let findings = findings_of(&body);
    let rule9 = by_rule(&findings, "prior_year_figures");
    let amount = rule9
        .iter()
        .find(|f| f["fields"].as_array().unwrap().contains(&json!("three_public_expenses.prior_year[1].amount")))
        .unwrap_or_else(|| panic!("no rule-9 finding on the vehicle figure: {findings:?}"));
    assert_eq!(amount["stated"], "24000.00");
    assert_eq!(amount["computed"], "12000.00");
    assert_eq!(amount["rule_number"], 9);
}

#[tokio::test]
async fn weights_summing_to_95_are_flagged() {
    let app = spawn_app().await;
    let body = app.post("/api/v1/evaluations/validate", &scored(["45", "30", "10"], ["50", "30", "15"])).await.json();
    let findings = findings_of(&body);
    let weights = by_rule(&findings, "indicator_weights_sum");
    assert_eq!(weights.len(), 1, "{findings:?}");
    assert_eq!(weights[0]["severity"], "error");
    assert_eq!(weights[0]["stated"], "95.00");
    assert_eq!(weights[0]["computed"], "100.00");
    let body = app.post("/api/v1/evaluations/validate", &scored(["45", "30", "14.5"], ["50", "30", "20"])).await.json();
    assert!(by_rule(&findings_of(&body), "indicator_weights_sum").is_empty());
}

#[tokio::test]
async fn a_score_of_89_5_is_graded_good() {
    let app = spawn_app().await;
    let reply = app.post("/api/v1/evaluations", &scored(["45", "30", "14.5"], ["50", "30", "20"])).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["derived"]["total_score"], "89.50");
    assert_eq!(body["derived"]["grade"], "good");
    let listed = app.get("/api/v1/evaluations?grade=good").await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
}

#[tokio::test]
async fn the_review_path_and_its_forbidden_turns() {
    let app = spawn_app().await;
    let (id, etag) = app.create(&yintian()).await;
    let path = format!("/api/v1/evaluations/{id}");
    // Only submit applies to a draft.
    for action in ["approve", "publish", "reopen", "return"] {
        transition(&app, id, &etag, action, Some("x")).await.problem(409, "invalid_state");
    }
    transition(&app, id, &etag, "fly", None).await.problem(422, "validation_failed");
    transition(&app, id, "\"9\"", "submit", None).await.problem(412, "precondition_failed");
    app.request(reqwest::Method::POST, &format!("{path}/transitions"), Some(&json!({"action": "submit"})), &[])
        .await
        .problem(428, "precondition_required");

    let submitted = transition(&app, id, &etag, "submit", None).await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    assert_eq!(submitted.json()["workflow"]["status"], "submitted");
    let etag = submitted.header("etag").unwrap().to_owned();
    assert_eq!(etag, "\"2\"");
    // A submitted record is no longer editable; return needs a comment.
    app.put(&path, &yintian(), Some(&etag)).await.problem(409, "invalid_state");
    let no_comment = transition(&app, id, &etag, "return", None).await;
    no_comment.problem(422, "validation_failed");
    assert_eq!(no_comment.error_fields(), ["comment"]);

    let returned = transition(&app, id, &etag, "return", Some("三公经费上年数年份有误")).await;
    assert_eq!(returned.json()["workflow"]["status"], "returned");
    let etag = returned.header("etag").unwrap().to_owned();
    let mut fixed = yintian();
    fixed["three_public_expenses"]["prior_year"][1]["fiscal_year"] = json!(2021);
    let replaced = app.put(&path, &fixed, Some(&etag)).await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    let etag = replaced.header("etag").unwrap().to_owned();
    let etag = transition(&app, id, &etag, "submit", None).await.header("etag").unwrap().to_owned();
    let etag = transition(&app, id, &etag, "approve", Some("同意")).await.header("etag").unwrap().to_owned();
    // Approved is frozen.
    app.put(&path, &fixed, Some(&etag)).await.problem(409, "invalid_state");
    app.delete(&path, Some(&etag)).await.problem(409, "invalid_state");
    let published = transition(&app, id, &etag, "publish", None).await;
    assert_eq!(published.json()["workflow"]["status"], "published");
    let etag = published.header("etag").unwrap().to_owned();
    let reopened = transition(&app, id, &etag, "reopen", Some("更正数据")).await;
    assert_eq!(reopened.json()["workflow"]["status"], "draft");

    let history: Vec<(String, String, String)> = app.get(&path).await.json()["workflow"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["action"].as_str().unwrap().into(),
                t["to_status"].as_str().unwrap().into(),
                t["comment"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("submit", "submitted", ""),
        ("return", "returned", "三公经费上年数年份有误"),
        ("submit", "submitted", ""),
        ("approve", "approved", "同意"),
        ("publish", "published", ""),
        ("reopen", "draft", "更正数据"),
    ]
    .iter()
    .map(|(a, s, c)| (a.to_string(), s.to_string(), c.to_string()))
    .collect();
    assert_eq!(history, expected);
}

#[tokio::test]
async fn error_findings_block_submission() {
    let app = spawn_app().await;
    let mut record = yintian();
    record["income"]["total"] = json!("19094800.00");
    let (id, etag) = app.create(&record).await;
    let reply = transition(&app, id, &etag, "submit", None).await;
    let problem = reply.problem(422, "submission_blocked");
    let findings = problem["findings"].as_array().unwrap();
    assert_eq!(findings[0]["rule"], "income_total");
    assert_eq!(findings[0]["severity"], "error");
    assert_eq!(app.get(&format!("/api/v1/evaluations/{id}")).await.json()["workflow"]["status"], "draft");
}

#[tokio::test]
async fn every_write_is_kept_as_a_revision() {
    let app = spawn_app().await;
    let (id, etag) = app.create(&yintian()).await;
    let path = format!("/api/v1/evaluations/{id}");
    let mut changed = yintian();
    changed["issuer"] = json!("荫田镇财政所");
    let etag = app.put(&path, &changed, Some(&etag)).await.header("etag").unwrap().to_owned();
    transition(&app, id, &etag, "submit", None).await;

    let list = app.get(&format!("{path}/revisions")).await.json();
    let items = list["items"].as_array().unwrap();
    let summary: Vec<(i64, &str, &str)> = items
        .iter()
        .map(|r| (r["revision"].as_i64().unwrap(), r["action"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(summary, [(1, "create", "draft"), (2, "replace", "draft"), (3, "submit", "submitted")]);
    assert!(items.iter().all(|r| r["actor"].is_string() && r["at"].is_string()));

    let first = app.get(&format!("{path}/revisions/1")).await.json();
    assert_eq!(first["record"]["issuer"], "常宁市荫田镇人民政府");
    assert_eq!(first["record"]["income"]["total"], "18094800.00");
    let second = app.get(&format!("{path}/revisions/2")).await.json();
    assert_eq!(second["record"]["issuer"], "荫田镇财政所");
    let third = app.get(&format!("{path}/revisions/3")).await.json();
    assert_eq!(third["record"], second["record"], "a transition keeps the content");
    // One copy: the content the replace changed. The current content is the record itself.
    assert_eq!(app.count_rows("evaluation_revisions WHERE record IS NOT NULL").await, 1);
    app.get(&format!("{path}/revisions/4")).await.problem(404, "not_found");
    app.get("/api/v1/evaluations/999/revisions").await.problem(404, "not_found");
}

#[tokio::test]
async fn a_replayed_post_with_the_same_idempotency_key_creates_one_record() {
    let app = spawn_app().await;
    let key = [("idempotency-key", "yintian-2022-upload-1")];
    let first = app.request(reqwest::Method::POST, "/api/v1/evaluations", Some(&yintian()), &key).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let second = app.request(reqwest::Method::POST, "/api/v1/evaluations", Some(&yintian()), &key).await;
    assert_eq!(second.status, 201, "the retry gets the first answer, not a 409: {}", second.text);
    assert_eq!(second.header("idempotency-replayed"), Some("true"));
    assert_eq!(second.header("location"), first.header("location"));
    assert_eq!(second.json(), first.json());
    assert_eq!(app.count_rows("evaluations").await, 1);

    let mut other = yintian();
    other["fiscal_year"] = json!(2023);
    let reused = app.request(reqwest::Method::POST, "/api/v1/evaluations", Some(&other), &key).await;
    reused.problem(422, "validation_failed");
    assert_eq!(reused.error_fields(), ["Idempotency-Key"]);
    assert_eq!(app.count_rows("evaluations").await, 1);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_create_one_record() {
    let app = spawn_app().await;
    let key = [("idempotency-key", "same-key")];
    let body = yintian();
    let (a, b, c) = tokio::join!(
        app.request(reqwest::Method::POST, "/api/v1/evaluations", Some(&body), &key),
        app.request(reqwest::Method::POST, "/api/v1/evaluations", Some(&body), &key),
        app.request(reqwest::Method::POST, "/api/v1/evaluations", Some(&body), &key),
    );
    for reply in [&a, &b, &c] {
        assert_eq!(reply.status, 201, "{}", reply.text);
        assert_eq!(reply.header("location"), a.header("location"));
    }
    assert_eq!(app.count_rows("evaluations").await, 1);
    assert_eq!(app.count_rows("evaluation_revisions").await, 1);
}

/// Runs the `perfeval` command against the test's database.
fn perfeval(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_perfeval"))
        .args(args)
        .env("DATABASE_URL", &app.db.url)
        .env("PERFEVAL_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .output()
        .expect("running perfeval")
}

#[tokio::test]
async fn transitions_and_revisions_record_the_token_holder() {
    let app = spawn_app().await;
    let made =
        perfeval(&app, &["token", "create", "--role", "submitter", "--region", "430482104", "--name", "荫田镇财政所"]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let submitter = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    assert!(submitter.starts_with("pe_") && submitter.len() == 67, "{submitter}");
    let made = perfeval(&app, &["token", "create", "--role", "reviewer", "--region", "4304", "--name", "衡阳市财政局"]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let reviewer = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    let listed = perfeval(&app, &["token", "list"]);
    let listing = String::from_utf8(listed.stdout).unwrap();
    assert!(listing.contains("衡阳市财政局\treviewer\t4304"), "{listing}");
    assert!(listing.contains("荫田镇财政所\tsubmitter\t430482104"), "{listing}");
    assert!(!listing.contains(&submitter) && !listing.contains(&reviewer), "a token is never shown again");

    let created = app.request_as(Some(&submitter), Method::POST, "/api/v1/evaluations", Some(&yintian()), &[]).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json()["id"].as_i64().unwrap();
    let etag = created.header("etag").unwrap().to_owned();
    let path = format!("/api/v1/evaluations/{id}/transitions");
    let submitted = app
        .request_as(Some(&submitter), Method::POST, &path, Some(&json!({"action": "submit"})), &[("if-match", &etag)])
        .await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    let etag = submitted.header("etag").unwrap().to_owned();
    let approved = app
        .request_as(Some(&reviewer), Method::POST, &path, Some(&json!({"action": "approve"})), &[("if-match", &etag)])
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let history = approved.json()["workflow"]["history"].clone();
    assert_eq!(history[0]["actor"], "荫田镇财政所");
    assert_eq!(history[1]["actor"], "衡阳市财政局");
    let revisions = app.get(&format!("/api/v1/evaluations/{id}/revisions")).await.json();
    let actors: Vec<&str> =
        revisions["items"].as_array().unwrap().iter().map(|r| r["actor"].as_str().unwrap()).collect();
    assert_eq!(actors, ["荫田镇财政所", "荫田镇财政所", "衡阳市财政局"]);

    // Revoked from the command line (another process): refused within the token cache's 5 s.
    let revoked = perfeval(&app, &["token", "revoke", "荫田镇财政所"]);
    assert!(revoked.status.success());
    let started = std::time::Instant::now();
    loop {
        let reply = app.request_as(Some(&submitter), Method::GET, "/api/v1/evaluations", None, &[]).await;
        if reply.status == 401 {
            reply.problem(401, "unauthorized");
            assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(8), "a revoked token still works: {}", reply.text);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let refused = app
        .request_as(Some(&submitter), Method::POST, "/api/v1/evaluations", Some(&minimal("430482104", 2023, "x")), &[])
        .await;
    refused.problem(401, "unauthorized");
    let malformed = app
        .request_as(None, Method::POST, "/api/v1/evaluations", Some(&yintian()), &[("authorization", "Basic eDp5")])
        .await;
    malformed.problem(401, "unauthorized");
    assert_eq!(app.count_rows("evaluations").await, 1);
}
