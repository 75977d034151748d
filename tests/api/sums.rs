//! The pre-aggregated sums (`evaluation_sums`): kept exact by every write, and what the
//! aggregates they can answer are answered from.
use diesel::{sql_types::BigInt, QueryableByName};
use diesel_async::RunQueryDsl;
use perfeval::db::{indicator_sums, sums};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{minimal, spawn_app, TestApp};

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An amount in 元 with two decimals, or none.
    fn amount(&mut self) -> Option<String> {
        (self.below(5) > 0).then(|| format!("{}.{:02}", self.below(100_000), self.below(100)))
    }

    /// An indicator's target or actual, with none, one or two decimals, or none at all.
    fn figure(&mut self) -> Option<String> {
        (self.below(4) > 0).then(|| match self.below(3) {
            0 => self.below(200).to_string(),
            1 => format!("{}.{}", self.below(100), self.below(10)),
            _ => format!("{}.{:02}", self.below(100), self.below(100)),
        })
    }
}

/// Up to four indicator rows of library codes: given a code, or matched to HN-02 by name; with
/// a target, an actual, both or neither; some not applicable; AH-05 (项目总成本, `<=`) on projects.
fn random_indicators(r: &mut Random, project: bool) -> Value {
    let mut rows = Vec::new();
    for _ in 0..r.below(5) {
        let (name, code, level_2) = match r.below(5) {
            0 => ("排查农村自建房屋", None, "quantity"),
            1 => ("排查农村自建房屋", Some("HN-02"), "quantity"),
            2 => ("各村聘请保洁员", Some("HN-03"), "quantity"),
            3 if project => ("项目总成本", Some("AH-05"), "cost"),
            _ => ("群众满意度", Some("HN-07"), "quantity"),
        };
        let mut row = json!({"level_1": "output", "level_2": level_2, "name": name});
        if let Some(code) = code {
            row["code"] = json!(code);
        }
        if let Some(target) = r.figure() {
            row["target"] = json!(target);
        }
        if let Some(actual) = r.figure() {
            row["actual"] = json!(actual);
        }
        if r.below(6) == 0 {
            row["applicable"] = json!(false);
        }
        rows.push(row);
    }
    Value::Array(rows)
}

const TOWNSHIPS: [&str; 6] = ["430482101", "430482104", "430481001", "430481100", "430502001", "420102002"];
const GRADES: [&str; 4] = ["excellent", "good", "fair", "poor"];

fn random_record(r: &mut Random, township: &str, year: i32, project: Option<usize>) -> Value {
    let mut record = minimal(township, year, &format!("{township}单位"));
    if let Some(p) = project {
        record["kind"] = json!("project");
        record["project"] = json!({"name": format!("项目{p}")});
    }
    record["expenditure"] = match r.amount() {
        Some(total) => json!({"total": total}),
        None => json!({}),
    };
    record["three_public_expenses"] = match r.amount() {
        Some(total) => json!({"total": total}),
        None => json!({}),
    };
    if r.below(3) > 0 {
        record["profile"] = json!({"staff_at_year_end": r.below(60)});
    }
    record["indicators"] = random_indicators(r, project.is_some());
    if r.below(2) == 0 {
        record["conclusion"] = json!({
            "total_score": format!("{}.{:02}", 60 + r.below(40), r.below(100)),
            "grade": GRADES[r.below(4) as usize],
        });
    }
    record
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Keys where the sums (base and deltas) and a recount of the records differ, in any column;
/// and the keys of the recount.
async fn differences(app: &TestApp) -> (i64, i64) {
    differences_of(app, &sums::recount_sql(), &sums::totals_sql()).await
}

/// The same for the province sums.
async fn province_differences(app: &TestApp) -> (i64, i64) {
    differences_of(app, &sums::province_recount_sql(), &sums::province_totals_sql()).await
}

/// The same for the indicator sums, recounted from the indicator rows.
async fn indicator_differences(app: &TestApp) -> (i64, i64) {
    differences_of(app, &indicator_sums::recount_sql(), &indicator_sums::totals_sql()).await
}

async fn differences_of(app: &TestApp, recount: &str, totals: &str) -> (i64, i64) {
    let mut conn = app.db.connect().await;
    let differ: Count = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM (({recount} EXCEPT {totals}) UNION ALL ({totals} EXCEPT {recount})) d"
    ))
    .get_result(&mut conn)
    .await
    .unwrap();
    let keys: Count =
        diesel::sql_query(format!("SELECT count(*) AS n FROM ({recount}) r")).get_result(&mut conn).await.unwrap();
    (differ.n, keys.n)
}

