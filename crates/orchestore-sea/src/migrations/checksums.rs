//! The SHA-256 of each applied migration's source text, in a bookkeeping table beside
//! `seaql_migrations` that the runner creates itself (it is no migration's: it must exist
//! before the first one runs, and survive `down` to zero).
//!
//! A migration applied before this table existed, or by `orchestore-migrate` (which records
//! none), gets the shipped checksum on the next run: that is the best evidence there is.

use std::collections::{BTreeMap, BTreeSet};

use migration::MIGRATION_SOURCES;
use orchestore_repo::{RepoError, RepoResult};
use sea_orm::sea_query::{Alias, ColumnDef, Expr, ExprTrait, Query, Table};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sha2::{Digest, Sha256};

use super::{APPLIED_TABLE, MigrationError, applied_versions};
use crate::error::db_err;

pub(super) const CHECKSUM_TABLE: &str = "orchestore_migration_checksums";

/// Each shipped migration's name and the hex SHA-256 of its source file.
fn shipped() -> BTreeMap<&'static str, String> {
    MIGRATION_SOURCES
        .iter()
        // Line endings as committed: a checkout that turned them into CRLF builds the same
        // checksums.
        .map(|(name, text)| {
            let text = text.replace("\r\n", "\n");
            (*name, hex::encode(Sha256::digest(text.as_bytes())))
        })
        .collect()
}

async fn recorded(conn: &DatabaseConnection) -> RepoResult<BTreeMap<String, String>> {
    if !sea_orm_migration::SchemaManager::new(conn)
        .has_table(CHECKSUM_TABLE)
        .await
        .map_err(db_err)?
    {
        return Ok(BTreeMap::new());
    }
    let select = Query::select()
        .columns([Alias::new("version"), Alias::new("checksum")])
        .from(Alias::new(CHECKSUM_TABLE))
        .to_owned();
    conn.query_all(&select)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| {
            Ok((
                row.try_get::<String>("", "version").map_err(db_err)?,
                row.try_get::<String>("", "checksum").map_err(db_err)?,
            ))
        })
        .collect()
}

/// Refuses the first applied migration (in order) whose recorded checksum is not the
/// shipped one.
pub(super) async fn check(
    conn: &DatabaseConnection,
    applied: &BTreeSet<String>,
) -> Result<(), MigrationError> {
    let shipped = shipped();
    for (version, checksum) in recorded(conn).await? {
        let changed = shipped
            .get(version.as_str())
            .is_some_and(|shipped| *shipped != checksum);
        if changed && applied.contains(&version) {
            return Err(MigrationError::ChangedMigration { name: version });
        }
    }
    Ok(())
}

/// Records the shipped checksum of every applied migration that has none yet.
/// Makes the checksums follow what `seaql_migrations` lists, whatever the last run did
/// (including a run that failed half-way): the checksums of reverted migrations go, those of
/// applied ones not recorded yet are added.
pub(super) async fn reconcile(conn: &DatabaseConnection) -> RepoResult<()> {
    forget_reverted(conn).await?;
    record_applied(conn).await
}

async fn record_applied(conn: &DatabaseConnection) -> RepoResult<()> {
    let create = Table::create()
        .table(Alias::new(CHECKSUM_TABLE))
        .if_not_exists()
        .col(
            ColumnDef::new(Alias::new("version"))
                .string()
                .not_null()
                .primary_key(),
        )
        .col(ColumnDef::new(Alias::new("checksum")).string().not_null())
        .to_owned();
    conn.execute(&create).await.map_err(db_err)?;
    let recorded = recorded(conn).await?;
    let shipped = shipped();
    let missing: Vec<_> = applied_versions(conn)
        .await?
        .into_iter()
        .filter(|version| !recorded.contains_key(version))
        .filter_map(|version| {
            let checksum = shipped.get(version.as_str())?.clone();
            Some((version, checksum))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert()
        .into_table(Alias::new(CHECKSUM_TABLE))
        .columns([Alias::new("version"), Alias::new("checksum")])
        .to_owned();
    for (version, checksum) in missing {
        insert
            .values([version.into(), checksum.into()])
            .map_err(|e| RepoError::internal(format!("recording checksums: {e}")))?;
    }
    conn.execute(&insert).await.map_err(db_err)?;
    Ok(())
}

/// Drops the checksums of migrations that are no longer applied.
async fn forget_reverted(conn: &DatabaseConnection) -> RepoResult<()> {
    if !sea_orm_migration::SchemaManager::new(conn)
        .has_table(CHECKSUM_TABLE)
        .await
        .map_err(db_err)?
    {
        return Ok(());
    }
    let still_applied = Query::select()
        .column(Alias::new("version"))
        .from(Alias::new(APPLIED_TABLE))
        .to_owned();
    let delete = Query::delete()
        .from_table(Alias::new(CHECKSUM_TABLE))
        .and_where(Expr::col(Alias::new("version")).not_in_subquery(still_applied))
        .to_owned();
    conn.execute(&delete).await.map_err(db_err)?;
    Ok(())
}
