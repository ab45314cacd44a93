//! [`Store::database_status`](orchestore_repo::Store::database_status): the server's version,
//! the pool, the slowest statements of this process and the tables' sizes.

use orchestore_repo::{DatabaseStatus, PoolStatus, RepoError, RepoResult, Store, TableSize};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::SeaStore;
use crate::error::db_err;

/// Each table of the current schema: the planner's row estimate (`-1` before the first
/// `ANALYZE`) and its size on disk with its indexes and TOAST. Read from the catalog: no table
/// is scanned.
const POSTGRES_TABLES: &str = "SELECT c.relname AS name, c.reltuples::bigint AS estimate, \
     pg_total_relation_size(c.oid) AS bytes \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()";

const SQLITE_TABLES: &str =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";

/// The pages of each table and its indexes, from the `dbstat` virtual table (in SQLite's
/// bundled build; a build without it gives no byte counts).
const SQLITE_BYTES: &str = "SELECT m.tbl_name AS name, SUM(s.pgsize) AS bytes \
     FROM dbstat s JOIN sqlite_master m ON m.name = s.name GROUP BY m.tbl_name";

impl SeaStore {
    pub(crate) async fn read_database_status(&self) -> RepoResult<DatabaseStatus> {
        let db = &self.pool;
        let backend = db.get_database_backend();
        let version_sql = match backend {
            DbBackend::Postgres => "SELECT version() AS version",
            _ => "SELECT sqlite_version() AS version",
        };
        let version: String = db
            .query_one_raw(Statement::from_string(backend, version_sql))
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::internal("the database reported no version"))?
            .try_get("", "version")
            .map_err(db_err)?;
        let mut tables = if self.is_postgres() {
            self.postgres_tables().await?
        } else {
            self.sqlite_tables().await?
        };
        tables.sort_by(|a, b| {
            (b.bytes, b.rows)
                .cmp(&(a.bytes, a.rows))
                .then_with(|| a.table.cmp(&b.table))
        });
        Ok(DatabaseStatus {
            backend: Store::backend(self),
            server_version: version,
            pool: self.read_pool_status(),
            slowest_statements: self.statements.slowest(DatabaseStatus::SLOWEST),
            statements_since: self.statements.since(),
            tables,
        })
    }

    async fn postgres_tables(&self) -> RepoResult<Vec<TableSize>> {
        let rows = self
            .pool
            .query_all_raw(Statement::from_string(DbBackend::Postgres, POSTGRES_TABLES))
            .await
            .map_err(db_err)?;
        rows.into_iter()
            .map(|row| {
                let estimate: i64 = row.try_get("", "estimate").map_err(db_err)?;
                let bytes: i64 = row.try_get("", "bytes").map_err(db_err)?;
                Ok(TableSize {
                    table: row.try_get("", "name").map_err(db_err)?,
                    rows: u64::try_from(estimate).ok(),
                    rows_estimated: true,
                    bytes: u64::try_from(bytes).ok(),
                })
            })
            .collect()
    }

    /// An exact count of each table's rows: SQLite keeps no estimate, and a count reads the
    /// smallest index of the table, which at the sizes an embedded database holds is quick.
    async fn sqlite_tables(&self) -> RepoResult<Vec<TableSize>> {
        let db = &self.pool;
        let names: Vec<String> = db
            .query_all_raw(Statement::from_string(DbBackend::Sqlite, SQLITE_TABLES))
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|row| row.try_get("", "name").map_err(db_err))
            .collect::<RepoResult<_>>()?;
        let bytes: Vec<(String, i64)> = match db
            .query_all_raw(Statement::from_string(DbBackend::Sqlite, SQLITE_BYTES))
            .await
        {
            Ok(rows) => rows
                .into_iter()
                .map(|row| Ok((row.try_get("", "name")?, row.try_get("", "bytes")?)))
                .collect::<Result<_, sea_orm::DbErr>>()
                .map_err(db_err)?,
            Err(_) => Vec::new(),
        };
        let mut tables = Vec::with_capacity(names.len());
        for name in names {
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            let count: i64 = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    format!("SELECT count(*) AS n FROM {quoted}"),
                ))
                .await
                .map_err(db_err)?
                .ok_or_else(|| RepoError::internal("count(*) returned no row"))?
                .try_get("", "n")
                .map_err(db_err)?;
            let size = bytes
                .iter()
                .find(|(table, _)| *table == name)
                .and_then(|(_, bytes)| u64::try_from(*bytes).ok());
            tables.push(TableSize {
                table: name,
                rows: u64::try_from(count).ok(),
                rows_estimated: false,
                bytes: size,
            });
        }
        Ok(tables)
    }

    pub(crate) fn read_pool_status(&self) -> PoolStatus {
        let (max_connections, open, idle) = if self.is_postgres() {
            let pool = self.pool.get_postgres_connection_pool();
            (
                pool.options().get_max_connections(),
                pool.size(),
                pool.num_idle(),
            )
        } else {
            let pool = self.pool.get_sqlite_connection_pool();
            (
                pool.options().get_max_connections(),
                pool.size(),
                pool.num_idle(),
            )
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(open);
        PoolStatus {
            max_connections,
            open,
            in_use: open - idle,
            idle,
        }
    }
}