async fn aggregate(app: &TestApp, query: &str) -> Value {
    let reply = app.get(&format!("/api/v1/aggregates?{query}")).await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.text);
    reply.json()
}

/// The queries the sums answer, each also asked with `q` (a text search, which only the records
/// answer): every test unit's name holds 单位.
const QUERIES: [&str; 9] = [
    "measures=expenditure.total,three_public.total,records&group_by=county,fiscal_year",
    "measures=expenditure.total&group_by=province,fiscal_year&compare=previous_year",
    "measures=expenditure.total,three_public.total&group_by=prefecture&fiscal_year=2022&rollup=true&share=parent",
    "measures=score:avg,staff:count,three_public.per_staff&group_by=grade,kind",
    "measures=expenditure.total&group_by=county&fiscal_year=2021&rank=true&order=-expenditure.total",
    "measures=execution_rate,staff:avg&group_by=status,fiscal_year&region=4304",
    "measures=indicator.HN-02.actual,indicator.HN-02.completion,indicator.HN-07.actual:avg,records&group_by=county,fiscal_year",
    "measures=indicator.HN-03.actual:count,indicator.AH-05.completion,expenditure.total&group_by=prefecture,kind&rollup=true",
    "measures=indicator.HN-02.actual:avg,indicator.HN-02.actual&group_by=grade,fiscal_year&compare=previous_year",
];

/// Queries whose pages the statement cuts from the sums (one level, ordered by dimensions), each
/// walked page by page and also asked with `q`, whose every group the service sorts and pages.
const PAGED: [&str; 4] = [
    "measures=expenditure.total,records&group_by=county,fiscal_year&limit=3",
    "measures=score:avg,records&group_by=grade,status,kind&order=-grade&limit=2",
    "measures=expenditure.total&group_by=fiscal_year,prefecture&order=-fiscal_year,prefecture&limit=2",
    "measures=indicator.HN-02.actual,indicator.HN-07.completion&group_by=county,fiscal_year&limit=3",
];

/// Every page of a query, walked by `next_cursor`: each page's rows and record count.
async fn pages(app: &TestApp, query: &str) -> Vec<(Value, Value)> {
    let mut pages = Vec::new();
    let mut path = query.to_owned();
    loop {
        let page = aggregate(app, &path).await;
        pages.push((page["rows"].clone(), page["records"].clone()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{query}&cursor={cursor}"),
            None => return pages,
        }
        assert!(pages.len() < 100, "{query}: no last page");
    }
}

async fn same_as_the_records(app: &TestApp, when: &str) {
    let (differ, keys) = differences(app).await;
    assert!(keys > 0, "{when}: no records");
    assert_eq!(differ, 0, "{when}: the sums differ from a recount in {differ} rows");
    let (differ, keys) = province_differences(app).await;
    assert!(keys > 0, "{when}: no records");
    assert_eq!(differ, 0, "{when}: the province sums differ from a recount in {differ} rows");
    let (differ, keys) = indicator_differences(app).await;
    assert!(keys > 0, "{when}: no indicator values");
    assert_eq!(differ, 0, "{when}: the indicator sums differ from a recount in {differ} rows");
    for query in QUERIES {
        let summed = aggregate(app, query).await;
        let recounted = aggregate(app, &format!("{query}&q=单位")).await;
        assert!(!summed["rows"].as_array().unwrap().is_empty(), "{when}: {query}: no rows");
        let (summed_rows, recounted_rows) = (summed["rows"].as_array().unwrap(), recounted["rows"].as_array().unwrap());
        assert_eq!(summed_rows.len(), recounted_rows.len(), "{when}: {query}");
        let groups = |rows: &Vec<Value>| {
            rows.iter().map(|r| format!("{} {} {}", r["level"], r["group"], r["records"])).collect::<Vec<_>>()
        };
        assert_eq!(groups(summed_rows), groups(recounted_rows), "{when}: {query}: the groups");
        for (a, b) in summed_rows.iter().zip(recounted_rows) {
            assert_eq!(a, b, "{when}: {query}: the sums' row, then the records'");
        }
        assert_eq!(summed["records"], recounted["records"], "{when}: {query}");
    }
    for query in PAGED {
        let summed = pages(app, query).await;
        assert!(summed.len() > 1, "{when}: {query}: one page");
        assert_eq!(summed, pages(app, &format!("{query}&q=单位")).await, "{when}: {query}");
    }
    // A list's `count=exact` total is summed too.
    for filter in ["", "&region=4304&fiscal_year=2022", "&status=draft,published&kind=project", "&grade=good"] {
        let total = |q: &'static str| {
            let path = format!("/api/v1/evaluations?count=exact&limit=1{filter}{q}");
            async move {
                let reply = app.get(&path).await;
                assert_eq!(reply.status, 200, "{path}: {}", reply.text);
                reply.json()["total"].clone()
            }
        };
        assert_eq!(total("").await, total("&q=单位").await, "{when}: list{filter}");
    }
}

