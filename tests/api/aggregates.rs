//! Aggregates checked against values each test computes itself from the records it stored.
use std::{collections::BTreeMap, str::FromStr};

use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::helpers::{minimal, spawn_app, TestApp};

/// (township, fiscal year, expenditure 元, three public 元, staff)
const DATA: [(&str, i32, &str, &str, i32); 11] = [
    ("430482101", 2021, "1000.00", "10.00", 10),
    ("430482101", 2022, "1200.50", "12.00", 10),
    ("430482104", 2021, "2000.00", "30.00", 20),
    ("430482104", 2022, "2500.25", "25.00", 25),
    ("430482105", 2022, "700.10", "7.70", 7),
    ("430481001", 2021, "3000.00", "60.00", 30),
    ("430481001", 2022, "3300.00", "66.60", 33),
    ("430481100", 2022, "999.99", "9.99", 9),
    ("430502001", 2021, "5000.00", "40.00", 50),
    ("430502001", 2022, "4400.00", "44.00", 44),
    // A year on its own: no 2020 anywhere else, so 2021 has no previous year.
    ("430482105", 2020, "650.00", "6.50", 7),
];

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn scaled(value: Decimal, scale: u32) -> String {
    let mut v = value.round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    v.rescale(scale);
    v.to_string()
}

async fn seed(app: &TestApp) {
    store(app, &DATA).await;
}

async fn store(app: &TestApp, data: &[(&str, i32, &str, &str, i32)]) {
    let records: Vec<Value> = data
        .iter()
        .map(|&(code, year, expenditure, three_public, staff)| {
            let mut record = minimal(code, year, &format!("{code}单位"));
            record["expenditure"] = json!({"total": expenditure});
            record["income"] = json!({});
            record["three_public_expenses"] = json!({"total": three_public});
            record["profile"] = json!({"staff_at_year_end": staff});
            record
        })
        .collect();
    let reply = app.post("/api/v1/evaluations/batch?atomic=true", &Value::Array(records)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

async fn aggregate(app: &TestApp, query: &str) -> Value {
    let reply = app.get(&format!("/api/v1/aggregates?{query}")).await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.text);
    reply.json()
}

/// Rows of the answer keyed by the region code (or "" when the row has none) and year.
fn by_group(body: &Value, dimension: &str) -> BTreeMap<(String, i64), Value> {
    body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["level"] == "detail")
        .map(|r| {
            let code = r["group"][dimension]["code"].as_str().unwrap_or("").to_owned();
            let year = r["group"]["fiscal_year"].as_i64().unwrap_or(0);
            ((code, year), r.clone())
        })
        .collect()
}

fn county(code: &str) -> String {
    code[..6].to_owned()
}

#[tokio::test]
async fn sums_averages_and_medians_by_county_and_year_are_exact() {
    let app = spawn_app().await;
    seed(&app).await;
    let body = aggregate(
        &app,
        "measures=expenditure.total,expenditure.total:avg,expenditure.total:median,three_public.total:p75,records&group_by=county,fiscal_year&region=43",
    )
    .await;
    let mut groups: BTreeMap<(String, i64), Vec<(Decimal, Decimal)>> = BTreeMap::new();
    for &(code, year, expenditure, three_public, _) in &DATA {
        groups.entry((county(code), i64::from(year))).or_default().push((dec(expenditure), dec(three_public)));
    }
    let rows = by_group(&body, "county");
    assert_eq!(rows.len(), groups.len());
    for (key, members) in &groups {
        let row = &rows[key];
        let sum: Decimal = members.iter().map(|m| m.0).sum();
        let n = Decimal::from(members.len());
        let mut sorted: Vec<Decimal> = members.iter().map(|m| m.0).collect();
        sorted.sort();
        let median = if sorted.len() % 2 == 1 {
            sorted[sorted.len() / 2]
        } else {
            (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]) / Decimal::TWO
        };
        let mut three: Vec<Decimal> = members.iter().map(|m| m.1).collect();
        three.sort();
        let position = Decimal::new(75, 2) * Decimal::from(three.len() - 1);
        let low = position.floor();
        let index = low.to_string().parse::<usize>().unwrap();
        let p75 = match three.get(index + 1) {
            Some(high) => three[index] + (*high - three[index]) * (position - low),
            None => three[index],
        };
        assert_eq!(row["values"]["expenditure.total:sum"], scaled(sum, 2), "{key:?}");
        assert_eq!(row["values"]["expenditure.total:avg"], scaled(sum / n, 2), "{key:?}");
        assert_eq!(row["values"]["expenditure.total:median"], scaled(median, 2), "{key:?}");
        assert_eq!(row["values"]["three_public.total:p75"], scaled(p75, 2), "{key:?}");
        assert_eq!(row["values"]["records:count"], members.len().to_string(), "{key:?}");
        assert_eq!(row["records"], members.len());
    }
    assert_eq!(body["records"], DATA.len());
    assert_eq!(rows[&("430482".to_owned(), 2022)]["group"]["county"]["name"], "常宁市");
}

