//! What `orchestore seed` and `orchestore seed clean` need from the database beyond the
//! repositories: a seeded organization found by its slug, the seed's writes in one transaction
//! that ends by recording every row the seeded organization then holds (`seed_records`), and
//! the removal of that organization once nobody else has added rows to it.
//!
//! The seeded data itself is written through the repository traits by the caller; this module
//! only records and removes it. Row keys are the primary key's columns as text, joined by `|`,
//! in each backend's own spelling: compared only with keys the same database wrote.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use migration::distribution::DISTRIBUTED_TABLES;
use orchestore_domain::{OrganizationId, Slug};
use orchestore_repo::{RepoError, RepoResult};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::SeaStore;
use crate::error::db_err;
use crate::store::now;

const SEED_RECORDS: &str = "seed_records";

/// Tables whose rows follow the seeded rows rather than stand beside them: the audit log and
/// its chain, the sessions of logins, the history of tasks, and what the server's periodic work
/// derives from them (the reputation the feeder draws from finished tasks and its watermark,
/// the standings those events open, the scheduled leaderboard snapshots). Rows added to them
/// after the seed (a login, a seeded task claimed, a feeder round) do not make the organization
/// someone else's; `seed clean` removes them with it, and says how many.
pub const TRAIL_TABLES: &[&str] = &[
    "audit_logs",
    "audit_chain_heads",
    "sessions",
    "session_retired_tokens",
    "task_events",
    "reputation_events",
    "reputation_feed_watermarks",
    "standings",
    "leaderboard_snapshots",
    "leaderboard_snapshot_entries",
];

/// Whether the organization with a seed's slug exists, and whether the seed made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedState {
    /// No organization has the slug.
    Absent,
    /// The seed created it and recorded its rows.
    Seeded {
        organization_id: OrganizationId,
        profile: String,
        seeded_at: DateTime<Utc>,
    },
    /// An organization has the slug, but no seed made it.
    NotSeeded { organization_id: OrganizationId },
}

/// A row of a seeded organization that the seed did not write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignRow {
    pub table: String,
    /// Its primary key, as text.
    pub key: String,
}

/// What `seed clean` finds in a seeded organization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedInventory {
    /// Rows the seed wrote that are still there, by table.
    pub seeded: BTreeMap<String, u64>,
    /// Rows added since to the tables of [`TRAIL_TABLES`], by table.
    pub trail: BTreeMap<String, u64>,
    /// Rows someone else added: while there are any, the organization stays.
    pub foreign: Vec<ForeignRow>,
}

impl SeedInventory {
    pub fn seeded_rows(&self) -> u64 {
        self.seeded.values().sum()
    }

    pub fn trail_rows(&self) -> u64 {
        self.trail.values().sum()
    }
}

impl SeaStore {
    /// Looks up the organization `slug` and whether a seed created it.
    pub async fn seed_state(&self, slug: &Slug) -> RepoResult<SeedState> {
        let db = self.db().await;
        let backend = db.get_database_backend();
        let organization = db
            .query_one_raw(
                backend.build(
                    &Query::select()
                        .column(Alias::new("id"))
                        .from(Alias::new("organizations"))
                        .and_where(Expr::col(Alias::new("slug")).eq(slug.as_str()))
                        .to_owned(),
                ),
            )
            .await
            .map_err(db_err)?;
        let Some(organization) = organization else {
            return Ok(SeedState::Absent);
        };
        let organization_id =
            OrganizationId::from_uuid(organization.try_get("", "id").map_err(db_err)?);
        let record = db
            .query_one_raw(
                backend.build(
                    &Query::select()
                        .columns([Alias::new("profile"), Alias::new("seeded_at")])
                        .from(Alias::new(SEED_RECORDS))
                        .and_where(
                            Expr::col(Alias::new("organization_id")).eq(organization_id.as_uuid()),
                        )
                        .limit(1)
                        .to_owned(),
                ),
            )
            .await
            .map_err(db_err)?;
        Ok(match record {
            None => SeedState::NotSeeded { organization_id },
            Some(row) => SeedState::Seeded {
                organization_id,
                profile: row.try_get("", "profile").map_err(db_err)?,
                seeded_at: row.try_get("", "seeded_at").map_err(db_err)?,
            },
        })
    }