#[tokio::test]
async fn the_sums_equal_a_recount_after_random_writes_transitions_and_deletes() {
    let app = spawn_app().await;
    let mut r = Random(0x5eed_cafe_f00d);
    let mut records = Vec::new();
    for township in TOWNSHIPS {
        for year in [2021, 2022] {
            records.push(random_record(&mut r, township, year, None));
            for p in 0..r.below(3) as usize {
                records.push(random_record(&mut r, township, year, Some(p)));
            }
        }
    }
    let reply = app.post("/api/v1/evaluations/batch?atomic=true", &Value::Array(records.clone())).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    same_as_the_records(&app, "after the batch").await;

    let ids: Vec<i64> =
        reply.json()["items"].as_array().unwrap().iter().map(|result| result["id"].as_i64().unwrap()).collect();
    let mut deleted = Vec::new();
    // Writes that took effect: replaced, deleted, moved in review.
    let mut applied = [0; 3];
    for round in 0..60 {
        let id = ids[r.below(ids.len() as u64) as usize];
        if deleted.contains(&id) {
            continue;
        }
        let path = format!("/api/v1/evaluations/{id}");
        let current = app.get(&path).await;
        assert_eq!(current.status, 200, "{}", current.text);
        let etag = current.header("etag").unwrap().to_owned();
        let stored = current.json();
        let operation = r.below(6);
        let status = match operation {
            0 => {
                // Replace the content with new figures (a draft or a returned record only).
                let township = stored["region_code"].as_str().unwrap().to_owned();
                let year = stored["fiscal_year"].as_i64().unwrap() as i32;
                let project = stored["project"]["name"].as_str().map(|_| round);
                let mut record = random_record(&mut r, &township, year, project);
                if let Some(name) = stored["project"]["name"].as_str() {
                    record["project"] = json!({"name": name});
                }
                app.put(&path, &record, Some(&etag)).await.status
            }
            1 => app.delete(&path, Some(&etag)).await.status,
            n => {
                let action = ["submit", "approve", "publish", "return"][(n - 2) as usize];
                app.request(
                    Method::POST,
                    &format!("{path}/transitions"),
                    Some(&json!({"action": action})),
                    &[("if-match", &etag)],
                )
                .await
                .status
            }
        };
        assert!([200, 201, 204, 409, 422].contains(&status.as_u16()), "round {round}: {status}");
        if status.is_success() {
            applied[operation.min(2) as usize] += 1;
        }
        if app.get(&path).await.status == 404 {
            deleted.push(id);
        }
        if round % 20 == 19 {
            same_as_the_records(&app, &format!("after round {round}")).await;
        }
    }
    assert!(applied.iter().all(|n| *n > 0), "replaced, deleted, moved in review: {applied:?}");
    assert_eq!(deleted.len(), applied[1]);
    let mut conn = app.db.connect().await;
    // Compaction (run by the service every two seconds; here at once) changes nothing anyone reads.
    sums::compact(&mut conn).await.unwrap();
    assert_eq!(app.db.count_rows("evaluation_sum_deltas").await, 0);
    assert_eq!(app.db.count_rows("indicator_sum_deltas").await, 0);
    assert_eq!(app.db.count_rows("province_sums WHERE records = 0").await, 0);
    // A key and code whose values were all replaced or deleted away is gone, not held as zeros.
    assert_eq!(app.db.count_rows("indicator_sums WHERE count_actual = 0 AND both_completion = 0").await, 0);
    same_as_the_records(&app, "after compaction").await;
}

