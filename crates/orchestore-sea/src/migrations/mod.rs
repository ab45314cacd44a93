//! Applying and reverting the schema migrations safely: one process at a time (see
//! [`lock`]), never over a database that a newer binary migrated, and never over a migration
//! whose shipped text changed after it was applied (see [`checksums`]).

mod checksums;
mod lock;
mod schema;

use std::collections::BTreeSet;

use migration::{Migrator, MigratorTrait};
use orchestore_repo::{RepoError, RepoResult};
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;

use crate::SeaStore;
use crate::error::db_err;

pub use self::lock::MIGRATION_LOCK_KEY;
use self::lock::MigrationLock;
pub use self::schema::SchemaReport;

/// The table sea-orm-migration keeps the applied migrations in.
const APPLIED_TABLE: &str = "seaql_migrations";

/// Why migrations were refused.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// The database holds migrations this binary does not ship: a newer binary migrated it.
    #[error(
        "the database schema is at {applied} but this binary knows migrations up to {shipped}: \
         upgrade orchestore"
    )]
    SchemaNewer { applied: String, shipped: String },
    /// A migration's shipped text is not the text it was applied with.
    #[error(
        "migration {name} was changed after it was applied to this database (its recorded \
         checksum differs from the shipped one): a landed migration must never be edited; \
         ship the change as a new migration"
    )]
    ChangedMigration { name: String },
    #[error(transparent)]
    Database(#[from] RepoError),
}

/// An embedder that speaks [`RepoError`] gets the refusals as internal errors, their message
/// intact.
impl From<MigrationError> for RepoError {
    fn from(err: MigrationError) -> Self {
        match err {
            MigrationError::Database(err) => err,
            refused => RepoError::internal(refused.to_string()),
        }
    }
}

/// One migration and whether the database has applied it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationState {
    pub name: String,
    pub applied: bool,
}

/// What [`SeaStore::fresh`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreshOutcome {
    pub reverted: usize,
    pub applied: usize,
}

impl SeaStore {
    /// Applies every pending migration, each in its own transaction, under the migration
    /// lock: a second process migrating at the same time waits, then finds nothing to do.
    /// Returns how many this call applied.
    pub async fn migrate(&self) -> Result<usize, MigrationError> {
        self.under_migration_lock(async |conn| {
            let before = applied_versions(conn).await?.len();
            let ran = Migrator::up(conn, None).await.map_err(db_err);
            // The migrations applied before a failure are recorded too.
            checksums::reconcile(conn).await?;
            ran?;
            Ok(applied_versions(conn).await?.len().saturating_sub(before))
        })
        .await
    }

    /// Reverts the last `steps` migrations (all of them when `None`) under the migration
    /// lock. Returns how many this call reverted.
    pub async fn rollback(&self, steps: Option<u32>) -> Result<usize, MigrationError> {
        self.under_migration_lock(async |conn| {
            let before = applied_versions(conn).await?.len();
            let ran = Migrator::down(conn, steps).await.map_err(db_err);
            checksums::reconcile(conn).await?;
            ran?;
            Ok(before.saturating_sub(applied_versions(conn).await?.len()))
        })
        .await
    }

    /// Reverts every applied migration (dropping Orchestore's tables and their data), then
    /// applies them all again, under one hold of the migration lock. Unlike dropping whatever
    /// tables the schema holds, this touches only Orchestore's own tables.
    pub async fn fresh(&self) -> Result<FreshOutcome, MigrationError> {
        self.under_migration_lock(async |conn| {
            let reverted = applied_versions(conn).await?.len();
            let ran = Migrator::down(conn, None).await.map_err(db_err);
            checksums::reconcile(conn).await?;
            ran?;
            let ran = Migrator::up(conn, None).await.map_err(db_err);
            checksums::reconcile(conn).await?;
            ran?;
            let applied = applied_versions(conn).await?.len();
            Ok(FreshOutcome { reverted, applied })
        })
        .await
    }

    pub async fn migration_status(&self) -> RepoResult<Vec<MigrationState>> {
        let migrations = Migrator::get_migration_with_status_read_only(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(migrations
            .iter()
            .map(|m| MigrationState {
                name: m.name().to_owned(),
                applied: matches!(m.status(), sea_orm_migration::MigrationStatus::Applied),
            })
            .collect())
    }

    /// Refuses a database that a newer binary migrated, or one that applied a migration
    /// whose shipped text has changed since. Reads only: a checksum not recorded yet is not
    /// checked (the next migration run records it).
    pub async fn check_migrations(&self) -> Result<(), MigrationError> {
        check_applied(&self.pool).await
    }

    /// Whether the database holds data that reverting migrations would destroy: any
    /// organization. Every tenant's row hangs off one, and an empty database (migrated, never
    /// served) has none; a served one holds at least the bootstrapped organization and owner.
    pub async fn holds_data(&self) -> RepoResult<bool> {
        if !self.has_table("organizations").await? {
            return Ok(false);
        }
        let any = Query::select()
            .expr(Expr::val(1))
            .from(Alias::new("organizations"))
            .limit(1)
            .to_owned();
        Ok(self.pool.query_one(&any).await.map_err(db_err)?.is_some())
    }

    /// Runs `work` on the connection that holds the migration lock, after checking the
    /// applied migrations against the shipped ones; gives the lock back whatever happens.
    async fn under_migration_lock<T>(
        &self,
        work: impl AsyncFnOnce(&DatabaseConnection) -> Result<T, MigrationError>,
    ) -> Result<T, MigrationError> {
        let lock = MigrationLock::acquire(&self.pool).await?;
        let outcome = async {
            check_applied(lock.conn()).await?;
            work(lock.conn()).await
        }
        .await;
        lock.release().await;
        outcome
    }
}

/// The versions `seaql_migrations` lists (none when it does not exist yet).
async fn applied_versions(conn: &DatabaseConnection) -> RepoResult<BTreeSet<String>> {
    if !sea_orm_migration::SchemaManager::new(conn)
        .has_table(APPLIED_TABLE)
        .await
        .map_err(db_err)?
    {
        return Ok(BTreeSet::new());
    }
    let select = Query::select()
        .column(Alias::new("version"))
        .from(Alias::new(APPLIED_TABLE))
        .to_owned();
    conn.query_all(&select)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| row.try_get::<String>("", "version").map_err(db_err))
        .collect()
}

/// The shipped migrations' names, in order.
fn shipped_versions() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect()
}

async fn check_applied(conn: &DatabaseConnection) -> Result<(), MigrationError> {
    let applied = applied_versions(conn).await?;
    let shipped = shipped_versions();
    if applied.iter().any(|version| !shipped.contains(version)) {
        // Version names begin with their date and number: the greatest is the newest.
        let newest = |names: &mut dyn Iterator<Item = &String>| {
            names.max().cloned().unwrap_or_else(|| "none".to_owned())
        };
        return Err(MigrationError::SchemaNewer {
            applied: newest(&mut applied.iter()),
            shipped: newest(&mut shipped.iter()),
        });
    }
    checksums::check(conn, &applied).await
}
