//! Test harness: one PostgreSQL database per test, cloned from a migrated template, and the
//! application served on a free port.
use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use diesel::{sql_types::Text, QueryableByName};
use diesel_async::RunQueryDsl;
use perfeval::{
    config::{LogFormat, Settings},
    db::{self, private_pg::PrivatePostgres},
    startup::Application,
};
use reqwest::{header::HeaderMap, Method, StatusCode};
use serde_json::Value;
use tokio::sync::OnceCell;

/// The server the tests use: `DATABASE_URL`'s, or a private cluster in the temp folder.
struct Server {
    admin_url: String,
    template: String,
}

static SERVER: OnceCell<Server> = OnceCell::const_new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

fn init_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        let subscriber = perfeval::telemetry::get_subscriber("info", LogFormat::Pretty, std::io::stdout);
        let _ = tracing::subscriber::set_global_default(subscriber);
    }
}

/// URL of `database` on the server of `admin_url`.
pub fn database_url(admin_url: &str, database: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let prefix = match base.rfind('/') {
        Some(at) if at > base.find("://").map_or(0, |p| p + 2) => &base[..at],
        _ => base,
    };
    format!("{prefix}/{database}{query}")
}

async fn server() -> &'static Server {
    SERVER
        .get_or_init(|| async {
            init_logging();
            let admin_url = match std::env::var("DATABASE_URL") {
                Ok(url) if !url.is_empty() => url,
                _ => {
                    let euid = std::process::Command::new("id")
                        .arg("-u")
                        .output()
                        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
                    let dir = std::env::temp_dir().join(format!("perfeval-test-pg-{}", euid.unwrap_or_default()));
                    let postgres = tokio::task::spawn_blocking(move || {
                        PrivatePostgres::start(&dir, db::private_pg::Durability { unsafe_fast: true })
                    })
                    .await
                    .unwrap()
                    .expect("starting the private test PostgreSQL");
                    // Shared by every test process and reused by the next run, like `target/`.
                    let url = postgres.url("postgres");
                    std::mem::forget(postgres);
                    url
                }
            };
            let template = ensure_template(&admin_url).await;
            Server { admin_url, template }
        })
        .await
}

/// The template's name carries a hash of the migrations, so a changed schema gets a new one.
async fn ensure_template(admin_url: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut entries: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for dir in entries {
        for file in ["up.sql", "down.sql"] {
            for byte in std::fs::read(dir.join(file)).unwrap_or_default() {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
            }
        }
    }
    let template = format!("perfeval_template_{:012x}", hash & 0xffff_ffff_ffff);
    let mut conn = db::connect(admin_url).await.expect("connecting to the test server");
    // One process builds the template; the others wait on this lock, then find it.
    diesel::sql_query("SELECT pg_advisory_lock(727274)").execute(&mut conn).await.unwrap();
    if !database_exists(&mut conn, &template).await {
        let building = format!("{template}_building");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {building}")).execute(&mut conn).await.unwrap();
        diesel::sql_query(format!("CREATE DATABASE {building}")).execute(&mut conn).await.unwrap();
        db::migrate(&database_url(admin_url, &building)).await.expect("migrating the template");
        tokio::time::sleep(Duration::from_millis(100)).await;
        diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {template}")).execute(&mut conn).await.unwrap();
    }
    diesel::sql_query("SELECT pg_advisory_unlock(727274)").execute(&mut conn).await.unwrap();
    template
}

async fn database_exists(conn: &mut diesel_async::AsyncPgConnection, name: &str) -> bool {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        datname: String,
    }
    let rows: Vec<Found> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .load(conn)
        .await
        .unwrap();
    !rows.is_empty()
}

/// A database of its own, cloned from the template, dropped when the value is.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    admin_url: String,
}

fn fresh_name() -> String {
    format!(
        "perfeval_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()
    )
}

