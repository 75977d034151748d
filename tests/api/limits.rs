//! Documented limits answered as problem+json: the bounded wait for a pooled connection, the
//! statement timeout, CORS and the security headers; and the audit trail in the log.
use std::time::{Duration, Instant};

use diesel_async::SimpleAsyncConnection;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{minimal, spawn_app, spawn_app_with, TestDatabase};

/// Holds an exclusive lock on `evaluations` until dropped (its transaction is never committed).
async fn lock_evaluations(db: &TestDatabase) -> diesel_async::AsyncPgConnection {
    let mut conn = db.connect().await;
    conn.batch_execute("BEGIN; LOCK TABLE evaluations IN ACCESS EXCLUSIVE MODE").await.unwrap();
    conn
}

#[tokio::test]
async fn a_statement_past_the_timeout_is_503_with_retry_after() {
    let app = spawn_app_with(|settings| settings.statement_timeout_ms = 300).await;
    // The token is resolved and cached before the lock (by another page than the one timed,
    // which the response cache would otherwise answer without the locked table).
    app.get("/api/v1/evaluations?limit=1").await;
    let lock = lock_evaluations(&app.db).await;
    let started = Instant::now();
    let reply = app.get("/api/v1/evaluations").await;
    reply.problem(503, "query_timeout");
    assert_eq!(reply.header("retry-after"), Some("2"));
    assert!(started.elapsed() < Duration::from_secs(5), "answered after the timeout, not the lock");
    drop(lock);
    assert_eq!(app.get("/api/v1/evaluations").await.status, 200, "the connection is usable again");
}

