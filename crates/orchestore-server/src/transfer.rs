//! `orchestore export`, `orchestore import jsonl` and `orchestore copy`: the command-line side
//! of [`orchestore_sea::transfer`] — connections, the progress bar, the summary table.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal as _, Write as _};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use orchestore_domain::OrganizationId;
use orchestore_repo::RepoError;
use orchestore_sea::transfer::{self, TableSummary, TransferError, TransferProgress};
use orchestore_sea::{DatabaseUrl, DbConfig, SeaStore};

use crate::Settings;

#[derive(Debug, thiserror::Error)]
pub enum TransferCommandError {
    #[error(transparent)]
    Transfer(#[from] TransferError),
    #[error("opening {url}: {source}")]
    Connect { url: String, source: RepoError },
    #[error("{path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error("writing output: {0}")]
    Output(std::io::Error),
}

/// A progress bar on stderr when it is a terminal; nothing otherwise.
struct Bar(Option<ProgressBar>);

impl Bar {
    fn new() -> Self {
        Self(std::io::stderr().is_terminal().then(ProgressBar::hidden))
    }
}

impl TransferProgress for Bar {
    fn start(&self, total_rows: Option<u64>) {
        let Some(bar) = &self.0 else { return };
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        match total_rows {
            Some(total) => {
                bar.set_length(total);
                if let Ok(style) = ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} rows ({per_sec}, {eta} left) {msg}",
                ) {
                    bar.set_style(style);
                }
            }
            None => {
                if let Ok(style) =
                    ProgressStyle::with_template("{spinner} {pos} rows ({per_sec}) {msg}")
                {
                    bar.set_style(style);
                }
            }
        }
    }

    fn advance(&self, table: &str, rows: u64) {
        if let Some(bar) = &self.0 {
            bar.set_message(table.to_owned());
            bar.inc(rows);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// One connection to `url`, with the other database settings as configured.
async fn connect(settings: &Settings, url: &str) -> Result<SeaStore, TransferCommandError> {
    SeaStore::connect(&DbConfig {
        url: DatabaseUrl::new(url),
        max_connections: 1,
        min_connections: 1,
        ..settings.database.clone()
    })
    .await
    .map_err(|source| TransferCommandError::Connect {
        url: DatabaseUrl::new(url).redacted(),
        source,
    })
}

/// The per-table counts and checksums, and a last line with the totals.
pub fn summary_table(tables: &[TableSummary], verb: &str) -> String {
    let width = tables
        .iter()
        .map(|t| t.table.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!(
        "{:<width$}  {:>10}  {:>13}  {:>10}  checksum\n",
        "table", "source", "already there", verb
    );
    for t in tables {
        out.push_str(&format!(
            "{:<width$}  {:>10}  {:>13}  {:>10}  {}\n",
            t.table, t.source_rows, t.already_present, t.written, t.checksum
        ));
    }
    let rows: u64 = tables.iter().map(|t| t.written).sum();
    let matched: u64 = tables.iter().map(|t| t.already_present).sum();
    out.push_str(&format!(
        "{verb} {rows} row(s) of {} table(s) ({matched} already there); counts and checksums \
         verified\n",
        tables.len()
    ));
    out
}

fn print(text: &str) -> Result<(), TransferCommandError> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(TransferCommandError::Output)
}

/// `orchestore export [--organization ID]`: the dump on stdout, the summary on stderr.
pub async fn export(
    settings: &Settings,
    organization: Option<OrganizationId>,
) -> Result<(), TransferCommandError> {
    let store = connect(settings, settings.database.url.expose()).await?;
    let mut out = BufWriter::new(std::io::stdout());
    let tables = transfer::export(&store, organization, &mut out, &Bar::new()).await?;
    let rows: u64 = tables.iter().map(|t| t.written).sum();
    eprintln!("exported {rows} row(s) of {} table(s)", tables.len());
    Ok(())
}

/// `orchestore import jsonl PATH` into the configured database.
pub async fn import_jsonl(settings: &Settings, path: &Path) -> Result<(), TransferCommandError> {
    let file = File::open(path).map_err(|source| TransferCommandError::File {
        path: path.display().to_string(),
        source,
    })?;
    let store = connect(settings, settings.database.url.expose()).await?;
    let tables = transfer::import_jsonl(&store, &mut BufReader::new(file), &Bar::new()).await?;
    print(&summary_table(&tables, "imported"))
}

/// `orchestore copy --from URL --to URL`.
pub async fn copy(settings: &Settings, from: &str, to: &str) -> Result<(), TransferCommandError> {
    if from == to {
        return Err(TransferCommandError::Usage(
            "--from and --to name the same database".to_owned(),
        ));
    }
    let source = connect(settings, from).await?;
    let target = connect(settings, to).await?;
    let tables = transfer::copy(&source, &target, &Bar::new()).await?;
    print(&summary_table(&tables, "copied"))
}
