//! Several instances on one database behave as one, behind a real load balancer: two `perfeval
//! serve` processes on one private PostgreSQL, with haproxy in front (`harness::Balancer`: round
//! robin, health checks on `/readyz`, retries on the other instance). Each test checks what a
//! user sees: statuses, bodies, headers and the stored rows.
//!
//! - an `Idempotency-Key` replays the first answer whichever instance the retry reaches;
//! - ETags and cached answers agree between instances, and a write through one is seen by the
//!   other at once;
//! - a token revoked through one instance is refused by the others within `TOKEN_CACHE_TTL`;
//! - the rate limit is per instance: behind N instances a caller gets up to N × the limit;
//! - anonymous callers behind a trusted proxy (`PERFEVAL_TRUSTED_PROXIES`) are told apart by the
//!   forwarded address;
//! - `kill -9` and SIGTERM of one instance under load lose no acknowledged write, and the balancer
//!   serves from the survivor within its health check's bound.
use std::{
    collections::{BTreeMap, HashSet},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use diesel::{
    sql_types::{Array, BigInt, Text},
    QueryableByName,
};
use serde_json::{json, Value};

use crate::harness::{admin_token, bounded, client, count, demo_lines, stored_keys};
use crate::harness::{Balancer, Cluster, Service};

/// Two instances on one private cluster, and haproxy in front of them. Dropped in this order:
/// the balancer, the instances, then the cluster.
struct Pair {
    balancer: Balancer,
    a: Service,
    b: Service,
    /// An admin token (made with the command line).
    token: String,
    cluster: Cluster,
}

async fn two_instances(label: &str, env: &[(&str, &str)]) -> Pair {
    let cluster = Cluster::start().await;
    let token = admin_token(&cluster).await;
    let (label_a, label_b) = (format!("{label}-a"), format!("{label}-b"));
    let (a, b) = tokio::join!(Service::start(&label_a, &cluster, env), Service::start(&label_b, &cluster, env));
    let balancer = Balancer::start(label, cluster.dir(), &[&a, &b]).await;
    Pair { balancer, a, b, token, cluster }
}

/// An answer, read whole.
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body[..self.body.len().min(600)]).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The problem's `code`, after checking the status and media type.
    fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.text());
        self.json()
    }
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.unwrap_or_else(|e| panic!("the request failed: {e:?}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap_or_else(|e| panic!("reading the answer failed: {e:?}")).to_vec();
    Reply { status, headers, body }
}

/// A small valid record whose identity is its unit's name (one township, one year).
fn record(unit: &str) -> Value {
    json!({
        "region_code": "430482104", "fiscal_year": 2023, "kind": "department_overall", "unit": unit,
        "income": {"total": "1000.00", "lines": [{"category": "other", "amount": "1000.00"}]},
        "expenditure": {"total": "900.00"},
    })
}

/// Records, revisions, stored idempotency answers and the newest update: what any write changes.
async fn snapshot(conn: &mut diesel_async::AsyncPgConnection) -> (i64, i64, i64, String) {
    use diesel_async::RunQueryDsl;
    #[derive(QueryableByName)]
    struct Snapshot {
        #[diesel(sql_type = BigInt)]
        records: i64,
        #[diesel(sql_type = BigInt)]
        revisions: i64,
        #[diesel(sql_type = BigInt)]
        keys: i64,
        #[diesel(sql_type = Text)]
        newest: String,
    }
    let row: Snapshot = diesel::sql_query(
        "SELECT (SELECT count(*) FROM evaluations) AS records, \
                (SELECT count(*) FROM evaluation_revisions) AS revisions, \
                (SELECT count(*) FROM idempotency_keys) AS keys, \
                (SELECT coalesce(max(updated_at)::text, '') FROM evaluations) AS newest",
    )
    .get_result(conn)
    .await
    .unwrap();
    (row.records, row.revisions, row.keys, row.newest)
}

/// The stored units of `ids`, by id.
async fn units_of(conn: &mut diesel_async::AsyncPgConnection, ids: &[i64]) -> BTreeMap<i64, String> {
    use diesel_async::RunQueryDsl;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        unit: String,
    }
    let rows: Vec<Row> = diesel::sql_query("SELECT id, unit FROM evaluations WHERE id = ANY($1)")
        .bind::<Array<BigInt>, _>(ids.to_vec())
        .load(conn)
        .await
        .unwrap();
    rows.into_iter().map(|r| (r.id, r.unit)).collect()
}

// ---------------------------------------------------------------------------------------------
// a. Idempotent retries land on either instance.

/// Records of the idempotent batch.
const IDEMPOTENT_BATCH: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idempotent_batch_replays_the_first_answer_on_every_instance() {
    bounded(Duration::from_secs(240), idempotent_replays()).await;
}

