//! Settings read from the environment (and a `.env` file), each with a working default.
use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    str::FromStr,
};

use anyhow::{bail, Context};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl LogFormat {
    /// The format `PERFEVAL_LOG_FORMAT` asks for, or else pretty when `stream` (where the logs
    /// go) is a terminal and JSON when it is not.
    pub fn for_stream(chosen: Option<LogFormat>, stream: &impl std::io::IsTerminal) -> LogFormat {
        chosen.unwrap_or(if stream.is_terminal() { LogFormat::Pretty } else { LogFormat::Json })
    }
}

/// Everything the service needs to start, passed down explicitly (never a global).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`; `None` runs a private PostgreSQL in `data_dir`.
    pub database_url: Option<String>,
    /// `PERFEVAL_LISTEN`
    pub listen: String,
    /// `PERFEVAL_DATA_DIR`; `None`: the default folder of this checkout, chosen when the private
    /// PostgreSQL starts (`db::private_pg::default_data_dir`: it depends on who runs it).
    pub data_dir: Option<PathBuf>,
    /// `PERFEVAL_DB_POOL`: connections in all, split evenly between the workers.
    pub db_pool_size: usize,
    /// `PERFEVAL_WORKERS`: HTTP worker threads, each with its own share of the pool.
    pub workers: usize,
    /// `PERFEVAL_LOG_FORMAT`; `None`: pretty when the stream the logs go to is a terminal, else
    /// JSON (`LogFormat::for_stream`).
    pub log_format: Option<LogFormat>,
    /// `PERFEVAL_CORS_ORIGINS`
    pub cors_origins: Vec<String>,
    /// `PERFEVAL_MAX_BODY_BYTES`: the largest request body accepted (413 above).
    pub max_body_bytes: usize,
    /// `PERFEVAL_DB_WAIT_MS`: how long a request waits for a pooled connection (503 after).
    pub db_wait_ms: u64,
    /// `PERFEVAL_STATEMENT_TIMEOUT_MS`: the longest a database statement may run (503 after).
    pub statement_timeout_ms: u64,
    /// `PERFEVAL_RATE_LIMIT`: requests per second per token (per address without one), with
    /// bursts of as many; 0 turns the limit off (429 above it).
    pub rate_limit: u32,
    /// `PERFEVAL_TRUSTED_PROXIES`: the addresses of the proxies (load balancers) in front of the
    /// service. An anonymous request whose TCP peer is one of them is rate-limited by the
    /// rightmost `X-Forwarded-For` address that is not itself one of them. Empty (the default):
    /// by the TCP peer, whatever the request says.
    pub trusted_proxies: Vec<IpAddr>,
    /// Webhook delivery (`PERFEVAL_WEBHOOK_*`).
    pub webhooks: WebhookSettings,
    /// `PERFEVAL_METRICS_LISTEN`: where `GET /metrics` is served; `None`: on the API's listener.
    pub metrics_listen: Option<String>,
    /// `PERFEVAL_CACHE_MB`: the response cache's bound, in MiB (0 turns it off).
    pub cache_mb: usize,
    /// `PERFEVAL_REPLICA_URLS`: PostgreSQL standbys (streaming replication of the primary),
    /// comma-separated, that serve list pages, exports, aggregates and coverage (`replicas`).
    /// Empty (the default): the primary serves every read.
    pub replica_urls: Vec<String>,
    /// `PERFEVAL_REPLICA_MAX_LAG_MS`: a replica further behind than this is skipped until it is
    /// back under.
    pub replica_max_lag_ms: u64,
}

/// The documented request body limit: 32 MiB, enough for a batch of 10,000 records.
/// Where and how webhook events are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// `PERFEVAL_WEBHOOK_ALLOW`: the hosts (`host` or `host:port`, comma-separated) that
    /// webhook URLs may name. Empty (the default): no webhook can be registered.
    pub allow: Vec<String>,
    /// `PERFEVAL_WEBHOOK_POLL_MS`: how often each instance looks for events to send.
    pub poll_ms: u64,
    /// `PERFEVAL_WEBHOOK_RETRY_MS`: the first retry's delay; each further one doubles it (at most an hour).
    pub retry_ms: u64,
    /// `PERFEVAL_WEBHOOK_MAX_ATTEMPTS`: attempts before a delivery is marked failed.
    pub max_attempts: i32,
    /// `PERFEVAL_WEBHOOK_TIMEOUT_MS`: how long one attempt may take.
    pub timeout_ms: u64,
}

pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// The documented statement timeout: 30 s, far above any single statement of a 10,000-record batch.
pub const DEFAULT_STATEMENT_TIMEOUT_MS: u64 = 30_000;

/// The documented response cache: 64 MiB.
pub const DEFAULT_CACHE_MB: usize = 64;

/// The documented lag bound of a replica: 1 s.
pub const DEFAULT_REPLICA_MAX_LAG_MS: u64 = 1_000;

/// The documented request rate per token: 100 requests a second, bursts of 100.
pub const DEFAULT_RATE_LIMIT: u32 = 100;

impl Settings {
    /// Reads the process environment, after loading `.env` from the working folder if present.
    pub fn from_env() -> anyhow::Result<Self> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds settings from any variable lookup, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let log_format = match get("PERFEVAL_LOG_FORMAT").as_deref() {
            None => None,
            Some("pretty") => Some(LogFormat::Pretty),
            Some("json") => Some(LogFormat::Json),
            Some(other) => bail!("PERFEVAL_LOG_FORMAT must be `pretty` or `json`, not `{other}`"),
        };
        Ok(Self {
            database_url: get("DATABASE_URL"),
            listen: get("PERFEVAL_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            data_dir: get("PERFEVAL_DATA_DIR").map(PathBuf::from),
            db_pool_size: parse_or(get("PERFEVAL_DB_POOL"), "PERFEVAL_DB_POOL", 4 * cores)?,
            workers: parse_or(get("PERFEVAL_WORKERS"), "PERFEVAL_WORKERS", cores)?.max(1),
            log_format,
            cors_origins: get("PERFEVAL_CORS_ORIGINS")
                .map(|list| list.split(',').map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect())
                .unwrap_or_default(),
            max_body_bytes: parse_or(
                get("PERFEVAL_MAX_BODY_BYTES"),
                "PERFEVAL_MAX_BODY_BYTES",
                DEFAULT_MAX_BODY_BYTES,
            )?,
            db_wait_ms: parse_or(get("PERFEVAL_DB_WAIT_MS"), "PERFEVAL_DB_WAIT_MS", 5_000)?,
            statement_timeout_ms: parse_or(
                get("PERFEVAL_STATEMENT_TIMEOUT_MS"),
                "PERFEVAL_STATEMENT_TIMEOUT_MS",
                DEFAULT_STATEMENT_TIMEOUT_MS,
            )?,
            rate_limit: parse_or(get("PERFEVAL_RATE_LIMIT"), "PERFEVAL_RATE_LIMIT", DEFAULT_RATE_LIMIT)?,
            trusted_proxies: ip_list(get("PERFEVAL_TRUSTED_PROXIES"), "PERFEVAL_TRUSTED_PROXIES")?,
            cache_mb: parse_or(get("PERFEVAL_CACHE_MB"), "PERFEVAL_CACHE_MB", DEFAULT_CACHE_MB)?,
            webhooks: WebhookSettings {
                allow: get("PERFEVAL_WEBHOOK_ALLOW")
                    .map(|list| list.split(',').map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect())
                    .unwrap_or_default(),
                poll_ms: parse_or(get("PERFEVAL_WEBHOOK_POLL_MS"), "PERFEVAL_WEBHOOK_POLL_MS", 500)?,
                retry_ms: parse_or(get("PERFEVAL_WEBHOOK_RETRY_MS"), "PERFEVAL_WEBHOOK_RETRY_MS", 1_000)?,
                max_attempts: parse_or(get("PERFEVAL_WEBHOOK_MAX_ATTEMPTS"), "PERFEVAL_WEBHOOK_MAX_ATTEMPTS", 12)?,
                timeout_ms: parse_or(get("PERFEVAL_WEBHOOK_TIMEOUT_MS"), "PERFEVAL_WEBHOOK_TIMEOUT_MS", 10_000)?,
            },
            metrics_listen: get("PERFEVAL_METRICS_LISTEN"),
            replica_urls: url_list(get("PERFEVAL_REPLICA_URLS"), "PERFEVAL_REPLICA_URLS")?,
            replica_max_lag_ms: parse_or(
                get("PERFEVAL_REPLICA_MAX_LAG_MS"),
                "PERFEVAL_REPLICA_MAX_LAG_MS",
                DEFAULT_REPLICA_MAX_LAG_MS,
            )?,
        })
    }

