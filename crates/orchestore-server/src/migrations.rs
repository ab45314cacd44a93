//! `orchestore migrate …` and `orchestore verify`: what they do and print. The binary parses
//! the command line and calls these; their output goes to stdout.

use std::io::Write as _;

use orchestore_repo::RepoError;
use orchestore_sea::{MigrationError, SeaStore};

/// A `migrate` command, as the command line gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrateCommand {
    /// Apply every pending migration.
    Up,
    /// Revert the last `steps` migrations; `confirmed` when the operator accepted losing data.
    Down { steps: u32, confirmed: bool },
    /// List the migrations and whether each is applied.
    Status,
    /// Revert every migration and apply them all again.
    Fresh { confirmed: bool },
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Migration(#[from] MigrationError),
    #[error("database: {0}")]
    Database(#[from] RepoError),
    /// `down` or `fresh` on a database that holds data, without `--confirm`.
    #[error(
        "`migrate {0}` drops tables of a database that holds data (organizations, their users \
         and everything else): nothing was changed; add --confirm to go ahead"
    )]
    Unconfirmed(&'static str),
    /// The database has migrations to apply before its schema can be compared.
    #[error("{0} migration(s) pending: run `orchestore migrate up`, then verify again")]
    Pending(usize),
    /// The live schema is not what the migrations build.
    #[error(
        "the schema differs from what {migrations} migrations build: {differences} difference(s)"
    )]
    Drift {
        migrations: usize,
        differences: usize,
    },
    #[error("writing output: {0}")]
    Output(std::io::Error),
}

impl MigrateError {
    /// Whether this is `verify` finding a schema that does not match (drift or pending
    /// migrations), as opposed to failing to find out.
    pub fn is_mismatch(&self) -> bool {
        matches!(self, Self::Pending(_) | Self::Drift { .. })
    }
}

/// Runs `command` on `store`'s database and prints what it did.
pub async fn migrate(store: &SeaStore, command: MigrateCommand) -> Result<(), MigrateError> {
    match command {
        MigrateCommand::Up => {
            let applied = store.migrate().await?;
            print(&format!(
                "applied {applied} migration(s); the database is up to date\n"
            ))
        }
        MigrateCommand::Down { steps, confirmed } => {
            refuse_unconfirmed(store, "down", confirmed).await?;
            let reverted = store.rollback(Some(steps)).await?;
            print(&format!("reverted {reverted} migration(s)\n"))
        }
        MigrateCommand::Status => {
            store.check_migrations().await?;
            let mut out = String::new();
            for migration in store.migration_status().await? {
                let state = if migration.applied {
                    "applied"
                } else {
                    "pending"
                };
                out.push_str(&format!("{state:<8} {}\n", migration.name));
            }
            print(&out)
        }
        MigrateCommand::Fresh { confirmed } => {
            refuse_unconfirmed(store, "fresh", confirmed).await?;
            let fresh = store.fresh().await?;
            print(&format!(
                "reverted {} migration(s) and applied {} again\n",
                fresh.reverted, fresh.applied
            ))
        }
    }
}

async fn refuse_unconfirmed(
    store: &SeaStore,
    command: &'static str,
    confirmed: bool,
) -> Result<(), MigrateError> {
    if !confirmed && store.holds_data().await? {
        return Err(MigrateError::Unconfirmed(command));
    }
    Ok(())
}

/// Compares the live schema with what the migrations build; prints each difference (or each
/// pending migration) on its own line, or "schema matches N migrations".
pub async fn verify(store: &SeaStore) -> Result<(), MigrateError> {
    let report = store.verify_schema().await?;
    if !report.pending.is_empty() {
        let lines: String = report
            .pending
            .iter()
            .map(|name| format!("pending  {name}\n"))
            .collect();
        print(&lines)?;
        return Err(MigrateError::Pending(report.pending.len()));
    }
    if report.differences.is_empty() {
        return print(&format!(
            "schema matches {} migrations\n",
            report.migrations
        ));
    }
    let lines: String = report
        .differences
        .iter()
        .map(|line| format!("{line}\n"))
        .collect();
    print(&lines)?;
    Err(MigrateError::Drift {
        migrations: report.migrations,
        differences: report.differences.len(),
    })
}

fn print(text: &str) -> Result<(), MigrateError> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(MigrateError::Output)
}
