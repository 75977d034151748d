use crate::helpers::spawn_app;

const COMMITTED: &str = include_str!("../../openapi/openapi.json");
const REGENERATE: &str =
    "openapi/openapi.json is stale; regenerate it with `cargo run -- openapi > openapi/openapi.json` and commit it";

#[test]
fn the_committed_document_matches_the_code() {
    let generated = perfeval::startup::openapi_document().to_pretty_json().unwrap();
    assert!(generated.trim() == COMMITTED.trim(), "{REGENERATE}");
}

#[tokio::test]
async fn the_served_document_is_the_committed_one() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/openapi.json").await;
    assert_eq!(reply.status, 200);
    let committed: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    assert_eq!(reply.json(), committed, "{REGENERATE}");
    assert!(committed["openapi"].as_str().unwrap().starts_with("3.1"));
}

#[test]
fn every_operation_documents_its_errors_as_problem_json() {
    let document: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            assert!(
                operation["summary"].is_string() || operation["description"].is_string(),
                "{method} {path} has no description"
            );
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status} is not documented as problem+json"
                    );
                }
            }
        }
    }
    assert!(operations >= 9, "only {operations} operations documented");
}

#[test]
fn summaries_are_one_plain_line() {
    // Swagger UI shows a summary as plain text beside the path: Markdown belongs in the
    // description (the doc comment's later paragraphs), which it renders.
    let document: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let summary = operation["summary"].as_str().unwrap_or_else(|| panic!("{method} {path} has no summary"));
            assert!(!summary.contains('`') && !summary.contains('\n'), "{method} {path}: {summary:?}");
            assert!(summary.len() <= 100, "{method} {path}: a summary of {} bytes", summary.len());
        }
    }
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app().await;
    let page = app.get("/docs/").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    // The document downloads with the bundle, not after it; the scripts do not block the page.
    assert!(page.text.contains(r#"<link rel="preload" href="/api/v1/openapi.json" as="fetch""#), "{}", page.text);
    assert!(!page.text.contains("standalone-preset"), "{}", page.text);
    let bundle_url = page.text.split('"').find(|part| part.starts_with("swagger-ui-bundle.js?v=")).unwrap().to_owned();
    assert!(page.text.contains(&format!(r#"<script src="{bundle_url}" charset="UTF-8" defer>"#)), "{}", page.text);

    let script = app.get(&format!("/docs/{bundle_url}")).await;
    assert_eq!(script.status, 200);
    assert!(script.text.len() > 100_000, "the bundle is served whole, from the binary");
    assert_eq!(script.header("cache-control"), Some("public, max-age=31536000, immutable"), "named by its hash");
    let initializer = app.get("/docs/swagger-initializer.js").await;
    assert!(initializer.text.contains("/api/v1/openapi.json"), "{}", initializer.text);
    assert!(initializer.text.contains(r#"validatorUrl: "none""#), "no request to validator.swagger.io");
}

#[tokio::test]
async fn docs_files_carry_validators() {
    let app = spawn_app().await;
    for path in ["/docs/", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/swagger-initializer.js"] {
        let first = app.get(path).await;
        assert_eq!(first.status, 200, "{path}");
        assert_eq!(first.header("cache-control"), Some("no-cache"), "{path}: revalidated on each visit");
        let etag = first.header("etag").unwrap_or_else(|| panic!("{path} has no ETag")).to_owned();
        let again = app.request(reqwest::Method::GET, path, None, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, 304, "{path}");
        assert_eq!(again.text, "", "{path}");
        assert_eq!(again.header("etag"), Some(etag.as_str()));
    }
    let gzipped =
        app.request(reqwest::Method::GET, "/docs/swagger-ui-bundle.js", None, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    app.get("/docs/no-such-file.js").await.problem(404, "not_found");
    assert_eq!(app.get("/docs").await.status, 200, "/docs redirects to /docs/ (followed)");
}

/// The pattern a component of the committed document states.
fn stated_pattern(document: &serde_json::Value, component: &str) -> regex::Regex {
    let pattern = document["components"]["schemas"][component]["pattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{component} states no pattern"));
    regex::Regex::new(pattern).unwrap_or_else(|e| panic!("{component}: {e}"))
}

#[tokio::test]
async fn what_the_document_admits_the_service_does_not_refuse_as_malformed() {
    // A generated client checks a value against the document before it sends it: every value the
    // pattern admits must get past the service's parser (no 400; a well-formed but unknown value
    // may still be 422), and every value it refuses must be refused with 400.
    let app = spawn_app().await;
    let document: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "RegionCodeText",
            "/api/v1/evaluations?region=",
            &[
                "43",
                "4304",
                "430482",
                "430482104",
                "430482104000",
                "990000",
                "430482104001",
                "4",
                "430",
                "4304821",
                "43048210",
                "4304821040",
                "abc",
                " 43",
                "43 ",
                "４３",
                "43.0",
            ],
        ),
        (
            "FiscalYears",
            "/api/v1/evaluations?fiscal_year=",
            &[
                "2022",
                "1990",
                "2100",
                "2019..2024",
                "2024..2019",
                "2022..2022",
                "1989",
                "2101",
                "22",
                "2022..",
                " 2022",
                "+2022",
                "02022",
                "2019..2022..2024",
                "2019-2024",
            ],
        ),
        (
            "SortText",
            "/api/v1/evaluations?sort=",
            &["id", "-total_score", "+unit", "updated_at", "score", "--id", "-", "Id", " id"],
        ),
        (
            "MeasureText",
            "/api/v1/aggregates?measures=",
            &[
                "expenditure.total",
                "expenditure.total:avg",
                "score:median",
                "records",
                "records:count",
                "three_public.per_staff",
                "indicator.HN-01.actual",
                "indicator.HN-01.actual:p75",
                "indicator.HN-01.completion",
                "indicator.ZZ-99.actual",
                "records:sum",
                "three_public.per_staff:sum",
                "indicator.HN-01.completion:avg",
                "indicator..actual",
                "indicator.HN-01.target",
                "expenditure.total:mode",
                "expenditure",
                "Expenditure.total",
            ],
        ),
        ("Cursor", "/api/v1/regions?cursor=", &["NDM", "bm90LWEtY29kZQ", "NDM=", "not a cursor", "//"]),
    ];
    for (component, prefix, samples) in cases {
        let pattern = stated_pattern(&document, component);
        for sample in samples {
            let value = sample.to_string();
            let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            let reply = app.get(&format!("{prefix}{encoded}")).await;
            let admitted = pattern.is_match(&value);
            assert_eq!(
                reply.status != 400,
                admitted,
                "{component} {} `{value}`, and the service answered {}: {}",
                if admitted { "admits" } else { "refuses" },
                reply.status,
                reply.text
            );
        }
    }
}
