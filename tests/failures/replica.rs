//! Read replicas: a real hot standby (`pg_basebackup -R`, streaming replication) of the test's
//! cluster, named in `PERFEVAL_REPLICA_URLS` of one service. Reads are served by the standby and
//! answer what the primary holds; a write is in the very next read even with the standby's replay
//! paused (the primary serves it); the standby stopped, reads keep answering 200 and `/readyz`
//! shows it down, and it serves again once started; paused longer than
//! `PERFEVAL_REPLICA_MAX_LAG_MS` under writes, it is skipped as `lagging` until resumed.
//!
//! A second service without replicas on the same primary is the oracle: the same request to both
//! must give the same body.
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use diesel_async::AsyncPgConnection;

use crate::harness::{admin_token, bounded, client, count, demo_lines, import, Cluster, Service, Standby};

const BATCH_PATH: &str = "/api/v1/evaluations/batch";
const LIST: &str = "/api/v1/evaluations?count=exact&limit=1000&sort=id";
const AGGREGATE: &str = "/api/v1/aggregates?measures=expenditure.total&group_by=fiscal_year";
/// The reads that may go to a replica (a list page, an export, an aggregate, coverage).
const READS: [&str; 4] =
    [LIST, "/api/v1/evaluations?format=csv", AGGREGATE, "/api/v1/coverage?region=43&fiscal_year=2022"];
/// Bound on waiting for a replica's state to change.
const STATE_BOUND: Duration = Duration::from_secs(10);
const SEED: usize = 200;