async fn idempotent_replays() {
    let pair = two_instances("balanced-idempotency", &[]).await;
    let lines = &demo_lines().await[..IDEMPOTENT_BATCH];
    let body = lines.join("\n") + "\n";
    let key = format!("balanced-idempotency-{}", std::process::id());
    let http = client(Duration::from_secs(120));
    let post = |base: &str, body: &str| {
        http.post(format!("{base}/api/v1/evaluations/batch"))
            .bearer_auth(&pair.token)
            .header("content-type", "application/x-ndjson")
            .header("idempotency-key", &key)
            .body(body.to_owned())
    };

    // The first request, to A directly.
    let first = send(post(&pair.a.base, &body)).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("idempotency-replayed"), None, "the first answer is no replay");
    let result = first.json();
    assert_eq!(result["summary"], json!({"created": IDEMPOTENT_BATCH, "updated": 0, "unchanged": 0, "invalid": 0}));
    let ids: Vec<i64> = result["items"].as_array().unwrap().iter().map(|item| item["id"].as_i64().unwrap()).collect();
    let mut conn = pair.cluster.connect().await;
    let after_first = snapshot(&mut conn).await;

    // The same request to B directly, and twice through the balancer (once to each instance).
    let mut replays = vec![("B directly", send(post(&pair.b.base, &body)).await)];
    for _ in 0..2 {
        replays.push(("the balancer", send(post(&pair.balancer.base, &body)).await));
    }
    let mut served_by = HashSet::new();
    for (via, replay) in &replays {
        assert_eq!(replay.status, first.status, "replay through {via}: {}", replay.text());
        assert_eq!(replay.header("idempotency-replayed"), Some("true"), "replay through {via}");
        assert_eq!(replay.header("content-type"), first.header("content-type"), "replay through {via}");
        assert!(replay.body == first.body, "the replay through {via} is the first answer, byte for byte");
        served_by.extend(replay.header("x-served-by").map(str::to_owned));
    }
    assert_eq!(served_by, HashSet::from(["a".to_owned(), "b".to_owned()]), "the balancer's replays came from both");

    // The database holds the batch's records, once each, and one stored answer.
    assert_eq!(snapshot(&mut conn).await, after_first, "the replays wrote nothing");
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM evaluations").await, IDEMPOTENT_BATCH as i64);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), IDEMPOTENT_BATCH, "one record per line");
    assert_eq!(units_of(&mut conn, &ids).await.len(), IDEMPOTENT_BATCH, "every id answered is stored");
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM evaluation_revisions").await, IDEMPOTENT_BATCH as i64);
    assert_eq!(stored_keys(&mut conn, &key).await, 1, "one stored answer for the key");

    // The same key with another body is refused, on B and through the balancer (both instances).
    let other = lines[..IDEMPOTENT_BATCH - 1].join("\n") + "\n";
    let mut refused_by = HashSet::new();
    for (via, base) in
        [("B", &pair.b.base), ("the balancer", &pair.balancer.base), ("the balancer", &pair.balancer.base)]
    {
        let refused = send(post(base, &other)).await;
        let problem = refused.problem(422);
        assert_eq!(problem["code"], "validation_failed", "through {via}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "Idempotency-Key", "through {via}: {problem}");
        assert_eq!(problem["errors"][0]["code"], "reused_with_another_body", "through {via}: {problem}");
        assert_eq!(refused.header("idempotency-replayed"), None);
        if via == "the balancer" {
            refused_by.extend(refused.header("x-served-by").map(str::to_owned));
        }
    }
    assert_eq!(refused_by.len(), 2, "both instances refused the other body: {refused_by:?}");
    assert_eq!(snapshot(&mut conn).await, after_first, "a refused reuse writes nothing");
    eprintln!(
        "[failures] balanced: a {IDEMPOTENT_BATCH}-record batch sent to A was replayed byte for byte ({} bytes) by B \
         and by the balancer (served by {served_by:?}); another body under the key was refused 422 by both",
        first.body.len()
    );
}

// ---------------------------------------------------------------------------------------------
// b. ETags and the cache agree.

const AGGREGATE: &str = "/api/v1/aggregates?measures=records,expenditure.total&group_by=county";
const LIST: &str = "/api/v1/evaluations?fiscal_year=2018&limit=20";
/// Records stored before the reads.
const STORED_FOR_READS: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn etags_and_cached_answers_agree_across_instances_and_a_write_through_one_is_seen_by_the_other() {
    bounded(Duration::from_secs(240), etags_agree()).await;
}

/// The aggregate's record count over every row.
fn records_in(reply: &Reply) -> i64 {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["rows"].as_array().unwrap().iter().map(|row| row["records"].as_i64().unwrap()).sum()
}

