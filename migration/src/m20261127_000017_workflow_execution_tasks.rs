//! The tasks a workflow execution runs its steps as: one row per step, naming its task.
//!
//! A step is named once per execution (the primary key) and a task runs at most one step of one
//! execution (`(organization_id, task_id)` unique, which also finds the execution of a task
//! whose status changed). Both ends are the organization's own rows. An execution's rows go
//! with it; a task's row goes with the task, which the repository allows only once the
//! execution has ended, so a running execution never loses a step.
//!
//! Executions recorded before this migration have no rows here: they stay as they are, and can
//! only be cancelled.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WorkflowExecutionTasks::Table)
                    .col(uuid(WorkflowExecutionTasks::OrganizationId))
                    .col(uuid(WorkflowExecutionTasks::ExecutionId))
                    .col(string_len(WorkflowExecutionTasks::StepName, 100))
                    .col(uuid(WorkflowExecutionTasks::TaskId))
                    .primary_key(
                        Index::create()
                            .name("pk_workflow_execution_tasks")
                            .col(WorkflowExecutionTasks::OrganizationId)
                            .col(WorkflowExecutionTasks::ExecutionId)
                            .col(WorkflowExecutionTasks::StepName),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workflow_execution_tasks_organization")
                            .from(
                                WorkflowExecutionTasks::Table,
                                WorkflowExecutionTasks::OrganizationId,
                            )
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workflow_execution_tasks_execution")
                            .from(
                                WorkflowExecutionTasks::Table,
                                (
                                    WorkflowExecutionTasks::OrganizationId,
                                    WorkflowExecutionTasks::ExecutionId,
                                ),
                            )
                            .to(
                                WorkflowExecutions::Table,
                                (WorkflowExecutions::OrganizationId, WorkflowExecutions::Id),
                            )
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workflow_execution_tasks_task")
                            .from(
                                WorkflowExecutionTasks::Table,
                                (
                                    WorkflowExecutionTasks::OrganizationId,
                                    WorkflowExecutionTasks::TaskId,
                                ),
                            )
                            .to(Tasks::Table, (Tasks::OrganizationId, Tasks::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A task runs one step; also the lookup of the executions of tasks that changed.
        manager
            .create_index(
                Index::create()
                    .name("idx_workflow_execution_tasks_organization_task")
                    .table(WorkflowExecutionTasks::Table)
                    .col(WorkflowExecutionTasks::OrganizationId)
                    .col(WorkflowExecutionTasks::TaskId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(WorkflowExecutionTasks::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum WorkflowExecutionTasks {
    Table,
    OrganizationId,
    ExecutionId,
    StepName,
    TaskId,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum WorkflowExecutions {
    Table,
    OrganizationId,
    Id,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    OrganizationId,
    Id,
}
