use crate::helpers::spawn_app;

#[tokio::test]
async fn liveness_answers_ok() {
    let app = spawn_app().await;
    let reply = app.get("/healthz").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::json!({"status": "ok"}));
}

#[tokio::test]
async fn readiness_reports_the_current_migration() {
    let app = spawn_app().await;
    let reply = app.get("/readyz").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["status"], "ready");
    assert_eq!(reply.json()["migration"], perfeval::db::latest_migration_version());
    assert!(reply.json().get("replicas").is_none(), "no replicas unless PERFEVAL_REPLICA_URLS names some");
}

#[tokio::test]
async fn readiness_fails_with_503_when_migrations_are_behind() {
    let app = spawn_app().await;
    let mut conn = app.db.connect().await;
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("DELETE FROM __diesel_schema_migrations WHERE version = (SELECT max(version) FROM __diesel_schema_migrations)"),
        &mut conn,
    )
    .await
    .unwrap();
    let reply = app.get("/readyz").await;
    reply.problem(503, "service_unavailable");
    assert_eq!(reply.header("retry-after"), Some("2"));
}

#[tokio::test]
async fn unknown_routes_get_a_problem_and_every_answer_carries_security_headers() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/nothing-here").await;
    reply.problem(404, "not_found");
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(reply.header("x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn a_known_path_with_a_method_it_does_not_serve_is_405_with_allow() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (reqwest::Method::DELETE, "/api/v1/aggregates", "GET"),
        (reqwest::Method::PUT, "/api/v1/tokens", "GET, POST"),
        (reqwest::Method::PATCH, "/api/v1/evaluations/7", "GET, PUT, DELETE"),
        // The literal path wins over `/api/v1/evaluations/{id}`, whose methods actix would try.
        (reqwest::Method::PATCH, "/api/v1/evaluations/batch", "POST"),
        (reqwest::Method::PUT, "/api/v1/evaluations/batch", "POST"),
        (reqwest::Method::DELETE, "/api/v1/evaluations/validate", "POST"),
        (reqwest::Method::GET, "/api/v1/evaluations/import", "POST"),
        (reqwest::Method::OPTIONS, "/api/v1/evaluations/import", "POST"),
        (reqwest::Method::POST, "/healthz", "GET"),
        (reqwest::Method::GET, "/api/v1/webhooks/3/deliveries/9/replay", "POST"),
    ] {
        let reply = app.request(method.clone(), path, None, &[]).await;
        let problem = reply.problem(405, "method_not_allowed");
        assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
        assert!(problem["detail"].as_str().unwrap().contains(path), "{problem}");
    }
    app.request(reqwest::Method::DELETE, "/api/v1/nothing-here", None, &[]).await.problem(404, "not_found");
    app.request(reqwest::Method::PUT, "/api/v1/evaluations/7/nothing", None, &[]).await.problem(404, "not_found");
}
