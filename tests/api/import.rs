//! `POST /api/v1/evaluations/import`: files people have (an XLSX table, a Word or text report)
//! become drafts with provenance; stored with `commit=true`, with the file; bad files are 4xx
//! and store nothing.
use std::io::Write;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_holds, spawn_app, spawn_app_with, yintian, Reply, TestApp};

const REPORT: &str = include_str!("../fixtures/yintian-2022-self-evaluation.txt");
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

fn forms(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/forms/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn import(app: &TestApp, query: &str, content_type: &str, body: Vec<u8>) -> Reply {
    app.post_raw(&format!("/api/v1/evaluations/import{query}"), content_type, body).await
}

/// A .docx with these paragraphs, as Word writes one (just the parts a reader needs).
fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let body: String = paragraphs
        .iter()
        .map(|p| {
            let escaped = p.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            format!(r#"<w:p><w:r><w:t xml:space="preserve">{escaped}</w:t></w:r></w:p>"#)
        })
        .collect();
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
    );
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default();
    let parts = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#.to_owned()),
        ("word/document.xml", document),
    ];
    for (name, text) in parts {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

/// The draft's record without what the reader cannot know from the text itself.
fn content(draft: &Value) -> Value {
    draft["record"].clone()
}

#[tokio::test]
async fn the_reference_report_becomes_the_reference_record_in_text_gbk_and_word() {
    let app = spawn_app().await;
    let reply = import(&app, "?region=4304", "text/plain; charset=utf-8", REPORT.as_bytes().to_vec()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["document"], "text");
    assert_eq!(body["committed"], false);
    let draft = &body["drafts"][0];
    assert_eq!(draft["region"]["resolution"], "unit_name", "{}", draft["region"]);
    assert_eq!(draft["region"]["code"], "430482104");
    let record = content(draft);
    let fixture = yintian();
    // The figures the report states, as the hand-made record holds them.
    for path in [
        "/region_code",
        "/fiscal_year",
        "/unit",
        "/income/total",
        "/income/lines",
        "/expenditure/total",
        "/expenditure/basic_total",
        "/expenditure/project_total",
        "/three_public_expenses/total",
        "/three_public_expenses/reception",
        "/three_public_expenses/vehicle_operation/amount",
        "/running_costs",
        "/profile/duties",
        "/profile/staffing_quota",
        "/profile/staff_at_year_end",
        "/profile/official_vehicles",
        "/conclusion/problems",
        "/conclusion/suggestions",
    ] {
        let (got, want) = (record.pointer(path), fixture.pointer(path));
        if path == "/income/lines" {
            // Notes are the fixture's own words; the amounts and categories are the report's.
            let pick = |lines: &Value| -> Vec<(Value, Value)> {
                lines.as_array().unwrap().iter().map(|l| (l["category"].clone(), l["amount"].clone())).collect()
            };
            assert_eq!(pick(got.unwrap()), pick(want.unwrap()), "{path}");
        } else {
            assert_eq!(got, want, "{path}");
        }
    }
    let outputs: Vec<(&str, &str)> = record["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| Some((i["unit_of_measure"].as_str()?, i["actual"].as_str()?)))
        .collect();
    assert!(outputs.contains(&("栋", "12939")), "{outputs:?}");
    assert!(outputs.contains(&("栋", "438")), "{outputs:?}");
    // Provenance points at where a figure was read.
    let provenance = draft["provenance"].as_array().unwrap();
    let income = provenance.iter().find(|p| p["field"] == "income.total").expect("income.total has a source");
    assert_eq!(income["source"]["kind"], "span");
    assert!(income["source"]["text"].as_str().unwrap().contains("1809.48"), "{income}");
    // A sentence whose figures no field took is listed, with where it stands.
    let unmatched = draft["unmatched"].as_array().unwrap();
    let hair = unmatched
        .iter()
        .find(|u| u["source"]["text"].as_str().is_some_and(|t| t.contains("毛发检测")))
        .unwrap_or_else(|| panic!("{unmatched:?}"));
    let paragraph =
        REPORT.lines().filter(|l| !l.trim().is_empty()).nth(hair["source"]["paragraph"].as_u64().unwrap() as usize);
    let (start, end) =
        (hair["source"]["start"].as_u64().unwrap() as usize, hair["source"]["end"].as_u64().unwrap() as usize);
    let span: String = paragraph.unwrap().trim().chars().skip(start).take(end - start).collect();
    assert_eq!(span, hair["source"]["text"], "the span is the text it names");
    // Nothing was stored.
    assert_eq!(app.count_rows("evaluations").await, 0);

    // The same text in GBK, and as a Word document, gives the same draft.
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(REPORT);
    assert!(!unmappable);
    let from_gbk = import(&app, "?region=4304", "text/plain", gbk.into_owned()).await;
    assert_eq!(from_gbk.status, 200, "{}", from_gbk.text);
    assert_eq!(content(&from_gbk.json()["drafts"][0]), record, "GBK");
    let lines: Vec<&str> = REPORT.lines().filter(|l| !l.trim().is_empty()).collect();
    let from_word = import(&app, "?region=4304", DOCX, docx(&lines)).await;
    assert_eq!(from_word.status, 200, "{}", from_word.text);
    assert_eq!(from_word.json()["document"], "docx");
    assert_eq!(content(&from_word.json()["drafts"][0]), record, "DOCX");
}

#[tokio::test]
async fn a_commit_stores_drafts_with_their_file_and_a_retry_replays() {
    let app = spawn_app().await;
    let path = "?region=430482104&commit=true";
    let key = [("idempotency-key", "report-2022"), ("content-type", "text/plain; charset=utf-8")];
    let send = || async {
        let request =
            app.client.post(format!("{}/api/v1/evaluations/import{path}", app.address)).bearer_auth(&app.admin_token);
        let request = key.iter().fold(request, |r, (n, v)| r.header(*n, *v));
        let response = request.body(REPORT).send().await.unwrap();
        (
            response.status(),
            response.headers().get("idempotency-replayed").is_some(),
            response.json::<Value>().await.unwrap(),
        )
    };
    let (status, replayed, first) = send().await;
    assert_eq!(status, 200, "{first}");
    assert!(!replayed);
    assert_eq!(first["committed"], true);
    assert_eq!(first["summary"]["created"], 1, "{first}");
    let id = first["drafts"][0]["id"].as_i64().unwrap();
    assert_eq!(first["drafts"][0]["outcome"], "created");
    let stored = app.get(&format!("/api/v1/evaluations/{id}")).await.json();
    assert_eq!(stored["workflow"]["status"], "draft");
    assert_eq!(stored["income"]["total"], "18094800.00");
    let source = app.get(&format!("/api/v1/evaluations/{id}/source")).await;
    assert_eq!(source.status, 200);
    assert_eq!(source.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(source.text, REPORT, "the file comes back as it was sent");

    let (status, replayed, again) = send().await;
    assert_eq!((status.as_u16(), replayed), (200, true));
    assert_eq!(again, first);
    assert_eq!(app.count_rows("evaluations").await, 1);
    assert_eq!(app.count_rows("source_documents").await, 1);

    // Without the key, the same file updates nothing: the stored draft is unchanged.
    let reply = import(&app, path, "text/plain", REPORT.as_bytes().to_vec()).await;
    assert_eq!(reply.json()["drafts"][0]["outcome"], "unchanged");
    // A preview of a record someone has submitted stores nothing either way.
    let preview = import(&app, "?region=430482104", "text/plain", REPORT.as_bytes().to_vec()).await;
    assert!(preview.json()["drafts"][0].get("outcome").is_none());
}

/// The JSON and the workbook are two representations of one URL: each has its own ETag and
/// revalidates against its own, `Vary: Accept` says what chooses between them, and a write made
/// from the workbook may send the workbook's tag as its If-Match.
#[tokio::test]
async fn a_records_workbook_has_a_tag_of_its_own() {
    let app = spawn_app().await;
    let (id, json_tag) = app.create(&yintian()).await;
    let path = format!("/api/v1/evaluations/{id}");
    let workbook = app.request(Method::GET, &format!("{path}?format=xlsx"), None, &[]).await;
    assert_eq!(workbook.status, 200);
    assert_eq!(workbook.header("etag"), Some("\"1-xlsx\""));
    assert_eq!(workbook.header("vary"), Some("Accept"));
    let json = app.get(&path).await;
    assert_eq!(json.header("etag"), Some(json_tag.as_str()));
    assert_eq!(json.header("vary"), Some("Accept"));

    let by_accept = [("accept", XLSX), ("if-none-match", "\"1-xlsx\"")];
    let revalidated = app.request(Method::GET, &path, None, &by_accept).await;
    assert_eq!(revalidated.status, 304, "the workbook revalidates against its own tag");
    assert_eq!(revalidated.header("etag"), Some("\"1-xlsx\""));
    let crossed = app.request(Method::GET, &path, None, &[("if-none-match", "\"1-xlsx\"")]).await;
    assert_eq!(crossed.status, 200, "the workbook's tag does not validate the JSON");
    assert_eq!(crossed.header("content-type"), Some("application/json"));
    let crossed = app.request(Method::GET, &format!("{path}?format=xlsx"), None, &[("if-none-match", &json_tag)]).await;
    assert_eq!(crossed.status, 200, "nor the JSON's the workbook");
    assert_eq!(crossed.header("content-type"), Some(XLSX));

    let mut changed = yintian();
    changed["issuer"] = json!("常宁市荫田镇人民政府（改）");
    let written = app.put(&path, &changed, Some("\"1-xlsx\"")).await;
    assert_eq!(written.status, 200, "{}", written.text);
    assert_eq!(written.header("etag"), Some("\"2\""));
    let stale = app.put(&path, &changed, Some("\"1-xlsx\"")).await;
    stale.problem(412, "precondition_failed");
}

#[tokio::test]
async fn a_record_prints_as_its_standard_table_and_imports_back_the_same() {
    let app = spawn_app().await;
    for record in [yintian(), forms("tangxi-2022-commission")] {
        let (id, _) = app.create(&record).await;
        let response = app
            .client
            .get(format!("{}/api/v1/evaluations/{id}?format=xlsx", app.address))
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], XLSX);
        let workbook = response.bytes().await.unwrap().to_vec();
        let region = record["region_code"].as_str().unwrap();
        let reply = import(&app, &format!("?region={region}"), XLSX, workbook).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let drafts = reply.json()["drafts"].clone();
        assert_eq!(drafts.as_array().unwrap().len(), 1, "{drafts}");
        let stored = app.get(&format!("/api/v1/evaluations/{id}")).await.json();
        let mut expected = stored.clone();
        for member in ["id", "workflow", "derived", "created_at", "updated_at"] {
            expected.as_object_mut().unwrap().remove(member);
        }
        assert_eq!(drafts[0]["record"], expected, "{} round trip", record["kind"]);
    }
}

#[tokio::test]
async fn files_that_are_not_read_are_415_and_say_what_to_send() {
    let app = spawn_app().await;
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("application/msword", [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0].to_vec(), ".docx"),
        ("application/pdf", b"%PDF-1.7\n%...".to_vec(), "Word (.docx) or Excel (.xlsx)"),
        ("image/png", b"\x89PNG\r\n\x1a\n....".to_vec(), "no text recognition"),
        ("application/octet-stream", [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1].to_vec(), "另存为"),
        ("application/json", br#"{"a": 1}"#.to_vec(), "/api/v1/evaluations/batch"),
    ];
    for (content_type, body, hint) in cases {
        let reply = import(&app, "", content_type, body).await;
        let problem = reply.problem(415, "unsupported_media_type");
        assert!(problem["detail"].as_str().unwrap().contains(hint), "{content_type}: {problem}");
    }
    // Binary that is no text, with no type to go by.
    let reply = import(&app, "", "application/octet-stream", vec![0xff, 0xfe, 0x00, 0x81, 0x00, 0xc0, 0x01]).await;
    reply.problem(415, "unsupported_media_type");
    assert_eq!(app.count_rows("evaluations").await, 0);
}

#[tokio::test]
async fn bad_files_are_refused_whole_and_nothing_is_stored() {
    let app = spawn_app_with(|settings| settings.max_body_bytes = 1 << 20).await;
    // Over the body limit.
    let reply = import(&app, "?commit=true", "text/plain", vec![b'1'; (1 << 20) + 1]).await;
    reply.problem(413, "payload_too_large");
    // A zip bomb: 64 MiB of zeros in a few kilobytes, over 8 × the 1 MiB body limit when inflated.
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        zip.start_file("word/document.xml", zip::write::SimpleFileOptions::default()).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            zip.write_all(&zeros).unwrap();
        }
        zip.finish().unwrap();
    }
    let bomb = out.into_inner();
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let reply = import(&app, "?commit=true", DOCX, bomb).await;
    let problem = reply.problem(413, "payload_too_large");
    assert!(problem["detail"].as_str().unwrap().contains("decompress"), "{problem}");
    // A corrupt workbook.
    let reply = import(&app, "?commit=true", XLSX, b"PK\x03\x04 this is no zip at all".to_vec()).await;
    let problem = reply.problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "file");
    assert_eq!(problem["errors"][0]["code"], "corrupt_file");
    // A workbook without a self-evaluation table: a staff list.
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (r, row) in [["姓名", "职务", "电话"], ["张三", "镇长", "0734-1234567"]].iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *text).unwrap();
        }
    }
    let reply = import(&app, "?commit=true", XLSX, workbook.save_to_buffer().unwrap()).await;
    let problem = reply.problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "no_table");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("项目名称") && message.contains("年度资金总额"), "names the labels looked for: {message}");
    // A text with no figures.
    let reply =
        import(&app, "?commit=true", "text/plain", "绩效评价报告\n本单位认真开展自评工作。".as_bytes().to_vec()).await;
    let problem = reply.problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "no_figures");
    // A multipart body without a `file` part.
    let reply = app
        .post_raw(
            "/api/v1/evaluations/import",
            "multipart/form-data; boundary=XYZ",
            b"--XYZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nhello\r\n--XYZ--\r\n".to_vec(),
        )
        .await;
    let problem = reply.problem(400, "invalid_body");
    assert_eq!(problem["errors"][0]["field"], "file");
    // Anonymous callers cannot import.
    let reply = app.request_as(None, Method::POST, "/api/v1/evaluations/import", Some(&json!({})), &[]).await;
    reply.problem(401, "unauthorized");
    assert_eq!(app.count_rows("evaluations").await, 0);
    assert_eq!(app.count_rows("source_documents").await, 0);
}

