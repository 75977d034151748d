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
    durability: Durability,
}

impl Cluster {
    pub async fn start() -> Self {
        Self::start_with(Durability { unsafe_fast: true }).await
    }

    /// A cluster with full page writes, as an online base backup (a standby's copy) needs.
    pub async fn start_replicable() -> Self {
        Self::start_with(Durability::default()).await
    }

    async fn start_with(durability: Durability) -> Self {
        // Under the temp folder and readable by all: as root, PostgreSQL runs as `postgres`,
        // which must reach the folder.
        let dir = tempfile::Builder::new().prefix("perfeval-failures-").tempdir_in(std::env::temp_dir()).unwrap();
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let postgres = start_postgres(dir.path(), durability).await;
        perfeval::startup::create_database_if_missing(&postgres.url("postgres"), "perfeval")
            .await
            .expect("creating the perfeval database");
        Self { url: postgres.url("perfeval"), postgres: Some(postgres), dir, durability }
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
        let postgres = start_postgres(self.dir.path(), self.durability).await;
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

async fn start_postgres(dir: &Path, durability: Durability) -> PrivatePostgres {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || PrivatePostgres::start(&dir, durability))
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

/// Stored answers to idempotency keys named `key` (any caller, any endpoint).
pub async fn stored_keys(conn: &mut AsyncPgConnection, key: &str) -> i64 {
    // A claim (a request with the key still running, or killed) is not an answer.
    let row: Count =
        diesel::sql_query("SELECT count(*) AS n FROM idempotency_keys WHERE key = $1 AND claimed_until IS NULL")
            .bind::<Text, _>(key)
            .get_result(conn)
            .await
            .unwrap();
    row.n
}

/// A real haproxy in front of several [`Service`]s: round robin, a health check on `/readyz`,
/// retries on another instance when a connection fails or a server dies before answering, and
/// `X-Forwarded-For`. Its configuration is written into the test's folder; the process runs in
/// the foreground (`-db`) and is killed when this is dropped. Every answer names the instance
/// that gave it in `X-Served-By` (the server names are `a`, `b`, `c`, … in the order given).
pub struct Balancer {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// haproxy's standard error (its warnings, and one `req …` line per request), with when each
    /// line was read.
    log: Arc<Mutex<Vec<(Instant, String)>>>,
    log_file: std::path::PathBuf,
}

/// One request as haproxy logged it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub at: Instant,
    pub status: u16,
    /// Retries haproxy made (`%rc`; it had to redispatch when `redispatched`).
    pub retries: u32,
    pub redispatched: bool,
    /// The server that answered (or `<NOSRV>`).
    pub server: String,
    /// haproxy's termination state (`----` for a normal end).
    pub termination: String,
    pub method: String,
    pub path: String,
}

impl Balancer {
    /// How often haproxy checks each instance's `/readyz`.
    pub const CHECK_INTERVAL: Duration = Duration::from_millis(250);
    /// Failed checks in a row before an instance is taken out.
    pub const CHECK_FALL: u32 = 2;
    /// How long one check may take.
    pub const CHECK_TIMEOUT: Duration = Duration::from_millis(1_000);

    /// haproxy over `services` on a free loopback port; returns once every instance answers
    /// through it.
    pub async fn start(label: &str, dir: &Path, services: &[&Service]) -> Self {
        Self::start_from(label, dir, services, None).await
    }

