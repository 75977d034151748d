//! `POST /api/v1/evaluations/batch`: upserts by identity, per record or all-or-nothing.
use serde_json::{json, Value};

use crate::helpers::{minimal, spawn_app, without_matched_codes, yintian, Reply, TestApp};

async fn batch(app: &TestApp, query: &str, records: &[Value]) -> Reply {
    app.post(&format!("/api/v1/evaluations/batch{query}"), &Value::Array(records.to_vec())).await
}

fn outcomes(body: &Value) -> Vec<String> {
    body["items"].as_array().unwrap().iter().map(|i| i["outcome"].as_str().unwrap().to_owned()).collect()
}

/// Two good records around a bad one (an amount with three decimals).
fn mixed() -> Vec<Value> {
    let mut bad = minimal("430482101", 2022, "常宁市柏坊镇人民政府");
    bad["income"]["total"] = json!("1000.001");
    vec![yintian(), bad, minimal("430502001", 2022, "双清区兴隆街道办事处")]
}

#[tokio::test]
async fn each_record_stands_alone_by_default() {
    let app = spawn_app().await;
    let reply = batch(&app, "", &mixed()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(outcomes(&body), ["created", "invalid", "created"]);
    assert_eq!(body["summary"], json!({"created": 2, "updated": 0, "unchanged": 0, "invalid": 1}));
    let bad = &body["items"][1];
    assert_eq!(bad["index"], 1);
    assert_eq!(bad["id"], Value::Null);
    assert_eq!(bad["errors"][0]["field"], "income.total");
    assert_eq!(bad["errors"][0]["code"], "too_many_decimals");
    assert_eq!(app.count_rows("evaluations").await, 2);

    // The stored records are whole and readable, with a first revision.
    let id = body["items"][0]["id"].as_i64().unwrap();
    let stored = app.get(&format!("/api/v1/evaluations/{id}")).await.json();
    let stored = without_matched_codes(&stored);
    for (member, value) in yintian().as_object().unwrap() {
        assert_eq!(&stored[member], value, "{member}");
    }
    assert_eq!(app.count_rows("evaluation_revisions").await, 2);
    assert_eq!(app.count_rows("evaluation_indicators").await, yintian()["indicators"].as_array().unwrap().len() as i64);
}

#[tokio::test]
async fn sending_the_same_batch_again_changes_nothing_and_a_change_is_an_update() {
    let app = spawn_app().await;
    let first = batch(&app, "", &mixed()).await.json();
    let again = batch(&app, "", &mixed()).await.json();
    assert_eq!(outcomes(&again), ["unchanged", "invalid", "unchanged"]);
    assert_eq!(again["items"][0]["id"], first["items"][0]["id"]);
    let mut records = mixed();
    records[2]["expenditure"]["total"] = json!("950.00");
    let changed = batch(&app, "", &records).await.json();
    assert_eq!(outcomes(&changed), ["unchanged", "invalid", "updated"]);
    let id = changed["items"][2]["id"].as_i64().unwrap();
    let stored = app.get(&format!("/api/v1/evaluations/{id}")).await.json();
    assert_eq!(stored["expenditure"]["total"], "950.00");
    assert_eq!(stored["workflow"]["revision"], 2);
    assert_eq!(app.count_rows("evaluations").await, 2);
    // The content the update replaced is kept as its revision; the current one is the record.
    let first = app.get(&format!("/api/v1/evaluations/{id}/revisions/1")).await.json();
    assert_eq!(first["record"]["expenditure"]["total"], mixed()[2]["expenditure"]["total"]);
    let second = app.get(&format!("/api/v1/evaluations/{id}/revisions/2")).await.json();
    assert_eq!(second["record"]["expenditure"]["total"], "950.00");
    assert_eq!(app.count_rows("evaluation_revisions WHERE record IS NOT NULL").await, 1);
}

#[tokio::test]
async fn an_atomic_batch_with_one_bad_record_writes_nothing() {
    let app = spawn_app().await;
    let reply = batch(&app, "?atomic=true", &mixed()).await;
    let problem = reply.problem(422, "batch_rejected");
    assert!(problem["detail"].as_str().unwrap().starts_with("1 of 3 records"), "{problem}");
    let items = problem["items"].as_array().unwrap();
    assert_eq!(items[1]["outcome"], "invalid");
    assert_eq!(items[1]["errors"][0]["field"], "income.total");
    for table in ["evaluations", "evaluation_indicators", "evaluation_revisions"] {
        assert_eq!(app.count_rows(table).await, 0, "{table}");
    }
    let mut good = mixed();
    good.remove(1);
    let reply = batch(&app, "?atomic=true", &good).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(outcomes(&reply.json()), ["created", "created"]);
    assert_eq!(app.count_rows("evaluations").await, 2);
}

#[tokio::test]
async fn a_dry_run_reports_without_writing() {
    let app = spawn_app().await;
    let body = batch(&app, "?dry_run=true", &mixed()).await.json();
    assert_eq!(body["dry_run"], true);
    assert_eq!(outcomes(&body), ["created", "invalid", "created"]);
    assert_eq!(body["items"][0]["id"], Value::Null);
    assert_eq!(app.count_rows("evaluations").await, 0);
}

#[tokio::test]
async fn ndjson_is_accepted_line_by_line() {
    let app = spawn_app().await;
    let mut body = Vec::new();
    for record in mixed() {
        body.extend(serde_json::to_vec(&record).unwrap());
        body.push(b'\n');
    }
    body.extend(b"{not json\n");
    let reply = app.post_raw("/api/v1/evaluations/batch", "application/x-ndjson", body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let result = reply.json();
    assert_eq!(outcomes(&result), ["created", "invalid", "created", "invalid"]);
    assert_eq!(result["items"][3]["errors"][0]["code"], "malformed_json");
}

/// (media type, body, problem code, fields named, words of the detail)
type NotABatch<'a> = (&'a str, String, &'a str, Vec<&'a str>, Vec<&'a str>);

/// A body that is no batch (not an array of objects, or not one object per line) is refused
/// whole, with the item or line named, even when good records are in it: nothing is written.
#[tokio::test]
async fn a_body_that_is_not_a_batch_is_400_naming_where_and_writes_nothing() {
    let app = spawn_app().await;
    let good = serde_json::to_string(&yintian()).unwrap();
    let other = serde_json::to_string(&minimal("430502001", 2022, "双清区兴隆街道办事处")).unwrap();
    let json = "application/json";
    let ndjson = "application/x-ndjson";
    let cases: Vec<NotABatch> = vec![
        (json, good.clone(), "invalid_body", vec!["$"], vec!["is a JSON object, not an array", "[{…}]"]),
        (json, format!("{good}\n{other}\n"), "invalid_body", vec!["$"], vec!["a JSON object", "application/x-ndjson"]),
        (json, "\"records\"".into(), "invalid_body", vec!["$"], vec!["is a string"]),
        (json, "42".into(), "invalid_body", vec!["$"], vec!["is a number"]),
        (json, "null".into(), "invalid_body", vec!["$"], vec!["is null"]),
        (json, "records, please".into(), "malformed_json", vec!["$"], vec!["not valid JSON", "line 1 column 1"]),
        (json, "[\n{}\n}".into(), "malformed_json", vec!["$"], vec!["line 3 column 1"]),
        (json, "".into(), "malformed_json", vec!["$"], vec!["empty"]),
        (
            json,
            format!("[{good}, \"x\", 7, [{other}], {other}]"),
            "invalid_body",
            vec!["[1]", "[2]", "[3]"],
            vec!["3 items of the array are not record objects", "the first: item 1, a string"],
        ),
        (json, format!("[{good}, true]"), "invalid_body", vec!["[1]"], vec!["item 1 of the array is a boolean"]),
        (
            ndjson,
            format!("{good}\n\n[{other}]\n"),
            "invalid_body",
            vec!["[1]"],
            vec!["line 3 is a JSON array, not a record object", "application/json"],
        ),
        (ndjson, format!("{good}\r\n42\r\n{other}\r\n"), "invalid_body", vec!["[1]"], vec!["line 2 is a number"]),
        (ndjson, "\"a record\"\n".into(), "invalid_body", vec!["[0]"], vec!["line 1 is a string"]),
        (ndjson, format!("{good}\nregion_code=430482104\n"), "malformed_json", vec!["[1]"], vec!["line 2 is not JSON"]),
        (
            ndjson,
            format!("1\n{good}\n[]\n"),
            "invalid_body",
            vec!["[0]", "[2]"],
            vec!["2 lines are not record objects", "the first: line 1 is a number"],
        ),
    ];
    for (media_type, body, code, fields, words) in cases {
        for query in ["", "?atomic=true", "?dry_run=true"] {
            let reply =
                app.post_raw(&format!("/api/v1/evaluations/batch{query}"), media_type, body.clone().into_bytes()).await;
            let problem = reply.problem(400, code);
            assert_eq!(reply.error_fields(), fields, "{media_type} {body:?}: {problem}");
            let detail = problem["detail"].as_str().unwrap();
            for word in &words {
                assert!(detail.contains(word), "{media_type} {body:?}: `{word}` not in {detail:?}");
            }
            assert!(problem.get("items").is_none(), "{problem}");
        }
    }
    assert_eq!(app.count_rows("evaluations").await, 0, "nothing was written");

    // Objects that are not valid records stay per-item outcomes, in an array and in NDJSON, and a
    // byte order mark before the body is no part of it.
    let reply = app.post_raw("/api/v1/evaluations/batch", json, format!("\u{feff}[{good}, {{}}]").into_bytes()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(outcomes(&reply.json()), ["created", "invalid"]);
    let reply = app
        .post_raw("/api/v1/evaluations/batch", ndjson, format!("{{\"fiscal_year\": \"x\"}}\n{other}\n").into_bytes())
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(outcomes(&reply.json()), ["invalid", "created"]);
    assert_eq!(app.count_rows("evaluations").await, 2);
}

#[tokio::test]
async fn records_in_a_batch_are_checked_against_each_other_and_the_store() {
    let app = spawn_app().await;
    let mut prior = yintian();
    prior["fiscal_year"] = json!(2021);
    prior["three_public_expenses"]["vehicle_operation"]["amount"] = json!("12000.00");
    let mut duplicate = yintian();
    duplicate["issuer"] = json!("另一份");
    let body = batch(&app, "", &[prior, yintian(), duplicate]).await.json();
    assert_eq!(outcomes(&body), ["created", "created", "invalid"]);
    assert_eq!(body["items"][2]["errors"][0]["code"], "duplicate_in_batch");
    let findings = body["items"][1]["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "prior_year_figures" && f["stated"] == "24000.00" && f["computed"] == "12000.00"),
        "{findings:?}"
    );
}

#[tokio::test]
async fn a_submitted_record_is_not_overwritten_by_a_batch() {
    let app = spawn_app().await;
    let (id, etag) = app.create(&yintian()).await;
    let submitted = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/evaluations/{id}/transitions"),
            Some(&json!({"action": "submit"})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    let mut changed = yintian();
    changed["issuer"] = json!("改");
    let body = batch(&app, "", &[changed, yintian()]).await.json();
    assert_eq!(outcomes(&body), ["invalid", "invalid"], "{body}");
    assert_eq!(body["items"][0]["errors"][0]["code"], "not_editable");
    assert_eq!(app.get(&format!("/api/v1/evaluations/{id}")).await.json()["issuer"], "常宁市荫田镇人民政府");
}

#[tokio::test]
async fn a_retried_batch_with_its_idempotency_key_replays_the_first_result() {
    let app = spawn_app().await;
    let body = Value::Array(mixed());
    let key = [("idempotency-key", "hunan-2022-push-7")];
    let first = app.request(reqwest::Method::POST, "/api/v1/evaluations/batch", Some(&body), &key).await;
    let second = app.request(reqwest::Method::POST, "/api/v1/evaluations/batch", Some(&body), &key).await;
    assert_eq!(second.header("idempotency-replayed"), Some("true"));
    assert_eq!(outcomes(&second.json()), ["created", "invalid", "created"], "the first result, not `unchanged`");
    assert_eq!(second.json(), first.json());
    assert_eq!(app.count_rows("evaluations").await, 2);
}

/// Runs a statement on a connection.
async fn execute(conn: &mut diesel_async::AsyncPgConnection, sql: &str) -> usize {
    diesel_async::RunQueryDsl::execute(diesel::sql_query(sql), conn).await.unwrap()
}

/// Turns the stored answer back into a claim held by `holder`'s session, as a request still
/// running holds it, and removes the records, so that a rerun would show.
async fn claim_again(app: &TestApp, holder: &mut diesel_async::AsyncPgConnection) {
    let claimed = execute(
        holder,
        "UPDATE idempotency_keys SET status = 0, headers = '[]', body = '', created_at = now(), \
         claimed_until = now() + interval '1 minute', claimed_by = pg_backend_pid()",
    )
    .await;
    assert_eq!(claimed, 1);
    execute(&mut app.db.connect().await, "DELETE FROM evaluations").await;
}

/// A batch's writes commit before its answer exists, so its key is claimed first, by the
/// request's database session. A retry that meets the claim while that session lives is told to
/// come back and writes nothing. One that meets a claim whose session is gone (its instance was
/// killed) or whose time ran out runs the batch again, and its answer is then replayed.
#[tokio::test]
async fn a_retry_meeting_a_running_batch_is_told_to_come_back_and_one_meeting_a_lapsed_claim_runs_it() {
    let app = spawn_app().await;
    let body = Value::Array(mixed());
    let key = [("idempotency-key", "hunan-2022-push-8")];
    let app = &app;
    let post = move |body: Value| async move {
        app.request(reqwest::Method::POST, "/api/v1/evaluations/batch", Some(&body), &key).await
    };
    assert_eq!(post(body.clone()).await.status, 200);
    let mut holder = app.db.connect().await;
    claim_again(app, &mut holder).await;

    let busy = post(body.clone()).await;
    let problem = busy.problem(409, "idempotency_key_in_use");
    assert!(problem["detail"].as_str().unwrap().contains("still being answered"), "{problem}");
    assert_eq!(busy.header("retry-after"), Some("2"));
    assert_eq!(app.count_rows("evaluations").await, 0, "nothing written while the first request runs");
    let other = post(Value::Array(vec![yintian()])).await;
    assert_eq!(other.problem(422, "validation_failed")["errors"][0]["code"], "reused_with_another_body");

    // The claim's time ran out (its request was dropped, its session lives on): a retry runs it.
    execute(&mut holder, "UPDATE idempotency_keys SET claimed_until = now() - interval '1 second'").await;
    let rerun = post(body.clone()).await;
    assert_eq!(rerun.status, 200, "{}", rerun.text);
    assert_eq!(rerun.header("idempotency-replayed"), None);
    assert_eq!(outcomes(&rerun.json()), ["created", "invalid", "created"]);
    assert_eq!(app.count_rows("evaluations").await, 2);
    let replay = post(body.clone()).await;
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    assert_eq!(replay.json(), rerun.json());
    let answered = app.count_rows("idempotency_keys WHERE claimed_until IS NULL AND status = 200").await;
    assert_eq!(answered, 1, "the rerun's answer is stored and the claim ended");

    // The claim's session is gone (its instance was killed): a retry runs it at once.
    claim_again(app, &mut holder).await;
    assert_eq!(post(body.clone()).await.status, 409);
    drop(holder);
    let mut gone = false;
    for _ in 0..100 {
        let sessions = app.count_rows("pg_stat_activity WHERE pid = (SELECT claimed_by FROM idempotency_keys)").await;
        if sessions == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(gone, "the holder's session ended");
    let rerun = post(body).await;
    assert_eq!(rerun.status, 200, "{}", rerun.text);
    assert_eq!(outcomes(&rerun.json()), ["created", "invalid", "created"]);
    assert_eq!(app.count_rows("evaluations").await, 2);
}

/// A batch that fails gives its key back: the key is not spent on an answer nobody stored, and
/// the corrected batch may use it.
#[tokio::test]
async fn a_failed_batch_releases_its_idempotency_key() {
    let app = spawn_app().await;
    let key = [("idempotency-key", "hunan-2022-push-9")];
    let rejected = app
        .request(reqwest::Method::POST, "/api/v1/evaluations/batch?atomic=true", Some(&Value::Array(mixed())), &key)
        .await;
    rejected.problem(422, "batch_rejected");
    assert_eq!(app.count_rows("idempotency_keys").await, 0, "the claim is released");
    let malformed = app.post_raw("/api/v1/evaluations/batch", "application/json", b"[{".to_vec()).await;
    malformed.problem(400, "malformed_json");

    let mut fixed = mixed();
    fixed.remove(1);
    let accepted = app
        .request(reqwest::Method::POST, "/api/v1/evaluations/batch?atomic=true", Some(&Value::Array(fixed)), &key)
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(outcomes(&accepted.json()), ["created", "created"]);
}

/// The same keyed batch sent twice at once (a platform retrying on another instance before the
/// first answered): the records are written once, and every 200 is the first run's answer; a
/// retry that came while the first ran is told to come back.
#[tokio::test]
async fn the_same_keyed_batch_sent_twice_at_once_is_run_once() {
    let app = spawn_app().await;
    let records: Vec<Value> = (0..400).map(|i| minimal("430482104", 2022, &format!("常宁市荫田镇第{i}单位"))).collect();
    let body = Value::Array(records);
    let key = [("idempotency-key", "hunan-2022-push-10")];
    let send = || app.request(reqwest::Method::POST, "/api/v1/evaluations/batch", Some(&body), &key);
    let (first, second) = tokio::join!(send(), send());
    let mut answered = Vec::new();
    for reply in [&first, &second] {
        match reply.status.as_u16() {
            200 => answered.push(reply.json()),
            409 => assert_eq!(reply.json()["code"], "idempotency_key_in_use"),
            other => panic!("{other}: {}", reply.text),
        }
    }
    assert!(!answered.is_empty());
    for body in &answered {
        assert_eq!(body["summary"], json!({"created": 400, "updated": 0, "unchanged": 0, "invalid": 0}));
    }
    assert_eq!(app.count_rows("evaluations").await, 400);
}

#[tokio::test]
async fn batches_are_limited_to_ten_thousand_records() {
    let app = spawn_app().await;
    let body = "{}\n".repeat(10_001).into_bytes();
    let reply = app.post_raw("/api/v1/evaluations/batch", "application/x-ndjson", body).await;
    reply.problem(422, "validation_failed");
    assert_eq!(reply.json()["errors"][0]["code"], "too_many_records");
    let reply = app.post_raw("/api/v1/evaluations/batch", "application/json", b"[1, 2".to_vec()).await;
    reply.problem(400, "malformed_json");
    // `batch` is its own path, not the record `batch`: only POST is served there.
    let reply = app.get("/api/v1/evaluations/batch").await;
    reply.problem(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("POST"));
}

/// 600 records: more than two write transactions (written on two connections at once) and more
/// than one look-up group. Every record is stored once, under its own id, and reads back whole;
/// sent again, all are unchanged; one changed record in the last group is an update.
#[tokio::test]
async fn a_large_batch_is_stored_whole_and_compared_record_by_record() {
    let app = spawn_app().await;
    let records: Vec<Value> = (0..600).map(|i| minimal("430482104", 2022, &format!("常宁市荫田镇第{i}单位"))).collect();
    let reply = batch(&app, "", &records).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let first = reply.json();
    assert_eq!(first["summary"], json!({"created": 600, "updated": 0, "unchanged": 0, "invalid": 0}));
    let ids: Vec<i64> = first["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 600, "every record has an id of its own");
    assert_eq!(app.count_rows("evaluations").await, 600);
    assert_eq!(app.count_rows("evaluation_revisions").await, 600);
    for index in [0, 249, 250, 499, 500, 599] {
        let stored = app.get(&format!("/api/v1/evaluations/{}", ids[index])).await.json();
        assert_eq!(stored["unit"], records[index]["unit"], "item {index} names the record stored under its id");
        assert_eq!(stored["income"], records[index]["income"], "item {index}");
    }

    let again = batch(&app, "", &records).await.json();
    assert_eq!(again["summary"], json!({"created": 0, "updated": 0, "unchanged": 600, "invalid": 0}));
    let mut changed = records.clone();
    changed[450]["income"]["total"] = json!("1234.00");
    let third = batch(&app, "", &changed).await.json();
    assert_eq!(third["summary"], json!({"created": 0, "updated": 1, "unchanged": 599, "invalid": 0}));
    assert_eq!(third["items"][450]["outcome"], "updated");
    assert_eq!(third["items"][450]["id"], ids[450]);
    assert_eq!(app.count_rows("evaluations").await, 600);
}
