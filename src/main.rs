//! The `perfeval` command: serve (default), migrate, regions load, openapi, demo data, import,
//! tokens, and stopping a private PostgreSQL.
use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use perfeval::{
    config::Settings,
    db::{self, private_pg::PrivatePostgres},
    startup,
    telemetry::{self, LogStream},
};

#[derive(Parser)]
#[command(name = "perfeval", version, about = "Budget performance evaluation records (预算绩效评价) service")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Run pending database migrations (and load the built-in division table if empty).
    Migrate {
        /// Instead, revert every migration newer than this version (its folder's digits,
        /// e.g. 20261202000016), newest first.
        #[arg(long, value_name = "VERSION")]
        revert_to: Option<String>,
    },
    /// Manage the division table.
    Regions {
        #[command(subcommand)]
        command: RegionsCommand,
    },
    /// Print the OpenAPI document (what `openapi/openapi.json` holds).
    Openapi,
    /// Load deterministic synthetic records for every township under a region and year, plus
    /// the reference report (荫田镇 2022); or write them as NDJSON with `--ndjson`.
    DemoData {
        /// Region code prefix (2, 4 or 6 digits), a comma list of them, or `all` for every province
        #[arg(long, default_value = "43")]
        region: String,
        /// Fiscal years: `2022` or `2018..2024`
        #[arg(long, default_value = "2018..2024")]
        years: String,
        /// Write NDJSON to this file (`-`: standard output) instead of loading the database
        #[arg(long)]
        ndjson: Option<PathBuf>,
        /// Only the department-overall self-evaluations, without each township's project ones
        #[arg(long)]
        without_projects: bool,
    },
    /// Upsert records from an NDJSON file (one record per line), as the batch endpoint does.
    Import { file: PathBuf },
    /// Read self-evaluation tables (.xlsx) and reports (.docx, text) into draft records, as
    /// `POST /api/v1/evaluations/import` does; one line per file on standard output.
    ImportReport {
        /// The files
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Where to look for the township a unit name names (a code prefix), or the township itself
        #[arg(long)]
        region: Option<String>,
        /// Store the drafts (as `draft` records, with their file); without it nothing is stored
        #[arg(long)]
        commit: bool,
        /// Write each file's drafts, with provenance and unmatched figures, to DIR/<file>.json
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Print the change feed (what `GET /api/v1/changes` gives an admin) as NDJSON, one change
    /// per line, each with the `cursor` to resume after it.
    Changes {
        /// Resume after this cursor (an item's `cursor`); absent: from the first change
        #[arg(long)]
        since: Option<String>,
        /// Only changes under these region codes (comma-separated)
        #[arg(long)]
        region: Option<String>,
        /// Only these kinds (comma-separated)
        #[arg(long)]
        kind: Option<String>,
        /// Keep waiting for new changes and print them as they commit (until interrupted)
        #[arg(long)]
        follow: bool,
        /// How often `--follow` looks for new changes, in milliseconds
        #[arg(long, default_value_t = 1000)]
        interval_ms: u64,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage the private PostgreSQL that runs when no DATABASE_URL is set.
    Pg {
        #[command(subcommand)]
        command: PgCommand,
    },
}

#[derive(Subcommand)]
enum PgCommand {
    /// Stop the private PostgreSQL of a data folder, whichever process started it (`cargo test`
    /// leaves its cluster running for the next run).
    Stop {
        /// The data folder (the one holding `postgres/`); default: PERFEVAL_DATA_DIR, or the
        /// folder `perfeval serve` uses for this checkout
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it once; only its hash is stored.
    Create {
        /// submitter (one township), reviewer (a region subtree) or admin
        #[arg(long)]
        role: String,
        /// The region the token acts in (a township for submitters)
        #[arg(long)]
        region: Option<String>,
        /// A unique name, recorded with every write made with the token
        #[arg(long)]
        name: String,
    },
    /// List tokens (names, roles, regions; never the tokens).
    List,
    /// Revoke a token by name.
    Revoke { name: String },
}

#[derive(Subcommand)]
enum RegionsCommand {
    /// Load (insert or rename) divisions from CSV files with `code` and `name` columns, or the
    /// built-in 2023 table when no file is given.
    Load { files: Vec<PathBuf> },
}

/// Expected failures (no PostgreSQL, a folder that cannot be used, a bad setting) end with one
/// line on standard error and status 1: no panic, no backtrace.
fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    match actix_web::rt::System::new().block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let message = format!("{error:#}");
            let message: Vec<&str> = message.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
            eprintln!("error: {}", message.join(" "));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let command = cli.command.unwrap_or(Command::Serve);
    if matches!(command, Command::Openapi) {
        println!("{}", startup::openapi_document().to_pretty_json()?);
        return Ok(());
    }
    // The service logs to standard output; every other command keeps it for its result.
    let stream = if matches!(command, Command::Serve) { LogStream::Stdout } else { LogStream::Stderr };
    telemetry::init_for(settings.log_format, stream);
    match command {
        Command::Serve => startup::Application::build(settings).await?.run_until_stopped().await,
        Command::Migrate { revert_to: None } => {
            with_database(&settings, |url| async move { db::migrate(&url).await }).await
        }
        Command::Migrate { revert_to: Some(version) } => {
            with_database(&settings, |url| async move {
                for reverted in db::revert_to(&url, &version).await? {
                    eprintln!("reverted {reverted}");
                }
                Ok(())
            })
            .await
        }
        Command::Regions { command: RegionsCommand::Load { files } } => {
            let rows = if files.is_empty() {
                db::regions::builtin_rows()
            } else {
                let mut rows = Vec::new();
                for file in &files {
                    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
                    rows.extend(db::regions::parse_csv(&text).with_context(|| file.display().to_string())?);
                }
                rows
            };
            with_database(&settings, |url| async move {
                db::migrate(&url).await?;
                let mut conn = db::connect(&url).await?;
                let count = db::regions::upsert(&mut conn, rows).await?;
                tracing::info!(regions = count, "division table loaded");
                Ok(())
            })
            .await
        }
        Command::DemoData { region, years, ndjson, without_projects } => {
            let mut plan = perfeval::demo::DemoPlan::new(&region, &years)?;
            if without_projects {
                plan = plan.without_projects();
            }
            match ndjson {
                Some(path) => perfeval::demo::write_ndjson(&path, plan.records()),
                None => with_database(&settings, |url| async move { perfeval::demo::load(&url, &plan).await }).await,
            }
        }
        Command::Import { file } => {
            let text = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            with_database(&settings, |url| async move { perfeval::demo::import(&url, &text).await }).await
        }
        Command::ImportReport { files, region, commit, out } => {
            let max_body_bytes = settings.max_body_bytes;
            with_database(&settings, |url| async move {
                let job = perfeval::demo::ReportImport {
                    files: &files,
                    region: region.as_deref(),
                    commit,
                    out: out.as_deref(),
                    max_body_bytes,
                };
                perfeval::demo::import_reports(&url, job).await
            })
            .await
        }
        Command::Changes { since, region, kind, follow, interval_ms } => {
            let mut pairs = Vec::new();
            for (name, value) in [("since", since), ("region", region), ("kind", kind)] {
                if let Some(value) = value {
                    pairs.push((name.to_owned(), value));
                }
            }
            let (after, mut filter, _) = perfeval::routes::changes::parse(&perfeval::routes::QueryPairs(pairs))
                .map_err(|e| {
                    let problem = e.problem();
                    match problem.errors.first() {
                        Some(error) => anyhow::anyhow!("--{}: {}", error.field, error.message),
                        None => anyhow::anyhow!(problem.detail),
                    }
                })?;
            // The command line reads the database directly, as its operator: every change.
            filter.visibility = perfeval::domain::access::Visibility::All;
            let interval = std::time::Duration::from_millis(interval_ms.max(10));
            with_database(&settings, |url| async move { print_changes(&url, after, filter, follow, interval).await })
                .await
        }
        Command::Token { command } => with_database(&settings, |url| async move { token(&url, command).await }).await,
        Command::Pg { command: PgCommand::Stop { data_dir } } => {
            let data_dir = match data_dir.or(settings.data_dir) {
                Some(dir) => dir,
                None => db::private_pg::default_data_dir()?,
            };
            let stopped = tokio::task::spawn_blocking({
                let data_dir = data_dir.clone();
                move || PrivatePostgres::stop_in(&data_dir)
            })
            .await??;
            if stopped {
                eprintln!("stopped the private PostgreSQL in {}", data_dir.display());
            } else {
                eprintln!("the private PostgreSQL in {} is not running", data_dir.display());
            }
            Ok(())
        }
        Command::Openapi => unreachable!("handled above"),
    }
}

async fn token(database_url: &str, command: TokenCommand) -> anyhow::Result<()> {
    db::migrate(database_url).await?;
    let mut conn = db::connect(database_url).await?;
    match command {
        TokenCommand::Create { role, region, name } => {
            let (token, holder) = match db::tokens::issue(&mut conn, &name, &role, region.as_deref()).await {
                Ok(issued) => issued,
                Err(db::tokens::IssueError::Invalid(field, why)) => anyhow::bail!("--{field}: {why}"),
                Err(db::tokens::IssueError::NameTaken) => {
                    anyhow::bail!("a token named `{name}` exists (names are unique)")
                }
                Err(db::tokens::IssueError::Random(e)) => return Err(e).context("reading /dev/urandom"),
                Err(db::tokens::IssueError::Database(e)) => return Err(e).context("storing the token"),
            };
            println!("{token}");
            eprintln!(
                "token `{}` ({}{}) created; it is shown only this once",
                holder.name,
                holder.role,
                holder.region_code.map(|r| format!(", region {r}")).unwrap_or_default()
            );
        }
        TokenCommand::List => {
            for holder in db::tokens::list(&mut conn).await? {
                let state = if holder.revoked_at.is_some() { "revoked" } else { "active" };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    holder.name,
                    holder.role,
                    holder.region_code.unwrap_or_default(),
                    holder.created_at,
                    state
                );
            }
        }
        TokenCommand::Revoke { name } => {
            if !db::tokens::revoke(&mut conn, &name).await? {
                anyhow::bail!("no active token named `{name}`");
            }
            eprintln!("token `{name}` revoked");
        }
    }
    Ok(())
}

