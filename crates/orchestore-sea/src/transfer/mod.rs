//! Moving data between databases: [`export`] to JSON lines, [`import_jsonl`] from them, and
//! [`copy`] from one database to another (SQLite and PostgreSQL, either way).
//!
//! The tables, their columns and their order come from the live schema of each side, so every
//! table the migrations create moves without being listed here. The target is written in one
//! transaction and checked (per-table counts and checksums) before the commit: an error or an
//! interruption leaves it as it was. The format and the rules are in `docs/moving-data.md`.

mod load;
mod read;
mod schema;
mod value;

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use orchestore_domain::OrganizationId;
use orchestore_repo::RepoError;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::SeaStore;
use load::Loader;
use read::{Pager, Scope, count, encode_row, in_scope};
use schema::{RUNNER_TABLES, Schema};
use value::Tally;

/// The dump format's version, in its header line.
pub const DUMP_FORMAT: u32 = 1;

/// Why a transfer stopped; the target is unchanged in every case.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("{context}: {message}")]
    Database { context: String, message: String },
    #[error(
        "the source is at migration {source_version} and the target at {target_version}: bring \
         both to the same version first (`orchestore migrate up`)"
    )]
    VersionMismatch {
        source_version: String,
        target_version: String,
    },
    #[error("the target already holds a row of table {table} with {key}; nothing was written")]
    Collision { table: String, key: String },
    #[error("column {table}.{column} has type {declared}, which the transfer does not know")]
    UnknownType {
        table: String,
        column: String,
        declared: String,
    },
    #[error("{table}.{column}: {message}")]
    Value {
        table: String,
        column: String,
        message: String,
    },
    #[error("schema: {0}")]
    Schema(String),
    #[error("dump: {0}")]
    Dump(String),
    #[error("reading or writing the dump: {0}")]
    Io(#[from] std::io::Error),
    #[error("verification failed, nothing was written: {0}")]
    Verification(String),
    #[error("{0}")]
    Usage(String),
}

impl TransferError {
    /// The database's own message: the operator needs the constraint or the statement at
    /// fault, which the repositories' portable classification leaves out.
    fn database(context: impl Into<String>, err: DbErr) -> Self {
        Self::Database {
            context: context.into(),
            message: err.to_string(),
        }
    }

    fn repo(context: impl Into<String>, err: RepoError) -> Self {
        Self::Database {
            context: context.into(),
            message: err.to_string(),
        }
    }
}

/// What happened to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSummary {
    pub table: String,
    /// Rows read from the source (or the dump).
    pub source_rows: u64,
    /// Rows the target already held, seeded by its own migrations: matched, not written.
    pub already_present: u64,
    pub written: u64,
    /// The checksum of the source's rows (see `docs/moving-data.md`).
    pub checksum: String,
}

/// Told how a transfer advances (the command line draws a progress bar with it).
pub trait TransferProgress: Send + Sync {
    /// The rows to come, when known.
    fn start(&self, total_rows: Option<u64>);
    /// `rows` more rows of `table` are done.
    fn advance(&self, table: &str, rows: u64);
    fn finish(&self);
}

/// No progress to show.
pub struct Quiet;

impl TransferProgress for Quiet {
    fn start(&self, _: Option<u64>) {}
    fn advance(&self, _: &str, _: u64) {}
    fn finish(&self) {}
}

/// The first line of a dump.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    orchestore_dump: u32,
    /// `sqlite` or `postgres`.
    backend: String,
    /// Every migration applied to the source, in name order.
    migrations: Vec<String>,
    /// Set when only this organization's rows are in the dump.
    organization: Option<Uuid>,
}

/// One row of a dump.
#[derive(Debug, Serialize, Deserialize)]
struct RowLine {
    table: String,
    row: Map<String, Json>,
}

/// The last line: per table in the dump, its rows and their checksum.
#[derive(Debug, Serialize, Deserialize)]
struct Trailer {
    end: BTreeMap<String, TrailerTable>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TrailerTable {
    rows: u64,
    checksum: String,
}

fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Postgres => "postgres",
        _ => "sqlite",
    }
}

/// The migrations applied to a database, in name order (empty when it has none).
async fn applied_migrations(store: &SeaStore) -> Result<Vec<String>, TransferError> {
    let db = store.connection();
    let exists = store
        .has_table(RUNNER_TABLES[0])
        .await
        .map_err(|e| TransferError::repo("reading the migrations", e))?;
    if !exists {
        return Ok(Vec::new());
    }
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations ORDER BY version",
        ))
        .await
        .map_err(|e| TransferError::database("reading the migrations", e))?;
    rows.iter()
        .map(|row| {
            row.try_get_by_index::<String>(0)
                .map_err(|e| TransferError::database("reading the migrations", e))
        })
        .collect()
}

