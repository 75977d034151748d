//! What the failure tests share: a private PostgreSQL a test can stop and start again, the real
//! `perfeval` binary run as a child process (as a user runs it), the command line, the demo
//! batch, and direct queries.
use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{mpsc, Arc, Mutex},
    time::{Duration, Instant},
};

use diesel::{
    sql_types::{BigInt, Text},
    QueryableByName,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use perfeval::db::{
    self,
    private_pg::{Durability, PrivatePostgres},
};

/// The service's binary, built by cargo for this test target.
pub const BIN: &str = env!("CARGO_BIN_EXE_perfeval");

/// Records in the batch of the kill -9 test.
pub const BATCH_RECORDS: usize = 5_000;

/// One failure test at a time: each runs its own PostgreSQL and service, and the timings they
/// check (recovery within 5 s) must not depend on the other tests' load on a small machine.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs a test body within a time bound; on expiry the body is dropped, and with it every guard
/// (service killed, cluster stopped).
pub async fn bounded<F: std::future::Future<Output = ()>>(limit: Duration, body: F) {
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    tokio::time::timeout(limit, body).await.unwrap_or_else(|_| panic!("the test ran longer than {limit:?}"));
    eprintln!("[failures] test finished in {:.1} s", started.elapsed().as_secs_f64());
}

/// A private PostgreSQL cluster in a folder of its own, which a test can stop and start again.
/// It listens only on a Unix socket in that folder, so its URL survives a restart.
pub struct Cluster {
    postgres: Option<PrivatePostgres>,
    /// Connection URL of the `perfeval` database.
    pub url: String,
    dir: tempfile::TempDir,
}

impl Cluster {
    pub async fn start() -> Self {
        // Under the temp folder and readable by all: as root, PostgreSQL runs as `postgres`,
        // which must reach the folder.
        let dir = tempfile::Builder::new().prefix("perfeval-failures-").tempdir_in(std::env::temp_dir()).unwrap();
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let postgres = start_postgres(dir.path()).await;
        perfeval::startup::create_database_if_missing(&postgres.url("postgres"), "perfeval")
            .await
            .expect("creating the perfeval database");
        Self { url: postgres.url("perfeval"), postgres: Some(postgres), dir }
    }

    /// A folder for the test's files (owned by the test, next to the cluster's own folder).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `pg_ctl stop -m fast`: open sessions are ended, the socket goes away.
    pub async fn stop(&mut self) {
        let postgres = self.postgres.take().expect("the cluster is running");
        tokio::task::spawn_blocking(move || postgres.stop()).await.unwrap();
        let pid_file = self.dir.path().join("postgres").join("postmaster.pid");
        assert!(!pid_file.exists(), "PostgreSQL stopped ({} is gone)", pid_file.display());
    }

    /// Starts the stopped cluster again on the same folder; `pg_ctl start -w` returns once it
    /// accepts connections.
    pub async fn restart(&mut self) {
        assert!(self.postgres.is_none(), "the cluster is stopped");
        let postgres = start_postgres(self.dir.path()).await;
        assert_eq!(postgres.url("perfeval"), self.url, "the URL stays the same across a restart");
        self.postgres = Some(postgres);
    }

    pub async fn connect(&self) -> AsyncPgConnection {
        db::connect(&self.url).await.expect("connecting to the test cluster")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(postgres) = self.postgres.take() {
            postgres.stop();
        }
    }
}

async fn start_postgres(dir: &Path) -> PrivatePostgres {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || PrivatePostgres::start(&dir, Durability { unsafe_fast: true }))
        .await
        .unwrap()
        .expect("starting a private PostgreSQL")
}

/// Runs `perfeval ARGS` against `database_url` and returns its standard output.
pub async fn cli(database_url: &str, dir: &Path, args: &[&str]) -> String {
    let output = tokio::process::Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("PERFEVAL_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("running perfeval");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "perfeval {args:?} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Migrates the database and creates an admin token with the command line; returns the token.
pub async fn admin_token(cluster: &Cluster) -> String {
    cli(&cluster.url, cluster.dir(), &["migrate"]).await;
    let stdout = cli(&cluster.url, cluster.dir(), &["token", "create", "--role", "admin", "--name", "failures"]).await;
    // Standard output holds the token alone (logs go to standard error).
    let token = stdout.trim();
    assert!(token.starts_with("pe_") && !token.contains('\n'), "`perfeval token create` printed {stdout:?}");
    token.to_owned()
}

/// Imports NDJSON lines with `perfeval import` (the batch endpoint's code path, no HTTP).
pub async fn import(cluster: &Cluster, lines: &[String], name: &str) {
    let path = cluster.dir().join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    cli(&cluster.url, cluster.dir(), &["import", path.to_str().unwrap()]).await;
}

static DEMO: tokio::sync::OnceCell<Vec<String>> = tokio::sync::OnceCell::const_new();

/// The Hunan demo records (`perfeval demo-data --region 43 --years 2018..2024 --ndjson`), one
/// NDJSON line each, generated once per test process.
pub async fn demo_lines() -> &'static [String] {
    DEMO.get_or_init(|| async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hunan.ndjson");
        let output = tokio::process::Command::new(BIN)
            .args(["demo-data", "--region", "43", "--years", "2018..2024", "--ndjson"])
            .arg(&path)
            .env("PERFEVAL_LOG_FORMAT", "json")
            .current_dir(dir.path())
            .output()
            .await
            .unwrap();
        assert!(output.status.success(), "demo-data failed: {}", String::from_utf8_lossy(&output.stderr));
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<String> = text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect();
        assert!(lines.len() > BATCH_RECORDS, "the demo data has {} records", lines.len());
        lines
    })
    .await
}

