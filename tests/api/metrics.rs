//! `GET /metrics`: the series a request, a batch, an import, a 429 and a 503 move, with their
//! labels; that every label value comes from a bounded set whatever paths are asked for; and the
//! separate listener of `PERFEVAL_METRICS_LISTEN`.
//!
//! Every test of this binary shares the process's one recorder, and they run in parallel, so a
//! test asserts that a series moved by at least what it did itself, never an absolute value.
use std::collections::{BTreeMap, BTreeSet};

use diesel_async::SimpleAsyncConnection;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{minimal, spawn_app, spawn_app_with, TestApp, TestDatabase};

const TOWNSHIP: &str = "430482104";
const REPORT: &str = include_str!("../fixtures/yintian-2022-self-evaluation.txt");

/// One line of the exposition: `name{label="value",…} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the text format, label values unescaped (`\\`, `\"`, `\n`); panics on anything else.
fn parse(text: &str) -> Vec<Sample> {
    text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).map(parse_line).collect()
}

fn parse_line(line: &str) -> Sample {
    let name_end = line.find(['{', ' ']).unwrap_or_else(|| panic!("no value: {line}"));
    let (name, mut rest) = line.split_at(name_end);
    let mut labels = BTreeMap::new();
    if let Some(mut inner) = rest.strip_prefix('{') {
        // A value may hold `{`, `}` and `,` (route templates do): each is read to its closing quote.
        loop {
            if let Some(after) = inner.strip_prefix('}') {
                rest = after;
                break;
            }
            inner = inner.strip_prefix(',').unwrap_or(inner);
            let (key, after) = inner.split_once("=\"").unwrap_or_else(|| panic!("bad label: {line}"));
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next().unwrap_or_else(|| panic!("unclosed value: {line}")) {
                    (at, '"') => break at + 1,
                    (_, '\\') => match chars.next().unwrap_or_else(|| panic!("bad escape: {line}")).1 {
                        'n' => value.push('\n'),
                        other => value.push(other),
                    },
                    (_, other) => value.push(other),
                }
            };
            assert!(labels.insert(key.to_owned(), value).is_none(), "a label twice: {line}");
            inner = &after[end..];
        }
    }
    let value = match rest.trim() {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().unwrap_or_else(|_| panic!("bad value `{other}`: {line}")),
    };
    Sample { name: name.to_owned(), labels, value }
}

