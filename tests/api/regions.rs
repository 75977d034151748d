use std::collections::HashSet;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_township_names_its_county_prefecture_and_province() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/regions/430482104").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["code"], "430482104");
    assert_eq!(body["name"], "荫田镇");
    assert_eq!(body["level"], "township");
    assert_eq!(body["parent_code"], "430482");
    let ancestors: Vec<(&str, &str, &str)> = body["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["code"].as_str().unwrap(), a["name"].as_str().unwrap(), a["level"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ancestors,
        [("43", "湖南省", "province"), ("4304", "衡阳市", "prefecture"), ("430482", "常宁市", "county")]
    );
    assert_eq!(
        body["child_counts"],
        serde_json::json!({"children": 0, "prefectures": 0, "counties": 0, "townships": 0})
    );
}

#[tokio::test]
async fn the_twelve_digit_township_form_is_accepted() {
    let app = spawn_app().await;
    let body = app.get("/api/v1/regions/430482104000").await.json();
    assert_eq!(body["code"], "430482104");
    assert_eq!(body["name"], "荫田镇");
}

#[tokio::test]
async fn a_province_counts_every_level_below_it() {
    let app = spawn_app().await;
    let body = app.get("/api/v1/regions/43").await.json();
    assert_eq!(body["name"], "湖南省");
    assert_eq!(body["ancestors"], serde_json::json!([]));
    assert_eq!(
        body["child_counts"],
        serde_json::json!({"children": 14, "prefectures": 14, "counties": 134, "townships": 2008})
    );
}

#[tokio::test]
async fn unknown_or_malformed_codes_are_not_found() {
    let app = spawn_app().await;
    for code in ["439999999", "99", "4304821", "abc", "430482104001"] {
        app.get(&format!("/api/v1/regions/{code}")).await.problem(404, "not_found");
    }
}

#[tokio::test]
async fn lists_children_of_a_parent_page_by_page() {
    let app = spawn_app().await;
    let mut codes = Vec::new();
    let mut path = "/api/v1/regions?parent=4304&limit=5".to_owned();
    loop {
        let body = app.get(&path).await.json();
        for item in body["items"].as_array().unwrap() {
            assert_eq!(item["parent_code"], "4304");
            assert_eq!(item["level"], "county");
            codes.push(item["code"].as_str().unwrap().to_owned());
        }
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/regions?parent=4304&limit=5&cursor={cursor}"),
            None => break,
        }
    }
    let expected = app.get("/api/v1/regions/4304").await.json()["child_counts"]["children"].as_u64().unwrap();
    assert_eq!(codes.len() as u64, expected);
    assert!(codes.contains(&"430482".to_owned()));
    assert_eq!(codes.iter().collect::<HashSet<_>>().len(), codes.len(), "no region twice");
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted, "code order");
}

#[tokio::test]
async fn filters_by_level_and_name() {
    let app = spawn_app().await;
    let body = app.get("/api/v1/regions?level=township&q=%E8%8D%AB%E7%94%B0").await.json();
    let items = body["items"].as_array().unwrap();
    assert!(items.iter().any(|i| i["code"] == "430482104"), "{body}");
    assert!(items.iter().all(|i| i["level"] == "township" && i["name"].as_str().unwrap().contains("荫田")));
    let provinces = app.get("/api/v1/regions?level=province&limit=1000").await.json();
    assert_eq!(provinces["items"].as_array().unwrap().len(), 31);
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/regions?level=village").await;
    reply.problem(400, "invalid_query");
    assert_eq!(reply.error_fields(), ["level"]);
    let reply = app.get("/api/v1/regions?colour=red").await;
    reply.problem(400, "invalid_query");
    assert_eq!(reply.error_fields(), ["colour"]);
    let reply = app.get("/api/v1/regions?limit=1001").await;
    assert_eq!(reply.error_fields(), ["limit"]);
    let reply = app.get("/api/v1/regions?cursor=zzz").await;
    assert_eq!(reply.error_fields(), ["cursor"]);
}
