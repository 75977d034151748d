//! `kill -9` of the instance that is sending a webhook: the delivery it held is unlocked when
//! its connection drops, and the other instance on the same database sends it; while the first
//! holds it, the second does not send it too. The receiver ends with the event once.
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{admin_token, bounded, client, count, Cluster, Service};
use crate::receiver::Receiver;

const SECRET: &str = "a-secret-for-the-kill-test";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_delivery_and_the_other_instance_delivers_it_once() {
    bounded(Duration::from_secs(180), run()).await;
}

async fn run() {
    let cluster = Cluster::start().await;
    let token = admin_token(&cluster).await;
    // The receiver never answers its first request: the delivery stays in flight.
    let receiver = Receiver::start(SECRET, 0, true).await;
    let allow = format!("127.0.0.1:{}", receiver.port);
    let env = [
        ("PERFEVAL_WEBHOOK_ALLOW", allow.as_str()),
        ("PERFEVAL_WEBHOOK_POLL_MS", "50"),
        ("PERFEVAL_WEBHOOK_TIMEOUT_MS", "120000"),
    ];
    let http = client(Duration::from_secs(30));
    let mut first = Service::start("webhook-kill9-first", &cluster, &env).await;
    let registered = http
        .post(first.url("/api/v1/webhooks"))
        .bearer_auth(&token)
        .json(&json!({"url": format!("http://{allow}/hook"), "secret": SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let record = json!({
        "region_code": "430482104", "fiscal_year": 2023, "kind": "department_overall", "unit": "荫田镇人民政府",
        "income": {"total": "1000.00", "lines": [{"category": "other", "amount": "1000.00"}]},
        "expenditure": {"total": "900.00"},
    });
    let created = http.post(first.url("/api/v1/evaluations")).bearer_auth(&token).json(&record).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let event: i64 = {
        let mut conn = cluster.connect().await;
        count(&mut conn, "SELECT max(seq) AS n FROM changes").await
    };

    // The first instance is sending it (the receiver holds the request open).
    let started = Instant::now();
    while receiver.requests(event) == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the first instance never sent the event");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A second instance runs meanwhile and leaves the locked delivery alone.
    let second = Service::start("webhook-kill9-second", &cluster, &env).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(receiver.requests(event), 1, "the second instance sent a delivery the first was sending");

    first.kill9();
    let killed = Instant::now();
    let mut conn = cluster.connect().await;
    loop {
        let delivered =
            count(&mut conn, "SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'delivered'").await;
        if delivered == 1 {
            break;
        }
        assert!(killed.elapsed() < Duration::from_secs(30), "the second instance did not take the delivery over");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("[failures] webhook delivered by the other instance {} ms after kill -9", killed.elapsed().as_millis());
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].id, event);
    assert!(accepted[0].signature_valid);
    assert_eq!(accepted[0].body["data"]["action"], "create");
    assert_eq!(receiver.requests(event), 2, "sent once by each instance, accepted once");
    // The killed instance's attempt was never recorded: its transaction died with it.
    assert_eq!(count(&mut conn, "SELECT attempts::bigint AS n FROM webhook_deliveries").await, 1);

    // The survivor shows the delivery as delivered.
    let reply: Value = http
        .get(second.url("/api/v1/webhooks/1/deliveries"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["items"][0]["state"], "delivered");
    drop(second);
    receiver.stop().await;
}