#[tokio::test]
async fn ratio_measures_are_ratios_of_sums() {
    let app = spawn_app().await;
    seed(&app).await;
    let body =
        aggregate(&app, "measures=three_public.share,three_public.per_staff&group_by=prefecture&fiscal_year=2022")
            .await;
    let rows = by_group(&body, "prefecture");
    for prefecture in ["4304", "4305"] {
        let members: Vec<_> = DATA.iter().filter(|d| d.0.starts_with(prefecture) && d.1 == 2022).collect();
        let three: Decimal = members.iter().map(|d| dec(d.3)).sum();
        let spending: Decimal = members.iter().map(|d| dec(d.2)).sum();
        let staff: Decimal = members.iter().map(|d| Decimal::from(d.4)).sum();
        let row = &rows[&(prefecture.to_owned(), 0)];
        assert_eq!(row["values"]["three_public.share:ratio"], scaled(three / spending, 4));
        assert_eq!(row["values"]["three_public.per_staff:ratio"], scaled(three / staff, 2));
    }
}

#[tokio::test]
async fn year_on_year_changes_with_missing_years_explicit() {
    let app = spawn_app().await;
    seed(&app).await;
    let body = aggregate(
        &app,
        "measures=expenditure.total&group_by=county,fiscal_year&fiscal_year=2021..2022&compare=previous_year",
    )
    .await;
    let rows = by_group(&body, "county");
    let sum = |county_code: &str, year: i32| -> Option<Decimal> {
        let values: Vec<Decimal> =
            DATA.iter().filter(|d| d.0.starts_with(county_code) && d.1 == year).map(|d| dec(d.2)).collect();
        (!values.is_empty()).then(|| values.iter().sum())
    };
    for ((code, year), row) in &rows {
        let now = sum(code, *year as i32).unwrap();
        match sum(code, *year as i32 - 1) {
            Some(before) => {
                assert_eq!(row["previous"]["expenditure.total:sum"], scaled(before, 2), "{code} {year}");
                assert_eq!(row["change"]["expenditure.total:sum"], scaled(now - before, 2));
                assert_eq!(row["change_pct"]["expenditure.total:sum"], scaled((now - before) / before, 4));
            }
            None => {
                assert_eq!(row["previous"], Value::Null, "{code} {year}: a missing year is null, not zero");
                assert_eq!(row["change"]["expenditure.total:sum"], Value::Null);
            }
        }
    }
    // 常宁市 2021 had records in 2020 only from 白沙镇: the comparison is of county sums.
    let changning_2021 = &rows[&("430482".to_owned(), 2021)];
    assert_eq!(changning_2021["previous"]["expenditure.total:sum"], "650.00");
    assert!(!rows.keys().any(|(_, year)| *year == 2020), "the extra year only feeds `previous`");
}