#[tokio::test]
async fn a_request_that_finds_no_free_connection_in_time_is_503_not_a_hang() {
    let app = spawn_app_with(|settings| {
        // One worker with one connection: the second request cannot be served by another worker.
        settings.workers = 1;
        settings.db_pool_size = 1;
        settings.db_wait_ms = 300;
    })
    .await;
    app.get("/api/v1/evaluations?limit=1").await;
    let lock = lock_evaluations(&app.db).await;
    // The only connection waits on the lock...
    let blocked = tokio::spawn({
        let (client, url, token) =
            (app.client.clone(), format!("{}/api/v1/evaluations", app.address), app.admin_token.clone());
        async move { client.get(url).bearer_auth(token).send().await.unwrap().status() }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // ...so the next request waits 300 ms for it, then gets 503.
    let started = Instant::now();
    let reply = app.get("/api/v1/regions/43").await;
    reply.problem(503, "service_unavailable");
    assert_eq!(reply.header("retry-after"), Some("2"));
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    drop(lock);
    assert_eq!(blocked.await.unwrap(), 200, "the blocked request finishes once the lock is gone");
    assert_eq!(app.get("/api/v1/regions/43").await.status, 200);
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let app = spawn_app_with(|settings| settings.cors_origins = vec!["https://czt.hunan.gov.cn".to_owned()]).await;
    for (origin, allowed) in [("https://czt.hunan.gov.cn", true), ("https://evil.example", false)] {
        let preflight = app
            .request_as(
                None,
                Method::OPTIONS,
                "/api/v1/evaluations",
                None,
                &[("origin", origin), ("access-control-request-method", "POST")],
            )
            .await;
        let reply = app.request_as(None, Method::GET, "/api/v1/model", None, &[("origin", origin)]).await;
        if allowed {
            assert_eq!(preflight.header("access-control-allow-origin"), Some(origin));
            assert_eq!(reply.header("access-control-allow-origin"), Some(origin));
        } else {
            assert_eq!(preflight.header("access-control-allow-origin"), None, "{origin}");
            assert_eq!(reply.header("access-control-allow-origin"), None, "{origin}");
        }
    }
    let closed = spawn_app().await;
    let reply =
        closed.request_as(None, Method::GET, "/api/v1/model", None, &[("origin", "https://czt.hunan.gov.cn")]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), None, "no origins configured: no CORS");
}

#[tokio::test]
async fn api_answers_carry_security_headers_and_a_request_id() {
    let app = spawn_app().await;
    for (path, cache_control) in [
        ("/api/v1/model", "private, no-cache"),
        ("/api/v1/evaluations/999", "no-store"),
        ("/api/v1/tokens", "no-store"),
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(reply.header("x-frame-options"), Some("DENY"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(reply.header("content-security-policy"), Some("default-src 'none'; frame-ancestors 'none'"));
        assert_eq!(reply.header("cache-control"), Some(cache_control), "{path}");
        let id = reply.header("x-request-id").expect("a request id");
        assert_eq!(id.len(), 36, "{id}");
    }
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status, 200);
    assert_eq!(docs.header("content-security-policy"), None, "Swagger UI runs its scripts");
}

/// The service as a user runs it, logging JSON; every write and every refusal is in the log
/// with its request id, the token's name and the record id, and no token ever is.
#[tokio::test]
async fn writes_and_refusals_are_logged_with_request_id_token_name_and_record_id_and_no_secret() {
    let db = TestDatabase::new().await;
    let mut conn = db.connect().await;
    let (admin, _) = perfeval::db::tokens::issue(&mut conn, "省财政厅", "admin", None).await.unwrap();
    let (reviewer, _) =
        perfeval::db::tokens::issue(&mut conn, "耒阳市财政局", "reviewer", Some("430481")).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log_path = std::env::temp_dir().join(format!("perfeval-audit-{}-{port}.log", std::process::id()));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_perfeval"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("PERFEVAL_LISTEN", format!("127.0.0.1:{port}"))
        .env("PERFEVAL_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created = client
        .post(format!("{base}/api/v1/evaluations"))
        .bearer_auth(&admin)
        .json(&minimal("430482104", 2022, "荫田镇人民政府"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let create_request = created.headers()["x-request-id"].to_str().unwrap().to_owned();
    let id = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let hidden = client.get(format!("{base}/api/v1/evaluations/{id}")).bearer_auth(&reviewer).send().await.unwrap();
    assert_eq!(hidden.status(), 404);
    let hidden_request = hidden.headers()["x-request-id"].to_str().unwrap().to_owned();
    let forbidden = client
        .post(format!("{base}/api/v1/evaluations"))
        .bearer_auth(&reviewer)
        .json(&minimal("430481100", 2022, "黄市镇人民政府"))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);
    let bad_token = "pe_this-is-not-a-real-token";
    let unknown = client.get(format!("{base}/api/v1/evaluations")).bearer_auth(bad_token).send().await.unwrap();
    assert_eq!(unknown.status(), 401);
    let made = client
        .post(format!("{base}/api/v1/tokens"))
        .bearer_auth(&admin)
        .json(&json!({"name": "常宁市财政局", "role": "reviewer", "region_code": "430482"}))
        .send()
        .await
        .unwrap();
    let new_token = made.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();

    std::process::Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(server.wait().unwrap().success());
    let text = std::fs::read_to_string(&log_path).unwrap();
    std::fs::remove_file(&log_path).ok();
    for secret in [admin.as_str(), reviewer.as_str(), new_token.as_str(), bad_token, "Bearer"] {
        assert!(!text.contains(secret), "a log line holds a secret ({secret})");
    }
    let lines: Vec<Value> = text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let audit = |kind: &str| -> Value {
        lines
            .iter()
            .find(|line| line["audit"] == kind)
            .unwrap_or_else(|| panic!("no `{kind}` audit line in:\n{text}"))
            .clone()
    };
    let request_id = |line: &Value| line["span"]["request_id"].as_str().unwrap_or_default().to_owned();
    let created = audit("created");
    assert_eq!(created["record_id"], id);
    assert_eq!(created["actor"], "省财政厅");
    assert_eq!(request_id(&created), create_request);
    let refused: Vec<&Value> = lines.iter().filter(|line| line["audit"] == "authorization_failed").collect();
    assert_eq!(refused.len(), 2, "{text}");
    assert_eq!(refused[0]["actor"], "耒阳市财政局");
    assert_eq!(refused[0]["record_id"], id);
    assert_eq!(refused[0]["reason"], "outside scope");
    assert_eq!(request_id(refused[0]), hidden_request);
    assert_eq!(refused[1]["reason"], "forbidden");
    let unauthenticated = audit("authentication_failed");
    assert_eq!(request_id(&unauthenticated).len(), 36);
    assert_eq!(audit("token_created")["token_name"], "常宁市财政局");
}
