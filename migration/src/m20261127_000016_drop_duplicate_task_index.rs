//! `idx_tasks_organization_id (organization_id, id)` repeats the primary key of `tasks` (it has
//! since migration 000004 made the key `(organization_id, id)`): every insert and every claim
//! paid for writing it twice. The primary key answers every query it served.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tasks_organization_id")
                    .table(Tasks::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_tasks_organization_id")
                    .table(Tasks::Table)
                    .col(Tasks::OrganizationId)
                    .col(Tasks::Id)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    OrganizationId,
    Id,
}