    /// Runs `work` in one transaction and ends it by recording, as seeded for `profile`, every
    /// row of the organization `work` returns: the seed lands whole or not at all. Returns
    /// what `work` returned and the rows recorded, by table.
    pub async fn seed_in_transaction<T>(
        &self,
        profile: &str,
        work: impl for<'t> AsyncFnOnce(&'t SeaStore) -> RepoResult<(OrganizationId, T)>,
    ) -> RepoResult<((OrganizationId, T), BTreeMap<String, u64>)> {
        self.in_transaction(async |tx: &SeaStore| {
            let (organization, value) = work(tx).await?;
            let recorded = tx.record_seeded_rows(organization, profile).await?;
            Ok(((organization, value), recorded))
        })
        .await
    }

    async fn record_seeded_rows(
        &self,
        organization: OrganizationId,
        profile: &str,
    ) -> RepoResult<BTreeMap<String, u64>> {
        let seeded_at = now();
        let mut recorded = BTreeMap::new();
        for table in organization_tables() {
            let keys = self.row_keys(table, organization).await?;
            if keys.is_empty() {
                continue;
            }
            recorded.insert(table.to_owned(), keys.len() as u64);
            let db = self.db().await;
            let backend = db.get_database_backend();
            // A few hundred rows at most per table: one statement each.
            let mut insert = Query::insert()
                .into_table(Alias::new(SEED_RECORDS))
                .columns([
                    Alias::new("organization_id"),
                    Alias::new("table_name"),
                    Alias::new("row_key"),
                    Alias::new("profile"),
                    Alias::new("seeded_at"),
                ])
                .to_owned();
            for key in keys {
                insert
                    .values([
                        organization.as_uuid().into(),
                        table.into(),
                        key.into(),
                        profile.into(),
                        seeded_at.into(),
                    ])
                    .map_err(|e| RepoError::internal(format!("recording the seed: {e}")))?;
            }
            db.execute_raw(backend.build(&insert))
                .await
                .map_err(db_err)?;
        }
        Ok(recorded)
    }

    /// Compares the seeded organization with what the seed recorded.
    pub async fn seed_inventory(&self, organization: OrganizationId) -> RepoResult<SeedInventory> {
        let recorded = self.recorded_keys(organization).await?;
        let mut inventory = SeedInventory::default();
        for table in organization_tables() {
            let keys = self.row_keys(table, organization).await?;
            let seeded = recorded.get(table);
            let trail = TRAIL_TABLES.contains(&table);
            for key in keys {
                if seeded.is_some_and(|keys| keys.contains(&key)) {
                    *inventory.seeded.entry(table.to_owned()).or_default() += 1;
                } else if trail {
                    *inventory.trail.entry(table.to_owned()).or_default() += 1;
                } else {
                    inventory.foreign.push(ForeignRow {
                        table: table.to_owned(),
                        key,
                    });
                }
            }
        }
        // Custom roles live in the shared `roles` table, scoped to their organization.
        for key in self.custom_roles(organization).await? {
            inventory.foreign.push(ForeignRow {
                table: "roles".to_owned(),
                key,
            });
        }
        Ok(inventory)
    }

    /// Removes the seeded organization and every row in it, in one transaction, when it holds
    /// no row but the seed's and their trail; refuses with a conflict naming the first foreign
    /// rows otherwise, removing nothing. Returns what was removed.
    pub async fn remove_seeded_organization(
        &self,
        organization: OrganizationId,
    ) -> RepoResult<SeedInventory> {
        self.in_transaction(async |tx: &SeaStore| {
            if tx.is_postgres() {
                // A row someone else adds while the removal runs must stop it, not be deleted
                // unseen: serializable, the removal then fails and rolls back (SQLite's write
                // transaction already keeps every other writer out).
                let serializable = Statement::from_string(
                    DbBackend::Postgres,
                    "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
                );
                tx.db()
                    .await
                    .execute_raw(serializable)
                    .await
                    .map_err(db_err)?;
            }
            let inventory = tx.seed_inventory(organization).await?;
            if !inventory.foreign.is_empty() {
                return Err(RepoError::conflict(
                    "organization",
                    format!(
                        "{} row(s) were added to the seeded organization by someone else, \
                         first {}",
                        inventory.foreign.len(),
                        inventory
                            .foreign
                            .iter()
                            .take(5)
                            .map(|row| format!("{} {}", row.table, row.key))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            let db = tx.db().await;
            let backend = db.get_database_backend();
            // Children before parents: the reverse of the distribution order, which lists
            // parents first.
            for table in DISTRIBUTED_TABLES.iter().rev() {
                db.execute_raw(
                    backend.build(
                        &Query::delete()
                            .from_table(Alias::new(*table))
                            .and_where(
                                Expr::col(Alias::new("organization_id")).eq(organization.as_uuid()),
                            )
                            .to_owned(),
                    ),
                )
                .await
                .map_err(db_err)?;
            }
            db.execute_raw(
                backend.build(
                    &Query::delete()
                        .from_table(Alias::new("organizations"))
                        .and_where(Expr::col(Alias::new("id")).eq(organization.as_uuid()))
                        .to_owned(),
                ),
            )
            .await
            .map_err(db_err)?;
            Ok(inventory)
        })
        .await
    }

    async fn recorded_keys(
        &self,
        organization: OrganizationId,
    ) -> RepoResult<BTreeMap<String, std::collections::BTreeSet<String>>> {
        let db = self.db().await;
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(
                backend.build(
                    &Query::select()
                        .columns([Alias::new("table_name"), Alias::new("row_key")])
                        .from(Alias::new(SEED_RECORDS))
                        .and_where(
                            Expr::col(Alias::new("organization_id")).eq(organization.as_uuid()),
                        )
                        .to_owned(),
                ),
            )
            .await
            .map_err(db_err)?;
        let mut keys: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        for row in rows {
            let table: String = row.try_get("", "table_name").map_err(db_err)?;
            let key: String = row.try_get("", "row_key").map_err(db_err)?;
            keys.entry(table).or_default().insert(key);
        }
        Ok(keys)
    }

    /// The keys of the organization's rows in `table`.
    async fn row_keys(&self, table: &str, organization: OrganizationId) -> RepoResult<Vec<String>> {
        let columns = self.key_columns(table).await?;
        if columns.is_empty() {
            return Err(RepoError::internal(format!(
                "table {table} has no primary key to record seeded rows by"
            )));
        }
        let db = self.db().await;
        let backend = db.get_database_backend();
        let key = columns
            .iter()
            .map(|column| {
                let quoted = quote_identifier(column);
                match backend {
                    DbBackend::Postgres => format!("coalesce({quoted}::text, '')"),
                    _ => format!("quote({quoted})"),
                }
            })
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows = db
            .query_all_raw(
                backend.build(
                    &Query::select()
                        .expr_as(Expr::cust(key), Alias::new("row_key"))
                        .from(Alias::new(table))
                        .and_where(
                            Expr::col(Alias::new("organization_id")).eq(organization.as_uuid()),
                        )
                        .to_owned(),
                ),
            )
            .await
            .map_err(db_err)?;
        rows.into_iter()
            .map(|row| row.try_get("", "row_key").map_err(db_err))
            .collect()
    }

    /// The primary key's columns of `table`, in key order.
    async fn key_columns(&self, table: &str) -> RepoResult<Vec<String>> {
        let db = self.db().await;
        let backend = db.get_database_backend();
        let statement = match backend {
            DbBackend::Postgres => Statement::from_sql_and_values(
                backend,
                "SELECT a.attname::text AS name \
                 FROM pg_index i \
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
                 WHERE i.indrelid = to_regclass($1) AND i.indisprimary \
                 ORDER BY array_position(i.indkey::int2[], a.attnum)",
                [quote_identifier(table).into()],
            ),
            _ => Statement::from_sql_and_values(
                backend,
                "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk",
                [table.into()],
            ),
        };
        let rows = db.query_all_raw(statement).await.map_err(db_err)?;
        rows.into_iter()
            .map(|row| row.try_get("", "name").map_err(db_err))
            .collect()
    }

    async fn custom_roles(&self, organization: OrganizationId) -> RepoResult<Vec<String>> {
        let db = self.db().await;
        let backend = db.get_database_backend();
        let key = match backend {
            DbBackend::Postgres => "id::text",
            _ => "quote(id)",
        };
        let rows = db
            .query_all_raw(
                backend.build(
                    &Query::select()
                        .expr_as(Expr::cust(key), Alias::new("row_key"))
                        .from(Alias::new("roles"))
                        .and_where(Expr::col(Alias::new("scope")).eq(organization.as_uuid()))
                        .to_owned(),
                ),
            )
            .await
            .map_err(db_err)?;
        rows.into_iter()
            .map(|row| row.try_get("", "row_key").map_err(db_err))
            .collect()
    }
}

/// The tables that hold an organization's rows, but the seed's own records.
fn organization_tables() -> impl Iterator<Item = &'static str> {
    DISTRIBUTED_TABLES
        .iter()
        .copied()
        .filter(|table| *table != SEED_RECORDS)
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
