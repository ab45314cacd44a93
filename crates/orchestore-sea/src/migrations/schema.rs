//! `verify`: the live schema against the one the shipped migrations build.
//!
//! The expected schema is built by migrating a scratch database of the same backend — SQLite:
//! in memory; PostgreSQL: a scratch schema `orchestore_verify_<uuid>` in the same database,
//! dropped afterwards — and both are read from the catalogue the same way: tables, columns
//! (type, nullability), primary keys, indexes (columns in order, uniqueness, predicate) and
//! foreign keys (columns, referenced table and columns, `ON DELETE`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

use orchestore_repo::{RepoError, RepoResult};
use sea_orm::sqlx::postgres::PgPoolOptions;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement};
use uuid::Uuid;

use super::MigrationError;
use crate::error::db_err;
use crate::{DbConfig, SeaStore};

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaReport {
    /// How many migrations this binary ships.
    pub migrations: usize,
    /// The shipped migrations the database has not applied; when there are any, the schemas
    /// are not compared.
    pub pending: Vec<String>,
    /// Each difference, one line each, as "what is live, what the migrations build".
    pub differences: Vec<String>,
}

impl SchemaReport {
    pub fn matches(&self) -> bool {
        self.pending.is_empty() && self.differences.is_empty()
    }
}

impl SeaStore {
    /// Compares this database's schema with the one the shipped migrations build on a scratch
    /// database of the same backend (see the module's documentation).
    pub async fn verify_schema(&self) -> Result<SchemaReport, MigrationError> {
        self.check_migrations().await?;
        let status = self.migration_status().await?;
        let migrations = status.len();
        let pending: Vec<String> = status
            .into_iter()
            .filter(|m| !m.applied)
            .map(|m| m.name)
            .collect();
        if !pending.is_empty() {
            return Ok(SchemaReport {
                migrations,
                pending,
                differences: Vec::new(),
            });
        }
        let live = Schema::read(&self.pool).await?;
        let expected = match self.pool.get_database_backend() {
            DbBackend::Postgres => expected_postgres(&self.pool).await?,
            _ => expected_sqlite().await?,
        };
        Ok(SchemaReport {
            migrations,
            pending,
            differences: live.differences(&expected),
        })
    }
}

async fn expected_sqlite() -> Result<Schema, MigrationError> {
    let scratch =
        SeaStore::from_connection(crate::open_pool(&DbConfig::new("sqlite::memory:")).await?)?;
    scratch.migrate().await?;
    let schema = Schema::read(&scratch.pool).await?;
    scratch.pool.close().await.map_err(db_err)?;
    Ok(schema)
}

/// Migrates a scratch schema of `live`'s database on a connection whose `search_path` is that
/// schema alone, reads it, and drops it, whether that worked or not.
async fn expected_postgres(live: &DatabaseConnection) -> Result<Schema, MigrationError> {
    let scratch = format!("orchestore_verify_{}", Uuid::new_v4().simple());
    live.execute_unprepared(&format!("CREATE SCHEMA {scratch}"))
        .await
        .map_err(db_err)?;
    let read = async {
        let options = live.get_postgres_connection_pool().connect_options();
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .idle_timeout(None::<Duration>)
            .connect_with(
                (*options)
                    .clone()
                    .options([("search_path", scratch.as_str())]),
            )
            .await
            .map_err(|e| RepoError::unavailable(format!("opening the scratch schema: {e}")))?;
        let store = SeaStore::from_connection(DatabaseConnection::from(pool))?;
        let migrated = store.migrate().await;
        let schema = match migrated {
            Ok(_) => Schema::read(&store.pool)
                .await
                .map_err(MigrationError::from),
            Err(err) => Err(err),
        };
        if let Err(error) = store.pool.close().await {
            tracing::warn!(%error, "closing the scratch schema's connection");
        }
        schema
    }
    .await;
    let dropped = live
        .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {scratch} CASCADE"))
        .await
        .map_err(db_err);
    let schema = read?;
    dropped?;
    Ok(schema)
}

/// A schema as the comparison sees it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Schema {
    tables: BTreeMap<String, TableShape>,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct TableShape {
    columns: BTreeMap<String, ColumnShape>,
    primary_key: Vec<String>,
    indexes: BTreeMap<String, IndexShape>,
    /// Foreign keys by what they say (SQLite keeps no constraint names).
    foreign_keys: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ColumnShape {
    data_type: String,
    not_null: bool,
}

impl std::fmt::Display for ColumnShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let null = if self.not_null { "not null" } else { "null" };
        write!(f, "{} {null}", self.data_type)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct IndexShape {
    unique: bool,
    columns: Vec<String>,
    predicate: Option<String>,
}

impl std::fmt::Display for IndexShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.unique {
            f.write_str("unique ")?;
        }
        write!(f, "({})", self.columns.join(", "))?;
        if let Some(predicate) = &self.predicate {
            write!(f, " where {predicate}")?;
        }
        Ok(())
    }
}