#[tokio::test]
async fn a_browser_form_sends_the_file_as_multipart() {
    let app = spawn_app().await;
    let mut body = Vec::new();
    body.extend_from_slice(b"--BOUNDARY\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n");
    body.extend_from_slice(
        "--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"荫田镇2022自评报告.txt\"\r\nContent-Type: text/plain\r\n\r\n"
            .as_bytes(),
    );
    body.extend_from_slice(REPORT.as_bytes());
    body.extend_from_slice(b"\r\n--BOUNDARY--\r\n");
    let reply = import(&app, "?region=430482&commit=true", "multipart/form-data; boundary=BOUNDARY", body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let id = reply.json()["drafts"][0]["id"].as_i64().expect("stored");
    let source = app.get(&format!("/api/v1/evaluations/{id}/source")).await;
    assert_eq!(source.text, REPORT);
    let disposition = source.header("content-disposition").unwrap();
    assert!(disposition.contains("filename*=UTF-8''%E8%8D%AB%E7%94%B0%E9%95%87"), "{disposition}");
}

#[tokio::test]
async fn an_unknown_or_ambiguous_unit_is_not_stored_and_lists_candidates() {
    let app = spawn_app().await;
    // 荫田镇 is in 常宁市; under 4305 (邵阳市) no township has that name.
    let reply = import(&app, "?region=4305&commit=true", "text/plain", REPORT.as_bytes().to_vec()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let draft = &reply.json()["drafts"][0];
    assert_eq!(draft["region"]["resolution"], "unknown");
    assert_eq!(draft["errors"][0]["code"], "unresolved_region");
    assert_eq!(draft["outcome"], "invalid");
    assert_eq!(app.count_rows("evaluations").await, 0);
}

/// A sheet laid out as 棠溪镇 publishes its 项目支出绩效自评表 (财预〔2020〕10号): merged title and
/// labels, full-width punctuation, 万元, level labels merged down their rows.
fn tangxi_sheet(
    workbook: &mut rust_xlsxwriter::Workbook,
    sheet_name: &str,
    project: &str,
    funds: [[&str; 6]; 2],
    target: (&str, &str),
    rows: &[(&str, &str, &str, &str, &str, &str)],
) {
    let merged = rust_xlsxwriter::Format::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name).unwrap();
    let merges: Vec<(u32, u16, u32, u16, String)> = vec![
        (0, 0, 0, 8, "项目支出绩效自评表".into()),
        (1, 0, 1, 8, "（2022年度）".into()),
        (2, 1, 2, 8, project.into()),
        (3, 1, 3, 4, "219-池州市贵池区棠溪镇人民政府".into()),
        (3, 5, 3, 6, "实施单位".into()),
        (3, 7, 3, 8, "219001-池州市贵池区棠溪镇人民政府".into()),
        (4, 0, 8, 0, "项目资金（万元）".into()),
        (4, 1, 4, 2, "".into()),
        (5, 1, 5, 2, "年度资金总额".into()),
        (6, 1, 6, 2, "其中：当年财政拨款".into()),
        (7, 1, 7, 2, "上年结转资金".into()),
        (8, 1, 8, 2, "其他资金".into()),
        (9, 0, 10, 0, "年度总体目标".into()),
        (9, 1, 9, 4, "预期目标".into()),
        (9, 5, 9, 8, "实际完成情况".into()),
        (10, 1, 10, 4, target.0.into()),
        (10, 5, 10, 8, target.1.into()),
        (11, 0, 11 + rows.len() as u32, 0, "绩效指标".into()),
    ];
    for (r0, c0, r1, c1, text) in &merges {
        sheet.merge_range(*r0, *c0, *r1, *c1, text, &merged).unwrap();
    }
    let mut put = |r: u32, c: u16, text: &str| {
        if text.is_empty() {
            return;
        }
        match text.parse::<f64>() {
            Ok(n) => sheet.write_number(r, c, n).unwrap(),
            _ => sheet.write_string(r, c, text).unwrap(),
        };
    };
    put(2, 0, "项目名称");
    put(3, 0, "主管部门");
    for (i, label) in ["年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"].iter().enumerate()
    {
        put(4, 3 + i as u16, label);
    }
    for (r, values) in funds.iter().enumerate() {
        for (i, value) in values.iter().enumerate() {
            put(5 + r as u32, 3 + i as u16, value);
        }
    }
    for (i, label) in
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"]
            .iter()
            .enumerate()
    {
        put(11, 1 + i as u16, label);
    }
    for (i, (level_1, level_2, name, target, actual, weight)) in rows.iter().enumerate() {
        let r = 12 + i as u32;
        for (c, value) in [level_1, level_2, name, target, actual, weight, weight].iter().enumerate() {
            put(r, 1 + c as u16, value);
        }
    }
}

#[tokio::test]
async fn tangxi_workbook_of_two_project_tables_becomes_its_two_records() {
    let app = spawn_app().await;
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let output = "产出指标（50分）";
    let effect = "效益指标（30分）";
    tangxi_sheet(
        &mut workbook,
        "委托业务项目",
        "委托业务项目",
        [["0", "0", "0", "10", "0", "0"], ["90", "89.974", "89.974", "", "", ""]],
        (
            "申请预算资金90万元，其中30万元用于基建工程项目预算编制、30万元用于审计、30万元用于设计规划测绘",
            "完成89.97万元，其中基建工程项目预算编制30万元、审计30万元、设计规划测绘29.99万元",
        ),
        &[
            (output, "数量指标", "基建工程委托业务项目数量", "≥50个", "50", "8"),
            (output, "质量指标", "委托业务报告合格率", "≥100%", "100", "8"),
            (output, "质量指标", "经费支出合规性", "严格执行相关制度规定", "达成预期指标", "8"),
            (output, "时效指标", "提交报告及时性", "在项目计划完成时间内完成", "达成预期指标", "8"),
            (output, "成本指标", "项目总成本", "≤90万元", "90", "8"),
            (output, "成本指标", "单项业务成本", "符合相关规定", "达成预期指标", "10"),
            (effect, "社会效益指标", "社会效益", "效果明显", "达成预期指标", "10"),
            (effect, "生态效益指标", "生态效益", "效果明显", "达成预期指标", "10"),
            (effect, "可持续影响指标", "可持续影响", "效果明显", "达成预期指标", "10"),
        ],
    );
    tangxi_sheet(
        &mut workbook,
        "村级补助及运转经费",
        "村级补助及运转经费",
        [["0", "0", "0", "", "", ""], ["202.64", "132.912", "132.912", "", "", ""]],
        (
            "村级补助及运转经费预算2026400元，其中村级组织运转400000元、村民组长、党小组长基本报酬252000元、村民监督委员会工资28000元、村级事务补助960000元、村级工作目标奖励100000元",
            "实际支出1329120.67元，其中村级组织运转439120.67元、村民组长、党小组长基本报酬152000元、村民监督委员会工资28000元、村级事务补助660000元、村级工作目标奖励50000元",
        ),
        &[
            ("产出指标", "数量指标", "补助村(社区)数量", "=8个", "8", "8"),
            ("产出指标", "数量指标", "保障村干部人数", "=42个", "42", "8"),
            ("产出指标", "质量指标", "补助资格合规性", "合规", "达成预期指标", "8"),
            ("产出指标", "成本指标", "项目总成本", "≤202.6万元", "132.9", "10"),
        ],
    );
    let bytes = workbook.save_to_buffer().unwrap();
    let reply = import(&app, "?region=3417&commit=true", XLSX, bytes).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["document"], "xlsx");
    assert_eq!(body["summary"]["created"], 2, "{body}");
    for (i, name) in ["tangxi-2022-commission", "tangxi-2022-village"].iter().enumerate() {
        let draft = &body["drafts"][i];
        assert_eq!(draft["region"]["code"], "341702108", "{}", draft["region"]);
        let stored = app.get(&format!("/api/v1/evaluations/{}", draft["id"])).await.json();
        let mut content = stored.clone();
        for member in ["id", "workflow", "derived", "created_at", "updated_at"] {
            content.as_object_mut().unwrap().remove(member);
        }
        // The stored record is the fixture (defaults aside).
        assert_holds(&forms(name), &content, name);
        let rules: Vec<&str> =
            draft["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
        assert!(rules.contains(&"funds_total"), "{name}: the 0/0/0 total row: {rules:?}");
        assert!(rules.contains(&"project_items_total"), "{name}: {rules:?}");
        // Provenance names the cell a figure was read from.
        let funds = draft["provenance"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["field"] == "budget_execution.sources.current_appropriation.executed")
            .unwrap_or_else(|| panic!("{name}: {}", draft["provenance"]));
        assert_eq!((&funds["source"]["kind"], &funds["source"]["cell"]), (&json!("cell"), &json!("F7")));
        let source = app.get(&format!("/api/v1/evaluations/{}/source", draft["id"])).await;
        assert_eq!(source.header("content-type"), Some(XLSX));
    }
}