fn latest(versions: &[String]) -> String {
    versions
        .last()
        .cloned()
        .unwrap_or_else(|| "none (not migrated)".to_owned())
}

/// Brings an empty target to the source's version (its own step, committed before the data
/// moves), then requires both to be at the same version.
async fn prepare_target(target: &SeaStore, source: &[String]) -> Result<(), TransferError> {
    if source.is_empty() {
        return Err(TransferError::Usage(
            "the source has no migrations applied: it is not an Orchestore database".to_owned(),
        ));
    }
    let mut applied = applied_migrations(target).await?;
    if applied.is_empty() {
        let mut known: Vec<String> = target
            .migration_status()
            .await
            .map_err(|e| TransferError::repo("reading the migrations", e))?
            .into_iter()
            .map(|m| m.name)
            .collect();
        known.sort();
        if known != source {
            return Err(TransferError::VersionMismatch {
                source_version: latest(source),
                target_version: format!("none, and this program migrates to {}", latest(&known)),
            });
        }
        target
            .migrate()
            .await
            .map_err(|e| TransferError::repo("migrating the target", e.into()))?;
        applied = applied_migrations(target).await?;
    }
    if applied != source {
        return Err(TransferError::VersionMismatch {
            source_version: latest(source),
            target_version: latest(&applied),
        });
    }
    Ok(())
}

/// A consistent view of the source: one read-only transaction (PostgreSQL: repeatable read).
async fn read_transaction(
    db: &DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, TransferError> {
    db.begin_with_options(crate::conn::snapshot_options(db.get_database_backend()))
        .await
        .map_err(|e| TransferError::database("opening the source's transaction", e))
}

async fn total_rows(
    db: &impl ConnectionTrait,
    schema: &Schema,
    scope: Scope,
) -> Result<u64, TransferError> {
    let mut total = 0;
    for table in schema.tables.iter().filter(|t| in_scope(schema, t, scope)) {
        total += count(db, schema, table, scope).await?;
    }
    Ok(total)
}

/// Writes the whole database, or one organization's rows (with its organization row, without
/// the global tables the migrations fill), as JSON lines: a header, a line per row (tables
/// parents first, rows in primary-key order), and a trailer with each table's count and
/// checksum.
pub async fn export(
    source: &SeaStore,
    organization: Option<OrganizationId>,
    out: &mut (dyn Write + Send),
    progress: &dyn TransferProgress,
) -> Result<Vec<TableSummary>, TransferError> {
    let migrations = applied_migrations(source).await?;
    if migrations.is_empty() {
        return Err(TransferError::Usage(
            "the database has no migrations applied: nothing to export".to_owned(),
        ));
    }
    let db = source.connection();
    let txn = read_transaction(db).await?;
    let schema = Schema::read(&txn).await?;
    let scope = match organization {
        Some(org) => {
            let org = Uuid::from(org);
            let table = schema
                .table("organizations")
                .ok_or_else(|| TransferError::Schema("no table organizations".to_owned()))?;
            if count(&txn, &schema, table, Scope::Organization(org)).await? == 0 {
                return Err(TransferError::Usage(format!("no organization {org}")));
            }
            Scope::Organization(org)
        }
        None => Scope::Everything,
    };
    progress.start(Some(total_rows(&txn, &schema, scope).await?));
    let header = Header {
        orchestore_dump: DUMP_FORMAT,
        backend: backend_name(db).to_owned(),
        migrations,
        organization: organization.map(Uuid::from),
    };
    serde_json::to_writer(&mut *out, &header).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    let mut trailer = BTreeMap::new();
    let mut summaries = Vec::new();
    for table in schema.tables.iter().filter(|t| in_scope(&schema, t, scope)) {
        let mut tally = Tally::default();
        let mut pager = Pager::new(&schema, table, scope)?;
        loop {
            let page = pager.next(&txn).await?;
            if page.is_empty() {
                break;
            }
            for row in &page {
                let line = RowLine {
                    table: table.name.clone(),
                    row: encode_row(table, row)?,
                };
                tally.add(line.row.iter().map(|(k, v)| (k.as_str(), v)));
                serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::from)?;
                out.write_all(b"\n")?;
            }
            progress.advance(&table.name, page.len() as u64);
        }
        trailer.insert(
            table.name.clone(),
            TrailerTable {
                rows: tally.rows,
                checksum: tally.checksum(),
            },
        );
        summaries.push(TableSummary {
            table: table.name.clone(),
            source_rows: tally.rows,
            already_present: 0,
            written: tally.rows,
            checksum: tally.checksum(),
        });
    }
    serde_json::to_writer(&mut *out, &Trailer { end: trailer }).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()?;
    progress.finish();
    Ok(summaries)
}

