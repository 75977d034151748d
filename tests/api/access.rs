//! Access control: every operation of the route table × every role × a record (or region)
//! inside and outside the caller's scope. The operations come from the OpenAPI document the
//! routes generate, so a new route without a row in `expected` fails this test.
use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{minimal, spawn_app, spawn_app_with, Reply, TestApp};

/// The submitter's township, inside the reviewer's county 常宁市.
const TOWNSHIP_IN: &str = "430482104";
const COUNTY_IN: &str = "430482";
/// A township of another county (耒阳市).
const TOWNSHIP_OUT: &str = "430481100";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    Submitter,
    Reviewer,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    In,
    Out,
}

/// Tokens for each role; the submitter acts in TOWNSHIP_IN, the reviewer in COUNTY_IN.
struct Callers {
    submitter: String,
    reviewer: String,
}

impl Callers {
    async fn new(app: &TestApp) -> Self {
        Self {
            submitter: app.token("submitter", Some(TOWNSHIP_IN), "submitter").await,
            reviewer: app.token("reviewer", Some(COUNTY_IN), "reviewer").await,
        }
    }

    fn token<'a>(&'a self, app: &'a TestApp, role: Role) -> Option<&'a str> {
        match role {
            Role::Anonymous => None,
            Role::Submitter => Some(&self.submitter),
            Role::Reviewer => Some(&self.reviewer),
            Role::Admin => Some(&app.admin_token),
        }
    }
}

/// Where the matrix's webhooks point: allowed, and nothing listens there (the discard port).
const WEBHOOK_TARGET: &str = "127.0.0.1:9";

static UNIT: AtomicU32 = AtomicU32::new(0);

/// The reference report, 荫田镇 2022, as text.
const REPORT: &str = include_str!("../fixtures/yintian-2022-self-evaluation.txt");

fn township(scope: Scope) -> &'static str {
    match scope {
        Scope::In => TOWNSHIP_IN,
        Scope::Out => TOWNSHIP_OUT,
    }
}

fn record(scope: Scope) -> Value {
    minimal(township(scope), 2022, &format!("单位 {}", UNIT.fetch_add(1, Ordering::Relaxed)))
}