/// Reads counted by `/metrics`: (primary, replica).
async fn reads(http: &reqwest::Client, service: &Service) -> (u64, u64) {
    let text = http.get(service.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let value = |server: &str| {
        let prefix = format!("perfeval_reads_total{{server=\"{server}\"}} ");
        text.lines().find_map(|line| line.strip_prefix(&prefix)).map_or(0, |n| n.trim().parse::<f64>().unwrap() as u64)
    };
    (value("primary"), value("replica"))
}

/// `/readyz` (which must answer 200) and its one replica's state and lag.
async fn replica_state(http: &reqwest::Client, service: &Service) -> (String, Option<u64>) {
    let reply = http.get(service.url("/readyz")).send().await.unwrap();
    assert_eq!(reply.status(), 200, "the primary alone decides readiness");
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let replica = &body["replicas"][0];
    assert!(replica["url"].as_str().unwrap().starts_with("postgres://"), "{body}");
    (replica["state"].as_str().unwrap().to_owned(), replica["lag_ms"].as_u64())
}

/// Waits until `/readyz` shows the replica in `state`; how long it took.
async fn wait_state(http: &reqwest::Client, service: &Service, state: &str) -> Duration {
    let started = Instant::now();
    loop {
        let (now, lag) = replica_state(http, service).await;
        if now == state {
            return started.elapsed();
        }
        assert!(started.elapsed() < STATE_BOUND, "the replica is still `{now}` (lag {lag:?}), not `{state}`");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A read through `service` with the admin token: its status and body.
async fn get(http: &reqwest::Client, service: &Service, token: &str, path: &str) -> (u16, String) {
    let reply = http.get(service.url(path)).bearer_auth(token).send().await.unwrap();
    (reply.status().as_u16(), reply.text().await.unwrap())
}

/// The same read through `service` and `oracle`: both 200 with the same body; the body.
async fn same(http: &reqwest::Client, service: &Service, oracle: &Service, token: &str, path: &str) -> String {
    let (status, body) = get(http, service, token, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    let (oracle_status, oracle_body) = get(http, oracle, token, path).await;
    assert_eq!(oracle_status, 200, "{path} (oracle): {oracle_body}");
    assert_eq!(body, oracle_body, "{path}: the replica's answer is the primary's");
    body
}

/// The list's `total` and the aggregate's `records` through `service`.
async fn totals(http: &reqwest::Client, service: &Service, token: &str) -> (i64, i64) {
    let (status, list) = get(http, service, token, LIST).await;
    assert_eq!(status, 200, "{list}");
    let (status, aggregate) = get(http, service, token, AGGREGATE).await;
    assert_eq!(status, 200, "{aggregate}");
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let aggregate: serde_json::Value = serde_json::from_str(&aggregate).unwrap();
    (list["total"].as_i64().unwrap(), aggregate["records"].as_i64().unwrap())
}

async fn records(conn: &mut AsyncPgConnection) -> i64 {
    count(conn, "SELECT count(*) AS n FROM evaluations").await
}

async fn sql(conn: &mut AsyncPgConnection, statement: &str) {
    use diesel_async::RunQueryDsl;
    diesel::sql_query(statement).execute(conn).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// Writes `record` (changed) through `service`, then waits until the standby has replayed the
/// write: its lag is then the age of a transaction it replayed, not unknown.
async fn write_and_replay(
    http: &reqwest::Client,
    service: &Service,
    token: &str,
    record: &serde_json::Value,
    primary: &mut AsyncPgConnection,
    standby: &mut AsyncPgConnection,
) {
    let mut record = record.clone();
    record["issuer"] = "replica warm-up".into();
    let written = post(http, service, token, &record).await;
    assert_eq!(written["summary"]["updated"], 1, "{written}");
    let version = count(primary, "SELECT version AS n FROM data_version").await;
    let started = Instant::now();
    while count(standby, "SELECT version AS n FROM data_version").await < version {
        assert!(started.elapsed() < STATE_BOUND, "the standby replays the write");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Pauses the standby's replay: from `pause requested` on, no further record is applied.
async fn pause(standby: &mut AsyncPgConnection) {
    sql(standby, "SELECT pg_wal_replay_pause()").await;
    let started = Instant::now();
    while count(standby, "SELECT count(*) AS n WHERE pg_get_wal_replay_pause_state() <> 'not paused'").await != 1 {
        assert!(started.elapsed() < STATE_BOUND, "replay did not pause");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn post(http: &reqwest::Client, service: &Service, token: &str, record: &serde_json::Value) -> serde_json::Value {
    let reply = http.post(service.url(BATCH_PATH)).bearer_auth(token).json(&[record]).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    reply.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replica_serves_reads_keeps_read_your_writes_and_survives_being_stopped() {
    bounded(Duration::from_secs(240), served()).await;
}

async fn served() {
    let cluster = Cluster::start_replicable().await;
    let token = admin_token(&cluster).await;
    let lines = demo_lines().await;
    import(&cluster, &lines[..SEED], "seed.ndjson").await;
    let mut standby = Standby::start(&cluster).await;
    // A lag bound far above the test's length: only the data version check sends reads to the
    // primary while replay is paused. No response cache: every read runs its statements.
    let service = Service::start(
        "replica",
        &cluster,
        &[
            ("PERFEVAL_REPLICA_URLS", standby.url.as_str()),
            ("PERFEVAL_REPLICA_MAX_LAG_MS", "600000"),
            ("PERFEVAL_CACHE_MB", "0"),
        ],
    )
    .await;
    let oracle = Service::start("replica-oracle", &cluster, &[("PERFEVAL_CACHE_MB", "0")]).await;
    let http = client(Duration::from_secs(10));
    let mut primary = cluster.connect().await;
    let mut standby_sql = standby.connect().await;
    let first_ok = wait_state(&http, &service, "ok").await;
    eprintln!("[replica] the standby was first marked ok {} ms after the service listened", first_ok.as_millis());
    let seeded: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    write_and_replay(&http, &service, &token, &seeded, &mut primary, &mut standby_sql).await;

    // 1. Reads are served by the standby, with the primary's answers.
    let before = reads(&http, &service).await;
    for path in READS {
        same(&http, &service, &oracle, &token, path).await;
    }
    let after = reads(&http, &service).await;
    eprintln!(
        "[replica] {} reads: {} served by the standby, {} by the primary",
        READS.len(),
        after.1 - before.1,
        after.0 - before.0
    );
    assert_eq!(after.0, before.0, "no read went to the primary");
    assert!(after.1 >= before.1 + READS.len() as u64, "every read was served by the standby: {before:?} → {after:?}");
    assert_eq!(totals(&http, &service, &token).await, (SEED as i64, SEED as i64));

    // 2. Read-your-writes with replay paused: a write through this service, and one through the
    //    other instance, are each in the very next list and aggregate answer.
    pause(&mut standby_sql).await;
    for (n, writer) in [&service, &oracle].into_iter().enumerate() {
        let record: serde_json::Value = serde_json::from_str(&lines[SEED + n]).unwrap();
        let written = post(&http, writer, &token, &record).await;
        assert_eq!(written["summary"]["created"], 1, "{written}");
        let before = reads(&http, &service).await;
        let expected = (SEED + n + 1) as i64;
        assert_eq!(totals(&http, &service, &token).await, (expected, expected), "the write is in the next answer");
        let after = reads(&http, &service).await;
        assert_eq!(after.1, before.1, "the standby, behind the write, served none of them");
        assert_eq!(after.0, before.0 + 2, "the primary served both");
        assert_eq!(records(&mut standby_sql).await, SEED as i64, "the standby has not replayed the writes");
        let (state, lag) = replica_state(&http, &service).await;
        eprintln!(
            "[replica] replay paused, write {} read back from the primary; the standby is `{state}` (lag {lag:?} ms)",
            n + 1
        );
        assert_eq!(state, "ok", "usable by its health: the data version check alone sent the reads to the primary");
    }
    sql(&mut standby_sql, "SELECT pg_wal_replay_resume()").await;
    let resumed = Instant::now();
    let before = reads(&http, &service).await;
    loop {
        assert_eq!(totals(&http, &service, &token).await, ((SEED + 2) as i64, (SEED + 2) as i64));
        if reads(&http, &service).await.1 > before.1 {
            break;
        }
        assert!(resumed.elapsed() < STATE_BOUND, "the standby serves again after replay resumes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("[replica] replay resumed: the standby served a read again after {} ms", resumed.elapsed().as_millis());
    drop(standby_sql);
    let expected = records(&mut primary).await;

    // 3. The standby stopped: every read answers 200 with the right data, /readyz stays 200 and
    //    shows it down.
    standby.stop().await;
    let stopped = Instant::now();
    let mut during = 0;
    loop {
        let (state, _) = replica_state(&http, &service).await;
        if state == "down" {
            break;
        }
        assert_eq!(totals(&http, &service, &token).await, (expected, expected), "reads answer while it goes down");
        during += 1;
        assert!(stopped.elapsed() < STATE_BOUND, "the stopped standby is marked down");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let marked_down = stopped.elapsed();
    eprintln!(
        "[replica] the stopped standby was marked down after {} ms ({during} list+aggregate pairs answered 200 meanwhile)",
        marked_down.as_millis()
    );
    let before = reads(&http, &service).await;
    for _ in 0..5 {
        for path in READS {
            same(&http, &service, &oracle, &token, path).await;
        }
    }
    let after = reads(&http, &service).await;
    eprintln!(
        "[replica] standby down: {} reads served by the primary, {} by the standby",
        after.0 - before.0,
        after.1 - before.1
    );
    assert_eq!(after.1, before.1, "no read went to the stopped standby");
    assert!(after.0 >= before.0 + 5 * READS.len() as u64);
    assert_eq!(replica_state(&http, &service).await.0, "down");

    // 4. Started again, it serves reads again.
    standby.restart().await;
    let restarted = Instant::now();
    let back = wait_state(&http, &service, "ok").await;
    let before = reads(&http, &service).await;
    for path in READS {
        same(&http, &service, &oracle, &token, path).await;
    }
    let after = reads(&http, &service).await;
    eprintln!(
        "[replica] the restarted standby was ok again after {} ms; then {} reads by the standby, {} by the primary",
        back.as_millis(),
        after.1 - before.1,
        after.0 - before.0
    );
    assert!(after.1 > before.1, "the restarted standby serves reads: {before:?} → {after:?}");
    assert!(restarted.elapsed() < STATE_BOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replica_further_behind_than_the_bound_is_skipped_until_it_catches_up() {
    bounded(Duration::from_secs(180), lagging()).await;
}

async fn lagging() {
    const MAX_LAG_MS: u64 = 300;
    let cluster = Cluster::start_replicable().await;
    let token = admin_token(&cluster).await;
    let lines = demo_lines().await;
    import(&cluster, &lines[..SEED], "seed.ndjson").await;
    let standby = Standby::start(&cluster).await;
    let service = Service::start(
        "replica-lag",
        &cluster,
        &[
            ("PERFEVAL_REPLICA_URLS", standby.url.as_str()),
            ("PERFEVAL_REPLICA_MAX_LAG_MS", &MAX_LAG_MS.to_string()),
            ("PERFEVAL_CACHE_MB", "0"),
        ],
    )
    .await;
    let http = client(Duration::from_secs(10));
    let mut standby_sql = standby.connect().await;
    let mut primary = cluster.connect().await;
    wait_state(&http, &service, "ok").await;
    let seeded: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    write_and_replay(&http, &service, &token, &seeded, &mut primary, &mut standby_sql).await;

    // Writes go on, one every 50 ms (the same record, changed each time).
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, http, token, base) = (stop.clone(), http.clone(), token.clone(), service.base.clone());
        let mut record: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                record["issuer"] = format!("replica lag write {n}").into();
                let reply = http.post(format!("{base}{BATCH_PATH}")).bearer_auth(&token).json(&[&record]).send().await;
                assert_eq!(reply.unwrap().status(), 200);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            n
        })
    };

    pause(&mut standby_sql).await;
    let paused = Instant::now();
    let became_lagging = wait_state(&http, &service, "lagging").await;
    eprintln!(
        "[replica] replay paused under writes: marked lagging after {} ms (bound {MAX_LAG_MS} ms)",
        became_lagging.as_millis()
    );
    let before = reads(&http, &service).await;
    for _ in 0..10 {
        assert_eq!(totals(&http, &service, &token).await, (SEED as i64, SEED as i64));
    }
    let after = reads(&http, &service).await;
    let (state, lag) = replica_state(&http, &service).await;
    eprintln!(
        "[replica] while lagging ({state}, lag {lag:?} ms): {} reads by the primary, {} by the standby",
        after.0 - before.0,
        after.1 - before.1
    );
    assert_eq!(state, "lagging", "still behind after {} ms", paused.elapsed().as_millis());
    assert!(lag.unwrap() > MAX_LAG_MS, "lag {lag:?}: the age of the last transaction it replayed");
    assert_eq!(after.1, before.1, "the lagging standby served none");
    assert_eq!(after.0, before.0 + 20, "the primary served them all, with no error");

    sql(&mut standby_sql, "SELECT pg_wal_replay_resume()").await;
    let caught_up = wait_state(&http, &service, "ok").await;
    eprintln!("[replica] replay resumed: ok again after {} ms", caught_up.as_millis());
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.unwrap();
    let resumed = Instant::now();
    let before = reads(&http, &service).await;
    loop {
        assert_eq!(totals(&http, &service, &token).await, (SEED as i64, SEED as i64));
        let now = reads(&http, &service).await;
        if now.1 > before.1 {
            eprintln!(
                "[replica] after {written} writes, the standby served reads again {} ms after the writes stopped",
                resumed.elapsed().as_millis()
            );
            break;
        }
        assert!(resumed.elapsed() < STATE_BOUND, "the standby serves again once caught up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
