//! What [`Store::database_status`](crate::Store::database_status) reports: the database the
//! instance runs on, seen from this process.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Backend;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DatabaseStatus {
    pub backend: Backend,
    /// `SELECT version()` on PostgreSQL, `sqlite_version()` on SQLite.
    pub server_version: String,
    pub pool: PoolStatus,
    /// The statements this process ran that took longest, slowest (by their longest run)
    /// first: at most [`DatabaseStatus::SLOWEST`].
    pub slowest_statements: Vec<StatementTiming>,
    /// Since when the statements are counted (the process's start, or the last time the
    /// bounded record had to forget statements, whichever is later).
    pub statements_since: DateTime<Utc>,
    /// The tables of the schema, largest first.
    pub tables: Vec<TableSize>,
}

impl DatabaseStatus {
    pub const SLOWEST: usize = 20;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PoolStatus {
    /// The most connections the pool opens.
    pub max_connections: u32,
    /// Connections open now.
    pub open: u32,
    pub in_use: u32,
    pub idle: u32,
}

/// One statement's runs in this process. `statement` is the SQL text the database received,
/// with its parameters as placeholders (`$1`, `?`), never their values, and with the repeats
/// of a multi-row `VALUES` list or an `IN` list folded to one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatementTiming {
    pub statement: String,
    pub count: u64,
    pub failed: u64,
    pub total_ms: f64,
    pub mean_ms: f64,
    pub max_ms: f64,
}

/// A table's size: on PostgreSQL the planner's estimate of its rows (`pg_class.reltuples`, as
/// of the last `ANALYZE` or `VACUUM`; `None` before the first) and its bytes with indexes and
/// TOAST (`pg_total_relation_size`); on SQLite an exact count and no bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TableSize {
    pub table: String,
    pub rows: Option<u64>,
    pub rows_estimated: bool,
    pub bytes: Option<u64>,
}