async fn etags_agree() {
    let pair = two_instances("balanced-etags", &[]).await;
    let lines = &demo_lines().await[..STORED_FOR_READS];
    crate::harness::import(&pair.cluster, lines, "stored.ndjson").await;
    let http = client(Duration::from_secs(60));
    let get = |base: &str, path: &str, if_none_match: Option<&str>| {
        let request = http.get(format!("{base}{path}")).bearer_auth(&pair.token);
        match if_none_match {
            Some(tag) => request.header("if-none-match", tag),
            None => request,
        }
    };

    let mut tags = BTreeMap::new();
    for path in [AGGREGATE, LIST] {
        // A computes the answer, then B: one tag and one body. Asked again, each answers from its
        // cache, and the balancer's answers (one from each) are the same.
        let at_a = send(get(&pair.a.base, path, None)).await;
        assert_eq!(at_a.status, 200, "{path} at A: {}", at_a.text());
        let tag = at_a.header("etag").unwrap_or_else(|| panic!("{path} has no ETag")).to_owned();
        let mut served_by = HashSet::new();
        for (via, base) in [
            ("B", &pair.b.base),
            ("A again", &pair.a.base),
            ("B again", &pair.b.base),
            ("the balancer", &pair.balancer.base),
            ("the balancer", &pair.balancer.base),
        ] {
            let reply = send(get(base, path, None)).await;
            assert_eq!(reply.status, 200, "{path} through {via}: {}", reply.text());
            assert_eq!(reply.header("etag"), Some(tag.as_str()), "{path} through {via}: the same tag as A's");
            assert!(reply.body == at_a.body, "{path} through {via}: the same body as A's");
            assert_eq!(reply.header("cache-control"), at_a.header("cache-control"), "{path} through {via}");
            served_by.extend(reply.header("x-served-by").map(str::to_owned));
        }
        assert_eq!(served_by.len(), 2, "{path}: the balancer answered from both instances");
        // A's tag revalidates at B, and through the balancer at both.
        for (via, base) in
            [("B", &pair.b.base), ("the balancer", &pair.balancer.base), ("the balancer", &pair.balancer.base)]
        {
            let reply = send(get(base, path, Some(tag.as_str()))).await;
            assert_eq!(reply.status, 304, "{path} with A's tag through {via}: {}", reply.text());
            assert!(reply.body.is_empty(), "a 304 has no body");
            assert_eq!(reply.header("etag"), Some(tag.as_str()), "{path} through {via}");
        }
        tags.insert(path, (tag, at_a.body));
    }
    let before = records_in(&Reply { status: 200, headers: Default::default(), body: tags[AGGREGATE].1.clone() });
    assert_eq!(before, STORED_FOR_READS as i64);

    // A write through B ...
    let created =
        send(http.post(pair.b.url("/api/v1/evaluations")).bearer_auth(&pair.token).json(&record("跨实例写入测试单位")))
            .await;
    assert_eq!(created.status, 201, "{}", created.text());
    // ... is in the next aggregate through A, under a new tag; A's old tag no longer matches.
    let (old_tag, _) = &tags[AGGREGATE];
    let at_a = send(get(&pair.a.base, AGGREGATE, Some(old_tag.as_str()))).await;
    assert_eq!(at_a.status, 200, "the old tag at A after a write through B: {}", at_a.text());
    let new_tag = at_a.header("etag").unwrap().to_owned();
    assert_ne!(&new_tag, old_tag, "the write through B moved A's tag");
    assert_eq!(records_in(&at_a), before + 1, "A's aggregate shows the write through B");
    let at_b = send(get(&pair.b.base, AGGREGATE, None)).await;
    assert_eq!(at_b.header("etag"), Some(new_tag.as_str()));
    assert!(at_b.body == at_a.body, "B agrees with A after the write");
    // Every tagged read moved, even one whose rows the write did not touch.
    let (old_list_tag, old_list) = &tags[LIST];
    let list = send(get(&pair.a.base, LIST, Some(old_list_tag.as_str()))).await;
    assert_eq!(list.status, 200, "{}", list.text());
    assert_ne!(list.header("etag"), Some(old_list_tag.as_str()));
    assert!(&list.body == old_list, "the 2018 list itself is unchanged by a 2023 record");
    eprintln!(
        "[failures] balanced: aggregate and list agreed through A, B and the balancer (tags {} and {}); A's tags \
         answered 304 at B; after a write through B, A's aggregate showed {} records under {new_tag}",
        tags[AGGREGATE].0,
        tags[LIST].0,
        before + 1
    );
}

// ---------------------------------------------------------------------------------------------
// c. A token revoked through one instance is refused by all within the token cache's lifetime.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_revoked_through_one_instance_is_refused_by_every_instance_within_the_token_cache_ttl() {
    bounded(Duration::from_secs(180), revocation()).await;
}

