//! The command line as a script uses it: the real binary, a fresh database, and standard output
//! holding only the command's result (its logs go to standard error), so that
//! `TOKEN=$(perfeval token create …)` captures the token alone.
use std::{
    fs::Permissions,
    os::unix::fs::PermissionsExt,
    process::{Command, Output, Stdio},
};

use perfeval::domain::record::EvaluationInput;

use crate::helpers::TestDatabase;

const BIN: &str = env!("CARGO_BIN_EXE_perfeval");

/// Runs `perfeval ARGS` as a user would (default log level and format) against `database_url`.
fn perfeval(database_url: Option<&str>, envs: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).stdin(Stdio::null()).env_remove("RUST_LOG").env_remove("PERFEVAL_LOG_FORMAT");
    match database_url {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    command.envs(envs.iter().copied()).output().expect("running perfeval")
}

#[track_caller]
fn succeeded(output: &Output) -> (String, String) {
    let (stdout, stderr) =
        (String::from_utf8(output.stdout.clone()).unwrap(), String::from_utf8_lossy(&output.stderr).into_owned());
    assert!(output.status.success(), "{}:\n{stdout}\n{stderr}", output.status);
    (stdout, stderr)
}

#[tokio::test]
async fn token_create_prints_only_the_token_on_a_fresh_database() {
    let db = TestDatabase::empty().await;
    let (stdout, stderr) =
        succeeded(&perfeval(Some(&db.url), &[], &["token", "create", "--role", "admin", "--name", "ci"]));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line, the token: {stdout:?}");
    let token = lines[0];
    assert!(
        token.len() == 67 && token.starts_with("pe_") && token[3..].bytes().all(|b| b.is_ascii_hexdigit()),
        "{token:?}"
    );
    // The first command on a new database migrates it and loads the divisions, and says so
    // where logs go.
    assert!(stderr.contains("loaded the built-in 2023 division table"), "{stderr}");
    assert!(stderr.contains("token `ci` (admin) created"), "{stderr}");
    assert!(!stderr.contains(token), "the token is printed once, on standard output");

    let (stdout, _) = succeeded(&perfeval(Some(&db.url), &[], &["token", "list"]));
    let rows: Vec<Vec<&str>> = stdout.lines().map(|line| line.split('\t').collect()).collect();
    assert_eq!(rows.len(), 1, "{stdout:?}");
    assert_eq!(rows[0].len(), 5, "name, role, region, created, state: {stdout:?}");
    assert_eq!((rows[0][0], rows[0][1], rows[0][2], rows[0][4]), ("ci", "admin", "", "active"));
    assert!(!stdout.contains(token));
}

#[tokio::test]
async fn token_list_prints_only_its_table_on_a_fresh_database() {
    let db = TestDatabase::empty().await;
    let (stdout, stderr) = succeeded(&perfeval(Some(&db.url), &[], &["token", "list"]));
    assert_eq!(stdout, "", "no tokens yet, and nothing else");
    assert!(stderr.contains("loaded the built-in 2023 division table"), "{stderr}");
}

#[tokio::test]
async fn openapi_prints_only_the_document() {
    let db = TestDatabase::empty().await;
    let (stdout, _) = succeeded(&perfeval(Some(&db.url), &[], &["openapi"]));
    let document: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is the JSON document");
    let committed: serde_json::Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    assert_eq!(document, committed);
}

#[tokio::test]
async fn demo_data_to_stdout_prints_one_record_per_line() {
    let db = TestDatabase::empty().await;
    let args = ["demo-data", "--region", "430482", "--years", "2021..2022", "--ndjson", "-"];
    let (stdout, stderr) = succeeded(&perfeval(Some(&db.url), &[], &args));
    let records: Vec<EvaluationInput> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a record ({e}): {line}")))
        .collect();
    assert!(records.len() > 20, "{}", records.len());
    assert!(records.iter().all(|r| r.region_code.starts_with("430482") && (2021..=2022).contains(&r.fiscal_year)));
    assert!(stderr.contains(&format!("wrote {} records to standard output", records.len())), "{stderr}");
    // A reader that stops early is not an error.
    let head = Command::new("bash")
        .arg("-c")
        .arg(format!("set -o pipefail; '{BIN}' demo-data --region 43 --years 2018..2024 --ndjson - | head -n 1"))
        .output()
        .unwrap();
    assert!(head.status.success(), "{}", String::from_utf8_lossy(&head.stderr));
    assert_eq!(String::from_utf8_lossy(&head.stdout).lines().count(), 1);
}