#[tokio::test]
async fn an_aggregate_the_sums_answer_is_read_from_them_and_one_they_cannot_from_the_records() {
    let app = spawn_app().await;
    let mut record = minimal("430482101", 2022, "荫田镇人民政府");
    record["expenditure"] = json!({"total": "1200.50"});
    app.create(&record).await;
    let mut conn = app.db.connect().await;
    sums::compact(&mut conn).await.unwrap();
    // Tamper with the sums: only an answer read from them can show it. An aggregate that groups
    // and filters no finer than a province reads the province sums, any other the county sums.
    diesel::sql_query("UPDATE evaluation_sums SET sum_expenditure_total = sum_expenditure_total + 1")
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::sql_query("UPDATE province_sums SET sum_expenditure_total = sum_expenditure_total + 2")
        .execute(&mut conn)
        .await
        .unwrap();
    let summed = aggregate(&app, "measures=expenditure.total&group_by=county").await;
    assert_eq!(summed["rows"][0]["values"]["expenditure.total:sum"], "1201.50", "{summed}");
    for (query, sum) in [
        ("measures=expenditure.total&group_by=province,fiscal_year", "1202.50"),
        ("measures=expenditure.total&group_by=kind&region=43", "1202.50"),
        ("measures=expenditure.total&group_by=kind&region=4304", "1201.50"),
        ("measures=expenditure.total&group_by=prefecture", "1201.50"),
    ] {
        let summed = aggregate(&app, query).await;
        assert_eq!(summed["rows"][0]["values"]["expenditure.total:sum"], sum, "{query}: {summed}");
    }
    for fallback in [
        "measures=expenditure.total:max,expenditure.total&group_by=county",
        "measures=expenditure.total&group_by=township",
    ] {
        let recounted = aggregate(&app, fallback).await;
        assert_eq!(recounted["rows"][0]["values"]["expenditure.total:sum"], "1200.50", "{fallback}: {recounted}");
    }
}