/// Runs `task` against the configured database, starting and stopping the private one if needed.
/// Prints the feed from `after` as NDJSON; with `follow`, polls for more until interrupted.
async fn print_changes(
    database_url: &str,
    mut after: i64,
    filter: perfeval::db::changes::ChangeFilter,
    follow: bool,
    interval: std::time::Duration,
) -> anyhow::Result<()> {
    use std::io::Write;
    let mut conn = db::connect(database_url).await?;
    let stdout = std::io::stdout();
    loop {
        let page = perfeval::routes::changes::read(&mut conn, after, &filter, 1000)
            .await
            .map_err(|e| anyhow::anyhow!("reading the change feed: {e}"))?;
        let mut out = stdout.lock();
        for item in &page.items {
            serde_json::to_writer(&mut out, item)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        drop(out);
        after = perfeval::routes::changes::decode_cursor(&page.next_cursor).unwrap_or(after);
        if !page.more {
            if !follow {
                return Ok(());
            }
            tokio::time::sleep(interval).await;
        }
    }
}

async fn with_database<F, Fut>(settings: &Settings, task: F) -> anyhow::Result<()>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let (url, private) = startup::resolve_database(settings).await?;
    let result = task(url).await;
    if let Some(postgres) = private {
        postgres.stop();
    }
    result
}

/// glibc gives each thread that allocates its own arena (up to 8 per core), and memory freed in
/// one is not reused by another: after a few large batches the service held twice the memory it
/// needed. Two arenas keep the peak near what a batch needs; `MALLOC_ARENA_MAX` still overrides.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; called before other threads start.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
