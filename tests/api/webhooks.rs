//! Webhooks as an integrating system meets them: registered by an admin, every change POSTed
//! signed, retried until the receiver takes it, in order per record; failures visible and
//! replayable; targets only where the operator allows.
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{minimal, spawn_app_with, TestApp};
use crate::receiver::Receiver;

const SECRET: &str = "a-secret-for-the-tests";
const TOWNSHIP: &str = "430482104";

async fn app_for(receiver_port: u16, max_attempts: i32) -> TestApp {
    spawn_app_with(|settings| {
        settings.webhooks.allow = vec![format!("127.0.0.1:{receiver_port}")];
        settings.webhooks.poll_ms = 50;
        settings.webhooks.retry_ms = 20;
        settings.webhooks.max_attempts = max_attempts;
    })
    .await
}

async fn register(app: &TestApp, port: u16, extra: Value) -> i64 {
    let mut body = json!({"url": format!("http://127.0.0.1:{port}/hooks/perfeval"), "secret": SECRET});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let reply = app.post("/api/v1/webhooks", &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["secret"], SECRET);
    reply.json()["id"].as_i64().unwrap()
}

async fn deliveries(app: &TestApp, webhook: i64, state: Option<&str>) -> Vec<Value> {
    let query = state.map(|s| format!("?state={s}")).unwrap_or_default();
    let reply = app.get(&format!("/api/v1/webhooks/{webhook}/deliveries{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["items"].as_array().unwrap().clone()
}

/// Waits until `done` holds of the endpoint's deliveries (at most 30 s).
async fn wait_for(app: &TestApp, webhook: i64, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let all = deliveries(app, webhook, None).await;
        if done(&all) {
            return all;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{what} within 30 s; deliveries: {all:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn feed(app: &TestApp) -> Vec<Value> {
    let reply = app.get("/api/v1/changes?limit=1000").await;
    reply.json()["items"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_fails_at_first_holds_every_event_once_signed_and_in_order_per_record() {
    let receiver = Receiver::start(SECRET, 2, false).await;
    let app = app_for(receiver.port, 6).await;
    // A change before the endpoint exists is not sent.
    app.create(&minimal(TOWNSHIP, 2021, "登记前")).await;
    let before = crate::metrics::scrape(&app).await;
    let webhook = register(&app, receiver.port, json!({})).await;

    let (a, etag_a) = app.create(&minimal(TOWNSHIP, 2023, "甲")).await;
    let (b, etag_b) = app.create(&minimal(TOWNSHIP, 2023, "乙")).await;
    let mut record = minimal(TOWNSHIP, 2023, "甲");
    record["expenditure"]["total"] = json!("800.00");
    let replaced = app.put(&format!("/api/v1/evaluations/{a}"), &record, Some(&etag_a)).await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    let submitted = app
        .request(
            Method::POST,
            &format!("/api/v1/evaluations/{a}/transitions"),
            Some(&json!({"action": "submit"})),
            &[("if-match", replaced.header("etag").unwrap())],
        )
        .await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    assert_eq!(app.delete(&format!("/api/v1/evaluations/{b}"), Some(&etag_b)).await.status, 204);

    let all = wait_for(&app, webhook, "five deliveries delivered", |d| {
        d.len() == 5 && d.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    for delivery in &all {
        assert_eq!(delivery["attempts"], 3, "two 500s, then 204: {delivery}");
        assert_eq!(delivery["last_status"], 204);
        assert!(delivery["delivered_at"].is_string());
    }

    // The receiver holds each event once, signed, with what the feed says of that change.
    let accepted = receiver.accepted();
    let changes: Vec<Value> = feed(&app).await.into_iter().skip(1).collect();
    assert_eq!(accepted.len(), 5);
    for event in &accepted {
        assert!(event.signature_valid, "bad signature on {}", event.body);
        assert_eq!(receiver.requests(event.id), 3);
        assert_eq!(event.body["id"], event.id);
        assert_eq!(event.body["webhook_id"], webhook);
        assert_eq!(event.body["type"], format!("evaluation.{}", event.body["data"]["action"].as_str().unwrap()));
        let change =
            changes.iter().find(|c| c["cursor"] == event.body["data"]["cursor"]).expect("a change of the feed");
        assert_eq!(&event.body["data"], change);
    }
    let actions_of = |id: i64| -> Vec<String> {
        accepted
            .iter()
            .filter(|e| e.body["data"]["evaluation_id"] == id)
            .map(|e| e.body["data"]["action"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(actions_of(a), ["create", "replace", "submit"], "record a's events in order");
    assert_eq!(actions_of(b), ["create", "delete"], "record b's events in order");
    // Every attempt is counted by its outcome (other tests' deliveries may add to both).
    let after = crate::metrics::scrape(&app).await;
    let attempts = "perfeval_webhook_attempts_total";
    assert!(crate::metrics::grew(&before, &after, attempts, &[("outcome", "failed")]) >= 10.0);
    assert!(crate::metrics::grew(&before, &after, attempts, &[("outcome", "delivered")]) >= 5.0);
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_that_keeps_failing_is_marked_failed_and_a_replay_delivers_it() {
    let receiver = Receiver::start(SECRET, 3, false).await;
    let app = app_for(receiver.port, 2).await;
    let webhook = register(&app, receiver.port, json!({"events": ["create"], "region_code": "430482"})).await;
    app.create(&minimal(TOWNSHIP, 2023, "甲")).await;
    // Outside the endpoint's region: not sent.
    app.create(&minimal("430502001", 2023, "乙")).await;

    let all = wait_for(&app, webhook, "the delivery failed", |d| d.len() == 1 && d[0]["state"] == "failed").await;
    assert_eq!(all[0]["attempts"], 2);
    assert_eq!(all[0]["last_status"], 500);
    assert!(all[0]["last_error"].as_str().unwrap().contains("500"), "{}", all[0]);
    assert_eq!(deliveries(&app, webhook, Some("failed")).await.len(), 1);
    assert!(deliveries(&app, webhook, Some("pending")).await.is_empty());

    let delivery = all[0]["id"].as_i64().unwrap();
    let replay = app.post(&format!("/api/v1/webhooks/{webhook}/deliveries/{delivery}/replay"), &json!({})).await;
    assert_eq!(replay.status, 202, "{}", replay.text);
    assert_eq!(replay.json()["state"], "pending");
    let all = wait_for(&app, webhook, "the replay delivered", |d| d[0]["state"] == "delivered").await;
    assert_eq!(all[0]["attempts"], 2, "one more 500, then 204");
    assert_eq!(receiver.accepted().len(), 1);
    assert_eq!(receiver.accepted()[0].body["data"]["unit"], "甲");
    let missing = app.post(&format!("/api/v1/webhooks/{webhook}/deliveries/999999/replay"), &json!({})).await;
    missing.problem(404, "not_found");
    receiver.stop().await;
}

#[tokio::test]
async fn endpoints_are_admin_only_listed_without_secrets_and_removable() {
    let receiver = Receiver::start(SECRET, 0, false).await;
    let app = app_for(receiver.port, 3).await;
    let reply = app.post("/api/v1/webhooks", &json!({"url": format!("http://127.0.0.1:{}/x", receiver.port)})).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let made = reply.json();
    assert!(made["secret"].as_str().unwrap().starts_with("whsec_"), "a secret is made when none is given");
    let id = made["id"].as_i64().unwrap();
    assert_eq!(reply.header("location"), Some(format!("/api/v1/webhooks/{id}").as_str()));

    let listed = app.get("/api/v1/webhooks").await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["items"][0]["id"], id);
    assert_eq!(listed.json()["items"][0]["events"], json!([]));
    assert!(!listed.text.contains("whsec_"), "secrets are shown only once: {}", listed.text);
    assert!(!app.get(&format!("/api/v1/webhooks/{id}")).await.text.contains("whsec_"));

    let reviewer = app.token("reviewer", Some("4304"), "reviewer").await;
    app.request_as(Some(&reviewer), Method::GET, "/api/v1/webhooks", None, &[]).await.problem(403, "forbidden");
    app.request_as(None, Method::GET, "/api/v1/webhooks", None, &[]).await.problem(401, "unauthorized");

    assert_eq!(app.delete(&format!("/api/v1/webhooks/{id}"), None).await.status, 204);
    app.get(&format!("/api/v1/webhooks/{id}")).await.problem(404, "not_found");
    app.delete(&format!("/api/v1/webhooks/{id}"), None).await.problem(404, "not_found");
    assert_eq!(app.count_rows("webhooks").await, 0);
    receiver.stop().await;
}

#[tokio::test]
async fn targets_outside_the_allow_list_and_bad_fields_are_422_naming_the_field() {
    let app = app_for(9, 3).await;
    for (body, field, code) in [
        (json!({"url": "http://127.0.0.1:6379/"}), "url", "not_allowed"),
        (json!({"url": "http://169.254.169.254/latest/meta-data"}), "url", "not_allowed"),
        (json!({"url": "http://localhost:9/"}), "url", "not_allowed"),
        (json!({"url": "file:///etc/passwd"}), "url", "invalid_url"),
        (json!({"url": "http://user:pw@127.0.0.1:9/"}), "url", "invalid_url"),
        (json!({"url": "http://127.0.0.1:9/", "secret": "short"}), "secret", "invalid_length"),
        (json!({"url": "http://127.0.0.1:9/", "region_code": "43x"}), "region_code", "invalid"),
        (json!({"url": "http://127.0.0.1:9/", "events": ["erase"]}), "events[0]", "invalid_value"),
    ] {
        let reply = app.post("/api/v1/webhooks", &body).await;
        let problem = reply.problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{body}: {problem}");
    }
    assert_eq!(app.count_rows("webhooks").await, 0, "nothing was registered");
    app.post("/api/v1/webhooks", &json!({"url": "http://127.0.0.1:9/", "extra": 1})).await.problem(400, "invalid_body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_database_send_each_event_once_between_them() {
    let receiver = Receiver::start(SECRET, 0, false).await;
    let app = app_for(receiver.port, 6).await;
    // A second service instance on the same database, with the same settings.
    let mut settings = perfeval::config::Settings::from_lookup(|_| None).unwrap();
    settings.database_url = Some(app.db.url.clone());
    settings.listen = "127.0.0.1:0".into();
    settings.rate_limit = 0;
    settings.webhooks.allow = vec![format!("127.0.0.1:{}", receiver.port)];
    settings.webhooks.poll_ms = 10;
    let other = perfeval::startup::Application::build(settings).await.unwrap();
    let other_address = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until_stopped());

    let webhook = register(&app, receiver.port, json!({})).await;
    for i in 0..30 {
        let base = if i % 2 == 0 { &app.address } else { &other_address };
        let reply = app
            .client
            .post(format!("{base}/api/v1/evaluations"))
            .bearer_auth(&app.admin_token)
            .json(&minimal(TOWNSHIP, 2023, &format!("单位{i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 201);
    }
    wait_for(&app, webhook, "30 deliveries delivered", |d| {
        d.len() == 30 && d.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), 30);
    assert_eq!(receiver.log.lock().unwrap().repeats, 0, "an event was sent twice");
    for event in &accepted {
        assert_eq!(receiver.requests(event.id), 1);
    }
    receiver.stop().await;
}