/// The indicator measures the sums answer, read from them: tampering with the sums shows in
/// the answer, and a measure they do not hold (an actual's maximum) is still read from the rows.
#[tokio::test]
async fn an_indicator_aggregate_is_read_from_the_indicator_sums_and_a_maximum_from_the_rows() {
    let app = spawn_app().await;
    for (region, name, code, target, actual) in [
        ("430482101", "排查农村自建房屋", Some("HN-02"), "100", "90"),
        ("430482104", "排查农村自建房屋", None, "50", "50.5"),
    ] {
        let mut record = minimal(region, 2022, &format!("{region}单位"));
        let mut row =
            json!({"level_1": "output", "level_2": "quantity", "name": name, "target": target, "actual": actual});
        if let Some(code) = code {
            row["code"] = json!(code);
        }
        record["indicators"] = json!([row]);
        app.create(&record).await;
    }
    let query =
        "measures=indicator.HN-02.actual,indicator.HN-02.actual:avg,indicator.HN-02.completion&group_by=fiscal_year";
    let mut conn = app.db.connect().await;
    sums::compact(&mut conn).await.unwrap();
    assert_eq!(app.db.count_rows("indicator_sum_deltas").await, 0);
    // Tamper with the sums (which moves no data version: the answers are not cached over it).
    diesel::sql_query(
        "UPDATE indicator_sums SET sum_actual = sum_actual + 10 WHERE ctid = (SELECT ctid FROM indicator_sums LIMIT 1)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let tampered = aggregate(&app, query).await;
    let values = &tampered["rows"][0]["values"];
    assert_eq!(values["indicator.HN-02.actual:sum"], "150.50", "{tampered}");
    assert_eq!(values["indicator.HN-02.actual:avg"], "75.25", "{tampered}");
    // The records (a text search reads them) give the stated figures.
    let recounted = aggregate(&app, &format!("{query}&q=单位")).await;
    let values = &recounted["rows"][0]["values"];
    assert_eq!(values["indicator.HN-02.actual:sum"], "140.50", "{recounted}");
    assert_eq!(values["indicator.HN-02.actual:avg"], "70.25", "{recounted}");
    assert_eq!(values["indicator.HN-02.completion:ratio"], "0.9367", "{recounted}");
    assert_eq!(tampered["rows"][0]["values"]["indicator.HN-02.completion:ratio"], "0.9367", "{tampered}");
    let rows = aggregate(&app, "measures=indicator.HN-02.actual,indicator.HN-02.actual:max&group_by=fiscal_year").await;
    assert_eq!(rows["rows"][0]["values"]["indicator.HN-02.actual:sum"], "140.50", "{rows}");
    assert_eq!(rows["rows"][0]["values"]["indicator.HN-02.actual:max"], "90.00", "{rows}");
}

/// Records stored before the indicator sums (2026-12-03-000020) get their values from their
/// rows when it runs: the sums equal a recount, the answers are the ones given before it was
/// reverted, and the writes after it keep the sums (its trigger is on, the records' is back on).
#[tokio::test]
async fn records_stored_before_the_indicator_sums_aggregate_the_same_after_them() {
    let app = spawn_app().await;
    let mut r = Random(0x1dea_5eed);
    let mut records = Vec::new();
    for township in TOWNSHIPS {
        records.push(random_record(&mut r, township, 2022, None));
        records.push(random_record(&mut r, township, 2022, Some(1)));
    }
    let reply = app.post("/api/v1/evaluations/batch?atomic=true", &Value::Array(records)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let query = QUERIES[6];
    let before = aggregate(&app, query).await;
    let (_, keys) = indicator_differences(&app).await;
    assert!(keys > 3, "{keys} keys");

    let reverted = perfeval::db::revert_to(&app.db.url, "20261203000019").await.unwrap();
    assert_eq!(reverted.len(), 3, "{reverted:?}");
    assert_eq!(app.db.count_rows("pg_tables WHERE tablename IN ('indicator_sums', 'province_sums')").await, 0);
    perfeval::db::migrate(&app.db.url).await.unwrap();
    assert_eq!(app.db.count_rows("indicator_sum_deltas").await, 0, "filled straight into the sums");
    assert_eq!(indicator_differences(&app).await, (0, keys));
    assert_eq!(differences(&app).await.0, 0);
    assert_eq!(province_differences(&app).await.0, 0);
    assert_eq!(aggregate(&app, query).await, before);
    assert_eq!(aggregate(&app, &format!("{query}&q=单位")).await["rows"], before["rows"]);

    // A write after it: both sums follow.
    let first = reply.json()["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/evaluations/{first}");
    let etag = app.get(&path).await.header("etag").unwrap().to_owned();
    let mut record = minimal(TOWNSHIPS[0], 2022, &format!("{}单位", TOWNSHIPS[0]));
    record["expenditure"] = json!({"total": "77.00"});
    record["indicators"] = json!([{"level_1": "output", "level_2": "quantity", "name": "群众满意度", "code": "HN-07", "target": "95", "actual": "96.5"}]);
    assert_eq!(app.put(&path, &record, Some(&etag)).await.status, 200);
    assert_eq!(indicator_differences(&app).await.0, 0);
    assert_eq!(differences(&app).await.0, 0);
}
