//! PostgreSQL restart under load: the service keeps running, answers 503 problem+json (with
//! `Retry-After`) while the database is away, never hangs, and serves again within 5 s of the
//! database's return, without a restart.
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use crate::harness::{admin_token, bounded, client, demo_lines, import, Cluster, Service};

/// Each request must answer within this; more is a hang.
const REQUEST_BOUND: Duration = Duration::from_secs(10);
/// How long the database stays away: longer than the token cache (5 s), so that requests also
/// meet the outage when resolving their token.
const OUTAGE: Duration = Duration::from_secs(6);
/// The bound: serving again within 5 s of the database's return.
const RECOVERY_BOUND: Duration = Duration::from_secs(5);
/// Load tasks: the last one writes (a one-record batch that changes the record each time), the
/// others read a record and `/readyz` in turn.
const CLIENTS: usize = 4;
const BATCH_PATH: &str = "/api/v1/evaluations/batch";

/// One request of the load and its answer.
#[derive(Debug, Clone)]
struct Sample {
    path: String,
    started: Instant,
    finished: Instant,
    answer: Result<Answer, String>,
}

#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    retry_after: Option<String>,
    body: String,
}

impl Answer {
    /// Why this is not a proper 503 problem+json answer, if it is not.
    fn not_a_proper_503(&self) -> Option<String> {
        if self.status != 503 {
            return Some(format!("status {}", self.status));
        }
        if self.content_type.as_deref() != Some("application/problem+json") {
            return Some(format!("content-type {:?}", self.content_type));
        }
        if self.retry_after.as_deref().and_then(|v| v.parse::<u32>().ok()).is_none() {
            return Some(format!("Retry-After {:?}", self.retry_after));
        }
        match serde_json::from_str::<serde_json::Value>(&self.body) {
            Ok(body) if body["status"] == 503 && body["code"].is_string() && body["type"].is_string() => None,
            _ => Some(format!("body {}", self.body)),
        }
    }

    /// A 200 to a batch must report its record written, not refused.
    fn batch_not_written(&self, path: &str) -> Option<String> {
        if path != BATCH_PATH || self.status != 200 {
            return None;
        }
        let body: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        (body["summary"]["updated"] != 1).then(|| format!("summary {} items {}", body["summary"], body["items"]))
    }