#[tokio::test]
async fn rollup_subtotals_equal_the_sum_of_their_children_and_shares_and_ranks_follow() {
    let app = spawn_app().await;
    seed(&app).await;
    let body = aggregate(
        &app,
        "measures=expenditure.total&group_by=county&fiscal_year=2022&rollup=true&share=parent&rank=true",
    )
    .await;
    let rows = body["rows"].as_array().unwrap();
    let value = |r: &Value| dec(r["values"]["expenditure.total:sum"].as_str().unwrap());
    let detail: Vec<&Value> = rows.iter().filter(|r| r["level"] == "detail").collect();
    for prefecture in rows.iter().filter(|r| r["level"] == "prefecture") {
        let code = prefecture["group"]["prefecture"]["code"].as_str().unwrap();
        let children: Vec<&&Value> =
            detail.iter().filter(|r| r["group"]["county"]["code"].as_str().unwrap().starts_with(code)).collect();
        let total: Decimal = children.iter().map(|r| value(r)).sum();
        assert_eq!(value(prefecture), total, "{code}");
        for child in &children {
            assert_eq!(child["share"]["expenditure.total:sum"], scaled(value(child) / total, 4));
        }
        let mut ranked: Vec<(i64, Decimal)> =
            children.iter().map(|r| (r["rank"].as_i64().unwrap(), value(r))).collect();
        ranked.sort();
        assert!(ranked.windows(2).all(|w| w[0].1 >= w[1].1), "rank 1 is the largest: {ranked:?}");
        assert_eq!(ranked[0].0, 1);
    }
    let province = rows.iter().find(|r| r["level"] == "province").unwrap();
    let grand = rows.iter().find(|r| r["level"] == "total").unwrap();
    let all_2022: Decimal = DATA.iter().filter(|d| d.1 == 2022).map(|d| dec(d.2)).sum();
    assert_eq!(value(province), all_2022);
    assert_eq!(value(grand), all_2022);
    assert_eq!(grand["group"], json!({}));
}

/// With a second province the grand total is no longer any prefecture's parent: each subtotal
/// row's share is of the level above it (county ÷ prefecture, prefecture ÷ province, province ÷
/// total), and the grand total's is 1, as it is with `share=total`.
#[tokio::test]
async fn rollup_subtotals_take_their_share_of_the_level_above_them() {
    let app = spawn_app().await;
    seed(&app).await;
    store(&app, &[("440303001", 2022, "8000.00", "80.00", 80)]).await;
    let sum = |prefix: &str| -> Decimal {
        DATA.iter().filter(|d| d.1 == 2022 && d.0.starts_with(prefix)).map(|d| dec(d.2)).sum::<Decimal>()
            + if "440303001".starts_with(prefix) { dec("8000.00") } else { Decimal::ZERO }
    };
    let share_of = |part: Decimal, whole: Decimal| json!(scaled(part / whole, 4));
    let body =
        aggregate(&app, "measures=expenditure.total&group_by=county&fiscal_year=2022&rollup=true&share=parent").await;
    let rows = body["rows"].as_array().unwrap();
    // The row of a level (`detail` for the counties) and code, and its share.
    let share = |level: &str, code: &str| {
        let key = if level == "detail" { "county" } else { level };
        let row = rows
            .iter()
            .find(|r| r["level"] == level && (level == "total" || r["group"][key]["code"] == code))
            .unwrap_or_else(|| panic!("no {level} row {code}: {body}"));
        row["share"]["expenditure.total:sum"].clone()
    };
    assert_eq!(share("detail", "430482"), share_of(sum("430482"), sum("4304")));
    assert_eq!(share("prefecture", "4304"), share_of(sum("4304"), sum("43")), "of 湖南省, not of the grand total");
    assert_eq!(share("prefecture", "4305"), share_of(sum("4305"), sum("43")));
    assert_eq!(share("prefecture", "4403"), json!("1.0000"), "the only prefecture of 广东省 here");
    assert_eq!(share("province", "43"), share_of(sum("43"), sum("")));
    assert_eq!(share("province", "44"), share_of(sum("44"), sum("")));
    assert_eq!(share("total", ""), json!("1.0000"));
    assert_ne!(share("prefecture", "4304"), share_of(sum("4304"), sum("")), "the two bases differ in this data");
    // Every row below the total: its share is of the region one level up that holds it (a code
    // two digits shorter; a province's is the grand total's empty prefix).
    for row in rows.iter().filter(|r| r["level"] != "total") {
        let key = if row["level"] == "detail" { "county" } else { row["level"].as_str().unwrap() };
        let code = row["group"][key]["code"].as_str().unwrap();
        let parent = &code[..code.len() - 2];
        assert_eq!(row["share"]["expenditure.total:sum"], share_of(sum(code), sum(parent)), "{row}");
    }
    assert_eq!(rows.iter().filter(|r| r["level"] == "prefecture").count(), 3, "{body}");

    // share=total: every row, subtotals too, of the grand total.
    let body =
        aggregate(&app, "measures=expenditure.total&group_by=county&fiscal_year=2022&rollup=true&share=total").await;
    for row in body["rows"].as_array().unwrap() {
        let level = row["level"].as_str().unwrap();
        let code = match level {
            "detail" => row["group"]["county"]["code"].as_str().unwrap(),
            "total" => "",
            level => row["group"][level]["code"].as_str().unwrap(),
        };
        assert_eq!(row["share"]["expenditure.total:sum"], share_of(sum(code), sum("")), "{row}");
    }

    // Without rollup, a prefecture row is its share of its province.
    let body = aggregate(&app, "measures=expenditure.total&group_by=prefecture&fiscal_year=2022&share=parent").await;
    let shaoyang = body["rows"].as_array().unwrap().iter().find(|r| r["group"]["prefecture"]["code"] == "4305");
    assert_eq!(shaoyang.unwrap()["share"]["expenditure.total:sum"], share_of(sum("4305"), sum("43")));
}

