//! Prometheus metrics: the process's recorder, the request middleware, the database statement
//! timer, each worker's pool gauges and what `GET /metrics` renders.
//!
//! Every label value comes from a bounded set (route templates, never raw paths; known methods;
//! status classes; outcome names), so no request can add a series.
use std::{
    sync::{Mutex, OnceLock},
    time::{Duration, Instant},
};

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
};
use diesel_async::{pooled_connection::AsyncDieselConnectionManager, AsyncPgConnection};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::{db::Pool, error::ErrorCode};

const HTTP_REQUESTS: &str = "perfeval_http_requests_total";
const HTTP_DURATION: &str = "perfeval_http_request_duration_seconds";
use crate::db::statement_timer::DB_STATEMENT_DURATION;
const RATE_LIMITED: &str = "perfeval_rate_limited_total";
const UNAVAILABLE: &str = "perfeval_unavailable_total";
const BATCH_RECORDS: &str = "perfeval_batch_records_total";
const IMPORT_DRAFTS: &str = "perfeval_import_drafts_total";
const WEBHOOK_ATTEMPTS: &str = "perfeval_webhook_attempts_total";
const CACHE_LOOKUPS: &str = "perfeval_response_cache_lookups_total";
const BUILD_INFO: &str = "perfeval_build_info";

/// Request latency buckets, in seconds: a record read takes about a millisecond, a batch of
/// 10,000 records tens of seconds.
const HTTP_BUCKETS: [f64; 15] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// Statement latency buckets, in seconds: from a cached primary-key read to the statement timeout.
const DB_BUCKETS: [f64; 16] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0];

/// How often histogram samples are folded into their buckets when nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The route label of a request that no route's template fits.
pub const UNMATCHED: &str = "unmatched";

/// The methods named in the method label; any other is `other`.
pub const KNOWN_METHODS: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"];

/// The media type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder once (every application built in this process shares it:
/// the `metrics` facade has one global recorder) and returns its handle.
///
/// The exporter's own HTTP listener is not used: `/metrics` is an actix route, served on the
/// API's listener or on `PERFEVAL_METRICS_LISTEN`. Its upkeep task is not spawned either, so a
/// thread of ours folds histogram samples into their buckets every few seconds, which keeps
/// memory bounded when nobody scrapes.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), &HTTP_BUCKETS)
            .and_then(|builder| {
                builder.set_buckets_for_metric(Matcher::Full(DB_STATEMENT_DURATION.to_owned()), &DB_BUCKETS)
            })
            .expect("the bucket lists are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if let Err(error) = ::metrics::set_global_recorder(recorder) {
            tracing::warn!(%error, "another metrics recorder is installed; /metrics will show nothing");
        }
        describe();
        ::metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        // Shown at 0 from the start, so a rate over them is defined before the first refusal.
        ::metrics::counter!(RATE_LIMITED).absolute(0);
        for code in ["service_unavailable", "query_timeout"] {
            ::metrics::counter!(UNAVAILABLE, "code" => code).absolute(0);
        }
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new().name("metrics-upkeep".to_owned()).spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            upkeep.run_upkeep();
        });
        if let Err(error) = spawned {
            tracing::warn!(%error, "no metrics upkeep thread; histograms are folded only when scraped");
        }
        handle
    })
}

/// The `# HELP` line of every series.
fn describe() {
    use ::metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by route template, method and status class");
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time from a request's arrival to its response head, by route template, method and status class"
    );
    describe_histogram!(
        DB_STATEMENT_DURATION,
        Unit::Seconds,
        "Database statement latency on pooled connections, by statement kind and outcome"
    );
    describe_counter!(RATE_LIMITED, "Requests refused with 429 because the caller's request rate was spent");
    describe_counter!(
        UNAVAILABLE,
        "Requests answered 503: the database unreachable or busy (service_unavailable) or a statement past the timeout (query_timeout)"
    );
    describe_counter!(BATCH_RECORDS, "Records of POST /api/v1/evaluations/batch, by outcome");
    describe_counter!(
        IMPORT_DRAFTS,
        "Drafts of POST /api/v1/evaluations/import, by outcome (previewed when not committed)"
    );
    describe_counter!(WEBHOOK_ATTEMPTS, "Webhook delivery attempts, by outcome");
    describe_counter!(
        CACHE_LOOKUPS,
        "Conditional reads by route and result: not_modified (304), hit (the kept answer), miss (computed)"
    );
    describe_gauge!("perfeval_db_pool_max", "Most connections of a worker's pool");
    describe_gauge!("perfeval_db_pool_size", "Open connections of a worker's pool");
    describe_gauge!("perfeval_db_pool_idle", "Open connections of a worker's pool that no request holds");
    describe_gauge!("perfeval_db_pool_waiting", "Requests of a worker waiting for a pooled connection");
    describe_counter!(
        crate::replicas::READS,
        "Reads of lists, exports, aggregates and coverage by the server that answered them: primary or replica"
    );
    describe_counter!(
        "perfeval_replica_behind_total",
        "Reads a usable replica could not serve because it had not yet replayed the request's data version"
    );
    describe_gauge!(crate::replicas::REPLICA_UP, "1 when the read replica is reachable and in recovery, else 0");
    describe_gauge!(
        crate::replicas::REPLICA_LAG,
        "How far the read replica was behind the primary at its last check (0 when it had replayed the primary's WAL position)"
    );
    describe_gauge!(BUILD_INFO, "Always 1; the version of the running binary is in its label");
}

