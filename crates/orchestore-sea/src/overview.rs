//! [`SeaStore::database_overview`]: what `orchestore status` reads from the database besides
//! the migrations and the queue — the server's version, a round trip, the database's
//! connections, and the rows of the tables asked for.

use std::time::{Duration, Instant};

use orchestore_repo::{RepoError, RepoResult};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::Serialize;

use crate::SeaStore;
use crate::error::db_err;

/// The database as one connection sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatabaseOverview {
    /// PostgreSQL's `server_version`, or SQLite's `sqlite_version()`.
    pub server_version: String,
    /// How long a `SELECT 1` took, there and back.
    pub round_trip: Duration,
    /// PostgreSQL: the database's client connections by `pg_stat_activity.state` (`active`,
    /// `idle`, `idle in transaction`, …; `unknown` where the role may not see the state) —
    /// those of every server's pool, this one's included. `None` on SQLite, which has no server
    /// to ask: each process holds its own connections.
    pub connections: Option<Vec<ConnectionCount>>,
    /// The tables asked for that exist, in the order asked.
    pub tables: Vec<TableRows>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionCount {
    pub state: String,
    pub count: u64,
}

/// A table's rows: exact on SQLite; on PostgreSQL the planner's estimate
/// (`pg_class.reltuples`), or before the table's first `ANALYZE` the statistics collector's
/// count of live rows (`pg_stat_user_tables.n_live_tup`). No table is scanned on PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableRows {
    pub table: String,
    pub rows: u64,
    pub estimated: bool,
}

const POSTGRES_VERSION: &str = "SELECT current_setting('server_version') AS version";
const SQLITE_VERSION: &str = "SELECT sqlite_version() AS version";

const POSTGRES_CONNECTIONS: &str = "SELECT COALESCE(state, 'unknown') AS state, \
     count(*) AS n FROM pg_stat_activity \
     WHERE datname = current_database() AND backend_type = 'client backend' \
     GROUP BY 1 ORDER BY 1";

const POSTGRES_ESTIMATES: &str = "SELECT c.relname AS name, \
     CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE COALESCE(s.n_live_tup, 0) END \
     AS estimate \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
     WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()";

const SQLITE_TABLES: &str =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";

impl SeaStore {
    /// Reads the [`DatabaseOverview`], with the rows of those of `tables` that exist.
    pub async fn database_overview(&self, tables: &[&str]) -> RepoResult<DatabaseOverview> {
        let started = Instant::now();
        self.scalar_i64("SELECT CAST(1 AS BIGINT) AS n").await?;
        let round_trip = started.elapsed();
        let backend = self.pool.get_database_backend();
        let version_sql = if self.is_postgres() {
            POSTGRES_VERSION
        } else {
            SQLITE_VERSION
        };
        let server_version: String = self
            .pool
            .query_one_raw(Statement::from_string(backend, version_sql))
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::internal("the database reported no version"))?
            .try_get("", "version")
            .map_err(db_err)?;
        let (connections, tables) = if self.is_postgres() {
            (
                Some(self.postgres_connections().await?),
                self.postgres_estimates(tables).await?,
            )
        } else {
            (None, self.sqlite_counts(tables).await?)
        };
        Ok(DatabaseOverview {
            server_version,
            round_trip,
            connections,
            tables,
        })
    }

    async fn scalar_i64(&self, sql: &str) -> RepoResult<i64> {
        let backend = self.pool.get_database_backend();
        self.pool
            .query_one_raw(Statement::from_string(backend, sql))
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::internal("a count returned no row"))?
            .try_get("", "n")
            .map_err(db_err)
    }

    async fn postgres_connections(&self) -> RepoResult<Vec<ConnectionCount>> {
        self.pool
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                POSTGRES_CONNECTIONS,
            ))
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|row| {
                let n: i64 = row.try_get("", "n").map_err(db_err)?;
                Ok(ConnectionCount {
                    state: row.try_get("", "state").map_err(db_err)?,
                    count: u64::try_from(n).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn postgres_estimates(&self, tables: &[&str]) -> RepoResult<Vec<TableRows>> {
        let rows = self
            .pool
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                POSTGRES_ESTIMATES,
            ))
            .await
            .map_err(db_err)?;
        let mut estimates = Vec::with_capacity(rows.len());
        for row in rows {
            let name: String = row.try_get("", "name").map_err(db_err)?;
            let estimate: i64 = row.try_get("", "estimate").map_err(db_err)?;
            estimates.push((name, estimate));
        }
        Ok(tables
            .iter()
            .filter_map(|table| {
                estimates
                    .iter()
                    .find(|(name, _)| name == table)
                    .map(|(name, estimate)| TableRows {
                        table: name.clone(),
                        rows: u64::try_from(*estimate).unwrap_or(0),
                        estimated: true,
                    })
            })
            .collect())
    }

    /// An exact count of each table: SQLite keeps no estimate, and a count reads the smallest
    /// index of the table, which at the sizes an embedded database holds is quick.
    async fn sqlite_counts(&self, tables: &[&str]) -> RepoResult<Vec<TableRows>> {
        let existing: Vec<String> = self
            .pool
            .query_all_raw(Statement::from_string(DbBackend::Sqlite, SQLITE_TABLES))
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|row| row.try_get("", "name").map_err(db_err))
            .collect::<RepoResult<_>>()?;
        let mut counts = Vec::new();
        for table in tables {
            if !existing.iter().any(|name| name == table) {
                continue;
            }
            let quoted = format!("\"{}\"", table.replace('"', "\"\""));
            let n = self
                .scalar_i64(&format!("SELECT count(*) AS n FROM {quoted}"))
                .await?;
            counts.push(TableRows {
                table: (*table).to_owned(),
                rows: u64::try_from(n).unwrap_or(0),
                estimated: false,
            });
        }
        Ok(counts)
    }
}