/// A folder that cannot be used ends with one line, `error: …`, and status 1: not a panic, and
/// no backtrace even when RUST_BACKTRACE asks for one.
#[tokio::test]
async fn an_unusable_data_folder_is_one_line_and_status_1() {
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("not-a-folder");
    std::fs::write(&file, "").unwrap();
    let mut cases = vec![file.join("data")];
    if unsafe { libc::geteuid() } == 0 {
        // Run as root, PostgreSQL runs as `postgres`, which cannot enter a folder of mode 700.
        let closed = scratch.path().join("closed");
        std::fs::create_dir(&closed).unwrap();
        std::fs::set_permissions(&closed, Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(scratch.path(), Permissions::from_mode(0o755)).unwrap();
        cases.push(closed.join("data"));
    }
    for data_dir in cases {
        let data_dir = data_dir.to_str().unwrap();
        let output = perfeval(None, &[("PERFEVAL_DATA_DIR", data_dir), ("RUST_BACKTRACE", "1")], &["migrate"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(output.stdout.is_empty());
        let errors: Vec<&str> = stderr.lines().filter(|line| line.starts_with("error: ")).collect();
        assert_eq!(errors.len(), 1, "{stderr}");
        assert!(stderr.trim_end().ends_with(errors[0]), "the error is the last line: {stderr}");
        assert!(errors[0].contains(data_dir) || errors[0].contains("postgres"), "{stderr}");
        assert!(!stderr.contains("panicked") && !stderr.to_lowercase().contains("backtrace"), "{stderr}");
    }
}

/// `cargo test` leaves its cluster running for the next run; `perfeval pg stop` stops it.
#[tokio::test]
async fn pg_stop_stops_a_cluster_left_running() {
    let data_dir = tempfile::Builder::new().prefix("perfeval-pg-stop-").tempdir_in(std::env::temp_dir()).unwrap();
    std::fs::set_permissions(data_dir.path(), Permissions::from_mode(0o755)).unwrap();
    let dir = data_dir.path().to_owned();
    let postgres = tokio::task::spawn_blocking(move || {
        perfeval::db::private_pg::PrivatePostgres::start(
            &dir,
            perfeval::db::private_pg::Durability { unsafe_fast: true },
        )
    })
    .await
    .unwrap()
    .unwrap();
    std::mem::forget(postgres);
    let pid_file = data_dir.path().join("postgres").join("postmaster.pid");
    assert!(pid_file.exists());
    let dir = data_dir.path().to_str().unwrap();
    let (_, stderr) = succeeded(&perfeval(None, &[], &["pg", "stop", "--data-dir", dir]));
    assert!(stderr.contains("stopped the private PostgreSQL in"), "{stderr}");
    assert!(!pid_file.exists(), "stopped");
    let (_, stderr) = succeeded(&perfeval(None, &[], &["pg", "stop", "--data-dir", dir]));
    assert!(stderr.contains("is not running"), "{stderr}");
    let output = perfeval(None, &[], &["pg", "stop", "--data-dir", &format!("{dir}/nothing-here")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("error: there is no private PostgreSQL cluster in"));
}

/// `perfeval import-report`: one line per file on standard output, each file's drafts with
/// provenance in `--out`, stored with `--commit`; a file it cannot read fails the command.
#[tokio::test]
async fn import_report_prints_a_line_per_file_and_stores_with_commit() {
    let db = TestDatabase::new().await;
    let folder = tempfile::tempdir().unwrap();
    let record: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/forms/tangxi-2022-commission.json")).unwrap();
    let record: EvaluationInput = serde_json::from_value(record).unwrap();
    let workbook = folder.path().join("委托业务项目.xlsx");
    std::fs::write(&workbook, perfeval::intake::table::render_record(&record)).unwrap();
    let pdf = folder.path().join("scan.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 not read").unwrap();
    let out = folder.path().join("drafts");
    let (workbook_arg, out_arg) = (workbook.to_str().unwrap(), out.to_str().unwrap());

    let (stdout, _) = succeeded(&perfeval(
        Some(&db.url),
        &[],
        &["import-report", workbook_arg, "--region", "3417", "--out", out_arg],
    ));
    let line = stdout.lines().next().unwrap();
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(fields[0], workbook_arg, "{line}");
    assert_eq!(fields[1], "1 drafts", "{line}");
    assert!(fields[2].ends_with(" fields") && fields[2] != "0 fields", "{line}");
    assert_eq!(fields[4], "0 errors", "{line}");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("委托业务项目.json")).unwrap()).expect("the drafts as JSON");
    assert_eq!(written["drafts"][0]["record"]["project"]["name"], "委托业务项目");
    assert_eq!(written["drafts"][0]["region"]["code"], "341702108");
    assert_eq!(db.count_rows("evaluations").await, 0, "a preview stores nothing");

    let (stdout, _) =
        succeeded(&perfeval(Some(&db.url), &[], &["import-report", workbook_arg, "--region", "3417", "--commit"]));
    assert!(stdout.trim_end().ends_with("1 created, 0 updated, 0 unchanged, 0 invalid"), "{stdout}");
    assert_eq!(db.count_rows("evaluations").await, 1);

    let failed = perfeval(Some(&db.url), &[], &["import-report", pdf.to_str().unwrap(), workbook_arg]);
    assert_eq!(failed.status.code(), Some(1));
    let stdout = String::from_utf8(failed.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 2, "a line for each file, the failed one too: {stdout}");
    assert!(stdout.lines().next().unwrap().contains("error: this file is a PDF"), "{stdout}");
    assert!(String::from_utf8_lossy(&failed.stderr).contains("1 of 2 files could not be read"));
}

#[tokio::test]
async fn changes_prints_the_feed_as_ndjson_resumes_from_a_cursor_and_follows() {
    use std::io::BufRead;
    let app = crate::helpers::spawn_app().await;
    let (first, _) = app.create(&crate::helpers::minimal("430482104", 2022, "甲")).await;
    let (second, _) = app.create(&crate::helpers::minimal("430482104", 2023, "乙")).await;

    let (stdout, _) = succeeded(&perfeval(Some(&app.db.url), &[], &["changes"]));
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.iter().map(|l| l["evaluation_id"].as_i64().unwrap()).collect::<Vec<_>>(), [first, second]);
    assert_eq!(lines[0]["action"], "create");
    let cursor = lines[0]["cursor"].as_str().unwrap();
    let (stdout, _) = succeeded(&perfeval(Some(&app.db.url), &[], &["changes", "--since", cursor]));
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.contains("\"乙\""), "{stdout}");
    let (stdout, _) = succeeded(&perfeval(Some(&app.db.url), &[], &["changes", "--region", "430502"]));
    assert_eq!(stdout, "");

    let bad = perfeval(Some(&app.db.url), &[], &["changes", "--since", "42"]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.starts_with("error: --since:") && stderr.lines().count() == 1, "{stderr}");

    // --follow prints what commits after it started.
    let mut follower = Command::new(BIN)
        .args(["changes", "--follow", "--interval-ms", "50", "--since"])
        .arg(lines[1]["cursor"].as_str().unwrap())
        .env("DATABASE_URL", &app.db.url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = follower.stdout.take().unwrap();
    let (third, _) = app.create(&crate::helpers::minimal("430482104", 2024, "丙")).await;
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    });
    let line =
        tokio::time::timeout(std::time::Duration::from_secs(20), line).await.expect("a line within 20 s").unwrap();
    follower.kill().unwrap();
    follower.wait().unwrap();
    let change: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(change["evaluation_id"], third);
    assert_eq!(change["unit"], "丙");
}