#[test]
fn the_parser_reads_templates_and_escapes_in_label_values() {
    let sample = parse_line(r#"x_total{route="/a/{id},{n}",q="say \"hi\"\\",n="a\nb"} 3"#);
    assert_eq!(sample.name, "x_total");
    assert_eq!(sample.labels["route"], "/a/{id},{n}");
    assert_eq!(sample.labels["q"], "say \"hi\"\\");
    assert_eq!(sample.labels["n"], "a\nb");
    assert_eq!(sample.value, 3.0);
    let bare = parse_line("up 1.5");
    assert!(bare.labels.is_empty() && bare.value == 1.5);
}

/// A scrape, parsed (also used by `webhooks.rs`).
pub(crate) struct Scrape {
    text: String,
    samples: Vec<Sample>,
}

impl Scrape {
    /// The sum of the samples of `name` whose labels include `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
            .map(|s| s.value)
            .sum()
    }

    fn has(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        self.samples
            .iter()
            .any(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
    }
}

async fn scrape_at(client: &reqwest::Client, base: &str) -> Scrape {
    let response = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = response.text().await.unwrap();
    Scrape { samples: parse(&text), text }
}

pub(crate) async fn scrape(app: &TestApp) -> Scrape {
    scrape_at(&app.client, &app.address).await
}

/// How much `name{labels}` grew from `before` to `after`.
pub(crate) fn grew(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.value(name, labels) - before.value(name, labels)
}

#[tokio::test]
async fn requests_are_counted_and_timed_by_route_template_method_and_status_class() {
    let app = spawn_app().await;
    let before = scrape(&app).await;

    let (id, _) = app.create(&minimal(TOWNSHIP, 2022, "metrics 单位")).await;
    assert_eq!(app.get(&format!("/api/v1/evaluations/{id}")).await.status, 200);
    app.get("/api/v1/evaluations/987654321").await.problem(404, "not_found");
    let mut bad = minimal(TOWNSHIP, 2022, "metrics 单位 2");
    bad["income"]["lines"][0]["amount"] = json!("1000.001");
    app.post("/api/v1/evaluations", &bad).await.problem(422, "validation_failed");
    app.request(Method::PATCH, &format!("/api/v1/evaluations/{id}"), None, &[])
        .await
        .problem(405, "method_not_allowed");

    let after = scrape(&app).await;
    let requests = "perfeval_http_requests_total";
    let record = "/api/v1/evaluations/{id}";
    for (route, method, status, at_least) in [
        (record, "GET", "2xx", 1.0),
        (record, "GET", "4xx", 1.0),
        (record, "PATCH", "4xx", 1.0),
        ("/api/v1/evaluations", "POST", "2xx", 1.0),
        ("/api/v1/evaluations", "POST", "4xx", 1.0),
        ("/metrics", "GET", "2xx", 1.0),
    ] {
        let labels = [("route", route), ("method", method), ("status", status)];
        assert!(grew(&before, &after, requests, &labels) >= at_least, "{labels:?} did not grow:\n{}", after.text);
        let count = "perfeval_http_request_duration_seconds_count";
        assert!(grew(&before, &after, count, &labels) >= at_least, "{labels:?} was not timed");
        let le_inf = [("route", route), ("method", method), ("status", status), ("le", "+Inf")];
        assert_eq!(
            after.value("perfeval_http_request_duration_seconds_bucket", &le_inf),
            after.value(count, &labels),
            "{labels:?}: the +Inf bucket holds every observation"
        );
        assert!(after.value("perfeval_http_request_duration_seconds_sum", &labels) > 0.0);
    }
    assert!(!after.text.contains("987654321"), "a raw path became a label");
    assert!(after.text.contains("# TYPE perfeval_http_request_duration_seconds histogram"), "{}", after.text);

    // The create, read and 404 ran statements: reads, the insert, and their transaction.
    let statements = "perfeval_db_statement_duration_seconds_count";
    for kind in ["select", "insert", "transaction"] {
        let labels = [("kind", kind), ("outcome", "ok")];
        assert!(grew(&before, &after, statements, &labels) >= 1.0, "no {kind} statement timed:\n{}", after.text);
    }
    assert!(after.has("perfeval_db_statement_duration_seconds_bucket", &[("kind", "select"), ("le", "0.001")]));
    assert_eq!(after.value("perfeval_build_info", &[("version", env!("CARGO_PKG_VERSION"))]), 1.0);
}

#[tokio::test]
async fn without_replicas_the_primary_serves_every_read() {
    let app = spawn_app().await;
    let before = scrape(&app).await;
    // A query of its own, so that no kept answer spares the read.
    let q = format!("reads-{}", std::process::id());
    assert_eq!(app.get(&format!("/api/v1/evaluations?limit=1&q={q}")).await.status, 200);
    assert_eq!(app.get(&format!("/api/v1/aggregates?measures=expenditure.total&q={q}")).await.status, 200);
    let after = scrape(&app).await;
    let reads = "perfeval_reads_total";
    assert!(grew(&before, &after, reads, &[("server", "primary")]) >= 2.0, "{}", after.text);
    assert!(after.has(reads, &[("server", "replica")]), "the replica series is shown, at 0");
    assert_eq!(after.value(reads, &[("server", "replica")]), 0.0);
}

#[tokio::test]
async fn batch_and_import_records_are_counted_by_outcome() {
    let app = spawn_app().await;
    let before = scrape(&app).await;
    let valid = |n: usize| minimal(TOWNSHIP, 2021, &format!("metrics batch {n}"));
    let invalid = json!({"region_code": TOWNSHIP, "fiscal_year": "twenty"});

    let reply = app.post("/api/v1/evaluations/batch", &json!([valid(1), valid(2), invalid])).await;
    assert_eq!(reply.json()["summary"], json!({"created": 2, "updated": 0, "unchanged": 0, "invalid": 1}));
    let reply = app.post("/api/v1/evaluations/batch", &json!([valid(1)])).await;
    assert_eq!(reply.json()["summary"]["unchanged"], 1, "{}", reply.text);
    let reply = app.post("/api/v1/evaluations/batch?dry_run=true", &json!([valid(3)])).await;
    assert_eq!(reply.json()["summary"]["created"], 1, "{}", reply.text);
    app.post("/api/v1/evaluations/batch?atomic=true", &json!([valid(4), invalid])).await.problem(422, "batch_rejected");
    let preview =
        app.post_raw("/api/v1/evaluations/import?region=4304", "text/plain", REPORT.as_bytes().to_vec()).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    let drafts = preview.json()["drafts"].as_array().unwrap().len() as f64;

    let after = scrape(&app).await;
    let batch = "perfeval_batch_records_total";
    for (outcome, dry_run, at_least) in [
        ("created", "false", 2.0),
        ("invalid", "false", 2.0),
        ("unchanged", "false", 1.0),
        ("rejected", "false", 1.0),
        ("created", "true", 1.0),
    ] {
        let labels = [("outcome", outcome), ("dry_run", dry_run)];
        assert!(grew(&before, &after, batch, &labels) >= at_least, "{labels:?}:\n{}", after.text);
    }
    assert!(drafts >= 1.0);
    assert!(grew(&before, &after, "perfeval_import_drafts_total", &[("outcome", "previewed")]) >= drafts);
}

#[tokio::test]
async fn rate_limited_answers_are_counted() {
    let app = spawn_app_with(|settings| settings.rate_limit = 2).await;
    let before = scrape(&app).await;
    let mut limited = 0.0;
    for _ in 0..8 {
        let reply = app.request_as(None, Method::GET, "/api/v1/model", None, &[]).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            limited += 1.0;
        }
    }
    assert!(limited >= 1.0, "eight requests at once exceed a rate of 2 a second");
    // /metrics is not under /api/v1: it is never rate-limited.
    let after = scrape(&app).await;
    assert!(grew(&before, &after, "perfeval_rate_limited_total", &[]) >= limited, "{}", after.text);
    let labels = [("route", "/api/v1/model"), ("method", "GET"), ("status", "4xx")];
    assert!(grew(&before, &after, "perfeval_http_requests_total", &labels) >= limited);
}