    /// The listen address; `:0` (or `host:0`) picks a free port.
    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        socket_addr(&self.listen, "PERFEVAL_LISTEN")
    }

    /// The address of the separate `/metrics` listener, if `PERFEVAL_METRICS_LISTEN` asks for one.
    pub fn metrics_listen_addr(&self) -> anyhow::Result<Option<SocketAddr>> {
        self.metrics_listen.as_deref().map(|text| socket_addr(text, "PERFEVAL_METRICS_LISTEN")).transpose()
    }
}

/// `host:port`, or `:port` on the loopback address.
fn socket_addr(text: &str, name: &str) -> anyhow::Result<SocketAddr> {
    let full = if text.starts_with(':') { format!("127.0.0.1{text}") } else { text.to_owned() };
    full.trim().parse().with_context(|| format!("{name} `{text}` is not host:port"))
}

/// A comma-separated list of IP addresses (IPv4-mapped IPv6 ones as IPv4); a malformed entry is
/// refused by name.
fn ip_list(value: Option<String>, name: &str) -> anyhow::Result<Vec<IpAddr>> {
    let Some(list) = value else { return Ok(Vec::new()) };
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry.parse::<IpAddr>().map(|ip| ip.to_canonical()).map_err(|_| {
                anyhow::anyhow!(
                    "{name} must be a comma-separated list of IP addresses (no ports, no networks): \
                     `{entry}` is not an IP address"
                )
            })
        })
        .collect()
}

/// A comma-separated list of PostgreSQL URLs; an entry that is not one is refused by name.
fn url_list(value: Option<String>, name: &str) -> anyhow::Result<Vec<String>> {
    let Some(list) = value else { return Ok(Vec::new()) };
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            if entry.starts_with("postgres://") || entry.starts_with("postgresql://") {
                Ok(entry.to_owned())
            } else {
                bail!(
                    "{name} must be a comma-separated list of PostgreSQL URLs (postgres://…): `{}` is not one",
                    without_password(entry)
                )
            }
        })
        .collect()
}

/// `postgres://user:secret@host/db?password=x` as `postgres://user@host/db`.
pub fn without_password(url: &str) -> String {
    let url = url.split('?').next().unwrap_or(url);
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
}

