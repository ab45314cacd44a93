//! Orchestore's SeaORM backend: one implementation of the repository traits that runs the
//! same on SQLite (embedded) and PostgreSQL (production).
//!
//! ORM rows stay in this crate: every method returns domain types and [`RepoError`].
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

mod audit;
mod config;
mod entities;
mod error;
mod repos;
pub mod serde_duration;
mod store;

pub use config::{DatabaseUrl, DbConfig};
pub use store::{MigrationState, SeaStore};