#[tokio::test]
async fn unavailable_answers_are_counted_by_code_and_the_failed_statement_as_an_error() {
    let app = spawn_app_with(|settings| settings.statement_timeout_ms = 300).await;
    app.get("/api/v1/evaluations?limit=1").await; // the token is resolved and cached before the lock
    let before = scrape(&app).await;
    let mut lock = app.db.connect().await;
    lock.batch_execute("BEGIN; LOCK TABLE evaluations IN ACCESS EXCLUSIVE MODE").await.unwrap();
    app.get("/api/v1/evaluations").await.problem(503, "query_timeout");
    drop(lock);
    let mut conn = app.db.connect().await;
    conn.batch_execute(
        "DELETE FROM __diesel_schema_migrations WHERE version = (SELECT max(version) FROM __diesel_schema_migrations)",
    )
    .await
    .unwrap();
    app.get("/readyz").await.problem(503, "service_unavailable");

    let after = scrape(&app).await;
    let unavailable = "perfeval_unavailable_total";
    assert!(grew(&before, &after, unavailable, &[("code", "query_timeout")]) >= 1.0, "{}", after.text);
    assert!(grew(&before, &after, unavailable, &[("code", "service_unavailable")]) >= 1.0, "{}", after.text);
    let labels = [("route", "/readyz"), ("method", "GET"), ("status", "5xx")];
    assert!(grew(&before, &after, "perfeval_http_requests_total", &labels) >= 1.0);
    // The statement the timeout cancelled was timed as an error.
    let failed = [("outcome", "error")];
    assert!(grew(&before, &after, "perfeval_db_statement_duration_seconds_count", &failed) >= 1.0);
}