    /// As [`Balancer::start`], with haproxy's connections to the services (and its checks) made
    /// from `source`, a loopback address of its own such as `127.0.0.2`.
    pub async fn start_from(label: &str, dir: &Path, services: &[&Service], source: Option<&str>) -> Self {
        let binary = haproxy_binary();
        let log_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("failures");
        std::fs::create_dir_all(&log_dir).unwrap();
        let mut attempt = 0;
        let balancer = loop {
            attempt += 1;
            // A free port: bound and released again (another process could take it between, hence
            // the retries below).
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let config = dir.join(format!("haproxy-{label}.cfg"));
            std::fs::write(&config, haproxy_config(port, services, source)).unwrap();
            let mut child = Command::new(&binary)
                .arg("-db")
                .arg("-f")
                .arg(&config)
                .current_dir(dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
            let stderr = child.stderr.take().unwrap();
            let log = Arc::new(Mutex::new(Vec::new()));
            {
                let log = log.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(stderr).lines() {
                        let Ok(line) = line else { break };
                        log.lock().unwrap().push((Instant::now(), line));
                    }
                });
            }
            let balancer = Self {
                child,
                base: format!("http://127.0.0.1:{port}"),
                log,
                log_file: log_dir.join(format!("{label}-haproxy.log")),
            };
            // haproxy checks its configuration and binds before it serves: give it a moment to fail.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut balancer = balancer;
            match balancer.child.try_wait().unwrap() {
                None => break balancer,
                Some(status) => {
                    let log = balancer.log_tail(30);
                    assert!(
                        attempt < 3 && log.contains("cannot bind"),
                        "haproxy exited at start-up ({status}); its configuration is {}:\n{log}",
                        config.display()
                    );
                }
            }
        };
        balancer.wait_until_serving(services.len()).await;
        balancer
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits until `/readyz` through haproxy has been answered by every one of the `instances`.
    async fn wait_until_serving(&self, instances: usize) {
        let http = client(Duration::from_secs(2));
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = std::collections::HashSet::new();
        while seen.len() < instances {
            assert!(
                Instant::now() < deadline,
                "haproxy did not serve from all {instances} instances within 30 s (served by {seen:?}):\n{}",
                self.log_tail(30)
            );
            if let Ok(response) = http.get(self.url("/readyz")).send().await {
                if response.status() == 200 {
                    if let Some(server) = response.headers().get("x-served-by").and_then(|v| v.to_str().ok()) {
                        seen.insert(server.to_owned());
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// When haproxy first logged a line containing `text` at or after `since`.
    pub fn logged_at(&self, text: &str, since: Instant) -> Option<Instant> {
        self.log.lock().unwrap().iter().find(|(at, line)| *at >= since && line.contains(text)).map(|(at, _)| *at)
    }

    /// Waits up to `limit` for a line containing `text` logged at or after `since`.
    pub async fn wait_logged(&self, text: &str, since: Instant, limit: Duration) -> Option<Instant> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(at) = self.logged_at(text, since) {
                return Some(at);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Every request haproxy has logged (`req STATUS RETRIES TERMINATION SERVER METHOD PATH`).
    pub fn requests(&self) -> Vec<Logged> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter_map(|(at, line)| {
                let mut parts = line.split_whitespace();
                if parts.next()? != "req" {
                    return None;
                }
                let status = parts.next()?.parse().ok()?;
                let retries = parts.next()?;
                let redispatched = retries.starts_with('+');
                Some(Logged {
                    at: *at,
                    status,
                    retries: retries.trim_start_matches('+').parse().ok()?,
                    redispatched,
                    termination: parts.next()?.to_owned(),
                    server: parts.next()?.to_owned(),
                    method: parts.next()?.to_owned(),
                    path: parts.next()?.to_owned(),
                })
            })
            .collect()
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.log.lock().unwrap();
        log[log.len().saturating_sub(lines)..].iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let log: Vec<String> = self.log.lock().unwrap().iter().map(|(_, l)| l.clone()).collect();
        let _ = std::fs::write(&self.log_file, log.join("\n") + "\n");
        if std::thread::panicking() {
            let notices: Vec<&String> = log.iter().filter(|l| !l.starts_with("req ")).collect();
            eprintln!(
                "--- haproxy's last notices (whole log: {}) ---\n{}\n---",
                self.log_file.display(),
                notices[notices.len().saturating_sub(15)..].iter().map(|l| l.as_str()).collect::<Vec<_>>().join("\n")
            );
        }
    }
}

/// The haproxy binary: on the `PATH`, or in the `sbin` folders Debian installs it to (which are
/// not on every user's `PATH`). Without it the test fails, saying how to install it.
fn haproxy_binary() -> std::path::PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin"].map(std::path::PathBuf::from))
        .map(|dir| dir.join("haproxy"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "haproxy is not installed, and the balanced failure tests run the service behind a real one: \
                 install it (`apt-get install -y haproxy`, as .ci/run does) and run them again"
            )
        })
}

/// The configuration: one frontend on `port`, one backend with a server per service.
fn haproxy_config(port: u16, services: &[&Service], source: Option<&str>) -> String {
    let ms = |d: Duration| d.as_millis();
    let servers: String = services
        .iter()
        .enumerate()
        .map(|(i, service)| {
            let name = char::from(b'a' + i as u8);
            let address = service.base.trim_start_matches("http://");
            let source = source.map(|s| format!(" source {s}")).unwrap_or_default();
            format!("    server {name} {address} check{source}\n")
        })
        .collect();
    format!(
        "# Written by tests/failures/harness.rs (Balancer): the balanced failure tests' haproxy.
global
    nbthread 1
    maxconn 2000
    # In the foreground (-db) warnings (a server going DOWN or UP) go to standard error, and so
    # does the request log below.
    log stderr format raw local0 info

defaults
    mode http
    log global
    option dontlognull
    # One line per request: status, retries (+ when redispatched), termination state, server, request.
    log-format \"req %ST %rc %tsc %s %HM %HP\"
    timeout connect 1s
    timeout client 60s
    # Above the slowest request of the tests (a batch of a few thousand records in a debug build).
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 10s
    timeout check {check_timeout}ms
    # A request that could not reach an instance, or that an instance dropped without answering
    # (killed mid-request), is sent again, to another instance (redispatch). The service's
    # Idempotency-Key makes that safe for writes.
    retries 2
    option redispatch
    retry-on conn-failure empty-response response-timeout

frontend api
    bind 127.0.0.1:{port}
    option forwardfor
    default_backend perfeval

backend perfeval
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter {inter}ms fastinter {inter}ms downinter {inter}ms fall {fall} rise 1
    http-response set-header X-Served-By %[srv_name]
{servers}",
        check_timeout = ms(Balancer::CHECK_TIMEOUT),
        inter = ms(Balancer::CHECK_INTERVAL),
        fall = Balancer::CHECK_FALL,
    )
}

/// A hot standby of a test's cluster: `pg_basebackup -R` (streaming replication over the
/// primary's Unix socket, which the trust `local replication` line of initdb's `pg_hba.conf`
/// admits), run on a socket folder of its own. A test can stop and start it again. The primary
/// must have full page writes ([`Cluster::start_replicable`]): a standby refuses to start from a
/// backup taken without them.
pub struct Standby {
    postgres: Option<PrivatePostgres>,
    /// Connection URL of its `perfeval` database.
    pub url: String,
    data_dir: std::path::PathBuf,
}

impl Standby {
    /// Copies the running `primary` and starts the copy as its standby; returns once it accepts
    /// connections.
    pub async fn start(primary: &Cluster) -> Self {
        let data_dir = primary.dir().join("standby");
        let cluster_dir = data_dir.join("postgres");
        let primary_socket_dir = primary.dir().join("postgres");
        let copy = {
            let (cluster_dir, primary_socket_dir) = (cluster_dir.clone(), primary_socket_dir.clone());
            move || {
                use std::os::unix::{fs::PermissionsExt, process::CommandExt};
                std::fs::create_dir_all(&cluster_dir).unwrap();
                std::fs::set_permissions(cluster_dir.parent().unwrap(), std::fs::Permissions::from_mode(0o755))
                    .unwrap();
                let bin_dir = db::private_pg::find_bin_dir().unwrap();
                let mut command = Command::new(bin_dir.join("pg_basebackup"));
                command
                    .args(["-R", "-X", "stream", "-c", "fast", "-p", "5432", "-U", "postgres", "-h"])
                    .arg(&primary_socket_dir)
                    .arg("-D")
                    .arg(&cluster_dir)
                    .current_dir(&primary_socket_dir)
                    .stdin(Stdio::null());
                // As root, PostgreSQL's programs run as `postgres` (as `PrivatePostgres` runs them).
                // SAFETY: geteuid has no preconditions.
                if unsafe { libc::geteuid() } == 0 {
                    let (uid, gid) = postgres_user();
                    std::os::unix::fs::chown(&cluster_dir, Some(uid), Some(gid)).unwrap();
                    command.uid(uid).gid(gid);
                }
                std::fs::set_permissions(&cluster_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
                let output = command.output().expect("running pg_basebackup");
                assert!(
                    output.status.success(),
                    "pg_basebackup failed ({}): {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        };
        tokio::task::spawn_blocking(copy).await.unwrap();
        // The primary's socket lives in its data folder: the copy holds its lock file, which would
        // stop the standby, and its log.
        for copied in [".s.PGSQL.5432.lock", "server.log"] {
            let _ = std::fs::remove_file(cluster_dir.join(copied));
        }
        assert!(cluster_dir.join("standby.signal").is_file(), "pg_basebackup -R wrote standby.signal");
        let postgres = start_postgres(&data_dir, Durability::default()).await;
        Self { url: postgres.url("perfeval"), postgres: Some(postgres), data_dir }
    }

    /// `pg_ctl stop -m fast`.
    pub async fn stop(&mut self) {
        let postgres = self.postgres.take().expect("the standby is running");
        tokio::task::spawn_blocking(move || postgres.stop()).await.unwrap();
        assert!(!self.data_dir.join("postgres").join("postmaster.pid").exists(), "the standby stopped");
    }

    /// Starts the stopped standby again; it resumes streaming from the primary.
    pub async fn restart(&mut self) {
        assert!(self.postgres.is_none(), "the standby is stopped");
        let postgres = start_postgres(&self.data_dir, Durability::default()).await;
        assert_eq!(postgres.url("perfeval"), self.url, "the URL stays the same across a restart");
        self.postgres = Some(postgres);
    }

    pub async fn connect(&self) -> AsyncPgConnection {
        db::connect(&self.url).await.expect("connecting to the standby")
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        if let Some(postgres) = self.postgres.take() {
            postgres.stop();
        }
    }
}

/// The uid and gid of the `postgres` account.
fn postgres_user() -> (u32, u32) {
    let name = std::ffi::CString::new("postgres").unwrap();
    // SAFETY: getpwnam reads a static buffer; the two ids are copied out at once.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(!entry.is_null(), "running as root, the tests need a `postgres` user");
    // SAFETY: entry is non-null and points to a valid passwd record.
    unsafe { ((*entry).pw_uid, (*entry).pw_gid) }
}
