//! Orchestore's SeaORM backend: one implementation of the repository traits that runs the
//! same on SQLite (embedded) and PostgreSQL (production).
//!
//! One module per aggregate (`tenancy`, `work`, `agents`, `messaging`, `workflows`,
//! `templates`, `observability`), each with its tables in `entity/` (one file per table) and its
//! trait implementations beside them. ORM rows stay in
//! this crate: every method returns domain types and [`RepoError`]. Every write goes through
//! one helper that commits the change with its audit row.
//!
//! ```no_run
//! # async fn demo() -> Result<(), orchestore_repo::RepoError> {
//! use orchestore_sea::{DbConfig, SeaStore};
//! let store = SeaStore::connect(&DbConfig::new("sqlite://orchestore.db?mode=rwc")).await?;
//! store.migrate().await?;
//! # Ok(()) }
//! ```
//!
//! [`RepoError`]: orchestore_repo::RepoError

mod agents;
mod analytics;
mod collaboration;
mod config;
mod conn;
mod connection_string;
mod database_status;
mod direct;
mod error;
mod idempotency;
mod knowledge;
mod lean_pool;
mod marketplace;
mod messaging;
mod migrations;
mod mutation;
mod observability;
mod overview;
mod pool;
mod retention;
mod revision;
mod scoped;
mod seeding;
pub mod serde_duration;
mod statements;
mod store;
mod templates;
mod tenancy;
pub mod transfer;
mod work;
mod workflows;

/// The queue's hot statements on PostgreSQL, as the store runs them: for tools that measure
/// them apart (the benchmark's plain-SQL ceiling and its `EXPLAIN`).
#[doc(hidden)]
pub mod queue_statements {
    /// A claim by one agent: see `work::claim`.
    pub use crate::work::claim::CLAIM_POSTGRES as CLAIM;
    /// A completion in one statement: see `work::complete`.
    pub use crate::work::complete::COMPLETE_POSTGRES as COMPLETE;
}

pub use config::{DatabaseUrl, DbConfig};
pub use migrations::{
    FreshOutcome, MIGRATION_LOCK_KEY, MigrationError, MigrationState, SchemaReport,
};
pub use observability::describe_audit_metrics;
pub use overview::{ConnectionCount, DatabaseOverview, TableRows};
pub use pool::open_pool;
pub use seeding::{ForeignRow, SeedInventory, SeedState, TRAIL_TABLES};
pub use store::SeaStore;
pub use work::{DEFAULT_INLINE_PAYLOAD_LIMIT, describe_queue_metrics};
