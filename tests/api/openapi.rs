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

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app().await;
    let page = app.get("/docs/").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    let script = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(script.status, 200);
    assert!(script.text.len() > 100_000, "the bundle is served whole, from the binary");
    let initializer = app.get("/docs/swagger-initializer.js").await;
    assert!(initializer.text.contains("/api/v1/openapi.json"), "{}", initializer.text);
}
