//! # Orchestore
//!
//! The persistence layer for multi-agent AI orchestrators: tenants, people, projects and
//! tasks behind repository traits, implemented once with SeaORM for SQLite (embedded) and
//! PostgreSQL (production).
//!
//! This facade re-exports the layer crates and opens a migrated store from a URL:
//!
//! ```no_run
//! # async fn demo() -> Result<(), orchestore::repo::RepoError> {
//! let store = orchestore::open("sqlite://orchestore.db?mode=rwc").await?;
//! # Ok(()) }
//! ```

pub use orchestore_domain as domain;
pub use orchestore_repo as repo;
pub use orchestore_sea as sea;

pub use orchestore_repo::{Ctx, Store};
pub use orchestore_sea::{DbConfig, SeaStore};

/// Connects to `url` (`sqlite://…` or `postgres://…`) with default settings and applies
/// pending migrations.
pub async fn open(url: &str) -> Result<SeaStore, orchestore_repo::RepoError> {
    let store = SeaStore::connect(&DbConfig::new(url)).await?;
    store.migrate().await?;
    Ok(store)
}