impl TestDatabase {
    /// Number of rows in a table of this database.
    pub async fn count_rows(&self, table: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.connect().await;
        let row: Count =
            diesel::sql_query(format!("SELECT count(*) AS n FROM {table}")).get_result(&mut conn).await.unwrap();
        row.n
    }

    /// An empty database, as a new installation has: no tables, no divisions.
    pub async fn empty() -> Self {
        let server = server().await;
        let name = fresh_name();
        let mut conn = db::connect(&server.admin_url).await.unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        Self { url: database_url(&server.admin_url, &name), name, admin_url: server.admin_url.clone() }
    }

    pub async fn new() -> Self {
        let server = server().await;
        let name = fresh_name();
        let mut conn = db::connect(&server.admin_url).await.unwrap();
        // The template may still be busy for a moment after its creator disconnects.
        for attempt in 0.. {
            let created = diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {}", server.template))
                .execute(&mut conn)
                .await;
            match created {
                Ok(_) => break,
                Err(error) if attempt < 50 && error.to_string().contains("being accessed") => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(error) => panic!("creating test database: {error}"),
            }
        }
        Self { url: database_url(&server.admin_url, &name), name, admin_url: server.admin_url.clone() }
    }

    pub async fn connect(&self) -> diesel_async::AsyncPgConnection {
        db::connect(&self.url).await.unwrap()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async; a short-lived runtime on its own thread does the work.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                if let Ok(mut conn) = db::connect(&admin_url).await {
                    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// The running application and a client for it. Requests go with an admin token unless a
/// test names another caller (`request_as`).
pub struct TestApp {
    pub address: String,
    /// A client that sends no token; `request` adds the admin token.
    pub client: reqwest::Client,
    pub db: TestDatabase,
    pub admin_token: String,
}

/// A response read whole: status, headers and body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with this status and code; returns the body.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "body: {}", self.text);
        let body = self.json();
        assert_eq!(body["status"], status);
        assert_eq!(body["code"], code, "body: {}", self.text);
        assert_eq!(body["type"], format!("urn:perfeval:problem:{code}"));
        body
    }

    /// The `field`s of a problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["field"].as_str().unwrap_or("").to_owned())
            .collect()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDatabase::new().await;
    let address = start_instance(&db.url, adjust).await;
    let mut conn = db.connect().await;
    let (admin_token, _) = db::tokens::issue(&mut conn, "test-admin", "admin", None).await.expect("an admin token");
    TestApp { address, client: reqwest::Client::new(), db, admin_token }
}

/// Builds and starts the application on `database_url`; its address.
async fn start_instance(database_url: &str, adjust: impl FnOnce(&mut Settings)) -> String {
    let mut settings = Settings::from_lookup(|_| None).unwrap();
    settings.database_url = Some(database_url.to_owned());
    settings.listen = "127.0.0.1:0".into();
    settings.db_pool_size = 8;
    settings.log_format = Some(LogFormat::Pretty);
    // Tests send requests as fast as they can; the rate-limit tests set their own.
    settings.rate_limit = 0;
    adjust(&mut settings);
    let app = Application::build(settings).await.expect("building the application");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

impl TestApp {
    /// A second instance of the service on this test's database, with pools, caches and token
    /// cache of its own, as another process would have: its address, for `request_at`.
    pub async fn second_instance(&self) -> String {
        start_instance(&self.db.url, |_| {}).await
    }

    /// Makes a token for `role` in `region` named `name`.
    pub async fn token(&self, role: &str, region: Option<&str>, name: &str) -> String {
        let mut conn = self.db.connect().await;
        match db::tokens::issue(&mut conn, name, role, region).await {
            Ok((token, _)) => token,
            Err(e) => panic!("making token {name}: {e:?}"),
        }
    }

    pub async fn request(&self, method: Method, path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Reply {
        self.request_as(Some(&self.admin_token), method, path, body, headers).await
    }

    /// A request with `token` (none: anonymous).
    pub async fn request_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.request_at(&self.address, token, method, path, body, headers).await
    }

    /// A request to the instance at `address` (this one's, or a `second_instance`).
    pub async fn request_at(
        &self,
        address: &str,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.request(method, format!("{address}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(serde_json::to_vec(body).unwrap());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("sending the request");
        let (status, headers) = (response.status(), response.headers().clone());
        Reply { status, headers, text: response.text().await.unwrap() }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.request(Method::POST, path, Some(body), &[]).await
    }

    /// POSTs raw bytes with a content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let response = self
            .client
            .post(format!("{}{path}", self.address))
            .bearer_auth(&self.admin_token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        Reply { status, headers, text: response.text().await.unwrap() }
    }

    pub async fn put(&self, path: &str, body: &Value, etag: Option<&str>) -> Reply {
        let headers: Vec<(&str, &str)> = etag.map(|e| ("if-match", e)).into_iter().collect();
        self.request(Method::PUT, path, Some(body), &headers).await
    }

    pub async fn delete(&self, path: &str, etag: Option<&str>) -> Reply {
        let headers: Vec<(&str, &str)> = etag.map(|e| ("if-match", e)).into_iter().collect();
        self.request(Method::DELETE, path, None, &headers).await
    }

    /// Creates a record and returns its id and ETag, asserting 201.
    pub async fn create(&self, record: &Value) -> (i64, String) {
        let reply = self.post("/api/v1/evaluations", record).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        (reply.json()["id"].as_i64().unwrap(), reply.header("etag").unwrap().to_owned())
    }

    /// Number of rows in a table of this test's database.
    pub async fn count_rows(&self, table: &str) -> i64 {
        self.db.count_rows(table).await
    }
}

/// Asserts that every member of `sent`, at any depth, comes back with the same value in `got`
/// (which may add members holding defaults: empty lists, `applicable: true`).
#[track_caller]
pub fn assert_holds(sent: &Value, got: &Value, path: &str) {
    match (sent, got) {
        (Value::Object(sent), Value::Object(got)) => {
            for (member, value) in sent {
                let at = format!("{path}.{member}");
                assert_holds(value, got.get(member).unwrap_or_else(|| panic!("{at} is missing")), &at);
            }
        }
        (Value::Array(sent), Value::Array(got)) => {
            assert_eq!(sent.len(), got.len(), "{path} has another length");
            for (i, (sent, got)) in sent.iter().zip(got).enumerate() {
                assert_holds(sent, got, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(sent, got, "{path} differs"),
    }
}

/// A stored record without what the service adds to indicator rows (`matched_code`, the library
/// code a row without one was matched to by name), to compare it with what was sent.
pub fn without_matched_codes(stored: &Value) -> Value {
    let mut stored = stored.clone();
    if let Some(rows) = stored.get_mut("indicators").and_then(Value::as_array_mut) {
        for row in rows {
            if let Some(row) = row.as_object_mut() {
                row.remove("matched_code");
            }
        }
    }
    stored
}

/// The reference report (荫田镇, 2022) as a record.
pub fn yintian() -> Value {
    serde_json::from_str(include_str!("../fixtures/yintian-2022.json")).unwrap()
}

/// A small valid record for `region_code` and `fiscal_year`.
pub fn minimal(region_code: &str, fiscal_year: i32, unit: &str) -> Value {
    serde_json::json!({
        "region_code": region_code,
        "fiscal_year": fiscal_year,
        "kind": "department_overall",
        "unit": unit,
        "income": {"total": "1000.00", "lines": [{"category": "other", "amount": "1000.00"}]},
        "expenditure": {"total": "900.00"},
    })
}

#[test]
fn database_urls_swap_only_the_database() {
    assert_eq!(database_url("postgres://u@h:5432/postgres", "t1"), "postgres://u@h:5432/t1");
    assert_eq!(
        database_url("postgres://u@h:5432/postgres?sslmode=disable", "t1"),
        "postgres://u@h:5432/t1?sslmode=disable"
    );
    assert_eq!(database_url("postgres://u@h:5432", "t1"), "postgres://u@h:5432/t1");
}