/// The `perfeval serve` process. Dropping it kills the process (SIGKILL) if it still runs, and
/// prints the end of its log when the test is failing.
pub struct Service {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    log: Arc<Mutex<Vec<String>>>,
    /// Where the whole log is written when the service is dropped.
    log_file: std::path::PathBuf,
}

impl Service {
    /// Starts `perfeval serve` on a free loopback port (`PERFEVAL_LISTEN=127.0.0.1:0`; the port
    /// is read from the JSON `serving` log line) and waits until it listens.
    /// Its whole log is kept in `target/tmp/failures/LABEL.log`.
    pub async fn start(label: &str, cluster: &Cluster, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .env("DATABASE_URL", &cluster.url)
            .env("PERFEVAL_LISTEN", "127.0.0.1:0")
            .env("PERFEVAL_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            // The request-rate limit is not under test here, and the checks send thousands of reads.
            .env("PERFEVAL_RATE_LIMIT", "0")
            .env_remove("PERFEVAL_DATA_DIR")
            .current_dir(cluster.dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("starting perfeval serve");
        let stdout = child.stdout.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) {
                        if event["message"] == "serving" {
                            if let Some(address) = event["address"].as_str() {
                                let _ = port_tx.send(address.to_owned());
                            }
                        }
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        let log_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("failures");
        std::fs::create_dir_all(&log_dir).unwrap();
        let log_file = log_dir.join(format!("{label}.log"));
        let mut service = Self { child, base: String::new(), log, log_file };
        let deadline = Instant::now() + Duration::from_secs(60);
        let address = loop {
            if let Ok(address) = port_rx.try_recv() {
                break address;
            }
            if let Some(status) = service.child.try_wait().unwrap() {
                panic!("perfeval serve exited at start-up ({status}):\n{}", service.log_tail(40));
            }
            assert!(Instant::now() < deadline, "perfeval serve did not log `serving` within 60 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        service.base = format!("http://{address}");
        service
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// `kill -9`, and waits for the process to be gone.
    pub fn kill9(&mut self) {
        self.signal(libc::SIGKILL);
        self.child.wait().unwrap();
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill has no memory-safety preconditions; the pid is our own child's.
        let rc = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(rc, 0, "kill({}, {signal}) failed: {}", self.pid(), std::io::Error::last_os_error());
    }

    /// The exit status, if the process exits within `limit`.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.log.lock().unwrap();
        log[log.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let log = self.log.lock().unwrap().join("\n");
        let _ = std::fs::write(&self.log_file, log + "\n");
        if std::thread::panicking() {
            let log = self.log.lock().unwrap();
            let problems: Vec<&String> =
                log.iter().filter(|l| l.contains("\"level\":\"ERROR\"") || l.contains("\"level\":\"WARN\"")).collect();
            eprintln!(
                "--- the service's last warnings and errors (whole log: {}) ---\n{}\n---",
                self.log_file.display(),
                problems[problems.len().saturating_sub(10)..].iter().map(|l| l.as_str()).collect::<Vec<_>>().join("\n")
            );
        }
    }
}

/// An HTTP client with a bound on every request, so a hang is an error, not a stuck test.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).build().unwrap()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The single `n` of a `SELECT … AS n`.
pub async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    let row: Count = diesel::sql_query(sql).get_result(conn).await.unwrap_or_else(|e| panic!("running `{sql}`: {e}"));
    row.n
}

/// How far the service has got with a write: records stored, and whether one of its sessions is
/// inside a write transaction (a backend with a transaction id).
pub async fn write_progress(conn: &mut AsyncPgConnection) -> (i64, bool) {
    #[derive(QueryableByName)]
    struct Progress {
        #[diesel(sql_type = BigInt)]
        stored: i64,
        #[diesel(sql_type = BigInt)]
        writing: i64,
    }
    let row: Progress = diesel::sql_query(
        "SELECT (SELECT count(*) FROM evaluations) AS stored, \
                (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                   AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL) AS writing",
    )
    .get_result(conn)
    .await
    .unwrap();
    (row.stored, row.writing > 0)
}

/// Stored idempotency keys named `key` (any caller, any endpoint).
pub async fn stored_keys(conn: &mut AsyncPgConnection, key: &str) -> i64 {
    let row: Count = diesel::sql_query("SELECT count(*) AS n FROM idempotency_keys WHERE key = $1")
        .bind::<Text, _>(key)
        .get_result(conn)
        .await
        .unwrap();
    row.n
}
