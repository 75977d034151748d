//! SIGTERM during load: requests in flight finish, new connections are refused, and the
//! process exits 0.
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{admin_token, bounded, client, count, demo_lines, import, write_progress, Cluster, Service};

/// Records of the batch in flight when the signal comes (new records of 2020 on): enough that
/// it is still writing when the exports have started and the signal is sent (the debug build
/// writes ~1,000 records a second).
const IN_FLIGHT_BATCH: usize = 6_000;
/// The years of the stored records, each exported as CSV while the signal comes.
const EXPORTED_YEARS: [i64; 2] = [2018, 2019];
/// actix's graceful shutdown waits up to 30 s (`shutdown_timeout(30)`); allow a little more.
const EXIT_BOUND: Duration = Duration::from_secs(40);

/// At SIGTERM actix stops its idle workers at once while the busy ones drain. Each worker has a
/// pool of its own whose connections its own runtime drives, so a stopped worker takes only its
/// own connections with it, never one a request in flight on another worker is using.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_during_load_finishes_in_flight_requests_refuses_new_ones_and_exits_0() {
    bounded(Duration::from_secs(300), run()).await;
}

async fn run() {
    let cluster = Cluster::start().await;
    let token = admin_token(&cluster).await;
    let lines = demo_lines().await;
    let year = |line: &String| serde_json::from_str::<Value>(line).unwrap()["fiscal_year"].as_i64().unwrap();
    // The demo data comes year by year: store 2018 and 2019, send part of 2020 while signalling.
    let stored = lines.iter().position(|l| year(l) == 2020).unwrap();
    import(&cluster, &lines[..stored], "stored.ndjson").await;
    let in_flight = &lines[stored..stored + IN_FLIGHT_BATCH];
    let per_year: Vec<usize> =
        EXPORTED_YEARS.iter().map(|&y| lines[..stored].iter().filter(|l| year(l) == y).count()).collect();
    let mut service = Service::start("sigterm", &cluster, &[]).await;
    let mut conn = cluster.connect().await;

    // In flight: a batch of new records ...
    let http = client(Duration::from_secs(120));
    let batch = {
        let request = http
            .post(service.url("/api/v1/evaluations/batch"))
            .bearer_auth(&token)
            .header("content-type", "application/x-ndjson")
            .header("idempotency-key", format!("failures-sigterm-{}", std::process::id()))
            .body(in_flight.join("\n") + "\n");
        tokio::spawn(async move {
            let response = request.send().await?;
            let status = response.status();
            Ok::<_, reqwest::Error>((status, response.bytes().await?))
        })
    };
    let sent = Instant::now();
    let (stored_at_signal, writing) = loop {
        assert!(!batch.is_finished(), "the batch was answered before the signal could be sent");
        assert!(sent.elapsed() < Duration::from_secs(120), "the batch never started writing");
        let (stored_now, writing) = write_progress(&mut conn).await;
        if writing || stored_now > stored as i64 {
            break (stored_now, writing);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    // ... that is writing now, and CSV exports whose headers have come but whose bodies are read
    // only after the signal (the server streams them page by page as the client reads).
    let mut exports = Vec::new();
    for y in EXPORTED_YEARS {
        let response = http
            .get(service.url(&format!("/api/v1/evaluations?format=csv&fiscal_year={y}")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("an export starts");
        assert_eq!(response.status(), 200, "export of {y}");
        exports.push(response);
    }
    assert!(!batch.is_finished(), "the batch was answered before the signal could be sent");
    let signalled = Instant::now();
    service.signal(libc::SIGTERM);

    // A new connection after the signal is refused (or answered 503) while the batch drains.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(service.is_running(), "the service drains in-flight requests before exiting");
    let fresh = reqwest::Client::builder().timeout(Duration::from_secs(10)).pool_max_idle_per_host(0).build().unwrap();
    let late = fresh.get(service.url("/healthz")).send().await;
    let late_api = fresh.get(service.url("/api/v1/evaluations")).bearer_auth(&token).send().await;
    drop(fresh);
    let outcome = |reply: &Result<reqwest::Response, reqwest::Error>| match reply {
        Ok(response) => format!("answered {}", response.status()),
        Err(error) if error.is_connect() => "refused".to_owned(),
        Err(error) => format!("error {error:?}"),
    };
    let batch_running_after_late = !batch.is_finished();

    // The requests in flight finish, whole.
    let mut export_sizes = Vec::new();
    for ((response, y), rows) in exports.into_iter().zip(EXPORTED_YEARS).zip(&per_year) {
        let body = response.bytes().await.unwrap_or_else(|e| panic!("the export of {y} is read whole: {e:?}"));
        export_sizes.push(body.len());
        assert!(body.starts_with("\u{feff}".as_bytes()), "the export of {y} starts with a BOM");
        assert!(body.ends_with(b"\n"), "the export of {y} ends with a whole line");
        let mut reader = csv::Reader::from_reader(&body[3..]);
        let records = reader.records().collect::<Result<Vec<_>, _>>().unwrap_or_else(|e| panic!("export {y}: {e}"));
        assert_eq!(records.len(), *rows, "the export of {y} holds every record of {y}");
    }
    let (status, body) = batch.await.unwrap().expect("the in-flight batch is answered");
    let batch_done = signalled.elapsed();
    // Done with their requests, the clients go away (closing their idle keep-alive connections).
    drop(http);
    let exit = service.wait_exit(EXIT_BOUND).await;
    let exit_time = signalled.elapsed();
    eprintln!(
        "[failures] SIGTERM: sent {} ms after the batch (stored {stored_at_signal}, writing {writing}), with {} CSV \
         exports open ({export_sizes:?} bytes, read after the signal); after the signal a new connection to /healthz \
         was {} and to /api/v1/evaluations {} (batch still running: {batch_running_after_late}); the batch answered \
         {status} {} ms after the signal; exit {exit:?} {} ms after the signal",
        signalled.duration_since(sent).as_millis(),
        EXPORTED_YEARS.len(),
        outcome(&late),
        outcome(&late_api),
        batch_done.as_millis(),
        exit_time.as_millis()
    );
    assert_eq!(status, 200, "the in-flight batch: {}", String::from_utf8_lossy(&body[..body.len().min(500)]));
    let result: Value = serde_json::from_slice(&body).expect("the batch's answer is whole JSON");
    assert_eq!(result["items"].as_array().map(Vec::len), Some(IN_FLIGHT_BATCH));
    assert_eq!(
        result["summary"],
        serde_json::json!({"created": IN_FLIGHT_BATCH, "updated": 0, "unchanged": 0, "invalid": 0})
    );
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM evaluations").await, (stored + IN_FLIGHT_BATCH) as i64);
    for (what, reply) in [("/healthz", &late), ("/api/v1/evaluations", &late_api)] {
        match reply {
            Err(error) => assert!(error.is_connect(), "a new request to {what} after SIGTERM: {error:?}"),
            Ok(response) => assert_eq!(response.status(), 503, "a new request to {what} after SIGTERM"),
        }
    }
    let status = exit.unwrap_or_else(|| panic!("the service did not exit within {EXIT_BOUND:?} of SIGTERM"));
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM: {status}");
}