fn parse_or<T: FromStr>(value: Option<String>, name: &str, default: T) -> anyhow::Result<T> {
    match value {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| anyhow::anyhow!("{name} must be a number, not `{text}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_work_on_a_developer_machine() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, None);
        assert_eq!(s.listen_addr().unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(s.data_dir, None, "chosen at start, by who runs it");
        assert_eq!(s.log_format, None, "chosen by the stream the logs go to");
        assert!(s.db_pool_size >= 2);
        assert!(s.cors_origins.is_empty());
        assert_eq!(s.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(s.statement_timeout_ms, DEFAULT_STATEMENT_TIMEOUT_MS);
        assert_eq!(s.rate_limit, DEFAULT_RATE_LIMIT);
        assert_eq!(s.metrics_listen_addr().unwrap(), None, "/metrics on the API's listener");
        assert!(s.trusted_proxies.is_empty(), "no proxy is trusted unless named");
    }

    #[test]
    fn trusted_proxies_are_ip_addresses_and_a_malformed_one_stops_start_up() {
        let s = settings(&[("PERFEVAL_TRUSTED_PROXIES", " 10.0.0.5, ::1,,::ffff:192.0.2.7 ")]).unwrap();
        let expected: Vec<IpAddr> = ["10.0.0.5", "::1", "192.0.2.7"].iter().map(|ip| ip.parse().unwrap()).collect();
        assert_eq!(s.trusted_proxies, expected);
        for bad in ["10.0.0.5,proxy.internal", "10.0.0.0/8", "10.0.0.5:8080", "300.1.1.1"] {
            let err = settings(&[("PERFEVAL_TRUSTED_PROXIES", bad)]).unwrap_err().to_string();
            assert!(err.contains("PERFEVAL_TRUSTED_PROXIES") && err.contains("is not an IP address"), "{bad}: {err}");
        }
    }

    #[test]
    fn metrics_can_have_a_listener_of_their_own() {
        let s = settings(&[("PERFEVAL_METRICS_LISTEN", "0.0.0.0:9100")]).unwrap();
        assert_eq!(s.metrics_listen_addr().unwrap().unwrap().to_string(), "0.0.0.0:9100");
        let s = settings(&[("PERFEVAL_METRICS_LISTEN", ":9100")]).unwrap();
        assert_eq!(s.metrics_listen_addr().unwrap().unwrap().to_string(), "127.0.0.1:9100");
        let err = settings(&[("PERFEVAL_METRICS_LISTEN", "9100")]).unwrap().metrics_listen_addr().unwrap_err();
        assert!(err.to_string().contains("PERFEVAL_METRICS_LISTEN"), "{err}");
    }

    #[test]
    fn reads_each_variable() {
        let s = settings(&[
            ("DATABASE_URL", "postgres://x@h/db"),
            ("PERFEVAL_LISTEN", ":0"),
            ("PERFEVAL_DB_POOL", "7"),
            ("PERFEVAL_LOG_FORMAT", "pretty"),
            ("PERFEVAL_DATA_DIR", "/srv/perfeval"),
            ("PERFEVAL_CORS_ORIGINS", "https://a.example, https://b.example"),
        ])
        .unwrap();
        assert_eq!(s.database_url.as_deref(), Some("postgres://x@h/db"));
        assert_eq!(s.listen_addr().unwrap().port(), 0);
        assert_eq!(s.db_pool_size, 7);
        assert_eq!(s.log_format, Some(LogFormat::Pretty));
        assert_eq!(s.cors_origins, vec!["https://a.example", "https://b.example"]);
        assert_eq!(s.data_dir, Some(PathBuf::from("/srv/perfeval")));
    }

    #[test]
    fn replicas_are_a_list_of_urls_with_a_lag_bound() {
        let s = settings(&[]).unwrap();
        assert!(s.replica_urls.is_empty(), "no replica unless named");
        assert_eq!(s.replica_max_lag_ms, DEFAULT_REPLICA_MAX_LAG_MS);
        let s = settings(&[
            ("PERFEVAL_REPLICA_URLS", " postgres://app@r1/perfeval, ,postgresql://app:pw@r2:5433/perfeval "),
            ("PERFEVAL_REPLICA_MAX_LAG_MS", "300"),
        ])
        .unwrap();
        assert_eq!(s.replica_urls, vec!["postgres://app@r1/perfeval", "postgresql://app:pw@r2:5433/perfeval"]);
        assert_eq!(s.replica_max_lag_ms, 300);
        let err = settings(&[("PERFEVAL_REPLICA_URLS", "postgres://r1/db,r2:5432")]).unwrap_err().to_string();
        assert!(err.contains("PERFEVAL_REPLICA_URLS") && err.contains("`r2:5432`"), "{err}");
        let err = settings(&[("PERFEVAL_REPLICA_MAX_LAG_MS", "1s")]).unwrap_err().to_string();
        assert!(err.contains("PERFEVAL_REPLICA_MAX_LAG_MS"), "{err}");
    }

    #[test]
    fn rejects_bad_values_by_name() {
        let err = settings(&[("PERFEVAL_DB_POOL", "many")]).unwrap_err().to_string();
        assert!(err.contains("PERFEVAL_DB_POOL"), "{err}");
        let err = settings(&[("PERFEVAL_LOG_FORMAT", "xml")]).unwrap_err().to_string();
        assert!(err.contains("PERFEVAL_LOG_FORMAT"), "{err}");
    }
}