/// Counts a request and its latency. Wraps the whole application, outside authentication, so
/// refused requests (401, 429) are counted too.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let result = next.call(req).await;
    let (route, status, code) = match &result {
        // After routing, the template of the route that took the request; a request no route
        // took gets the template its path fits (405), if any.
        Ok(response) => (
            response.request().match_pattern(),
            response.status(),
            response.response().extensions().get::<ErrorCode>().copied(),
        ),
        // The inner services turn every error into a response; this is only for completeness.
        Err(error) => (None, error.as_response_error().status_code(), None),
    };
    let status = status.as_u16();
    let labels = [
        ::metrics::Label::new("route", route.unwrap_or_else(|| UNMATCHED.to_owned())),
        ::metrics::Label::new("method", method),
        ::metrics::Label::new("status", status_class(status)),
    ];
    ::metrics::counter!(HTTP_REQUESTS, labels.iter()).increment(1);
    ::metrics::histogram!(HTTP_DURATION, labels.iter()).record(started.elapsed());
    match status {
        429 => ::metrics::counter!(RATE_LIMITED).increment(1),
        503 => {
            let code = match code {
                Some(ErrorCode::QueryTimeout) => "query_timeout",
                _ => "service_unavailable",
            };
            ::metrics::counter!(UNAVAILABLE, "code" => code).increment(1);
        }
        _ => {}
    }
    result
}

fn method_label(method: &Method) -> &'static str {
    KNOWN_METHODS.iter().find(|known| **known == method.as_str()).copied().unwrap_or("other")
}

/// `2xx` for 200–299 and so on; codes above 599 (not HTTP statuses) count as `5xx`.
fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

/// Counts the records of a batch by outcome (`created`, `updated`, `unchanged`, `invalid`, or
/// `rejected` for the valid records of an atomic batch that invalid ones stopped).
pub fn batch_records(outcome: &'static str, dry_run: bool, count: usize) {
    if count > 0 {
        let dry_run = if dry_run { "true" } else { "false" };
        ::metrics::counter!(BATCH_RECORDS, "outcome" => outcome, "dry_run" => dry_run).increment(count as u64);
    }
}

/// Counts the drafts of an import by outcome (`previewed`, or as in a batch when committed).
pub fn import_drafts(outcome: &'static str, count: usize) {
    if count > 0 {
        ::metrics::counter!(IMPORT_DRAFTS, "outcome" => outcome).increment(count as u64);
    }
}

/// Counts one conditional read: `not_modified`, `hit` or `miss`, by its route template.
pub fn cache_lookup(route: &'static str, result: &'static str) {
    ::metrics::counter!(CACHE_LOOKUPS, "route" => route, "result" => result).increment(1);
}

/// Counts one webhook delivery attempt: `delivered` (a 2xx answer) or `failed`.
pub fn webhook_attempt(delivered: bool) {
    let outcome = if delivered { "delivered" } else { "failed" };
    ::metrics::counter!(WEBHOOK_ATTEMPTS, "outcome" => outcome).increment(1);
}

type WeakPool = deadpool::managed::WeakPool<AsyncDieselConnectionManager<AsyncPgConnection>>;

/// What `GET /metrics` needs: the pools of this application's workers (each worker has its own),
/// and whether it is served on this listener.
pub struct Endpoint {
    pools: std::sync::Arc<Mutex<Vec<WeakPool>>>,
    served_here: bool,
}

impl Endpoint {
    /// `served_here`: false on the API's listener when `PERFEVAL_METRICS_LISTEN` names another.
    pub fn new(served_here: bool) -> Self {
        Self { pools: Default::default(), served_here }
    }

    /// The same pools, for the separate metrics listener.
    pub fn for_own_listener(&self) -> Self {
        Self { pools: self.pools.clone(), served_here: true }
    }

    pub fn served_here(&self) -> bool {
        self.served_here
    }

    /// Adds a worker's pool; its index is the `worker` label. A worker that actix starts again
    /// after a crash takes the place of the one whose pool is gone, so the indexes stay below
    /// `PERFEVAL_WORKERS`. Only weak references are kept: a stopped worker's connections close.
    pub fn register(&self, pool: &Pool) {
        let mut pools = self.pools.lock().expect("metrics pool list lock");
        match pools.iter_mut().find(|weak| weak.upgrade().is_none()) {
            Some(slot) => *slot = pool.weak(),
            None => pools.push(pool.weak()),
        }
    }

    /// The exposition: every series of the process, with the pool gauges read now.
    pub fn render(&self) -> String {
        let handle = install();
        let pools = self.pools.lock().expect("metrics pool list lock");
        for (worker, pool) in pools.iter().enumerate() {
            let Some(pool) = pool.upgrade() else { continue };
            let status = pool.status();
            let worker = worker.to_string();
            ::metrics::gauge!("perfeval_db_pool_max", "worker" => worker.clone()).set(status.max_size as f64);
            ::metrics::gauge!("perfeval_db_pool_size", "worker" => worker.clone()).set(status.size as f64);
            ::metrics::gauge!("perfeval_db_pool_idle", "worker" => worker.clone()).set(status.available as f64);
            ::metrics::gauge!("perfeval_db_pool_waiting", "worker" => worker).set(status.waiting as f64);
        }
        drop(pools);
        handle.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_fixed_sets() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(method_label(&Method::from_bytes(b"PURGE").unwrap()), "other");
        assert_eq!(status_class(101), "1xx");
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(304), "3xx");
        assert_eq!(status_class(429), "4xx");
        assert_eq!(status_class(503), "5xx");
        assert_eq!(status_class(999), "5xx");
    }
}
