//! Writing rows into the target, all in one transaction: multi-row inserts, rows the
//! migrations seeded matched instead of written, the count and checksum of every table checked
//! before the commit.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use serde_json::{Map, Value as Json};

use super::read::{Scope, Sql, column_list, decode_row, encode_row, quote, tally};
use super::schema::{ORGANIZATIONS, Schema, TENANT_COLUMN, Table};
use super::value::{Datum, Tally};
use super::{TableSummary, TransferError};

/// At most this many parameters per statement (SQLite allows 32,766, PostgreSQL 65,535).
const PARAMETERS_PER_STATEMENT: usize = 30_000;
const ROWS_PER_INSERT: usize = 500;

/// What became of one table's rows.
struct TableState {
    /// The target's rows before anything was written.
    before: Tally,
    /// The rows received, as received.
    received: Tally,
    /// Rows the target already held (seeded by its migrations): matched, not written.
    matched: u64,
    /// The rows written, as written (references to matched rows translated).
    written: Tally,
}

pub(crate) struct Loader<'s> {
    txn: DatabaseTransaction,
    backend: DbBackend,
    schema: &'s Schema,
    /// The tables begun, in order.
    order: Vec<&'s Table>,
    states: HashMap<String, TableState>,
    batch: Vec<Vec<Datum>>,
    /// Rows whose reference to their own table is set once the table is in.
    pending: Vec<(Vec<Datum>, Vec<Datum>)>,
    /// For a matched row: per (table, referenced columns), the source's values (as a key) and
    /// the target's, to translate the references of the rows that follow.
    remap: HashMap<(String, Vec<String>), HashMap<String, Vec<Datum>>>,
}