#[tokio::test]
async fn order_limit_and_cursor_page_through_the_rows() {
    let app = spawn_app().await;
    seed(&app).await;
    let first = aggregate(
        &app,
        "measures=expenditure.total&group_by=township&fiscal_year=2022&order=-expenditure.total&limit=3",
    )
    .await;
    let mut values: Vec<String> = first["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["values"]["expenditure.total:sum"].as_str().unwrap().to_owned())
        .collect();
    let cursor = first["next_cursor"].as_str().unwrap();
    let second =
        aggregate(&app, &format!("measures=expenditure.total&group_by=township&fiscal_year=2022&order=-expenditure.total&limit=3&cursor={cursor}")).await;
    values.extend(
        second["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["values"]["expenditure.total:sum"].as_str().unwrap().to_owned()),
    );
    let mut expected: Vec<Decimal> = DATA.iter().filter(|d| d.1 == 2022).map(|d| dec(d.2)).collect();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(values, expected.iter().map(|v| scaled(*v, 2)).collect::<Vec<_>>());
    assert_eq!(second["next_cursor"], Value::Null);
    let min = aggregate(&app, "measures=records&group_by=county&min_count=2").await;
    assert!(min["rows"].as_array().unwrap().iter().all(|r| r["records"].as_i64().unwrap() >= 2));
}

#[tokio::test]
async fn the_model_lists_measures_and_dimensions() {
    let app = spawn_app().await;
    let model = app.get("/api/v1/model").await.json();
    let spending = model["measures"].as_array().unwrap().iter().find(|m| m["name"] == "expenditure.total").unwrap();
    assert_eq!(spending["label_zh"], "支出总计");
    assert_eq!(spending["unit"], "元");
    assert_eq!(spending["default_aggregation"], "sum");
    let share = model["measures"].as_array().unwrap().iter().find(|m| m["name"] == "three_public.share").unwrap();
    assert_eq!(share["default_aggregation"], "ratio");
    let dimensions: Vec<&str> =
        model["dimensions"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(dimensions, ["province", "prefecture", "county", "township", "fiscal_year", "kind", "status", "grade"]);
}

#[tokio::test]
async fn bad_aggregate_queries_name_the_parameter() {
    let app = spawn_app().await;
    for (query, status, parameter) in [
        ("group_by=county", 400, "measures"),
        ("measures=colour", 400, "measures"),
        ("measures=expenditure.total:mode", 400, "measures"),
        ("measures=expenditure.total&group_by=village", 400, "group_by"),
        ("measures=expenditure.total&fiscal_year=2019..", 400, "fiscal_year"),
        ("measures=expenditure.total&group_by=county&compare=previous_year", 422, "compare"),
        ("measures=expenditure.total&group_by=township,fiscal_year&fiscal_year=1990..2100", 422, "group_by"),
        ("measures=expenditure.total&group_by=county,prefecture", 422, "group_by"),
        ("measures=expenditure.total&group_by=province&share=parent", 422, "share"),
        ("measures=expenditure.total&order=-score", 422, "order"),
        ("measures=expenditure.total&order=-colour", 400, "order"),
        ("measures=expenditure.total&group_by=county&order=kind", 422, "order"),
        ("measures=expenditure.total&group_by=county,county", 422, "group_by"),
        ("measures=expenditure.total&cursor=abc", 422, "cursor"),
        ("measures=expenditure.total&cursor=a%2Fb", 400, "cursor"),
        ("measures=expenditure.total&rollup=1", 400, "rollup"),
        ("measures=expenditure.total&status=", 400, "status"),
        ("measures=expenditure.total,", 400, "measures"),
        ("measures=expenditure.total&colour=red", 400, "colour"),
    ] {
        let reply = app.get(&format!("/api/v1/aggregates?{query}")).await;
        assert_eq!(reply.status.as_u16(), status, "{query}: {}", reply.text);
        assert_eq!(reply.header("content-type"), Some("application/problem+json"));
        assert_eq!(reply.error_fields(), [parameter], "{query}");
    }
}

#[tokio::test]
async fn aggregates_export_as_csv_and_ndjson_with_every_row() {
    let app = spawn_app().await;
    seed(&app).await;
    let query = "measures=expenditure.total&group_by=county,fiscal_year&compare=previous_year&rollup=true&limit=1";
    let csv = app.get(&format!("/api/v1/aggregates?{query}&format=csv&labels=zh")).await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv.text.starts_with('\u{feff}'), "UTF-8 BOM first");
    let lines: Vec<&str> = csv.text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "层级,县(市、区)代码,县(市、区)名称,年度,记录数,支出总计(sum),支出总计(sum)上年,支出总计(sum)增减额,支出总计(sum)增减率"
    );
    let json = aggregate(&app, &query.replace("&limit=1", "&limit=1000")).await;
    assert_eq!(lines.len() - 1, json["rows"].as_array().unwrap().len(), "an export holds every row, not one page");
    let changning = lines.iter().find(|l| l.starts_with("明细,430482,常宁市,2022,")).unwrap();
    let expected: Decimal = DATA.iter().filter(|d| d.0.starts_with("430482") && d.1 == 2022).map(|d| dec(d.2)).sum();
    assert!(changning.contains(&format!(",{},", scaled(expected, 2))), "{changning}");

    let ndjson = app
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/aggregates?{query}"),
            None,
            &[("accept", "application/x-ndjson")],
        )
        .await;
    assert_eq!(ndjson.header("content-type"), Some("application/x-ndjson"));
    let first: Value = serde_json::from_str(ndjson.text.lines().next().unwrap()).unwrap();
    assert_eq!(first["level"], "detail");
    assert!(first["expenditure.total:sum"].is_string(), "{first}");
}

#[tokio::test]
async fn the_row_cap_counts_the_years_that_have_records() {
    let app = spawn_app().await;
    let store = |years: Vec<i32>| {
        let records: Vec<Value> = years.into_iter().map(|year| minimal("430482101", year, "荫田镇人民政府")).collect();
        Value::Array(records)
    };
    // 2,978 counties × 2 years with records: under the cap of 50,000, though the years span 25.
    let reply = app.post("/api/v1/evaluations/batch?atomic=true", &store(vec![2000, 2024])).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let query = "/api/v1/aggregates?measures=expenditure.total&group_by=county,fiscal_year";
    let reply = app.get(query).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["rows"].as_array().unwrap().len(), 2);
    // × 17 years: 50,626 possible rows, above the cap.
    let reply = app.post("/api/v1/evaluations/batch?atomic=true", &store((2001..=2015).collect())).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = app.get(query).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(reply.error_fields(), ["group_by"]);
    assert!(reply.text.contains("50626"), "{}", reply.text);
}