/// A fresh draft (or, with `submitted`, a submitted record) made by the admin.
async fn fixture(app: &TestApp, scope: Scope, submitted: bool) -> (i64, String) {
    let (id, etag) = app.create(&record(scope)).await;
    if !submitted {
        return (id, etag);
    }
    let path = format!("/api/v1/evaluations/{id}/transitions");
    let reply = app.request(Method::POST, &path, Some(&json!({"action": "submit"})), &[("if-match", &etag)]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    (id, reply.header("etag").unwrap().to_owned())
}

/// What each operation answers, for a draft record (a submitted one for `approve`).
/// `0` marks an operation anyone may call and that answers 2xx.
fn expected(operation: &str, role: Role, scope: Scope) -> u16 {
    use Role::*;
    use Scope::*;
    let open = 0;
    match operation {
        "healthz"
        | "readyz"
        | "metrics"
        | "openapi_json"
        | "get_model"
        | "list_regions"
        | "get_region"
        | "get_aggregates"
        | "get_coverage"
        | "list_evaluations"
        | "list_changes"
        | "list_indicator_definitions"
        | "get_indicator_definition"
        | "validate_evaluation" => open,
        // Reading a record: drafts are hidden from anonymous callers and from other regions.
        "get_evaluation" | "get_findings" => match (role, scope) {
            (Anonymous, _) => 404,
            (Admin, _) | (_, In) => 200,
            (_, Out) => 404,
        },
        // A record's history needs a token of its region.
        "list_revisions" | "get_revision" => match (role, scope) {
            (Anonymous, _) => 401,
            (Admin, _) | (_, In) => 200,
            (_, Out) => 404,
        },
        // Writing: submitters in their township, admins anywhere; reviewers never.
        "create_evaluation" => match (role, scope) {
            (Anonymous, _) => 401,
            (Admin, _) | (Submitter, In) => 201,
            _ => 403,
        },
        "replace_evaluation" | "delete_evaluation" | "submit" => match (role, scope) {
            (Anonymous, _) => 401,
            (Admin, _) => 2,
            (Submitter, In) => 2,
            (Reviewer, In) => 403,
            (_, Out) => 404,
        },
        // The original file of an imported record reads like the record.
        "get_source" => match (role, scope) {
            (Anonymous, _) => 404,
            (Admin, _) | (_, In) => 200,
            (_, Out) => 404,
        },
        // The batch answers 200 with an `out_of_scope` item where a write is not allowed; an
        // import's preview writes nothing.
        "batch_evaluations" | "import_evaluations" => match role {
            Anonymous => 401,
            _ => 200,
        },
        "approve" => match (role, scope) {
            (Anonymous, _) => 401,
            (Admin, _) | (Reviewer, In) => 200,
            (Submitter, In) => 403,
            (_, Out) => 404,
        },
        "list_tokens"
        | "create_token"
        | "revoke_token"
        | "list_webhooks"
        | "create_webhook"
        | "get_webhook"
        | "delete_webhook"
        | "list_deliveries"
        | "replay_delivery"
        | "create_indicator_definition"
        | "replace_indicator_definition"
        | "delete_indicator_definition"
        | "retire_indicator_definition"
        | "restore_indicator_definition" => match role {
            Anonymous => 401,
            Admin => 2,
            _ => 403,
        },
        other => panic!("operation `{other}` has no row in the access matrix; add one"),
    }
}

/// Runs `operation` as `token` against a fresh fixture in `scope`.
async fn call(app: &TestApp, operation: &str, token: Option<&str>, scope: Scope) -> Reply {
    let as_caller = |method: Method, path: String, body: Option<Value>, headers: Vec<(&'static str, String)>| async move {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        app.request_as(token, method, &path, body.as_ref(), &headers).await
    };
    let region = township(scope);
    match operation {
        "healthz" => as_caller(Method::GET, "/healthz".into(), None, vec![]).await,
        "readyz" => as_caller(Method::GET, "/readyz".into(), None, vec![]).await,
        "metrics" => as_caller(Method::GET, "/metrics".into(), None, vec![]).await,
        "openapi_json" => as_caller(Method::GET, "/api/v1/openapi.json".into(), None, vec![]).await,
        "get_model" => as_caller(Method::GET, "/api/v1/model".into(), None, vec![]).await,
        "list_regions" => {
            as_caller(Method::GET, format!("/api/v1/regions?parent={}", &region[..6]), None, vec![]).await
        }
        "get_region" => as_caller(Method::GET, format!("/api/v1/regions/{region}"), None, vec![]).await,
        "get_aggregates" => {
            as_caller(
                Method::GET,
                format!("/api/v1/aggregates?measures=expenditure.total&region={region}&group_by=township"),
                None,
                vec![],
            )
            .await
        }
        "get_coverage" => {
            as_caller(Method::GET, format!("/api/v1/coverage?region={}&fiscal_year=2022", &region[..6]), None, vec![])
                .await
        }
        "list_evaluations" => {
            as_caller(Method::GET, format!("/api/v1/evaluations?region={region}"), None, vec![]).await
        }
        "validate_evaluation" => {
            as_caller(Method::POST, "/api/v1/evaluations/validate".into(), Some(record(scope)), vec![]).await
        }
        "create_evaluation" => as_caller(Method::POST, "/api/v1/evaluations".into(), Some(record(scope)), vec![]).await,
        "batch_evaluations" => {
            as_caller(Method::POST, "/api/v1/evaluations/batch".into(), Some(json!([record(scope)])), vec![]).await
        }
        "import_evaluations" => {
            let path = format!("/api/v1/evaluations/import?region={region}");
            let mut request = app.client.post(format!("{}{path}", app.address)).header("content-type", "text/plain");
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.body(REPORT).send().await.unwrap();
            let (status, headers) = (response.status(), response.headers().clone());
            Reply { status, headers, text: response.text().await.unwrap() }
        }
        "get_source" => {
            let path = format!("/api/v1/evaluations/import?region={region}&commit=true");
            let reply = app.post_raw(&path, "text/plain; charset=utf-8", REPORT.as_bytes().to_vec()).await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            let id = reply.json()["drafts"][0]["id"].as_i64().unwrap_or_else(|| panic!("stored: {}", reply.text));
            as_caller(Method::GET, format!("/api/v1/evaluations/{id}/source"), None, vec![]).await
        }
        "get_evaluation" | "get_findings" | "list_revisions" | "get_revision" => {
            let (id, _) = fixture(app, scope, false).await;
            let suffix = match operation {
                "get_evaluation" => "",
                "get_findings" => "/findings",
                "list_revisions" => "/revisions",
                _ => "/revisions/1",
            };
            as_caller(Method::GET, format!("/api/v1/evaluations/{id}{suffix}"), None, vec![]).await
        }
        "replace_evaluation" => {
            let (id, etag) = fixture(app, scope, false).await;
            let mut body = record(scope);
            body["unit"] = json!(format!("改名 {id}"));
            as_caller(Method::PUT, format!("/api/v1/evaluations/{id}"), Some(body), vec![("if-match", etag)]).await
        }
        "delete_evaluation" => {
            let (id, etag) = fixture(app, scope, false).await;
            as_caller(Method::DELETE, format!("/api/v1/evaluations/{id}"), None, vec![("if-match", etag)]).await
        }
        "submit" | "approve" => {
            let (id, etag) = fixture(app, scope, operation == "approve").await;
            let body = json!({"action": operation});
            let path = format!("/api/v1/evaluations/{id}/transitions");
            as_caller(Method::POST, path, Some(body), vec![("if-match", etag)]).await
        }
        "list_tokens" => as_caller(Method::GET, "/api/v1/tokens".into(), None, vec![]).await,
        "create_token" => {
            let name = format!("made {}", UNIT.fetch_add(1, Ordering::Relaxed));
            let body = json!({"name": name, "role": "submitter", "region_code": region});
            as_caller(Method::POST, "/api/v1/tokens".into(), Some(body), vec![]).await
        }
        "revoke_token" => {
            let name = format!("victim {}", UNIT.fetch_add(1, Ordering::Relaxed));
            app.token("reviewer", Some(&region[..6]), &name).await;
            as_caller(Method::DELETE, format!("/api/v1/tokens/{name}"), None, vec![]).await
        }
        "list_changes" => as_caller(Method::GET, format!("/api/v1/changes?region={region}"), None, vec![]).await,
        "list_webhooks" => as_caller(Method::GET, "/api/v1/webhooks".into(), None, vec![]).await,
        "list_indicator_definitions" => {
            as_caller(Method::GET, "/api/v1/indicator-definitions?kind=project".into(), None, vec![]).await
        }
        "get_indicator_definition" => {
            as_caller(Method::GET, "/api/v1/indicator-definitions/HN-02".into(), None, vec![]).await
        }
        "create_indicator_definition"
        | "replace_indicator_definition"
        | "delete_indicator_definition"
        | "retire_indicator_definition"
        | "restore_indicator_definition" => {
            let code = format!("ACC-{}", UNIT.fetch_add(1, Ordering::Relaxed));
            let body = json!({"code": code, "name": format!("指标 {code}"), "level_1": "output",
                              "level_2": "quantity", "kinds": ["department_overall"]});
            let path = "/api/v1/indicator-definitions".to_owned();
            if operation == "create_indicator_definition" {
                return as_caller(Method::POST, path, Some(body), vec![]).await;
            }
            let made = app.post(&path, &body).await;
            assert_eq!(made.status, 201, "{}", made.text);
            let one = format!("{path}/{code}");
            let etag = || vec![("if-match", "\"1\"".to_owned())];
            match operation {
                "replace_indicator_definition" => as_caller(Method::PUT, one, Some(body), etag()).await,
                "delete_indicator_definition" => as_caller(Method::DELETE, one, None, etag()).await,
                "retire_indicator_definition" => as_caller(Method::POST, format!("{one}/retire"), None, vec![]).await,
                _ => as_caller(Method::POST, format!("{one}/restore"), None, vec![]).await,
            }
        }
        "create_webhook" => {
            let body = json!({"url": format!("http://{WEBHOOK_TARGET}/{region}")});
            as_caller(Method::POST, "/api/v1/webhooks".into(), Some(body), vec![]).await
        }
        "get_webhook" | "delete_webhook" | "list_deliveries" | "replay_delivery" => {
            let made = app.post("/api/v1/webhooks", &json!({"url": format!("http://{WEBHOOK_TARGET}/")})).await;
            assert_eq!(made.status, 201, "{}", made.text);
            let id = made.json()["id"].as_i64().unwrap();
            match operation {
                "get_webhook" => as_caller(Method::GET, format!("/api/v1/webhooks/{id}"), None, vec![]).await,
                "delete_webhook" => as_caller(Method::DELETE, format!("/api/v1/webhooks/{id}"), None, vec![]).await,
                "list_deliveries" => {
                    as_caller(Method::GET, format!("/api/v1/webhooks/{id}/deliveries"), None, vec![]).await
                }
                _ => {
                    use diesel_async::RunQueryDsl;
                    let (record, _) = fixture(app, scope, false).await;
                    let mut conn = app.db.connect().await;
                    diesel::sql_query(format!(
                        "INSERT INTO webhook_deliveries (webhook_id, change_seq, evaluation_id, state) \
                         VALUES ({id}, (SELECT max(seq) FROM changes), {record}, 'failed') \
                         ON CONFLICT (webhook_id, change_seq) DO NOTHING"
                    ))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                    let path = format!("/api/v1/webhooks/{id}/deliveries/1/replay");
                    let path = match app.get(&format!("/api/v1/webhooks/{id}/deliveries")).await.json()["items"][0]
                        ["id"]
                        .as_i64()
                    {
                        Some(delivery) => format!("/api/v1/webhooks/{id}/deliveries/{delivery}/replay"),
                        None => path,
                    };
                    as_caller(Method::POST, path, None, vec![]).await
                }
            }
        }
        other => panic!("no request for operation `{other}`"),
    }
}

/// Every operation in the route table, by operationId; transitions split by action.
fn operations() -> Vec<String> {
    let document = serde_json::to_value(perfeval::startup::openapi_document()).unwrap();
    let mut operations = Vec::new();
    for (_, item) in document["paths"].as_object().unwrap() {
        for (_, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().expect("every operation has an id").to_owned();
            if id == "transition_evaluation" {
                operations.extend(["submit".to_owned(), "approve".to_owned()]);
            } else {
                operations.push(id);
            }
        }
    }
    operations
}

/// The document states which operations need a token: those that refuse anonymous callers
/// (401) require the bearer token; the others accept it or none (`[{}, {"bearer_token": []}]`),
/// so the docs page draws its padlock on the first kind only.
#[test]
fn the_document_states_which_operations_need_a_token() {
    let document = serde_json::to_value(perfeval::startup::openapi_document()).unwrap();
    assert!(document.get("security").is_none(), "no document-wide requirement: each operation states its own");
    let bearer = json!({"bearer_token": []});
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            let probe = if id == "transition_evaluation" { "submit" } else { id };
            let security = &operation["security"];
            if !path.starts_with("/api/v1/") {
                assert!(security.is_null(), "{method} {path} is a probe and takes no token: {security}");
            } else if expected(probe, Role::Anonymous, Scope::In) == 401 {
                assert_eq!(security, &json!([bearer]), "{method} {path} needs a token");
            } else {
                assert_eq!(security, &json!([{}, bearer]), "{method} {path} is open to anonymous callers");
            }
        }
    }
}