/// Loads a dump written by [`export`] (whole or one organization's) into `target`, migrated
/// first when it has no tables, in one transaction.
pub async fn import_jsonl(
    target: &SeaStore,
    input: &mut (dyn BufRead + Send),
    progress: &dyn TransferProgress,
) -> Result<Vec<TableSummary>, TransferError> {
    let mut lines = input.lines();
    let header_line = lines
        .next()
        .transpose()?
        .ok_or_else(|| TransferError::Dump("the dump is empty".to_owned()))?;
    let header: Header = serde_json::from_str(&header_line)
        .map_err(|e| TransferError::Dump(format!("line 1 is not a dump header: {e}")))?;
    if header.orchestore_dump != DUMP_FORMAT {
        return Err(TransferError::Dump(format!(
            "format {} is not the format {DUMP_FORMAT} this program reads",
            header.orchestore_dump
        )));
    }
    prepare_target(target, &header.migrations).await?;
    let db = target.connection();
    let schema = Schema::read(db).await?;
    progress.start(None);
    let mut loader = Loader::begin(db, &schema).await?;
    let mut trailer = None;
    let mut line_number = 1;
    for line in lines {
        let line = line?;
        line_number += 1;
        if trailer.is_some() {
            return Err(TransferError::Dump(format!(
                "line {line_number} follows the last line"
            )));
        }
        if line.starts_with("{\"end\"") {
            let end: Trailer = serde_json::from_str(&line)
                .map_err(|e| TransferError::Dump(format!("line {line_number}: {e}")))?;
            trailer = Some(end.end);
            continue;
        }
        let row: RowLine = serde_json::from_str(&line)
            .map_err(|e| TransferError::Dump(format!("line {line_number}: {e}")))?;
        loader.begin_table(&row.table).await?;
        loader.push(&row.row).await?;
        progress.advance(&row.table, 1);
    }
    let trailer = trailer.ok_or_else(|| {
        TransferError::Dump("the dump has no last line: it was cut short".to_owned())
    })?;
    let mut expected = BTreeMap::new();
    for (table, end) in trailer {
        let tally = Tally::from_parts(end.rows, &end.checksum).ok_or_else(|| {
            TransferError::Dump(format!("the checksum of table {table} is not hex"))
        })?;
        // A table without rows is checked too (nothing may have come for it).
        if !loader.has_begun(&table) {
            loader.begin_table(&table).await?;
        }
        expected.insert(table, tally);
    }
    let summaries = loader.finish(&expected).await?;
    progress.finish();
    Ok(summaries)
}

/// Copies every row of every table from `source` into `target` (migrated first when it has no
/// tables), in one transaction on the target, checked before the commit.
pub async fn copy(
    source: &SeaStore,
    target: &SeaStore,
    progress: &dyn TransferProgress,
) -> Result<Vec<TableSummary>, TransferError> {
    let migrations = applied_migrations(source).await?;
    prepare_target(target, &migrations).await?;
    let source_txn = read_transaction(source.connection()).await?;
    let source_schema = Schema::read(&source_txn).await?;
    let target_schema = Schema::read(target.connection()).await?;
    let names = |s: &Schema| {
        let mut names: Vec<String> = s.tables.iter().map(|t| t.name.clone()).collect();
        names.sort();
        names
    };
    if names(&source_schema) != names(&target_schema) {
        return Err(TransferError::Schema(format!(
            "the source's tables ({}) are not the target's ({})",
            names(&source_schema).join(", "),
            names(&target_schema).join(", ")
        )));
    }
    progress.start(Some(
        total_rows(&source_txn, &source_schema, Scope::Everything).await?,
    ));
    let mut loader = Loader::begin(target.connection(), &target_schema).await?;
    let mut expected = BTreeMap::new();
    for table in &source_schema.tables {
        loader.begin_table(&table.name).await?;
        let mut tally = Tally::default();
        let mut pager = Pager::new(&source_schema, table, Scope::Everything)?;
        loop {
            let page = pager.next(&source_txn).await?;
            if page.is_empty() {
                break;
            }
            for row in &page {
                let encoded = encode_row(table, row)?;
                tally.add(encoded.iter().map(|(k, v)| (k.as_str(), v)));
                loader.push(&encoded).await?;
            }
            progress.advance(&table.name, page.len() as u64);
        }
        expected.insert(table.name.clone(), tally);
    }
    let summaries = loader.finish(&expected).await?;
    progress.finish();
    Ok(summaries)
}