async fn revocation() {
    let ttl = perfeval::caller::TOKEN_CACHE_TTL;
    let margin = Duration::from_millis(1_000);
    let pair = two_instances("balanced-revocation", &[]).await;
    let http = client(Duration::from_secs(30));
    let made = send(
        http.post(pair.a.url("/api/v1/tokens"))
            .bearer_auth(&pair.token)
            .json(&json!({"name": "balanced-reviewer", "role": "reviewer", "region_code": "43"})),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let reviewer = made.json()["token"].as_str().unwrap().to_owned();
    let read = |base: &str| http.get(format!("{base}/api/v1/evaluations?limit=1")).bearer_auth(&reviewer);

    // Used through A, B and the balancer: each instance has resolved (and cached) it.
    let mut cached_at_b = Instant::now();
    for (via, base) in [("A", &pair.a.base), ("B", &pair.b.base), ("the balancer", &pair.balancer.base)] {
        let reply = send(read(base)).await;
        assert_eq!(reply.status, 200, "the new token through {via}: {}", reply.text());
        if via == "B" {
            cached_at_b = Instant::now();
        }
    }

    // Revoked through A: A refuses it at once.
    let revoked = send(http.delete(pair.a.url("/api/v1/tokens/balanced-reviewer")).bearer_auth(&pair.token)).await;
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    let revoked_at = Instant::now();
    let problem = send(read(&pair.a.base)).await.problem(401);
    assert_eq!(problem["code"], "unauthorized");

    // B, within the cache's lifetime (counted from the revocation; its entry is older).
    let mut accepted_by_b = 0;
    let refused_after = loop {
        let reply = send(read(&pair.b.base)).await;
        match reply.status {
            200 => accepted_by_b += 1,
            401 => break revoked_at.elapsed(),
            other => panic!("B answered {other}: {}", reply.text()),
        }
        assert!(
            revoked_at.elapsed() <= ttl + margin,
            "B still accepted the revoked token {:?} after the revocation (TOKEN_CACHE_TTL {ttl:?})",
            revoked_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(refused_after <= ttl + margin, "B refused it {refused_after:?} after the revocation");

    // From then on no instance accepts it, directly or through the balancer.
    let mut refusals = 0;
    let until = Instant::now() + Duration::from_millis(1_500);
    while Instant::now() < until {
        for (via, base) in [("A", &pair.a.base), ("B", &pair.b.base), ("the balancer", &pair.balancer.base)] {
            let reply = send(read(base)).await;
            assert_eq!(reply.status, 401, "the revoked token through {via}: {}", reply.text());
            refusals += 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "[failures] balanced: token revoked through A: A refused it at once; B accepted it {accepted_by_b} more \
         time(s) and refused it {} ms after the revocation ({} ms after B cached it; TOKEN_CACHE_TTL {} ms); then \
         {refusals} requests through A, B and the balancer were all 401",
        refused_after.as_millis(),
        (revoked_at + refused_after).duration_since(cached_at_b).as_millis(),
        ttl.as_millis()
    );
}

// ---------------------------------------------------------------------------------------------
// d. The rate limit across instances.

const RATE_LIMIT: u32 = 10;
const BURST: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn behind_two_instances_a_caller_gets_up_to_twice_the_rate_limit() {
    bounded(Duration::from_secs(180), rate_limit_per_instance()).await;
}

/// One answer of a burst.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// The instance that answered (`X-Served-By`).
    served_by: String,
    retry_after: Option<String>,
}

/// Sends the requests at once; returns their answers, and how long the burst took from the first
/// send to the last answer.
async fn burst(requests: Vec<reqwest::RequestBuilder>) -> (Vec<Answer>, Duration) {
    let started = Instant::now();
    let answers = futures_util::future::join_all(requests.into_iter().map(|request| async move {
        let reply = send(request).await;
        Answer {
            status: reply.status,
            served_by: reply.header("x-served-by").unwrap_or("").to_owned(),
            retry_after: reply.header("retry-after").map(str::to_owned),
        }
    }))
    .await;
    (answers, started.elapsed())
}

async fn rate_limit_per_instance() {
    let limit = RATE_LIMIT.to_string();
    let pair = two_instances("balanced-rate", &[("PERFEVAL_RATE_LIMIT", &limit)]).await;
    let http = client(Duration::from_secs(30));
    let requests =
        (0..BURST).map(|_| http.get(pair.balancer.url("/api/v1/regions/43")).bearer_auth(&pair.token)).collect();
    let (answers, took) = burst(requests).await;
    let accepted: Vec<&String> = answers.iter().filter(|a| a.status == 200).map(|a| &a.served_by).collect();
    let limited = answers.iter().filter(|a| a.status == 429).count();
    assert_eq!(accepted.len() + limited, BURST, "every answer is 200 or 429: {answers:?}");
    for answer in answers.iter().filter(|a| a.status == 429) {
        assert!(answer.retry_after.as_deref().is_some_and(|s| s.parse::<u64>().is_ok()), "429 names its Retry-After");
    }
    // Each bucket starts full (RATE_LIMIT) and refills RATE_LIMIT a second.
    let rate = f64::from(RATE_LIMIT);
    let refill = (rate * took.as_secs_f64()).ceil() as usize;
    let one = RATE_LIMIT as usize;
    let by_instance = |name: &str| accepted.iter().filter(|by| by.as_str() == name).count();
    let (at_a, at_b) = (by_instance("a"), by_instance("b"));
    eprintln!(
        "[failures] balanced: rate limit {RATE_LIMIT}/s per instance, {BURST} requests at once through the balancer \
         with one token in {} ms: {} accepted ({at_a} by A, {at_b} by B), {limited} answered 429; one instance \
         allows {one} + {refill} refilled, two {} + {}",
        took.as_millis(),
        accepted.len(),
        2 * one,
        2 * refill
    );
    assert!(accepted.len() >= one, "at least one instance's allowance");
    assert!(accepted.len() <= 2 * (one + refill), "at most two instances' allowance and refill");
    // Each instance keeps its own bucket, so together they let more through than one would.
    assert!(accepted.len() > one + refill, "the limit is per instance: more than one instance's allowance");
    for (name, n) in [("A", at_a), ("B", at_b)] {
        assert!((one..=one + refill).contains(&n), "{name} accepted {n}: its own allowance");
    }
}

// ---------------------------------------------------------------------------------------------
// Forwarded client addresses (`PERFEVAL_TRUSTED_PROXIES`).

/// haproxy's address towards the service; the two anonymous callers' addresses towards haproxy.
const PROXY: &str = "127.0.0.2";
const CALLER_X: &str = "127.0.0.3";
const CALLER_Y: &str = "127.0.0.4";
const ANONYMOUS_LIMIT: u32 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn anonymous_callers_behind_a_trusted_proxy_get_their_own_allowance_and_cannot_forge_one() {
    bounded(Duration::from_secs(180), forwarded_addresses()).await;
}

/// A client whose connections come from `address`, optionally sending `X-Forwarded-For: forged`.
fn anonymous_burst(address: &str, forged: Option<&str>, balancer: &Balancer) -> Vec<reqwest::RequestBuilder> {
    let http = reqwest::Client::builder()
        .local_address(address.parse::<std::net::IpAddr>().unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    (0..2 * ANONYMOUS_LIMIT as usize)
        .map(|_| {
            let request = http.get(balancer.url("/api/v1/model"));
            match forged {
                Some(forged) => request.header("x-forwarded-for", forged),
                None => request,
            }
        })
        .collect()
}

fn accepted(answers: &[Answer]) -> usize {
    assert!(answers.iter().all(|a| a.status == 200 || a.status == 429), "200 or 429 only: {answers:?}");
    answers.iter().filter(|a| a.status == 200).count()
}

async fn forwarded_addresses() {
    let cluster = Cluster::start().await;
    admin_token(&cluster).await;
    let limit = ANONYMOUS_LIMIT.to_string();
    let rate = f64::from(ANONYMOUS_LIMIT);
    let one = ANONYMOUS_LIMIT as usize;
    let refill = |since: Instant| (rate * since.elapsed().as_secs_f64()).ceil() as usize;
    let mut figures = Vec::new();
    for trusted in [true, false] {
        let label = if trusted { "balanced-forwarded-trusted" } else { "balanced-forwarded-untrusted" };
        let mut env = vec![("PERFEVAL_RATE_LIMIT", limit.as_str())];
        if trusted {
            env.push(("PERFEVAL_TRUSTED_PROXIES", PROXY));
        }
        let service = Service::start(label, &cluster, &env).await;
        let balancer = Balancer::start_from(label, cluster.dir(), &[&service], Some(PROXY)).await;
        // The model computed once (by a caller of its own, 127.0.0.1 directly), so the bursts are quick.
        let warm = send(client(Duration::from_secs(30)).get(service.url("/api/v1/model"))).await;
        assert_eq!(warm.status, 200, "{}", warm.text());
        let started = Instant::now();
        let x = accepted(&burst(anonymous_burst(CALLER_X, None, &balancer)).await.0);
        // X again, claiming to forward for another address: haproxy appends X's own address, the
        // rightmost one no trusted proxy vouches for, so the claim changes nothing.
        let forged = accepted(&burst(anonymous_burst(CALLER_X, Some("198.51.100.9"), &balancer)).await.0);
        let y = accepted(&burst(anonymous_burst(CALLER_Y, None, &balancer)).await.0);
        let bound = refill(started);
        assert!(bound < one, "the bursts took too long ({:?}) to tell the allowances apart", started.elapsed());
        figures.push(format!(
            "{}: X {x}, X forging X-Forwarded-For {forged}, Y {y} of {} each (refill bound {bound})",
            if trusted { "trusted proxy" } else { "no trusted proxy" },
            2 * one
        ));
        assert!((one..=one + bound).contains(&x), "{label}: X's burst got one allowance: {x}");
        assert!(forged <= bound, "{label}: a forged X-Forwarded-For gets no allowance of its own: {forged}");
        if trusted {
            assert!((one..=one + bound).contains(&y), "{label}: Y has its own allowance: {y}");
        } else {
            assert!(y <= bound, "{label}: without PERFEVAL_TRUSTED_PROXIES, Y shares the proxy's allowance: {y}");
        }
    }
    eprintln!(
        "[failures] balanced: anonymous bursts through haproxy (limit {ANONYMOUS_LIMIT}/s): {}",
        figures.join("; ")
    );

    // A malformed entry stops start-up, naming the setting.
    let output = tokio::process::Command::new(crate::harness::BIN)
        .arg("serve")
        .env("DATABASE_URL", &cluster.url)
        .env("PERFEVAL_LISTEN", "127.0.0.1:0")
        .env("PERFEVAL_TRUSTED_PROXIES", "127.0.0.2,balancer.internal")
        .current_dir(cluster.dir())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), output).await.expect("it exits").unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("PERFEVAL_TRUSTED_PROXIES") && stderr.contains("`balancer.internal` is not an IP address"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// e. kill -9 and SIGTERM of one instance under load.

/// Concurrent writers through the balancer.
const WRITERS: usize = 6;
/// Writing before the instance is stopped, and after.
const BEFORE: Duration = Duration::from_millis(1_500);
const AFTER: Duration = Duration::from_millis(2_500);
/// The writers' units begin so.
const UNIT_PREFIX: &str = "负载写入单位-";
/// Attempts of one write (the same key each time) before a writer gives up.
const ATTEMPTS: usize = 50;

/// One acknowledged write.
#[derive(Debug, Clone)]
struct Acked {
    key: String,
    unit: String,
    id: i64,
    at: Instant,
    /// Answered from the stored answer of an earlier attempt.
    replayed: bool,
}

/// One failed attempt, as the client saw it.
#[derive(Debug, Clone)]
struct Failed {
    at: Instant,
    what: String,
}

#[derive(Default)]
struct Load {
    acked: Vec<Acked>,
    failed: Vec<Failed>,
    /// Writes abandoned after `ATTEMPTS` failures.
    abandoned: Vec<String>,
}

/// `WRITERS` writers, each creating records one after the other through the balancer, each with
/// an `Idempotency-Key` of its own, sent again (same key, same body) after a failure, as a careful
/// client does, until `stop` is set.
fn start_writers(
    balancer: &Balancer,
    token: &str,
    label: &str,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Load>> {
    let http = client(Duration::from_secs(20));
    (0..WRITERS)
        .map(|writer| {
            let (http, url, token, stop, label) =
                (http.clone(), balancer.url("/api/v1/evaluations"), token.to_owned(), stop.clone(), label.to_owned());
            tokio::spawn(async move {
                let mut load = Load::default();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let key = format!("{label}-{writer}-{n}");
                    let unit = format!("{UNIT_PREFIX}{label}-{writer}-{n}");
                    let body = record(&unit);
                    let mut attempts = 0;
                    loop {
                        attempts += 1;
                        let sent = http
                            .post(&url)
                            .bearer_auth(&token)
                            .header("idempotency-key", &key)
                            .json(&body)
                            .send()
                            .await;
                        let what = match sent {
                            Ok(response) if response.status() == 201 => {
                                let replayed = response.headers().contains_key("idempotency-replayed");
                                match response.json::<Value>().await {
                                    Ok(view) => {
                                        let id = view["id"].as_i64().expect("a created record has an id");
                                        load.acked.push(Acked {
                                            key: key.clone(),
                                            unit: unit.clone(),
                                            id,
                                            at: Instant::now(),
                                            replayed,
                                        });
                                        break;
                                    }
                                    Err(error) => format!("reading the answer: {error}"),
                                }
                            }
                            Ok(response) => {
                                let status = response.status();
                                format!("{status}: {}", response.text().await.unwrap_or_default())
                            }
                            Err(error) => format!("{error:?}"),
                        };
                        load.failed.push(Failed { at: Instant::now(), what });
                        if attempts >= ATTEMPTS {
                            load.abandoned.push(key);
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                load
            })
        })
        .collect()
}

async fn finish(writers: Vec<tokio::task::JoinHandle<Load>>) -> Load {
    let mut all = Load::default();
    for writer in writers {
        let load = writer.await.unwrap();
        all.acked.extend(load.acked);
        all.failed.extend(load.failed);
        all.abandoned.extend(load.abandoned);
    }
    all
}

/// Every acknowledged write is stored, once, as acknowledged; nothing else was written.
async fn check_acknowledged(conn: &mut diesel_async::AsyncPgConnection, load: &Load, label: &str, other_records: i64) {
    use diesel_async::RunQueryDsl;
    assert!(load.abandoned.is_empty(), "writes given up after {ATTEMPTS} attempts: {:?}", load.abandoned);
    let ids: Vec<i64> = load.acked.iter().map(|a| a.id).collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "each acknowledged write its own record");
    let keys: HashSet<&str> = load.acked.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys.len(), ids.len(), "each write acknowledged once");
    let stored = units_of(conn, &ids).await;
    let missing: Vec<&Acked> = load.acked.iter().filter(|a| stored.get(&a.id) != Some(&a.unit)).collect();
    assert!(missing.is_empty(), "{} acknowledged writes are not stored as acknowledged: {missing:#?}", missing.len());
    assert_eq!(
        count(conn, "SELECT count(*) AS n FROM evaluations").await,
        other_records + load.acked.len() as i64,
        "the database holds the acknowledged writes and nothing more"
    );
    let keys = diesel::sql_query("SELECT count(*) AS n FROM idempotency_keys WHERE key LIKE $1")
        .bind::<Text, _>(format!("{label}-%"));
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let keys: N = keys.get_result(conn).await.unwrap();
    assert_eq!(keys.n, load.acked.len() as i64, "one stored answer per write");
}

/// What the clients and haproxy saw around the moment `stopped` an instance was stopped.
struct AroundTheStop {
    acked_before: usize,
    acked_after: usize,
    replayed: usize,
    failed_after: usize,
    last_failure_after: Option<Duration>,
    down_after: Duration,
    /// Writes haproxy sent again (to the other instance) after the stop.
    retried: usize,
    /// Writes haproxy answered with an error of its own (5xx), or ended abnormally, after the stop.
    balancer_errors: usize,
    abnormal: usize,
    last_to_a_after: Option<Duration>,
}

fn around_the_stop(load: &Load, balancer: &Balancer, stopped: Instant, down_at: Instant) -> AroundTheStop {
    let logged = balancer.requests();
    let after_stop: Vec<_> =
        logged.iter().filter(|r| r.at >= stopped && r.method == "POST" && r.path == "/api/v1/evaluations").collect();
    AroundTheStop {
        acked_before: load.acked.iter().filter(|a| a.at < stopped).count(),
        acked_after: load.acked.iter().filter(|a| a.at >= stopped).count(),
        replayed: load.acked.iter().filter(|a| a.replayed).count(),
        failed_after: load.failed.iter().filter(|f| f.at >= stopped).count(),
        last_failure_after: load.failed.iter().filter(|f| f.at >= stopped).map(|f| f.at - stopped).max(),
        down_after: down_at.saturating_duration_since(stopped),
        retried: after_stop.iter().filter(|r| r.retries > 0 || r.redispatched).count(),
        balancer_errors: after_stop.iter().filter(|r| r.status >= 500).count(),
        abnormal: after_stop.iter().filter(|r| r.termination != "----").count(),
        last_to_a_after: after_stop.iter().filter(|r| r.server == "a").map(|r| r.at - stopped).max(),
    }
}

/// The health check's bound: `CHECK_FALL` failed checks `CHECK_INTERVAL` apart, each taking at
/// most `CHECK_TIMEOUT`, and a margin for a busy machine.
fn check_bound() -> Duration {
    Balancer::CHECK_INTERVAL * Balancer::CHECK_FALL + Balancer::CHECK_TIMEOUT + Duration::from_millis(1_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_of_one_instance_under_load_loses_no_acknowledged_write_and_the_other_keeps_serving() {
    bounded(Duration::from_secs(240), kill_9_under_load()).await;
}

async fn kill_9_under_load() {
    let label = "balanced-kill9";
    let mut pair = two_instances(label, &[]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let writers = start_writers(&pair.balancer, &pair.token, label, stop.clone());
    tokio::time::sleep(BEFORE).await;
    pair.a.kill9();
    let killed = Instant::now();
    tokio::time::sleep(AFTER).await;
    stop.store(true, Ordering::Relaxed);
    let load = finish(writers).await;

    let down_at = pair
        .balancer
        .wait_logged("Server perfeval/a is DOWN", killed, Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("haproxy never took A out:\n{}", pair.balancer.log_tail(20)));
    let seen = around_the_stop(&load, &pair.balancer, killed, down_at);
    eprintln!(
        "[failures] balanced: kill -9 of A under {WRITERS} writers: {} writes acknowledged ({} before the kill, {} \
         after; {} answered by replay), {} failed attempts seen by clients after the kill (last {:?} after it), \
         haproxy retried {} writes on B ({} answered 5xx, {} ended abnormally), marked A DOWN {} ms after the \
         kill (bound {} ms: {} checks {} ms apart), last write logged for A {:?} after the kill",
        load.acked.len(),
        seen.acked_before,
        seen.acked_after,
        seen.replayed,
        seen.failed_after,
        seen.last_failure_after,
        seen.retried,
        seen.balancer_errors,
        seen.abnormal,
        seen.down_after.as_millis(),
        check_bound().as_millis(),
        Balancer::CHECK_FALL,
        Balancer::CHECK_INTERVAL.as_millis(),
        seen.last_to_a_after,
    );
    for failure in load.failed.iter().take(5) {
        eprintln!("[failures] balanced: kill -9: a failed attempt: {}", failure.what);
    }
    let mut conn = pair.cluster.connect().await;
    check_acknowledged(&mut conn, &load, label, 0).await;
    assert!(seen.acked_before > 0 && seen.acked_after > 0, "writes were acknowledged before and after the kill");
    assert!(seen.down_after <= check_bound(), "A was taken out {:?} after the kill", seen.down_after);
    if let Some(last) = seen.last_failure_after {
        assert!(last <= check_bound(), "clients still failed {last:?} after the kill");
    }
    let early = load.failed.iter().find(|f| f.at < killed);
    assert!(early.is_none(), "a write failed before the kill: {early:?}");
    // B serves every request from then on.
    let http = client(Duration::from_secs(10));
    for _ in 0..10 {
        let reply = send(http.get(pair.balancer.url("/api/v1/regions/43")).bearer_auth(&pair.token)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.header("x-served-by"), Some("b"));
    }
}

/// Records of the batch sent to A directly while it is stopped with SIGTERM.
const IN_FLIGHT_BATCH: usize = 1_500;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_of_one_instance_under_load_finishes_its_requests_and_loses_no_acknowledged_write() {
    bounded(Duration::from_secs(300), sigterm_under_load()).await;
}

async fn sigterm_under_load() {
    let label = "balanced-sigterm";
    let mut pair = two_instances(label, &[]).await;
    let lines = &demo_lines().await[..IN_FLIGHT_BATCH];
    let stop = Arc::new(AtomicBool::new(false));
    let writers = start_writers(&pair.balancer, &pair.token, label, stop.clone());
    tokio::time::sleep(BEFORE).await;

    // A batch in flight at A (sent to it directly), writing when the signal comes.
    let batch = {
        let request = client(Duration::from_secs(120))
            .post(pair.a.url("/api/v1/evaluations/batch"))
            .bearer_auth(&pair.token)
            .header("content-type", "application/x-ndjson")
            .header("idempotency-key", format!("batch-{label}"))
            .body(lines.join("\n") + "\n");
        tokio::spawn(send(request))
    };
    let mut conn = pair.cluster.connect().await;
    let sent = Instant::now();
    // Signalled once part of the batch is committed (it commits a few hundred records at a time).
    let committed_at_signal = loop {
        assert!(!batch.is_finished(), "the batch was answered before the signal could be sent");
        assert!(sent.elapsed() < Duration::from_secs(60), "the batch never started writing");
        let committed =
            count(&mut conn, &format!("SELECT count(*) AS n FROM evaluations WHERE unit NOT LIKE '{UNIT_PREFIX}%'"))
                .await;
        if committed > 0 {
            break committed;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert!(!batch.is_finished(), "the batch was answered before the signal could be sent");
    pair.a.signal(libc::SIGTERM);
    let signalled = Instant::now();
    tokio::time::sleep(AFTER).await;
    stop.store(true, Ordering::Relaxed);
    let load = finish(writers).await;
    let answer = tokio::time::timeout(Duration::from_secs(60), batch).await.expect("the batch is answered").unwrap();
    let batch_answered = signalled.elapsed();
    let exit = pair.a.wait_exit(Duration::from_secs(40)).await;
    let exited = signalled.elapsed();

    let down_at = pair
        .balancer
        .wait_logged("Server perfeval/a is DOWN", signalled, Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("haproxy never took A out:\n{}", pair.balancer.log_tail(20)));
    let seen = around_the_stop(&load, &pair.balancer, signalled, down_at);
    eprintln!(
        "[failures] balanced: SIGTERM of A under {WRITERS} writers and a {IN_FLIGHT_BATCH}-record batch \
         ({committed_at_signal} records of it committed at the signal): {} writes acknowledged ({} before the \
         signal, {} after; {} answered by replay), {} failed attempts seen by clients after the signal (last {:?} \
         after it), haproxy retried {} writes on B ({} answered 5xx, {} ended abnormally), marked A DOWN {} ms \
         after the signal, last write served by A {:?} after it; the batch answered {} {} ms after the signal; A \
         exited {exit:?} {} ms after the signal",
        load.acked.len(),
        seen.acked_before,
        seen.acked_after,
        seen.replayed,
        seen.failed_after,
        seen.last_failure_after,
        seen.retried,
        seen.balancer_errors,
        seen.abnormal,
        seen.down_after.as_millis(),
        seen.last_to_a_after,
        answer.status,
        batch_answered.as_millis(),
        exited.as_millis(),
    );
    for failure in load.failed.iter().take(5) {
        eprintln!("[failures] balanced: SIGTERM: a failed attempt: {}", failure.what);
    }
    // The request in flight finished, whole.
    assert_eq!(answer.status, 200, "the in-flight batch: {}", answer.text());
    let result = answer.json();
    assert_eq!(result["summary"], json!({"created": IN_FLIGHT_BATCH, "updated": 0, "unchanged": 0, "invalid": 0}));
    let batch_ids: Vec<i64> =
        result["items"].as_array().unwrap().iter().map(|item| item["id"].as_i64().unwrap()).collect();
    assert_eq!(units_of(&mut conn, &batch_ids).await.len(), IN_FLIGHT_BATCH, "the batch's records are stored");
    // Nothing acknowledged is lost, and B kept serving.
    check_acknowledged(&mut conn, &load, label, IN_FLIGHT_BATCH as i64).await;
    assert!(seen.acked_after > 0, "writes were acknowledged after the signal");
    assert!(seen.down_after <= check_bound(), "A was taken out {:?} after the signal", seen.down_after);
    if let Some(last) = seen.last_failure_after {
        assert!(last <= check_bound(), "clients still failed {last:?} after the signal");
    }
    let status = exit.unwrap_or_else(|| panic!("A did not exit within 40 s of SIGTERM"));
    assert_eq!(status.code(), Some(0), "A's exit after SIGTERM: {status}");
}
