//! `kill -9` of the service in the middle of a 5,000-record batch: after a restart, replaying the
//! same batch with the same `Idempotency-Key` leaves exactly the intended records, none
//! duplicated and none partial, checked record by record.
use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use diesel::{sql_types::Text, QueryableByName};
use diesel_async::RunQueryDsl;
use serde_json::Value;

use crate::harness::{
    admin_token, bounded, client, count, demo_lines, stored_keys, write_progress, Cluster, Service, BATCH_RECORDS,
};

/// How the kill was timed.
#[derive(Debug)]
enum KilledWhen {
    /// Some of the batch's records were committed, not all.
    PartlyCommitted,
    /// The service had been inside a write transaction for a while, nothing committed yet.
    InsideTransaction,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_batch_then_replay_with_the_same_key_leaves_exactly_the_batch() {
    bounded(Duration::from_secs(420), run()).await;
}

async fn run() {
    let cluster = Cluster::start().await;
    let token = admin_token(&cluster).await;
    let lines = &demo_lines().await[..BATCH_RECORDS];
    let sent: Vec<Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let body = lines.join("\n") + "\n";
    let key = format!("failures-kill9-{}", std::process::id());
    let http = client(Duration::from_secs(300));
    let post = |service: &Service, key: &str| {
        http.post(service.url("/api/v1/evaluations/batch"))
            .bearer_auth(&token)
            .header("content-type", "application/x-ndjson")
            .header("idempotency-key", key)
            .body(body.clone())
    };

    // Send the batch, and kill the service once the database shows it half-way through.
    let mut service = Service::start("kill9-before", &cluster, &[]).await;
    let sent_at = Instant::now();
    let request = tokio::spawn(post(&service, &key).send());
    let mut conn = cluster.connect().await;
    let mut writing_since: Option<Instant> = None;
    let killed_when = loop {
        assert!(
            !request.is_finished(),
            "the batch was answered before the kill could land: {:?}",
            request.await.unwrap().map(|r| r.status())
        );
        assert!(sent_at.elapsed() < Duration::from_secs(180), "the batch never started writing");
        let (stored, writing) = write_progress(&mut conn).await;
        if stored > 0 {
            assert!(stored < BATCH_RECORDS as i64, "all {stored} records were committed before the kill");
            break KilledWhen::PartlyCommitted;
        }
        // Should the service write the batch in one transaction, kill it well inside that.
        if writing {
            let since = *writing_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= Duration::from_secs(20) {
                break KilledWhen::InsideTransaction;
            }
        } else {
            writing_since = None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    service.kill9();
    let killed_after = sent_at.elapsed();
    let answer = tokio::time::timeout(Duration::from_secs(10), request).await.expect("the client notices").unwrap();
    assert!(
        answer.is_err(),
        "the client got an answer although the service was killed mid-request: {:?}",
        answer.map(|r| r.status())
    );
    drop(service);

    // What the kill left: whole records of the committed transactions, and no stored answer.
    let committed = count(&mut conn, "SELECT count(*) AS n FROM evaluations").await;
    let keys_after_kill = stored_keys(&mut conn, &key).await;
    assert!(committed < BATCH_RECORDS as i64, "the kill landed before the batch was complete ({committed})");
    assert_eq!(keys_after_kill, 0, "no answer is stored for the killed request");
    eprintln!(
        "[failures] kill -9: killed {} ms after sending ({killed_when:?}); {committed} of {BATCH_RECORDS} records \
         committed at the kill; {keys_after_kill} stored answer(s) for the key",
        killed_after.as_millis()
    );

    // Restart and replay the same body with the same key.
    let service = Service::start("kill9-after", &cluster, &[]).await;
    // The killed request's claim on its key lapses when its database session is gone, which
    // PostgreSQL notices when the dead client's socket closes; until then the retry is told to
    // come back (409, Retry-After), as a client would be, and it does.
    let replayed_at = Instant::now();
    let mut told_to_wait = 0;
    let response = loop {
        let response = post(&service, &key).send().await.expect("the replay is answered");
        if response.status() != 409 || replayed_at.elapsed() > Duration::from_secs(10) {
            break response;
        }
        told_to_wait += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("[failures] kill -9: the replay was told to come back {told_to_wait} time(s)");
    let status = response.status();
    let first_replay = response.bytes().await.unwrap();
    let replay_time = replayed_at.elapsed();
    assert_eq!(
        status,
        200,
        "replay after the restart: {}",
        String::from_utf8_lossy(&first_replay[..500.min(first_replay.len())])
    );
    let result: Value = serde_json::from_slice(&first_replay).unwrap();
    let items = result["items"].as_array().unwrap();
    assert_eq!(items.len(), BATCH_RECORDS, "one result per record");
    let summary = &result["summary"];
    eprintln!("[failures] kill -9: replay after the restart took {} ms: {summary}", replay_time.as_millis());
    // Every committed record is identical to what was sent (else it would be `updated`), and the
    // rest are created now.
    assert_eq!(summary["invalid"], 0, "{summary}");
    assert_eq!(summary["updated"], 0, "a record stored before the kill differs from what was sent: {summary}");
    assert_eq!(summary["unchanged"], committed, "{summary}");
    assert_eq!(summary["created"], BATCH_RECORDS as i64 - committed, "{summary}");

    // Record by record: exactly the batch's records, once each, as sent.
    let ids: Vec<i64> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            assert_eq!(item["index"], i, "{item}");
            item["id"].as_i64().unwrap_or_else(|| panic!("item {i} has an id: {item}"))
        })
        .collect();
    check_database(&mut conn, &sent, &ids).await;
    check_each_record(&service, &token, &sent, &ids).await;
    let before = snapshot(&mut conn).await;

    // The same key again: the stored answer, byte for byte, and nothing written.
    let response = post(&service, &key).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("idempotency-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert!(response.bytes().await.unwrap() == first_replay, "the replay is the stored answer");
    assert_eq!(snapshot(&mut conn).await, before, "a replay writes nothing");

    // The same records under a new key: every one unchanged, and nothing written.
    let response = post(&service, &format!("{key}-again")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let again: Value = response.json().await.unwrap();
    assert_eq!(
        again["summary"],
        serde_json::json!({"created": 0, "updated": 0, "unchanged": BATCH_RECORDS, "invalid": 0})
    );
    for (i, item) in again["items"].as_array().unwrap().iter().enumerate() {
        assert_eq!(item["id"], ids[i], "record {i} keeps its id");
    }
    assert_eq!(snapshot(&mut conn).await, before, "sending the same records again writes nothing");
}

/// The database holds exactly the batch: one row per identity, with the replay's ids, one
/// revision each (nothing written twice), and its repeated groups whole.
async fn check_database(conn: &mut diesel_async::AsyncPgConnection, sent: &[Value], ids: &[i64]) {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        region_code: String,
        #[diesel(sql_type = diesel::sql_types::SmallInt)]
        fiscal_year: i16,
        #[diesel(sql_type = Text)]
        kind: String,
        #[diesel(sql_type = Text)]
        unit: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        project_name: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        revision: i32,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        revisions: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        income_lines: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        expenditure_lines: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        indicators: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        projects: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT e.id, e.region_code, e.fiscal_year, e.kind, e.unit, e.project_name, e.revision, \
           (SELECT count(*) FROM evaluation_revisions r WHERE r.evaluation_id = e.id) AS revisions, \
           (SELECT count(*) FROM evaluation_income_lines c WHERE c.evaluation_id = e.id) AS income_lines, \
           (SELECT count(*) FROM evaluation_expenditure_lines c WHERE c.evaluation_id = e.id) AS expenditure_lines, \
           (SELECT count(*) FROM evaluation_indicators c WHERE c.evaluation_id = e.id) AS indicators, \
           (SELECT count(*) FROM evaluation_projects c WHERE c.evaluation_id = e.id) AS projects \
         FROM evaluations e ORDER BY e.id",
    )
    .load(conn)
    .await
    .unwrap();
    assert_eq!(rows.len(), BATCH_RECORDS, "evaluations rows");
    let by_id: HashMap<i64, &Row> = rows.iter().map(|r| (r.id, r)).collect();
    assert_eq!(by_id.len(), BATCH_RECORDS);
    let distinct: HashSet<(&str, i16, &str, &str, Option<&str>)> = rows
        .iter()
        .map(|r| (r.region_code.as_str(), r.fiscal_year, r.kind.as_str(), r.unit.as_str(), r.project_name.as_deref()))
        .collect();
    assert_eq!(distinct.len(), BATCH_RECORDS, "each identity once");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), BATCH_RECORDS, "each item its own record");
    let len = |value: &Value| value.as_array().map_or(0, |a| a.len()) as i64;
    let mut wrong = Vec::new();
    for (i, (record, id)) in sent.iter().zip(ids).enumerate() {
        let Some(row) = by_id.get(id) else {
            wrong.push(format!("record {i}: id {id} is not stored"));
            continue;
        };
        let identity = (
            record["region_code"].as_str().unwrap(),
            record["fiscal_year"].as_i64().unwrap() as i16,
            record["kind"].as_str().unwrap(),
            record["unit"].as_str().unwrap(),
            record["project"]["name"].as_str(),
        );
        let stored = (
            row.region_code.as_str(),
            row.fiscal_year,
            row.kind.as_str(),
            row.unit.as_str(),
            row.project_name.as_deref(),
        );
        let expected = [
            ("revision", 1, i64::from(row.revision)),
            ("revisions", 1, row.revisions),
            ("income lines", len(&record["income"]["lines"]), row.income_lines),
            ("expenditure lines", len(&record["expenditure"]["lines"]), row.expenditure_lines),
            ("indicators", len(&record["indicators"]), row.indicators),
            ("projects", len(&record["projects"]), row.projects),
        ];
        if stored != identity {
            wrong.push(format!("record {i} (id {id}): stored as {stored:?}, sent {identity:?}"));
        }
        for (what, sent, stored) in expected {
            if sent != stored {
                wrong.push(format!("record {i} (id {id}): {what} {stored}, expected {sent}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{} differences, first: {:#?}", wrong.len(), &wrong[..wrong.len().min(20)]);
}

/// Reads every record back through the API and compares each member sent with what is stored.
async fn check_each_record(service: &Service, token: &str, sent: &[Value], ids: &[i64]) {
    let started = Instant::now();
    let http = client(Duration::from_secs(30));
    let mut tasks = Vec::new();
    const READERS: usize = 8;
    for reader in 0..READERS {
        let (http, token, base) = (http.clone(), token.to_owned(), service.base.clone());
        let work: Vec<(usize, i64, Value)> =
            (reader..sent.len()).step_by(READERS).map(|i| (i, ids[i], sent[i].clone())).collect();
        tasks.push(tokio::spawn(async move {
            let mut wrong = Vec::new();
            for (i, id, record) in work {
                let response = http
                    .get(format!("{base}/api/v1/evaluations/{id}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("reading record {id}: {e}"));
                if response.status() != 200 {
                    wrong.push(format!("record {i} (id {id}): GET answered {}", response.status()));
                    continue;
                }
                let mut stored: Value = response.json().await.unwrap();
                // The service adds `matched_code` (the library code a row's name matched) to rows.
                for row in stored.get_mut("indicators").and_then(Value::as_array_mut).into_iter().flatten() {
                    if let Some(row) = row.as_object_mut() {
                        row.remove("matched_code");
                    }
                }
                for (member, value) in record.as_object().unwrap() {
                    if !stored.get(member).is_some_and(|stored| same(value, stored)) {
                        wrong.push(format!(
                            "record {i} (id {id}): `{member}` stored as {}, sent {value}",
                            stored.get(member).unwrap_or(&Value::Null)
                        ));
                    }
                }
            }
            wrong
        }));
    }
    let mut wrong = Vec::new();
    for task in tasks {
        wrong.extend(task.await.unwrap());
    }
    eprintln!(
        "[failures] kill -9: read back {} records through the API in {} ms",
        sent.len(),
        started.elapsed().as_millis()
    );
    assert!(wrong.is_empty(), "{} differences, first: {:#?}", wrong.len(), &wrong[..wrong.len().min(20)]);
}

/// Whether a stored value is the value sent: decimal strings compare by value (a weight sent as
/// `"10"` is stored in a `numeric(6, 2)` column and read back as `"10.00"`), objects member by
/// member (the stored one may add members that are null), everything else exactly.
fn same(sent: &Value, stored: &Value) -> bool {
    match (sent, stored) {
        (Value::String(a), Value::String(b)) => {
            a == b
                || matches!(
                    (a.parse::<rust_decimal::Decimal>(), b.parse::<rust_decimal::Decimal>()),
                    (Ok(x), Ok(y)) if x == y
                )
        }
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b)),
        (Value::Object(a), Value::Object(b)) => {
            a.iter().all(|(key, value)| b.get(key).is_some_and(|stored| same(value, stored)))
                && b.iter().all(|(key, value)| a.contains_key(key) || value.is_null())
        }
        _ => sent == stored,
    }
}

/// What a write would change: rows, revisions, transitions and the newest update.
async fn snapshot(conn: &mut diesel_async::AsyncPgConnection) -> (i64, i64, i64, String) {
    #[derive(QueryableByName)]
    struct Snapshot {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        records: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        revisions: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        revision_sum: i64,
        #[diesel(sql_type = Text)]
        newest: String,
    }
    let row: Snapshot = diesel::sql_query(
        "SELECT (SELECT count(*) FROM evaluations) AS records, \
                (SELECT count(*) FROM evaluation_revisions) AS revisions, \
                (SELECT coalesce(sum(revision), 0)::int8 FROM evaluations) AS revision_sum, \
                (SELECT coalesce(max(updated_at)::text, '') FROM evaluations) AS newest",
    )
    .get_result(conn)
    .await
    .unwrap();
    (row.records, row.revisions, row.revision_sum, row.newest)
}
