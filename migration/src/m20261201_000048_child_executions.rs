//! A workflow execution may be started from a task, its parent: cancelling the task (or an
//! execution whose step it runs, or a task it descends from) cancels the execution too.
//!
//! `workflow_executions.parent_task_id`: the task the execution was started from, empty for an
//! execution started on its own. It has no foreign key: a composite key would have to clear
//! `organization_id` with it when the task goes (retention purges finished tasks), which
//! SQLite cannot do; the repository checks the task when the execution starts, and a parent
//! that is gone only means there is nothing left to cancel it.
//!
//! `idx_workflow_executions_organization_parent_task`: the executions started from given tasks,
//! read when they are cancelled; partial, as most executions have no parent.
//!
//! `down` drops the index and the column.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const PARENT_INDEX: &str = "idx_workflow_executions_organization_parent_task";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WorkflowExecutions::Table)
                    .add_column(uuid_null(WorkflowExecutions::ParentTaskId))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {PARENT_INDEX} ON workflow_executions \
                 (organization_id, parent_task_id) WHERE parent_task_id IS NOT NULL"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The index first: SQLite does not drop a column an index uses.
        manager
            .drop_index(
                Index::drop()
                    .name(PARENT_INDEX)
                    .table(WorkflowExecutions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(WorkflowExecutions::Table)
                    .drop_column(WorkflowExecutions::ParentTaskId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkflowExecutions {
    Table,
    ParentTaskId,
}