    fn code(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|b| b["code"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// Fails today, most runs: a pooled connection that PostgreSQL's shutdown closed under a query
/// fails with tokio-postgres' "connection closed", which diesel-async reports as
/// `DatabaseErrorKind::UnableToSendCommand`, and `ApiError::from(diesel::result::Error)` maps
/// that kind to 500 `internal` instead of 503; and a batch whose write meets the outage answers
/// 200 with its records `invalid` (`write_failed`, "the record changed … send it again") instead
/// of 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restart_under_load_gives_503_then_serves_again_within_5_s() {
    bounded(Duration::from_secs(240), run()).await;
}

async fn run() {
    let mut cluster = Cluster::start().await;
    let token = admin_token(&cluster).await;
    let seed = &demo_lines().await[..20];
    import(&cluster, seed, "seed.ndjson").await;
    let written: serde_json::Value = serde_json::from_str(&seed[0]).unwrap();
    let ids: Vec<i64> = {
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            id: i64,
        }
        use diesel_async::RunQueryDsl;
        let mut conn = cluster.connect().await;
        let rows: Vec<Id> = diesel::sql_query("SELECT id FROM evaluations ORDER BY id").load(&mut conn).await.unwrap();
        rows.into_iter().map(|r| r.id).collect()
    };
    assert_eq!(ids.len(), 20);
    // A shorter pool wait than the default 5 s, so that a request meeting the outage answers fast.
    let mut service = Service::start("pg-restart", &cluster, &[("PERFEVAL_DB_WAIT_MS", "1000")]).await;

    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let http = client(REQUEST_BOUND);
    let mut load = Vec::new();
    for worker in 0..CLIENTS {
        let (samples, stop, http, token, base, ids, mut written) = (
            samples.clone(),
            stop.clone(),
            http.clone(),
            token.clone(),
            service.base.clone(),
            ids.clone(),
            written.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut n = worker;
            while !stop.load(Ordering::Relaxed) {
                let path = if worker == CLIENTS - 1 {
                    BATCH_PATH.to_owned()
                } else if n % 2 == 0 {
                    format!("/api/v1/evaluations/{}", ids[n % ids.len()])
                } else {
                    "/readyz".to_owned()
                };
                n += 1;
                let started = Instant::now();
                let request = if path == BATCH_PATH {
                    written["issuer"] = format!("failures write {n}").into();
                    http.post(format!("{base}{path}")).json(&[&written])
                } else {
                    http.get(format!("{base}{path}"))
                };
                let reply = request.bearer_auth(&token).send().await;
                let answer = match reply {
                    Ok(response) => {
                        let header =
                            |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
                        let (status, content_type, retry_after) =
                            (response.status().as_u16(), header("content-type"), header("retry-after"));
                        match response.text().await {
                            Ok(body) => Ok(Answer { status, content_type, retry_after, body }),
                            Err(error) => Err(format!("reading the body: {error}")),
                        }
                    }
                    Err(error) => Err(format!("{error:?}")),
                };
                samples.lock().unwrap().push(Sample { path, started, finished: Instant::now(), answer });
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }

    // Before the outage: everything is served.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    {
        let before = samples.lock().unwrap();
        assert!(before.len() > 10, "the load runs ({} requests)", before.len());
        for sample in before.iter() {
            let status = sample.answer.as_ref().map(|a| a.status);
            assert_eq!(status, Ok(200), "before the outage: {sample:?}");
        }
    }

    let outage_started = Instant::now();
    cluster.stop().await;
    let stopped = Instant::now();
    // The process stays alive, and liveness answers, while the database is away.
    let liveness = http.get(service.url("/healthz")).send().await.expect("/healthz answers during the outage");
    assert_eq!(liveness.status(), 200, "/healthz during the outage");
    tokio::time::sleep(OUTAGE.saturating_sub(stopped - outage_started)).await;
    assert!(service.is_running(), "the service keeps running while the database is away");

    let restarting = Instant::now();
    cluster.restart().await;
    // The database has returned when a new connection succeeds.
    let db_back = loop {
        if perfeval::db::connect(&cluster.url).await.is_ok() {
            break Instant::now();
        }
        assert!(outage_started.elapsed() < Duration::from_secs(60), "the cluster accepts connections again");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };

    // Keep the load on until it has been served for 2 s in a row, or the bound has passed.
    let deadline = db_back + RECOVERY_BOUND + Duration::from_secs(5);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = Instant::now();
        let recovered = serving_since(&samples.lock().unwrap(), db_back);
        if recovered.is_some_and(|at| now.duration_since(at) >= Duration::from_secs(2)) || now >= deadline {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    assert!(service.is_running(), "the service is still the same process after the outage");

    // What the load saw.
    let samples = samples.lock().unwrap().clone();
    let ms = |at: Instant| at.saturating_duration_since(outage_started).as_millis() as i64;
    let hangs: Vec<&Sample> = samples.iter().filter(|s| s.answer.is_err()).collect();
    let slowest = samples.iter().map(|s| s.finished - s.started).max().unwrap_or_default();
    let outage: Vec<&Sample> = samples.iter().filter(|s| s.started >= outage_started && s.started < db_back).collect();
    let answers_503: Vec<&Answer> =
        outage.iter().filter_map(|s| s.answer.as_ref().ok()).filter(|a| a.status == 503).collect();
    let mut codes: Vec<String> = answers_503.iter().map(|a| a.code()).collect();
    codes.sort();
    codes.dedup();
    let recovered_at = serving_since(&samples, db_back);
    let recovery = recovered_at.map(|at| at.saturating_duration_since(db_back));
    eprintln!(
        "[failures] pg restart: {} requests; stop took {} ms; database back at +{} ms; {} requests during the \
         outage, {} answered 503 ({codes:?}); slowest answer {} ms; serving again {} after the database returned",
        samples.len(),
        (stopped - outage_started).as_millis(),
        ms(db_back),
        outage.len(),
        answers_503.len(),
        slowest.as_millis(),
        recovery.map_or("never".to_owned(), |d| format!("{} ms", d.as_millis())),
    );
    // Around the database's return, for the messages.
    let timeline: Vec<String> = samples
        .iter()
        .filter(|s| s.finished + Duration::from_millis(200) >= restarting)
        .take(80)
        .map(|s| {
            let what = match &s.answer {
                Ok(a) if a.status == 200 => "200".to_owned(),
                Ok(a) => format!("{} {}", a.status, a.code()),
                Err(e) => format!("error {e}"),
            };
            format!("+{}..+{} ms {} {what}", ms(s.started), ms(s.finished), s.path)
        })
        .collect();

    // A write answered 200 was done.
    for sample in &samples {
        if let Some(why) = sample.answer.as_ref().ok().and_then(|a| a.batch_not_written(&sample.path)) {
            panic!(
                "a one-record batch at +{} ms was answered 200 without writing its record: {why}",
                ms(sample.started)
            );
        }
    }
    // No request hung or lost its connection.
    assert!(hangs.is_empty(), "requests without an answer within {REQUEST_BOUND:?}: {hangs:#?}");
    // During the outage: 503 problem+json with Retry-After (a request that began before the
    // cluster was down, or ended after its restart began, may have been served).
    assert!(!answers_503.is_empty(), "requests during the outage answered 503\n{}", timeline.join("\n"));
    for sample in &outage {
        let answer = sample.answer.as_ref().unwrap();
        if answer.status == 200 && (sample.started < stopped || sample.finished > restarting) {
            continue;
        }
        if let Some(why) = answer.not_a_proper_503() {
            panic!("a request during the outage was not answered 503 problem+json ({why}): {sample:?}");
        }
    }
    // Whenever it was sent (also in flight when the cluster stopped, or after its return), every
    // request was answered 200 or 503 problem+json.
    for sample in &samples {
        let answer = sample.answer.as_ref().unwrap();
        if answer.status != 200 {
            if let Some(why) = answer.not_a_proper_503() {
                panic!(
                    "a request at +{} ms was answered neither 200 nor 503 problem+json ({why}): {sample:?}",
                    ms(sample.started)
                );
            }
        }
    }
    let recovery = recovery.unwrap_or_else(|| {
        panic!("the service did not serve again after the database returned\n{}", timeline.join("\n"))
    });
    assert!(
        recovery <= RECOVERY_BOUND,
        "serving again took {} ms after the database returned (bound {} ms)\n{}",
        recovery.as_millis(),
        RECOVERY_BOUND.as_millis(),
        timeline.join("\n")
    );
}

/// When the service serves again after `db_back`: the answer to the first request that began
/// after every failed one (if any request has been served since).
fn serving_since(samples: &[Sample], db_back: Instant) -> Option<Instant> {
    let after: Vec<&Sample> = samples.iter().filter(|s| s.started >= db_back).collect();
    let last_failure =
        after.iter().filter(|s| s.answer.as_ref().map_or(true, |a| a.status != 200)).map(|s| s.started).max();
    after
        .iter()
        .filter(|s| last_failure.is_none_or(|failure| s.started > failure))
        .filter(|s| s.answer.as_ref().is_ok_and(|a| a.status == 200))
        .map(|s| s.finished)
        .min()
}
