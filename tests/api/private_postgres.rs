//! The private PostgreSQL that `perfeval serve` runs when no DATABASE_URL is set.
use std::time::Duration;

use perfeval::{config::Settings, startup::Application};

#[tokio::test]
async fn serve_without_database_url_creates_reuses_and_stops_its_own_cluster() {
    // Under the temp folder: PostgreSQL runs as an unprivileged user when tests run as root,
    // and that user must be able to reach the folder.
    let data_dir = tempfile::Builder::new().prefix("perfeval-private-").tempdir_in(std::env::temp_dir()).unwrap();
    std::fs::set_permissions(data_dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    for round in 0..2 {
        let mut settings = Settings::from_lookup(|_| None).unwrap();
        settings.data_dir = Some(data_dir.path().to_owned());
        settings.listen = "127.0.0.1:0".into();
        let app = Application::build(settings).await.expect("serving with a private PostgreSQL");
        let (port, handle) = (app.port(), app.handle());
        let mut conn = perfeval::db::connect(app.database_url()).await.unwrap();
        let (token, _) =
            perfeval::db::tokens::issue(&mut conn, &format!("admin {round}"), "admin", None).await.unwrap();
        let running = tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::new();
        let ready = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200, "round {round}");
        let region: serde_json::Value = client
            .get(format!("http://127.0.0.1:{port}/api/v1/regions/430482104"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(region["name"], "荫田镇");
        if round == 0 {
            let created = client
                .post(format!("http://127.0.0.1:{port}/api/v1/evaluations"))
                .bearer_auth(&token)
                .json(&crate::helpers::minimal("430482104", 2022, "常宁市荫田镇人民政府"))
                .send()
                .await
                .unwrap();
            assert_eq!(created.status(), 201);
        } else {
            // The second start reused the cluster: the first round's record is still there.
            let list: serde_json::Value = client
                .get(format!("http://127.0.0.1:{port}/api/v1/evaluations"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(list["items"].as_array().unwrap().len(), 1);
        }
        handle.stop(true).await;
        tokio::time::timeout(Duration::from_secs(30), running).await.unwrap().unwrap().unwrap();
        let pid_file = data_dir.path().join("postgres").join("postmaster.pid");
        assert!(!pid_file.exists(), "the cluster is stopped on shutdown (round {round})");
    }
}