fn key_of(values: &[&Datum]) -> String {
    values
        .iter()
        .map(|d| d.encode().map(|j| j.to_string()).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

impl<'s> Loader<'s> {
    /// Opens the write transaction (SQLite: `BEGIN IMMEDIATE`, the write lock at once).
    pub(crate) async fn begin(
        db: &DatabaseConnection,
        schema: &'s Schema,
    ) -> Result<Self, TransferError> {
        let txn = db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await
            .map_err(|e| TransferError::database("opening the target's transaction", e))?;
        Ok(Self {
            txn,
            backend: db.get_database_backend(),
            schema,
            order: Vec::new(),
            states: HashMap::new(),
            batch: Vec::new(),
            pending: Vec::new(),
            remap: HashMap::new(),
        })
    }

    /// Starts the rows of `name` (ending the table before it); rows of a table come together.
    pub(crate) async fn begin_table(&mut self, name: &str) -> Result<(), TransferError> {
        if self.order.last().is_some_and(|t| t.name == name) {
            return Ok(());
        }
        self.end_table().await?;
        if self.states.contains_key(name) {
            return Err(TransferError::Dump(format!(
                "the rows of table {name} are not together"
            )));
        }
        let table = self
            .schema
            .table(name)
            .ok_or_else(|| TransferError::Schema(format!("the target has no table {name}")))?;
        let before = tally(&self.txn, self.schema, table, Scope::Everything).await?;
        self.states.insert(
            name.to_owned(),
            TableState {
                before,
                received: Tally::default(),
                matched: 0,
                written: Tally::default(),
            },
        );
        self.order.push(table);
        Ok(())
    }

    /// Whether rows of `name` were begun.
    pub(crate) fn has_begun(&self, name: &str) -> bool {
        self.states.contains_key(name)
    }

    fn current(&self) -> Result<&'s Table, TransferError> {
        self.order
            .last()
            .copied()
            .ok_or_else(|| TransferError::Dump("a row before its table".to_owned()))
    }

    fn state(&mut self, name: &str) -> &mut TableState {
        self.states
            .get_mut(name)
            .unwrap_or_else(|| unreachable!("begin_table registers {name}"))
    }

    /// Adds a row (its dump form) of the current table.
    pub(crate) async fn push(&mut self, row: &Map<String, Json>) -> Result<(), TransferError> {
        let table = self.current()?;
        if let Some(extra) = row.keys().find(|k| table.column(k).is_none()) {
            return Err(TransferError::Schema(format!(
                "the target's table {} has no column {extra}",
                table.name
            )));
        }
        let mut values = Vec::with_capacity(table.columns.len());
        for column in &table.columns {
            let value = row.get(&column.name).ok_or_else(|| {
                TransferError::Schema(format!(
                    "a row of table {} has no column {}",
                    table.name, column.name
                ))
            })?;
            values.push(Datum::decode(value, column.kind).map_err(|message| {
                TransferError::Value {
                    table: table.name.clone(),
                    column: column.name.clone(),
                    message,
                }
            })?);
        }
        self.state(&table.name)
            .received
            .add(row.iter().map(|(k, v)| (k.as_str(), v)));
        for fk in &table.foreign_keys {
            let Some(map) = self
                .remap
                .get(&(fk.parent.clone(), fk.parent_columns.clone()))
            else {
                continue;
            };
            let indexes: Vec<usize> = fk.columns.iter().filter_map(|c| table.column(c)).collect();
            let key = key_of(&indexes.iter().map(|&i| &values[i]).collect::<Vec<_>>());
            if let Some(target) = map.get(&key) {
                for (&i, datum) in indexes.iter().zip(target) {
                    values[i] = datum.clone();
                }
            }
        }
        self.batch.push(values);
        if self.batch.len() >= batch_rows(table) {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), TransferError> {
        let Some(table) = self.order.last().copied() else {
            return Ok(());
        };
        let mut batch = std::mem::take(&mut self.batch);
        if batch.is_empty() {
            return Ok(());
        }
        if self.state(&table.name).before.rows > 0 {
            batch = self.without_existing(table, batch).await?;
        }
        if batch.is_empty() {
            return Ok(());
        }
        let deferred = table.deferred_columns();
        let mut sql = Sql::new(
            self.backend,
            &format!(
                "INSERT INTO {} ({}) VALUES ",
                quote(&table.name),
                column_list(table)
            ),
        );
        for (n, row) in batch.iter().enumerate() {
            sql.push(if n == 0 { "(" } else { ", (" });
            for (i, (column, datum)) in table.columns.iter().zip(row).enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                let datum = if deferred.contains(&i) {
                    &Datum::Null
                } else {
                    datum
                };
                sql.bind(datum.bind(column.kind));
            }
            sql.push(")");
        }
        self.txn
            .execute_raw(sql.statement())
            .await
            .map_err(|e| TransferError::database(format!("writing {}", table.name), e))?;
        for row in batch {
            if deferred.iter().any(|&i| row[i] != Datum::Null) {
                self.pending.push((
                    table.primary_key.iter().map(|&i| row[i].clone()).collect(),
                    deferred.iter().map(|&i| row[i].clone()).collect(),
                ));
            }
            let encoded = encode_row(table, &row)?;
            self.state(&table.name)
                .written
                .add(encoded.iter().map(|(k, v)| (k.as_str(), v)));
        }
        Ok(())
    }

    /// The rows of `batch` the target does not hold yet. A row the target holds (same primary
    /// key, or same unique key, NULLs equal) is matched when it is global (a table without
    /// `organization_id`, or a row with none: what the migrations seed, such as permissions and
    /// system roles), and its references are translated from then on; an organization's row
    /// is a collision, and nothing is written.
    async fn without_existing(
        &mut self,
        table: &'s Table,
        batch: Vec<Vec<Datum>>,
    ) -> Result<Vec<Vec<Datum>>, TransferError> {
        let keys: Vec<&Vec<usize>> = std::iter::once(&table.primary_key)
            .chain(table.unique_keys.iter())
            .filter(|k| !k.is_empty())
            .collect();
        let mut existing: Vec<Option<Vec<Datum>>> = vec![None; batch.len()];
        for key in keys {
            let candidates: Vec<usize> = (0..batch.len())
                .filter(|&r| existing[r].is_none())
                .filter(|&r| key.iter().any(|&i| batch[r][i] != Datum::Null))
                .collect();
            if candidates.is_empty() {
                continue;
            }
            let mut sql = Sql::new(
                self.backend,
                &format!(
                    "SELECT {} FROM {} WHERE ",
                    column_list(table),
                    quote(&table.name)
                ),
            );
            for (n, &r) in candidates.iter().enumerate() {
                sql.push(if n == 0 { "(" } else { " OR (" });
                for (m, &i) in key.iter().enumerate() {
                    let column = &table.columns[i];
                    sql.push(if m == 0 { "" } else { " AND " })
                        .push(&quote(&column.name));
                    if column.nullable {
                        sql.null_safe_equals();
                    } else {
                        sql.push(" = ");
                    }
                    sql.bind(batch[r][i].bind(column.kind));
                }
                sql.push(")");
            }
            let found = self
                .txn
                .query_all_raw(sql.statement())
                .await
                .map_err(|e| TransferError::database(format!("reading {}", table.name), e))?;
            let mut by_key = HashMap::new();
            for row in &found {
                let row = decode_row(table, row, self.backend)?;
                by_key.insert(
                    key_of(&key.iter().map(|&i| &row[i]).collect::<Vec<_>>()),
                    row,
                );
            }
            for r in candidates {
                let wanted = key_of(&key.iter().map(|&i| &batch[r][i]).collect::<Vec<_>>());
                if let Some(row) = by_key.get(&wanted) {
                    existing[r] = Some(row.clone());
                }
            }
        }

        let tenant = table.column(TENANT_COLUMN);
        let mut fresh = Vec::with_capacity(batch.len());
        for (row, found) in batch.into_iter().zip(existing) {
            let Some(found) = found else {
                fresh.push(row);
                continue;
            };
            // A tenant's row, or an organization itself (matched by its id or its slug), is
            // never taken for one already there: only global rows the migrations seed are.
            if table.name == ORGANIZATIONS || tenant.is_some_and(|i| row[i] != Datum::Null) {
                return Err(TransferError::Collision {
                    table: table.name.clone(),
                    key: describe_key(table, &row),
                });
            }
            self.matched(table, &row, &found);
        }
        Ok(fresh)
    }

    fn matched(&mut self, table: &Table, row: &[Datum], found: &[Datum]) {
        self.state(&table.name).matched += 1;
        for child in &self.schema.tables {
            for fk in child
                .foreign_keys
                .iter()
                .filter(|fk| fk.parent == table.name)
            {
                let indexes: Vec<usize> = fk
                    .parent_columns
                    .iter()
                    .filter_map(|c| table.column(c))
                    .collect();
                let source: Vec<&Datum> = indexes.iter().map(|&i| &row[i]).collect();
                let target: Vec<Datum> = indexes.iter().map(|&i| found[i].clone()).collect();
                if source.iter().copied().ne(target.iter()) {
                    self.remap
                        .entry((table.name.clone(), fk.parent_columns.clone()))
                        .or_default()
                        .insert(key_of(&source), target);
                }
            }
        }
    }

    /// Ends the current table: its last rows, then its references to itself.
    async fn end_table(&mut self) -> Result<(), TransferError> {
        self.flush().await?;
        let Some(table) = self.order.last().copied() else {
            return Ok(());
        };
        let deferred = table.deferred_columns();
        for (key, values) in std::mem::take(&mut self.pending) {
            let mut sql = Sql::new(self.backend, &format!("UPDATE {} SET ", quote(&table.name)));
            for (n, (&i, datum)) in deferred.iter().zip(&values).enumerate() {
                let column = &table.columns[i];
                sql.push(if n == 0 { "" } else { ", " })
                    .push(&format!("{} = ", quote(&column.name)))
                    .bind(datum.bind(column.kind));
            }
            sql.push(" WHERE ");
            for (n, (&i, datum)) in table.primary_key.iter().zip(&key).enumerate() {
                let column = &table.columns[i];
                sql.push(if n == 0 { "" } else { " AND " })
                    .push(&format!("{} = ", quote(&column.name)))
                    .bind(datum.bind(column.kind));
            }
            self.txn
                .execute_raw(sql.statement())
                .await
                .map_err(|e| TransferError::database(format!("writing {}", table.name), e))?;
        }
        Ok(())
    }

    /// Checks every table against what was received and written, then commits; on any error
    /// the transaction is dropped, which rolls it back.
    pub(crate) async fn finish(
        mut self,
        expected: &BTreeMap<String, Tally>,
    ) -> Result<Vec<TableSummary>, TransferError> {
        self.end_table().await?;
        let mut summaries = Vec::new();
        for table in &self.order {
            let state = &self.states[&table.name];
            let source = expected.get(&table.name).copied().unwrap_or_default();
            if state.received != source {
                return Err(TransferError::Verification(format!(
                    "table {}: {} row(s) with checksum {} were to come, {} with checksum {} came",
                    table.name,
                    source.rows,
                    source.checksum(),
                    state.received.rows,
                    state.received.checksum()
                )));
            }
            let after = tally(&self.txn, self.schema, table, Scope::Everything).await?;
            let added = after.minus(&state.before);
            if added != state.written {
                return Err(TransferError::Verification(format!(
                    "table {}: {} row(s) with checksum {} were written, the target holds {} more \
                     with checksum {}",
                    table.name,
                    state.written.rows,
                    state.written.checksum(),
                    added.rows,
                    added.checksum()
                )));
            }
            summaries.push(TableSummary {
                table: table.name.clone(),
                source_rows: source.rows,
                already_present: state.matched,
                written: state.written.rows,
                checksum: source.checksum(),
            });
        }
        self.txn
            .commit()
            .await
            .map_err(|e| TransferError::database("committing", e))?;
        Ok(summaries)
    }
}

fn batch_rows(table: &Table) -> usize {
    (PARAMETERS_PER_STATEMENT / table.columns.len().max(1)).clamp(1, ROWS_PER_INSERT)
}

fn describe_key(table: &Table, row: &[Datum]) -> String {
    table
        .primary_key
        .iter()
        .map(|&i| {
            let value = row[i]
                .encode()
                .map(|j| j.as_str().map_or_else(|| j.to_string(), str::to_owned))
                .unwrap_or_default();
            format!("{} {value}", table.columns[i].name)
        })
        .collect::<Vec<_>>()
        .join(", ")
}
