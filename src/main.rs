//! The `perfeval` command: serve (default), migrate, regions load, openapi.
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use perfeval::{config::Settings, db, startup, telemetry};

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
    Migrate,
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
        /// Region code prefix (2, 4 or 6 digits)
        #[arg(long, default_value = "43")]
        region: String,
        /// Fiscal years: `2022` or `2018..2024`
        #[arg(long, default_value = "2018..2024")]
        years: String,
        /// Write NDJSON to this file instead of loading the database
        #[arg(long)]
        ndjson: Option<PathBuf>,
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
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
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

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let settings = Settings::from_env()?;
    if matches!(cli.command, Some(Command::Openapi)) {
        println!("{}", startup::openapi_document().to_pretty_json()?);
        return Ok(());
    }
    telemetry::init_subscriber(telemetry::get_subscriber("info", settings.log_format, std::io::stdout));
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => startup::Application::build(settings).await?.run_until_stopped().await,
        Command::Migrate => with_database(&settings, |url| async move { db::migrate(&url).await }).await,
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
        Command::DemoData { region, years, ndjson } => {
            let records = perfeval::demo::records(&region, &years)?;
            match ndjson {
                Some(path) => perfeval::demo::write_ndjson(&path, &records),
                None => {
                    with_database(&settings, |url| async move { perfeval::demo::load(&url, &region, records).await })
                        .await
                }
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
        Command::Token { command } => with_database(&settings, |url| async move { token(&url, command).await }).await,
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
