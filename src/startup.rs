//! Builds the application from settings: database, migrations, pool, routes, server.
use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_cors::Cors;
use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{Server, ServiceRequest, ServiceResponse},
    http::header,
    middleware::{from_fn, Compress, Condition, DefaultHeaders, Next},
    web, App, HttpRequest, HttpServer,
};
use anyhow::Context;
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::{
    auth,
    config::Settings,
    db::{self, private_pg::PrivatePostgres, Pool},
    error::ApiError,
    openapi::ApiDoc,
    routes,
    state::AppState,
};

/// What the workers share, and how each makes its pool.
#[derive(Clone)]
pub struct Shared {
    database_url: String,
    settings: Arc<Settings>,
    expected_migration: String,
    openapi_json: web::Bytes,
    token_cache: Arc<auth::TokenCache>,
    rate_limiter: Arc<auth::RateLimiter>,
    webhook_wake: Arc<tokio::sync::Notify>,
    response_cache: Arc<crate::cache::ResponseCache>,
    version_memo: Arc<crate::cache::VersionMemo>,
    region_names: Arc<crate::db::regions::Names>,
    /// The read replicas and their health, which the monitor keeps (`crate::replicas`).
    replicas: Arc<crate::replicas::Replicas>,
    /// `/metrics`: every worker's pool, and whether this listener serves it.
    metrics: web::Data<crate::metrics::Endpoint>,
}

impl Shared {
    /// Each worker's share of `PERFEVAL_DB_POOL` (at least one connection).
    fn pool_per_worker(&self) -> usize {
        self.settings.db_pool_size.div_ceil(self.settings.workers).max(1)
    }

    fn pool(&self) -> anyhow::Result<Pool> {
        db::build_pool(
            &self.database_url,
            self.pool_per_worker(),
            Duration::from_millis(self.settings.db_wait_ms),
            Duration::from_millis(self.settings.statement_timeout_ms),
        )
    }

    /// A worker's pool of each replica, as many connections as its primary pool.
    fn replica_pools(&self) -> anyhow::Result<Vec<Pool>> {
        self.replicas
            .urls()
            .iter()
            .map(|url| {
                crate::replicas::build_pool(
                    url,
                    self.pool_per_worker(),
                    Duration::from_millis(self.settings.db_wait_ms),
                    Duration::from_millis(self.settings.statement_timeout_ms),
                )
            })
            .collect()
    }

    /// A worker's state: a pool of its own (and one per replica), whose connections its runtime
    /// drives.
    fn worker_state(&self) -> web::Data<AppState> {
        let pool = self.pool().expect("the pool settings were checked at start");
        self.metrics.register(&pool);
        let replica_pools = self.replica_pools().expect("the replica settings were checked at start");
        web::Data::new(AppState {
            pool,
            reads: crate::replicas::Reads::new(self.replicas.clone(), replica_pools),
            settings: self.settings.clone(),
            expected_migration: self.expected_migration.clone(),
            openapi_json: self.openapi_json.clone(),
            token_cache: self.token_cache.clone(),
            rate_limiter: self.rate_limiter.clone(),
            webhook_wake: self.webhook_wake.clone(),
            response_cache: self.response_cache.clone(),
            version_memo: self.version_memo.clone(),
            region_names: self.region_names.clone(),
        })
    }
}

/// The service, bound and ready to run.
/// How often the pre-aggregated sums take in the writes' deltas (`db::sums`). Readers are exact
/// either way; compaction keeps what they read small.
const SUMS_COMPACTION_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The tasks a service runs beside its HTTP workers.
struct Background {
    /// The webhook deliverer.
    deliverer: tokio::task::JoinHandle<()>,
    /// The replicas' health checks, when there are replicas.
    monitor: Option<tokio::task::JoinHandle<()>>,
    /// The sums' compaction.
    compactor: tokio::task::JoinHandle<()>,
}

pub struct Application {
    server: Server,
    port: u16,
    database_url: String,
    private_postgres: Option<PrivatePostgres>,
    background: Background,
    /// The `/metrics` server of `PERFEVAL_METRICS_LISTEN`, and its port.
    metrics: Option<(Server, u16)>,
}

