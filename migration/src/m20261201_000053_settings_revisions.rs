//! Optimistic concurrency for an organization's settings (the retention policy, the
//! collaboration settings, the leaderboard weights), as migration 000052 gave the other
//! resources a client can change: a `revision` on each settings row, one more with every write.
//!
//! Settings never written have no row and read as the defaults at revision 1, so the row a
//! first write inserts is at revision 2, and a row written before this migration (written at
//! least once) starts at 2 too. `down` drops the columns.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The settings tables: one row per organization that has written its settings.
const TABLES: [&str; 3] = [
    "retention_policies",
    "collaboration_settings",
    "leaderboard_settings",
];

#[derive(DeriveIden)]
struct Revision;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(ColumnDef::new(Revision).big_integer().not_null().default(2))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Revision)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
