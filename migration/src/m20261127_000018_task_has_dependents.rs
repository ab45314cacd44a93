//! `tasks.has_dependents`: whether some task was ever made to depend on this one.
//!
//! A completion whose task has no dependents changes nothing beyond the task, its history and
//! its agent's counters, so on PostgreSQL it is one statement instead of a transaction of
//! several. Adding a dependency sets the flag on the task depended on by updating its row, so a
//! completion racing with it sees the new row version and takes the full path, which queues the
//! new dependent. The flag is never cleared (removing the last edge leaves it set): a stale
//! `true` only sends a completion down the full path.
//!
//! `up` sets it on every task that has a dependent; `down` drops the column.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .add_column(boolean(Tasks::HasDependents).default(false))
                    .to_owned(),
            )
            .await?;
        let depended_on = Query::select()
            .column(TaskDependencies::DependsOnId)
            .from(TaskDependencies::Table)
            .and_where(
                Expr::col((TaskDependencies::Table, TaskDependencies::OrganizationId))
                    .equals((Tasks::Table, Tasks::OrganizationId)),
            )
            .to_owned();
        let backfill = Query::update()
            .table(Tasks::Table)
            .value(Tasks::HasDependents, true)
            .and_where(Expr::col((Tasks::Table, Tasks::Id)).in_subquery(depended_on))
            .to_owned();
        manager.exec_stmt(backfill).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .drop_column(Tasks::HasDependents)
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
    HasDependents,
}

#[derive(DeriveIden)]
enum TaskDependencies {
    Table,
    OrganizationId,
    DependsOnId,
}