impl Application {
    /// Resolves the database (starting the private one when `DATABASE_URL` is unset), runs
    /// migrations, builds the pool and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let (database_url, private_postgres) = resolve_database(&settings).await?;
        match Self::build_on(settings, &database_url).await {
            Ok((server, port, background, metrics)) => {
                Ok(Self { server, port, database_url, private_postgres, background, metrics })
            }
            Err(error) => {
                if let Some(postgres) = private_postgres {
                    tokio::task::spawn_blocking(move || postgres.stop()).await?;
                }
                Err(error)
            }
        }
    }

    async fn build_on(
        settings: Settings,
        database_url: &str,
    ) -> anyhow::Result<(Server, u16, Background, Option<(Server, u16)>)> {
        crate::metrics::install();
        db::migrate(database_url).await?;
        let shared = Shared {
            database_url: database_url.to_owned(),
            expected_migration: db::latest_migration_version(),
            openapi_json: web::Bytes::from(openapi_document().to_json()?),
            token_cache: Arc::new(auth::TokenCache::new()),
            rate_limiter: Arc::new(auth::RateLimiter::new(settings.rate_limit)),
            webhook_wake: Arc::new(tokio::sync::Notify::new()),
            response_cache: Arc::new(crate::cache::ResponseCache::new(settings.cache_mb.saturating_mul(1024 * 1024))),
            version_memo: Arc::default(),
            region_names: Arc::default(),
            replicas: Arc::new(crate::replicas::Replicas::new(&settings.replica_urls, settings.replica_max_lag_ms)),
            metrics: web::Data::new(crate::metrics::Endpoint::new(settings.metrics_listen.is_none())),
            settings: Arc::new(settings),
        };
        shared.pool()?;
        shared.replica_pools()?;
        let listener = TcpListener::bind(shared.settings.listen_addr()?)
            .with_context(|| format!("binding {}", shared.settings.listen))?;
        let port = listener.local_addr()?.port();
        tracing::info!(
            address = %listener.local_addr()?,
            workers = shared.settings.workers,
            connections_per_worker = shared.pool_per_worker(),
            "serving"
        );
        let metrics = match shared.settings.metrics_listen_addr()? {
            Some(address) => {
                let listener =
                    TcpListener::bind(address).with_context(|| format!("binding PERFEVAL_METRICS_LISTEN {address}"))?;
                tracing::info!(address = %listener.local_addr()?, "serving /metrics");
                let port = listener.local_addr()?.port();
                Some((serve_metrics(listener, &shared.metrics)?, port))
            }
            None => None,
        };
        let deliverer = crate::webhooks::spawn(
            database_url.to_owned(),
            shared.settings.webhooks.clone(),
            shared.webhook_wake.clone(),
        );
        let monitor = (!shared.replicas.is_empty())
            .then(|| crate::replicas::spawn_monitor(database_url.to_owned(), shared.replicas.clone()));
        if !shared.replicas.is_empty() {
            tracing::info!(
                replicas = shared.replicas.urls().len(),
                max_lag_ms = shared.settings.replica_max_lag_ms,
                "reads go to the replicas when they hold the request's data version"
            );
        }
        let compactor = db::sums::spawn_compactor(database_url.to_owned(), SUMS_COMPACTION_EVERY);
        Ok((run(listener, shared)?, port, Background { deliverer, monitor, compactor }, metrics))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the `/metrics` listener of `PERFEVAL_METRICS_LISTEN`, if one was asked for.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    /// The database served from (the private cluster's when `DATABASE_URL` is unset).
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// A handle to stop the server gracefully (as SIGTERM does).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT or SIGTERM (in-flight requests finish), then stops the private
    /// PostgreSQL if this process started it.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let metrics = self.metrics.map(|(server, _)| (server.handle(), tokio::spawn(server)));
        let result = self.server.await;
        // Scrapes are answered until the API has drained.
        if let Some((handle, server)) = metrics {
            handle.stop(true).await;
            let _ = server.await;
        }
        // Deliveries in flight are rolled back with the connection and sent again by whoever runs
        // next; so is a compaction.
        self.background.deliverer.abort();
        self.background.compactor.abort();
        if let Some(monitor) = self.background.monitor {
            monitor.abort();
        }
        if let Some(postgres) = self.private_postgres {
            tokio::task::spawn_blocking(move || postgres.stop()).await?;
        }
        result.context("serving HTTP")
    }
}