#[tokio::test]
async fn each_worker_reports_its_pool() {
    let app = spawn_app_with(|settings| settings.workers = 2).await;
    app.get("/api/v1/evaluations").await;
    let scrape = scrape(&app).await;
    for worker in ["0", "1"] {
        let labels = [("worker", worker)];
        for gauge in
            ["perfeval_db_pool_max", "perfeval_db_pool_size", "perfeval_db_pool_idle", "perfeval_db_pool_waiting"]
        {
            assert!(scrape.has(gauge, &labels), "no {gauge} for worker {worker}:\n{}", scrape.text);
        }
        // Other applications of this process report their pools under the same labels: only
        // what holds for every one of them is asserted.
        let (max, size, idle) = (
            scrape.value("perfeval_db_pool_max", &labels),
            scrape.value("perfeval_db_pool_size", &labels),
            scrape.value("perfeval_db_pool_idle", &labels),
        );
        assert!(max >= 1.0 && size <= max && idle <= size, "worker {worker}: max {max}, size {size}, idle {idle}");
    }
}

/// Every label value is one of a fixed set, however many raw paths and odd methods were asked.
#[tokio::test]
async fn label_values_come_from_bounded_sets_whatever_is_requested() {
    let app = spawn_app().await;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id());
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut asked = Vec::new();
    for _ in 0..25 {
        let (n, word) = (random() % 1_000_000_000, format!("q{:x}", random()));
        for path in [
            format!("/api/v1/evaluations/{n}"),
            format!("/api/v1/evaluations/{n}/{word}"),
            format!("/api/v1/{word}"),
            format!("/x/{word}"),
            format!("/docs/{word}.js"),
            format!("/{word}?{word}=1"),
        ] {
            app.get(&path).await;
            asked.push(word.clone());
        }
        let method = Method::from_bytes(format!("M{}", random() % 1000).as_bytes()).unwrap();
        app.request(method, &format!("/api/v1/regions/{word}"), None, &[]).await;
        app.request(Method::PATCH, &format!("/{word}"), None, &[]).await;
    }

    let scrape = scrape(&app).await;
    for word in &asked {
        assert!(!scrape.text.contains(word.as_str()), "`{word}` from a request became a label");
    }
    let document = perfeval::startup::openapi_document();
    let mut routes: BTreeSet<String> = document.paths.paths.keys().cloned().collect();
    routes.extend(["/docs".to_owned(), "/docs/{file:.*}".to_owned(), "unmatched".to_owned()]);
    assert!(routes.contains("/metrics"), "documented on the API's listener");
    let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "other"];
    let bounded: BTreeMap<&str, Vec<String>> = [
        ("method", methods.iter().map(|m| m.to_string()).collect()),
        ("status", ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().map(|s| s.to_string()).collect()),
        ("kind", ["select", "insert", "update", "delete", "with", "transaction", "other"].map(String::from).to_vec()),
        (
            "outcome",
            [
                "ok",
                "error",
                "created",
                "updated",
                "unchanged",
                "invalid",
                "rejected",
                "previewed",
                "delivered",
                "failed",
            ]
            .map(String::from)
            .to_vec(),
        ),
        ("dry_run", vec!["true".into(), "false".into()]),
        ("code", vec!["service_unavailable".into(), "query_timeout".into()]),
        ("version", vec![env!("CARGO_PKG_VERSION").into()]),
        ("result", vec!["hit".into(), "miss".into(), "not_modified".into()]),
        ("server", vec!["primary".into(), "replica".into()]),
    ]
    .into_iter()
    .collect();
    let mut seen_routes = BTreeSet::new();
    for sample in &scrape.samples {
        assert!(sample.name.starts_with("perfeval_"), "{sample:?}");
        for (key, value) in &sample.labels {
            match key.as_str() {
                "route" => {
                    assert!(routes.contains(value), "route label `{value}` is not a template");
                    seen_routes.insert(value.clone());
                }
                "worker" => assert!(value.parse::<u8>().is_ok_and(|w| w < 64), "worker `{value}`"),
                "le" => assert!(value == "+Inf" || value.parse::<f64>().is_ok(), "le `{value}`"),
                other => {
                    let allowed =
                        bounded.get(other).unwrap_or_else(|| panic!("unexpected label `{other}`: {sample:?}"));
                    assert!(allowed.contains(value), "{other} `{value}` is not among {allowed:?}");
                }
            }
        }
    }
    for route in ["unmatched", "/api/v1/evaluations/{id}", "/api/v1/regions/{code}", "/docs/{file:.*}"] {
        assert!(seen_routes.contains(route), "no series for {route}: {seen_routes:?}");
    }
    let unmatched = [("route", "unmatched"), ("method", "PATCH"), ("status", "4xx")];
    assert!(scrape.value("perfeval_http_requests_total", &unmatched) >= 25.0, "{}", scrape.text);
    let odd = [("route", "/api/v1/regions/{code}"), ("method", "other")];
    assert!(scrape.value("perfeval_http_requests_total", &odd) >= 25.0, "{}", scrape.text);
}

