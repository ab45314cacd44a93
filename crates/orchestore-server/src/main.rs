//! `orchestore`: the server (`serve`, the default) and its admin commands.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use orchestore_domain::OrganizationId;
use orchestore_repo::RepoError;
use orchestore_sea::{DbConfig, SeaStore};
use orchestore_server::migrations::{MigrateCommand, MigrateError};
use orchestore_server::taskmaster::{TaskmasterArgs, TaskmasterError};
use orchestore_server::{
    Application, Settings, SettingsError, StartupError, audit, init_tracing, migrations, retention,
    seed, shared_fleet, transfer,
};

/// The server's allocator (see the dependency's comment in `Cargo.toml`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The exit status of `audit verify` when a chain is broken (1 is any other failure, 2 a
/// usage error).
const BROKEN_CHAIN: u8 = 3;

/// The exit status of `verify` when the schema is not what the migrations build.
const SCHEMA_MISMATCH: u8 = 4;

#[derive(Debug, Parser)]
#[command(
    name = "orchestore",
    version,
    about = "Orchestore: persistence for multi-agent AI orchestrators"
)]
struct Cli {
    /// A TOML settings file; environment variables ORCHESTORE__SECTION__KEY and DATABASE_URL
    /// override it.
    #[arg(long, global = true, env = "ORCHESTORE_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the REST API (the default).
    Serve,
    /// Apply, revert or inspect database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Compare the database's schema with what the migrations build; print each difference
    /// and exit with status 4 when there is any (or a migration is pending).
    Verify,
    /// Seal or verify the audit log's hash chains.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Seed a profile's sample organization (`seed --profile development|demo|testing`), or
    /// remove it (`seed clean --profile … --confirm`).
    Seed(seed::SeedArgs),
    /// Import task lists kept in files, or a dump written by `export`.
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Write the database (or one organization's rows) to stdout as JSON lines.
    Export {
        /// Only this organization (its id): its row and the rows it owns.
        #[arg(long, value_name = "ID")]
        organization: Option<OrganizationId>,
    },
    /// Copy every row of every table from one database to another (SQLite or PostgreSQL), in
    /// one transaction on the target.
    Copy {
        /// The source database URL.
        #[arg(long, value_name = "URL")]
        from: String,
        /// The target database URL (migrated first when it has no tables).
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Report the database: reachable and how fast, backend and version, migrations, its
    /// connections, rows of the main tables and the queue's depth.
    Status {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Purge the rows past their organization's retention policy (the server does it every
    /// `retention.interval`).
    Retention {
        #[command(subcommand)]
        action: RetentionAction,
    },
    /// The shared worker fleet: `queue share set|remove|list` (see docs/fairness.md).
    Queue {
        #[command(subcommand)]
        action: shared_fleet::QueueAction,
    },
    /// Print the resolved settings, secrets redacted.
    PrintConfig {
        #[arg(long, value_enum, default_value_t = OutputFormat::Toml)]
        format: OutputFormat,
    },
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert the last migrations.
    Down {
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        steps: u32,
        /// Confirm reverting on a database that holds data (tables, and their rows, go).
        #[arg(long)]
        confirm: bool,
    },
    /// List the migrations and whether each is applied.
    Status,
    /// Revert every migration and apply them all again.
    Fresh {
        /// Confirm on a database that holds data that every table, and all its data, is to
        /// be dropped.
        #[arg(long, visible_alias = "yes")]
        confirm: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AuditAction {
    /// Seal the rows written since the last seal into their organization's chain (the server
    /// does it every `audit.seal_interval`).
    Seal {
        /// Only this organization (its id); every organization with unsealed rows otherwise.
        #[arg(long, value_name = "ID")]
        organization: Option<OrganizationId>,
    },
    /// Walk each organization's chain and print its head, or the first row that does not fit;
    /// exit with status 3 when a chain is broken.
    Verify {
        /// Only this organization (its id); every organization with audit rows otherwise.
        #[arg(long, value_name = "ID")]
        organization: Option<OrganizationId>,
    },
}

#[derive(Debug, Subcommand)]
enum ImportSource {
    /// A Taskmaster tasks.json (either layout): tasks, subtasks and dependencies into a
    /// project, updated in place when imported again; prints a JSON report.
    Taskmaster(TaskmasterArgs),
    /// A dump written by `orchestore export`, loaded in one transaction.
    Jsonl { path: PathBuf },
}

#[derive(Debug, Subcommand)]
enum RetentionAction {
    /// Delete, in batches of `retention.batch_size`, what each organization's policy says is
    /// past its age, and print per organization and table what went.
    Run {
        /// Count what would be deleted, and delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Only this organization (its id); every organization with a policy otherwise.
        #[arg(long, value_name = "ID")]
        organization: Option<OrganizationId>,
        /// Print the reports as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    Toml,
    Json,
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("configuration: {0}")]
    Config(#[from] SettingsError),
    #[error("logging: {0}")]
    Logging(String),
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("database: {0}")]
    Database(#[from] RepoError),
    #[error("{0}")]
    Usage(String),
    #[error("server: {0}")]
    Server(std::io::Error),
    #[error("writing output: {0}")]
    Output(String),
    #[error("{0} audit chain(s) broken")]
    BrokenChains(usize),
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    #[error(transparent)]
    Migration(#[from] orchestore_sea::MigrationError),
    #[error(transparent)]
    Seed(#[from] seed::SeedError),
    #[error("import: {0}")]
    Import(#[from] TaskmasterError),
    #[error(transparent)]
    Transfer(#[from] transfer::TransferCommandError),
    #[error(transparent)]
    Status(#[from] orchestore_server::status::StatusError),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("orchestore: {err}");
            match err {
                CliError::BrokenChains(_) => ExitCode::from(BROKEN_CHAIN),
                CliError::Migrate(err) if err.is_mismatch() => ExitCode::from(SCHEMA_MISMATCH),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let settings = Settings::load(cli.config.as_deref(), std::env::vars())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::PrintConfig { format } => print_config(&settings, format),
        Command::Serve => {
            init_logging(&settings)?;
            serve(settings, cli.config.as_deref()).await
        }
        Command::Migrate { action } => {
            init_logging(&settings)?;
            migrate(&settings, action).await
        }
        Command::Audit { action } => {
            init_logging(&settings)?;
            audit_chains(&settings, action).await
        }
        Command::Verify => {
            init_logging(&settings)?;
            Ok(migrations::verify(&one_connection(&settings).await?).await?)
        }
        Command::Seed(args) => {
            init_logging(&settings)?;
            Ok(seed::run(&settings, args, &mut std::io::stdout()).await?)
        }
        Command::Import {
            source: ImportSource::Taskmaster(args),
        } => {
            init_logging(&settings)?;
            write_out(&orchestore_server::taskmaster::run(&settings, args).await?)
        }
        Command::Export { organization } => {
            init_logging(&settings)?;
            Ok(transfer::export(&settings, organization).await?)
        }
        Command::Import {
            source: ImportSource::Jsonl { path },
        } => {
            init_logging(&settings)?;
            Ok(transfer::import_jsonl(&settings, &path).await?)
        }
        Command::Copy { from, to } => {
            init_logging(&settings)?;
            Ok(transfer::copy(&settings, &from, &to).await?)
        }
        Command::Status { json } => {
            init_logging(&settings)?;
            let report = orchestore_server::status::read_status(&settings).await?;
            write_out(&if json {
                orchestore_server::status::render_json(&report)?
            } else {
                orchestore_server::status::render_text(&report)
            })
        }
        Command::Retention {
            action:
                RetentionAction::Run {
                    dry_run,
                    organization,
                    json,
                },
        } => {
            init_logging(&settings)?;
            let batch = (settings.retention.batch()).map_err(|e| CliError::Usage(e.to_string()))?;
            let store = one_connection(&settings).await?;
            if pending(&store).await? > 0 {
                return Err(CliError::Usage(
                    "the database has pending migrations: run `orchestore migrate up` first"
                        .to_owned(),
                ));
            }
            let now = chrono::Utc::now();
            let reports =
                retention::purge_organizations(&store, organization, now, batch, dry_run).await?;
            write_out(&match json {
                true => serde_json::to_string_pretty(&reports)
                    .map(|json| json + "\n")
                    .map_err(|e| CliError::Output(e.to_string()))?,
                false => retention::report_text(&reports),
            })
        }
        Command::Queue { action } => {
            init_logging(&settings)?;
            let store = one_connection(&settings).await?;
            if pending(&store).await? > 0 {
                return Err(CliError::Usage(
                    "the database has pending migrations: run `orchestore migrate up` first"
                        .to_owned(),
                ));
            }
            write_out(&shared_fleet::run(&store, action).await?)
        }
    }
}

fn init_logging(settings: &Settings) -> Result<(), CliError> {
    let rust_log = std::env::var("RUST_LOG").ok();
    init_tracing(&settings.log, rust_log.as_deref()).map_err(CliError::Logging)
}

async fn serve(settings: Settings, config_file: Option<&Path>) -> Result<(), CliError> {
    tracing::info!(
        config_file = ?config_file,
        "starting orchestore {}",
        env!("CARGO_PKG_VERSION")
    );
    let app = Application::build(settings).await?;
    app.run_until_stopped().await.map_err(CliError::Server)?;
    tracing::info!("stopped");
    Ok(())
}

/// A store for a one-off command, which needs one connection, not a pool.
/// It refuses a database a newer binary migrated, or one with a changed migration.
async fn one_connection(settings: &Settings) -> Result<SeaStore, CliError> {
    let store = SeaStore::connect(&DbConfig {
        max_connections: 1,
        min_connections: 1,
        ..settings.database.clone()
    })
    .await?;
    store.check_migrations().await?;
    Ok(store)
}

async fn audit_chains(settings: &Settings, action: AuditAction) -> Result<(), CliError> {
    let store = one_connection(settings).await?;
    if pending(&store).await? > 0 {
        return Err(CliError::Usage(
            "the database has pending migrations: run `orchestore migrate up` first".to_owned(),
        ));
    }
    match action {
        AuditAction::Seal { organization } => {
            let sealed = audit::seal_chains(&store, organization).await?;
            let mut out = String::new();
            for (org, outcome) in &sealed {
                out.push_str(&audit::seal_line(*org, outcome));
                out.push('\n');
            }
            if sealed.is_empty() {
                out.push_str("no organization has unsealed audit rows\n");
            }
            write_out(&out)
        }
        AuditAction::Verify { organization } => {
            let reports = audit::verify_chains(&store, organization).await?;
            let mut out = String::new();
            for report in &reports {
                out.push_str(&audit::verify_line(report));
                out.push('\n');
            }
            write_out(&out)?;
            match reports.iter().filter(|report| !report.is_intact()).count() {
                0 => Ok(()),
                broken => Err(CliError::BrokenChains(broken)),
            }
        }
    }
}

async fn migrate(settings: &Settings, action: MigrateAction) -> Result<(), CliError> {
    let command = match action {
        MigrateAction::Up => MigrateCommand::Up,
        MigrateAction::Down { steps, confirm } => MigrateCommand::Down {
            steps,
            confirmed: confirm,
        },
        MigrateAction::Status => MigrateCommand::Status,
        MigrateAction::Fresh { confirm } => MigrateCommand::Fresh { confirmed: confirm },
    };
    Ok(migrations::migrate(&one_connection(settings).await?, command).await?)
}

async fn pending(store: &SeaStore) -> Result<usize, CliError> {
    Ok(store
        .migration_status()
        .await?
        .iter()
        .filter(|m| !m.applied)
        .count())
}

fn print_config(settings: &Settings, format: OutputFormat) -> Result<(), CliError> {
    let text = match format {
        OutputFormat::Toml => {
            toml::to_string_pretty(settings).map_err(|e| CliError::Output(e.to_string()))?
        }
        OutputFormat::Json => serde_json::to_string_pretty(settings)
            .map(|json| json + "\n")
            .map_err(|e| CliError::Output(e.to_string()))?,
    };
    write_out(&text)
}

/// Command output goes to stdout; logs go to stderr.
fn write_out(text: &str) -> Result<(), CliError> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| CliError::Output(e.to_string()))
}