/// `DATABASE_URL`, or the private cluster's URL (creating its database on first use).
pub async fn resolve_database(settings: &Settings) -> anyhow::Result<(String, Option<PrivatePostgres>)> {
    if let Some(url) = &settings.database_url {
        return Ok((url.clone(), None));
    }
    let data_dir = match &settings.data_dir {
        Some(dir) => dir.clone(),
        None => db::private_pg::default_data_dir()?,
    };
    tracing::info!(
        data_dir = %data_dir.display(),
        "no DATABASE_URL: using a private PostgreSQL in {} (PERFEVAL_DATA_DIR sets another folder)",
        data_dir.display()
    );
    let postgres = tokio::task::spawn_blocking(move || PrivatePostgres::start(&data_dir, Default::default())).await??;
    let url = postgres.url("perfeval");
    create_database_if_missing(&postgres.url("postgres"), "perfeval").await?;
    Ok((url, Some(postgres)))
}

/// Creates `name` on the server behind `admin_url` unless it exists.
pub async fn create_database_if_missing(admin_url: &str, name: &str) -> anyhow::Result<()> {
    use diesel::{sql_types::Text, QueryableByName};
    use diesel_async::RunQueryDsl;
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let mut conn = db::connect(admin_url).await?;
    let row: Exists = diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
        .bind::<Text, _>(name)
        .get_result(&mut conn)
        .await?;
    if !row.exists {
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await?;
    }
    Ok(())
}

/// The OpenAPI document as generated from the routes.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut document) =
        App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(routes::configure).split_for_parts();
    crate::openapi::complete(&mut document);
    document
}

/// Builds the HTTP server on a bound listener (port 0 in tests).
pub fn run(listener: TcpListener, shared: Shared) -> anyhow::Result<Server> {
    let cors_origins = shared.settings.cors_origins.clone();
    let workers = shared.settings.workers;
    // Built from the OpenAPI document once, before the first request needs it.
    route_table();
    let server = HttpServer::new(move || {
        let state = shared.worker_state();
        let mut cors = Cors::default()
            .allowed_methods(["GET", "POST", "PUT", "DELETE", "OPTIONS"])
            .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT, header::IF_MATCH])
            .allowed_header("idempotency-key")
            .expose_headers([header::ETAG, header::LOCATION, header::RETRY_AFTER, header::CONTENT_DISPOSITION])
            .max_age(3600);
        for origin in &cors_origins {
            cors = cors.allowed_origin(origin);
        }
        let (app, _) = App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .app_data(state)
            .app_data(shared.metrics.clone())
            .configure(routes::configure)
            .split_for_parts();
        app.configure(crate::docs::configure)
            .default_service(web::to(not_found))
            .wrap(from_fn(refuse_shadowed_methods))
            .wrap(from_fn(auth::authenticate))
            .wrap(Condition::new(!cors_origins.is_empty(), cors))
            .wrap(
                DefaultHeaders::new()
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((header::X_FRAME_OPTIONS, "DENY"))
                    .add((header::REFERRER_POLICY, "no-referrer")),
            )
            .wrap(Compress::default())
            .wrap(from_fn(crate::metrics::observe))
            .wrap(TracingLogger::<auth::RequestSpan>::new())
    })
    .workers(workers)
    .listen(listener)?
    .shutdown_timeout(30)
    .run();
    Ok(server)
}

/// No route took the request: 405 with `Allow` when the path is one of the API's with another
/// method, else 404.
async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    let allowed = allowed_methods(req.path());
    if allowed.is_empty() || allowed.contains(&req.method().as_str()) {
        return Err(ApiError::not_found(format!("no route for {} {}", req.method(), req.path())));
    }
    Ok(method_not_allowed(&req, &allowed))
}