#[tokio::test]
async fn with_a_metrics_listener_of_its_own_the_api_listener_answers_404() {
    let db = TestDatabase::new().await;
    let mut settings = perfeval::config::Settings::from_lookup(|_| None).unwrap();
    settings.database_url = Some(db.url.clone());
    settings.listen = "127.0.0.1:0".into();
    settings.metrics_listen = Some("127.0.0.1:0".into());
    settings.db_pool_size = 2;
    let app = perfeval::startup::Application::build(settings).await.unwrap();
    let api = format!("http://127.0.0.1:{}", app.port());
    let metrics = format!("http://127.0.0.1:{}", app.metrics_port().expect("a metrics listener"));
    assert_ne!(api, metrics);
    let handle = app.handle();
    let running = tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();

    assert_eq!(client.get(format!("{api}/api/v1/regions/43")).send().await.unwrap().status(), 200);
    let scrape = scrape_at(&client, &metrics).await;
    assert!(scrape.has("perfeval_build_info", &[]), "{}", scrape.text);
    assert!(scrape.has("perfeval_db_pool_size", &[("worker", "0")]), "{}", scrape.text);
    let labels = [("route", "/api/v1/regions/{code}"), ("method", "GET"), ("status", "2xx")];
    assert!(scrape.value("perfeval_http_requests_total", &labels) >= 1.0);

    let on_api = client.get(format!("{api}/metrics")).send().await.unwrap();
    assert_eq!(on_api.status(), 404);
    assert_eq!(on_api.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = on_api.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    assert!(body["detail"].as_str().unwrap().contains("PERFEVAL_METRICS_LISTEN"), "{body}");
    let elsewhere = client.get(format!("{metrics}/healthz")).send().await.unwrap();
    assert_eq!(elsewhere.status(), 404, "only /metrics is served there");
    assert_eq!(client.get(format!("{api}/healthz")).send().await.unwrap().status(), 200);

    // Stopping the application stops its metrics listener too.
    handle.stop(true).await;
    running.await.unwrap().unwrap();
    let fresh = reqwest::Client::new();
    assert!(fresh.get(format!("{metrics}/metrics")).send().await.is_err(), "the metrics listener still answers");
}
