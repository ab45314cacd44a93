//! Optimistic concurrency: every resource a client can change (`PATCH`) gets a `revision`, 1
//! when the row is created and one more with every write of it, in the statement that writes
//! it. A client that read revision `n` sends it back (HTTP `If-Match`) and its change applies
//! only if the row is still at `n`. (Not `version`: components and workflow executions have a
//! column of that name already, the software's and the workflow's.)
//!
//! Existing rows start at 1. `down` drops the columns.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose rows carry a revision.
const TABLES: [&str; 12] = [
    "agents",
    "components",
    "knowledge_entries",
    "projects",
    "rate_limits",
    "roles",
    "schedules",
    "tasks",
    "templates",
    "users",
    "workflows",
    "workflow_executions",
];

#[derive(DeriveIden)]
struct Revision;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE. A constant default and no check fill the
        // existing rows without rewriting or scanning them on PostgreSQL; the store refuses to
        // read a revision below 1.
        for table in TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(ColumnDef::new(Revision).big_integer().not_null().default(1))
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
