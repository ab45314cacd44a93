//! Large payloads out of the hot row: `task_bodies` holds a task's payload or result when its
//! JSON is larger than the store's inline limit, and `tasks.payload_bytes` / `tasks.result_bytes`
//! say so (the body's size in bytes; `NULL` while it is kept in the row). The row keeps JSON
//! `null` in its place, so that claims and lists read narrow rows whatever the payloads weigh.
//!
//! A body belongs to its task: the composite foreign key `(organization_id, task_id)` deletes it
//! with the task (a purge, a project's deletion). `down` drops the table and the two columns;
//! it does not bring the bodies back into their rows, so run it only on a database whose
//! payloads are all inline.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [Tasks::PayloadBytes, Tasks::ResultBytes] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tasks::Table)
                        .add_column(big_integer_null(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(TaskBodies::Table)
                    .col(uuid(TaskBodies::OrganizationId))
                    .col(uuid(TaskBodies::TaskId))
                    .col(
                        string_len(TaskBodies::Kind, 16)
                            .check(Expr::col(TaskBodies::Kind).is_in(["payload", "result"])),
                    )
                    .col(json_binary(TaskBodies::Body))
                    .col(big_integer(TaskBodies::Bytes).check(Expr::col(TaskBodies::Bytes).gte(0)))
                    .primary_key(
                        Index::create()
                            .name("pk_task_bodies")
                            .col(TaskBodies::OrganizationId)
                            .col(TaskBodies::TaskId)
                            .col(TaskBodies::Kind),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_task_bodies_task")
                            .from(
                                TaskBodies::Table,
                                (TaskBodies::OrganizationId, TaskBodies::TaskId),
                            )
                            .to(Tasks::Table, (Tasks::OrganizationId, Tasks::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TaskBodies::Table).to_owned())
            .await?;
        for column in [Tasks::PayloadBytes, Tasks::ResultBytes] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tasks::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum TaskBodies {
    Table,
    OrganizationId,
    TaskId,
    Kind,
    Body,
    Bytes,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    OrganizationId,
    Id,
    PayloadBytes,
    ResultBytes,
}