#[tokio::test]
async fn every_operation_answers_every_role_in_and_out_of_scope_as_the_roles_say() {
    let app = spawn_app_with(|settings| settings.webhooks.allow = vec![WEBHOOK_TARGET.to_owned()]).await;
    let callers = Callers::new(&app).await;
    let operations = operations();
    assert!(operations.len() >= 23, "{operations:?}");
    let mut failures = Vec::new();
    let mut cases = 0;
    for operation in &operations {
        for role in [Role::Anonymous, Role::Submitter, Role::Reviewer, Role::Admin] {
            for scope in [Scope::In, Scope::Out] {
                let want = expected(operation, role, scope);
                let reply = call(&app, operation, callers.token(&app, role), scope).await;
                cases += 1;
                let status = reply.status.as_u16();
                let ok = match want {
                    0 | 2 => reply.status.is_success(),
                    code => status == code,
                };
                if !ok {
                    failures
                        .push(format!("{operation} as {role:?} {scope:?}: want {want}, got {status}: {}", reply.text));
                } else if !reply.status.is_success() {
                    // Refusals are problem+json with the matching code.
                    let code = match status {
                        401 => "unauthorized",
                        403 => "forbidden",
                        _ => "not_found",
                    };
                    reply.problem(status, code);
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {cases} cases differ:\n{}", failures.len(), failures.join("\n"));
}

/// What each role sees of two drafts and two published records, in and out of its region,
/// through the list, the aggregates and the coverage.
#[tokio::test]
async fn lists_aggregates_and_coverage_cover_only_what_the_caller_may_see() {
    let app = spawn_app().await;
    let callers = Callers::new(&app).await;
    let mut ids = Vec::new();
    for scope in [Scope::In, Scope::Out] {
        let (draft, _) = fixture(&app, scope, false).await;
        let (published, mut etag) = fixture(&app, scope, true).await;
        for action in ["approve", "publish"] {
            let path = format!("/api/v1/evaluations/{published}/transitions");
            let reply =
                app.request(Method::POST, &path, Some(&json!({"action": action})), &[("if-match", &etag)]).await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            etag = reply.header("etag").unwrap().to_owned();
        }
        ids.push((scope, draft, published));
    }
    let (draft_in, published_in) = (ids[0].1, ids[0].2);
    let (draft_out, published_out) = (ids[1].1, ids[1].2);
    let cases = [
        (Role::Anonymous, vec![published_in, published_out]),
        (Role::Submitter, vec![draft_in, published_in, published_out]),
        (Role::Reviewer, vec![draft_in, published_in, published_out]),
        (Role::Admin, vec![draft_in, published_in, draft_out, published_out]),
    ];
    for (role, visible) in cases {
        let token = callers.token(&app, role);
        let list = app.request_as(token, Method::GET, "/api/v1/evaluations?limit=100", None, &[]).await;
        let mut seen: Vec<i64> =
            list.json()["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
        seen.sort();
        let mut want = visible.clone();
        want.sort();
        assert_eq!(seen, want, "list as {role:?}");

        let aggregate = app
            .request_as(token, Method::GET, "/api/v1/aggregates?measures=expenditure.total&region=43", None, &[])
            .await;
        let body = aggregate.json();
        assert_eq!(body["records"], visible.len(), "aggregate records as {role:?}: {body}");
        let total = format!("{}.00", 900 * visible.len());
        assert_eq!(body["rows"][0]["values"]["expenditure.total:sum"], total, "as {role:?}");

        let coverage =
            app.request_as(token, Method::GET, "/api/v1/coverage?region=4304&fiscal_year=2022", None, &[]).await.json();
        let by_status = &coverage["region"]["by_status"];
        let drafts_seen = visible.iter().filter(|id| [draft_in, draft_out].contains(id)).count();
        assert_eq!(by_status["draft"], drafts_seen, "coverage as {role:?}: {coverage}");
        assert_eq!(by_status["published"], 2, "coverage as {role:?}");

        // The published record of another region is readable but not writable.
        if role == Role::Submitter {
            let read =
                app.request_as(token, Method::GET, &format!("/api/v1/evaluations/{published_out}"), None, &[]).await;
            assert_eq!(read.status, 200);
            let etag = read.header("etag").unwrap().to_owned();
            let reopen = app
                .request_as(
                    token,
                    Method::POST,
                    &format!("/api/v1/evaluations/{published_out}/transitions"),
                    Some(&json!({"action": "reopen"})),
                    &[("if-match", &etag)],
                )
                .await;
            reopen.problem(403, "forbidden");
        }
    }
}

#[tokio::test]
async fn a_submitter_batch_writes_its_township_and_names_the_others_out_of_scope() {
    let app = spawn_app().await;
    let callers = Callers::new(&app).await;
    let batch = json!([record(Scope::In), record(Scope::Out)]);
    let reply =
        app.request_as(Some(&callers.submitter), Method::POST, "/api/v1/evaluations/batch", Some(&batch), &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["items"][0]["outcome"], "created");
    assert_eq!(body["items"][1]["outcome"], "invalid");
    assert_eq!(body["items"][1]["errors"][0]["field"], "region_code");
    assert_eq!(body["items"][1]["errors"][0]["code"], "out_of_scope");
    assert_eq!(app.count_rows("evaluations").await, 1);

    let atomic = app
        .request_as(Some(&callers.submitter), Method::POST, "/api/v1/evaluations/batch?atomic=true", Some(&batch), &[])
        .await;
    atomic.problem(422, "batch_rejected");
    assert_eq!(app.count_rows("evaluations").await, 1, "nothing written by the rejected batch");
}

#[tokio::test]
async fn tokens_are_made_listed_and_revoked_through_the_api_and_shown_once() {
    let app = spawn_app().await;
    let made =
        app.post("/api/v1/tokens", &json!({"name": "常宁市财政局", "role": "reviewer", "region_code": "430482"})).await;
    assert_eq!(made.status, 201, "{}", made.text);
    let body = made.json();
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("pe_"));
    assert_eq!(body["role"], "reviewer");
    assert_eq!(body["region_code"], "430482");

    let listed = app.get("/api/v1/tokens").await;
    assert_eq!(listed.status, 200);
    assert!(!listed.text.contains(&token), "a token is shown only when made");
    let names: Vec<String> =
        listed.json()["items"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["test-admin", "常宁市财政局"]);

    let works = app.request_as(Some(&token), Method::GET, "/api/v1/evaluations", None, &[]).await;
    assert_eq!(works.status, 200);
    let revoked = app.delete("/api/v1/tokens/常宁市财政局", None).await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    let refused = app.request_as(Some(&token), Method::GET, "/api/v1/evaluations", None, &[]).await;
    refused.problem(401, "unauthorized");
    app.delete("/api/v1/tokens/常宁市财政局", None).await.problem(404, "not_found");

    // Bad tokens to make: each names its field, and nothing is stored.
    for (body, field) in [
        (json!({"name": "a", "role": "submitter", "region_code": "430482"}), "region_code"),
        (json!({"name": "b", "role": "reviewer"}), "region_code"),
        (json!({"name": "c", "role": "admin", "region_code": "43"}), "region_code"),
        (json!({"name": "d", "role": "reviewer", "region_code": "999999"}), "region_code"),
        (json!({"name": " ", "role": "admin"}), "name"),
    ] {
        let reply = app.post("/api/v1/tokens", &body).await;
        reply.problem(422, "validation_failed");
        assert_eq!(reply.error_fields(), [field], "{body}");
    }
    let reply = app.post("/api/v1/tokens", &json!({"name": "x", "role": "anonymous"})).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    app.post("/api/v1/tokens", &json!({"name": "test-admin", "role": "admin"})).await.problem(409, "invalid_state");
    assert_eq!(app.count_rows("api_tokens").await, 2);
}

#[tokio::test]
async fn a_token_over_its_rate_gets_429_with_retry_after_and_others_are_unaffected() {
    let app = spawn_app_with(|settings| settings.rate_limit = 3).await;
    let other = app.token("reviewer", Some("4304"), "other").await;
    let mut limited = None;
    for _ in 0..10 {
        let reply = app.get("/api/v1/model").await;
        if reply.status == 429 {
            limited = Some(reply);
            break;
        }
        assert_eq!(reply.status, 200);
    }
    let limited = limited.expect("ten requests at once exceed a rate of 3 a second");
    limited.problem(429, "too_many_requests");
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    let fine = app.request_as(Some(&other), Method::GET, "/api/v1/model", None, &[]).await;
    assert_eq!(fine.status, 200, "each token has its own allowance");
    assert_eq!(app.request_as(None, Method::GET, "/healthz", None, &[]).await.status, 200, "probes are not limited");
}