fn method_not_allowed(req: &HttpRequest, allowed: &[&'static str]) -> actix_web::HttpResponse {
    let allow = allowed.join(", ");
    let error = ApiError::MethodNotAllowed(format!("{} {} is not served; {allow} is", req.method(), req.path()));
    let mut response = actix_web::ResponseError::error_response(&error);
    response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_str(&allow).expect("method names"));
    response
}

/// A literal path that a template with a placeholder also fits (`/api/v1/evaluations/batch`
/// and `/api/v1/evaluations/{id}`) belongs to the literal template alone: a method it does not
/// serve is 405 there. Actix would instead try the next resource and hand `PUT …/batch` to the
/// record `batch`. One hash lookup for every other request.
async fn refuse_shadowed_methods(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(allowed) = route_table().shadowed.get(req.path()) {
        if !allowed.contains(&req.method().as_str()) {
            let response = method_not_allowed(req.request(), allowed);
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The document's path templates with their methods.
struct RouteTable {
    templates: Vec<(Vec<String>, Vec<&'static str>)>,
    /// Literal paths that a template with a placeholder also fits, with the literal's methods.
    shadowed: std::collections::HashMap<String, Vec<&'static str>>,
}

fn route_table() -> &'static RouteTable {
    static TABLE: std::sync::OnceLock<RouteTable> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let templates: Vec<(Vec<String>, Vec<&'static str>)> = openapi_document()
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                ];
                let segments = template.split('/').map(str::to_owned).collect();
                (segments, methods.into_iter().filter(|(_, present)| *present).map(|(m, _)| m).collect())
            })
            .collect();
        let shadowed = templates
            .iter()
            .filter(|(segments, _)| !segments.iter().any(|s| s.starts_with('{')))
            .map(|(segments, methods)| (segments.join("/"), methods))
            .filter(|(path, _)| {
                let parts: Vec<&str> = path.split('/').collect();
                templates
                    .iter()
                    .any(|(template, _)| template.iter().any(|s| s.starts_with('{')) && fits(template, &parts))
            })
            .map(|(path, methods)| (path, methods.clone()))
            .collect();
        RouteTable { templates, shadowed }
    })
}

fn fits(template: &[String], segments: &[&str]) -> bool {
    template.len() == segments.len()
        && template.iter().zip(segments).all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
}

/// The methods the OpenAPI document lists for the most specific path template that `path` fits
/// (`/api/v1/evaluations/7` fits `/api/v1/evaluations/{id}`, `/api/v1/evaluations/batch` fits
/// that and, more closely, itself); none when it fits no template.
fn allowed_methods(path: &str) -> Vec<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    let literal_matches = |template: &[String]| template.iter().filter(|s| !s.starts_with('{')).count();
    let fitting: Vec<&(Vec<String>, Vec<&'static str>)> =
        route_table().templates.iter().filter(|(template, _)| fits(template, &segments)).collect();
    let Some(best) = fitting.iter().map(|(template, _)| literal_matches(template)).max() else {
        return Vec::new();
    };
    let served: Vec<&'static str> = fitting
        .iter()
        .filter(|(template, _)| literal_matches(template) == best)
        .flat_map(|(_, methods)| methods.iter().copied())
        .collect();
    ["GET", "PUT", "POST", "DELETE"].into_iter().filter(|m| served.contains(m)).collect()
}

/// The separate `/metrics` server of `PERFEVAL_METRICS_LISTEN`: one worker, nothing else served,
/// no signal handling of its own (the application stops it after the API server has drained).
fn serve_metrics(listener: TcpListener, endpoint: &crate::metrics::Endpoint) -> std::io::Result<Server> {
    let endpoint = web::Data::new(endpoint.for_own_listener());
    let server = HttpServer::new(move || {
        App::new().app_data(endpoint.clone()).service(crate::routes::health::metrics).default_service(web::to(
            || async {
                Err::<actix_web::HttpResponse, _>(crate::error::ApiError::not_found("only /metrics is served here"))
            },
        ))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    Ok(server)
}