fn text(row: &QueryResult, index: usize) -> RepoResult<String> {
    row.try_get_by_index::<String>(index).map_err(db_err)
}

async fn rows(conn: &DatabaseConnection, sql: &str) -> RepoResult<Vec<QueryResult>> {
    let backend = conn.get_database_backend();
    conn.query_all_raw(Statement::from_string(backend, sql))
        .await
        .map_err(db_err)
}

impl Schema {
    async fn read(conn: &DatabaseConnection) -> RepoResult<Self> {
        match conn.get_database_backend() {
            DbBackend::Postgres => Self::read_postgres(conn).await,
            _ => Self::read_sqlite(conn).await,
        }
    }

    fn table(&mut self, name: String) -> &mut TableShape {
        self.tables.entry(name).or_default()
    }

    async fn read_sqlite(conn: &DatabaseConnection) -> RepoResult<Self> {
        let mut schema = Self::default();
        let tables = rows(
            conn,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .await?;
        for row in tables {
            let name = text(&row, 0)?;
            let quoted = name.replace('\'', "''");
            let mut table = TableShape::default();
            let mut primary_key = Vec::new();
            let columns = rows(
                conn,
                &format!(
                    "SELECT name, upper(type), \"notnull\", pk FROM pragma_table_info('{quoted}')"
                ),
            )
            .await?;
            for column in columns {
                let column_name = text(&column, 0)?;
                let position: i64 = column.try_get_by_index(3).map_err(db_err)?;
                if position > 0 {
                    primary_key.push((position, column_name.clone()));
                }
                table.columns.insert(
                    column_name,
                    ColumnShape {
                        data_type: text(&column, 1)?,
                        not_null: column.try_get_by_index::<i64>(2).map_err(db_err)? != 0,
                    },
                );
            }
            primary_key.sort();
            table.primary_key = primary_key.into_iter().map(|(_, name)| name).collect();

            let indexes = rows(
                conn,
                &format!(
                    "SELECT l.name, l.\"unique\", l.partial, m.sql FROM pragma_index_list('{quoted}') l \
                     LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = l.name"
                ),
            )
            .await?;
            for index in indexes {
                let index_name = text(&index, 0)?;
                let partial = index.try_get_by_index::<i64>(2).map_err(db_err)? != 0;
                let sql: Option<String> = index.try_get_by_index(3).map_err(db_err)?;
                let predicate = sql
                    .filter(|_| partial)
                    .and_then(|sql| sql_after_where(&sql));
                let columns = rows(
                    conn,
                    &format!(
                        "SELECT coalesce(name, '<expression>') FROM pragma_index_info('{}') \
                         ORDER BY seqno",
                        index_name.replace('\'', "''")
                    ),
                )
                .await?
                .iter()
                .map(|c| text(c, 0))
                .collect::<RepoResult<Vec<_>>>()?;
                table.indexes.insert(
                    index_name,
                    IndexShape {
                        unique: index.try_get_by_index::<i64>(1).map_err(db_err)? != 0,
                        columns,
                        predicate,
                    },
                );
            }

            let keys = rows(
                conn,
                &format!(
                    "SELECT id, \"table\", \"from\", coalesce(\"to\", ''), on_delete \
                     FROM pragma_foreign_key_list('{quoted}') ORDER BY id, seq"
                ),
            )
            .await?;
            let mut by_id: BTreeMap<i64, (String, Vec<String>, Vec<String>, String)> =
                BTreeMap::new();
            for key in keys {
                let id: i64 = key.try_get_by_index(0).map_err(db_err)?;
                let entry = by_id
                    .entry(id)
                    .or_insert_with(|| (String::new(), Vec::new(), Vec::new(), String::new()));
                entry.0 = text(&key, 1)?;
                entry.1.push(text(&key, 2)?);
                entry.2.push(text(&key, 3)?);
                entry.3 = text(&key, 4)?;
            }
            table.foreign_keys = by_id
                .into_values()
                .map(|(to, from, to_columns, on_delete)| {
                    foreign_key(&from, &to, &to_columns, &on_delete)
                })
                .collect();
            schema.tables.insert(name, table);
        }
        Ok(schema)
    }

    async fn read_postgres(conn: &DatabaseConnection) -> RepoResult<Self> {
        let mut schema = Self::default();
        let tables = rows(
            conn,
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')",
        )
        .await?;
        for row in tables {
            schema.table(text(&row, 0)?);
        }
        let columns = rows(
            conn,
            "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), \
                    a.attnotnull \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
               AND a.attnum > 0 AND NOT a.attisdropped",
        )
        .await?;
        for column in columns {
            schema.table(text(&column, 0)?).columns.insert(
                text(&column, 1)?,
                ColumnShape {
                    data_type: text(&column, 2)?,
                    not_null: column.try_get_by_index(3).map_err(db_err)?,
                },
            );
        }
        let indexes = rows(
            conn,
            "SELECT t.relname::text, i.relname::text, ix.indisunique, ix.indisprimary, \
                    array_to_string(ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true) \
                        FROM generate_series(1, ix.indnkeyatts::int) k ORDER BY k), '\x1f'), \
                    pg_get_expr(ix.indpred, ix.indrelid, true) \
             FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
             JOIN pg_class t ON t.oid = ix.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = current_schema()",
        )
        .await?;
        for index in indexes {
            let table = schema.table(text(&index, 0)?);
            let columns: Vec<String> = text(&index, 4)?.split('\x1f').map(str::to_owned).collect();
            if index.try_get_by_index::<bool>(3).map_err(db_err)? {
                table.primary_key = columns.clone();
            }
            table.indexes.insert(
                text(&index, 1)?,
                IndexShape {
                    unique: index.try_get_by_index(2).map_err(db_err)?,
                    columns,
                    predicate: index.try_get_by_index(5).map_err(db_err)?,
                },
            );
        }
        let keys = rows(
            conn,
            "SELECT cl.relname::text, rf.relname::text, \
                    array_to_string(ARRAY(SELECT a.attname::text FROM unnest(con.conkey) \
                        WITH ORDINALITY k(num, ord) JOIN pg_attribute a \
                        ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord), '\x1f'), \
                    array_to_string(ARRAY(SELECT a.attname::text FROM unnest(con.confkey) \
                        WITH ORDINALITY k(num, ord) JOIN pg_attribute a \
                        ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord), '\x1f'), \
                    CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' \
                        WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END \
             FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid \
             JOIN pg_namespace n ON n.oid = cl.relnamespace \
             JOIN pg_class rf ON rf.oid = con.confrelid \
             WHERE con.contype = 'f' AND n.nspname = current_schema()",
        )
        .await?;
        for key in keys {
            let split = |joined: String| -> Vec<String> {
                joined.split('\x1f').map(str::to_owned).collect()
            };
            let description = foreign_key(
                &split(text(&key, 2)?),
                &text(&key, 1)?,
                &split(text(&key, 3)?),
                &text(&key, 4)?,
            );
            schema
                .table(text(&key, 0)?)
                .foreign_keys
                .insert(description);
        }
        Ok(schema)
    }

    /// Each way `self` (live) differs from `expected`, one line each, in table order.
    fn differences(&self, expected: &Self) -> Vec<String> {
        let mut lines = Vec::new();
        for (name, table) in &expected.tables {
            match self.tables.get(name) {
                None => lines.push(format!("missing table {name}")),
                Some(live) => live.differences(name, table, &mut lines),
            }
        }
        for name in self.tables.keys() {
            if !expected.tables.contains_key(name) {
                lines.push(format!("unexpected table {name}"));
            }
        }
        lines
    }
}

impl TableShape {
    fn differences(&self, table: &str, expected: &Self, lines: &mut Vec<String>) {
        for (name, column) in &expected.columns {
            match self.columns.get(name) {
                None => lines.push(format!("{table}: missing column {name} ({column})")),
                Some(live) if live != column => lines.push(format!(
                    "{table}.{name}: is {live}, the migrations build {column}"
                )),
                Some(_) => {}
            }
        }
        for (name, column) in &self.columns {
            if !expected.columns.contains_key(name) {
                lines.push(format!("{table}: unexpected column {name} ({column})"));
            }
        }
        if self.primary_key != expected.primary_key {
            lines.push(format!(
                "{table}: primary key is ({}), the migrations build ({})",
                self.primary_key.join(", "),
                expected.primary_key.join(", ")
            ));
        }
        for (name, index) in &expected.indexes {
            match self.indexes.get(name) {
                None => lines.push(format!("{table}: missing index {name} {index}")),
                Some(live) if live != index => lines.push(format!(
                    "{table}: index {name} is {live}, the migrations build {index}"
                )),
                Some(_) => {}
            }
        }
        for (name, index) in &self.indexes {
            if !expected.indexes.contains_key(name) {
                lines.push(format!("{table}: unexpected index {name} {index}"));
            }
        }
        for key in expected.foreign_keys.difference(&self.foreign_keys) {
            lines.push(format!("{table}: missing foreign key {key}"));
        }
        for key in self.foreign_keys.difference(&expected.foreign_keys) {
            lines.push(format!("{table}: unexpected foreign key {key}"));
        }
    }
}

fn foreign_key(from: &[String], to: &str, to_columns: &[String], on_delete: &str) -> String {
    let mut key = format!("({}) references {to}", from.join(", "));
    // SQLite leaves the referenced columns out when the key names the primary key.
    if to_columns.iter().any(|c| !c.is_empty()) {
        let _ = write!(key, " ({})", to_columns.join(", "));
    }
    let _ = write!(key, " on delete {}", on_delete.to_lowercase());
    key
}

/// The predicate of a partial index's `CREATE INDEX … WHERE …` text.
fn sql_after_where(sql: &str) -> Option<String> {
    let upper = sql.to_ascii_uppercase();
    let at = upper.rfind(" WHERE ")?;
    sql.get(at + " WHERE ".len()..).map(|p| p.trim().to_owned())
}
