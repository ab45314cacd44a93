use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Durable waits (`workflow_waits`): one row per waiting step of an execution, written when the
/// execution starts (`pending`), `waiting` once the step is reached (with its `deadline` when it
/// ends by itself), then `signalled`, `timed_out`, `elapsed` or `closed`. A signal or a sweep
/// ends a wait with a compare-and-set on its status, so a wait ends once whatever the number
/// of servers. The waits go with their execution and their step's task. The due waits are
/// found through partial indexes on the waiting ones: by organization (its sweep) and by
/// instant (which organizations have one due).
///
/// `workflow_execution_tasks.skipped`: the step's task was cancelled because the branch it is
/// on was not taken (a wait signalled skips its timeout branch; one timed out, its other
/// dependents). An execution whose other steps all succeeded succeeds.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WorkflowWaits::Table)
                    .col(uuid(WorkflowWaits::OrganizationId))
                    .col(uuid(WorkflowWaits::Id))
                    .col(uuid(WorkflowWaits::ExecutionId))
                    .col(uuid(WorkflowWaits::TaskId))
                    .col(string_len(WorkflowWaits::StepName, 100))
                    .col(string_len_null(WorkflowWaits::SignalName, 100))
                    .col(json_binary(WorkflowWaits::Wait))
                    .col(string_len(WorkflowWaits::Status, 16).check(
                        Expr::col(WorkflowWaits::Status).is_in([
                            "pending",
                            "waiting",
                            "signalled",
                            "timed_out",
                            "elapsed",
                            "closed",
                        ]),
                    ))
                    .col(timestamp_with_time_zone_null(WorkflowWaits::Deadline))
                    .col(json_binary_null(WorkflowWaits::Payload))
                    .col(timestamp_with_time_zone_null(WorkflowWaits::ReachedAt))
                    .col(timestamp_with_time_zone_null(WorkflowWaits::ResolvedAt))
                    .col(timestamp_with_time_zone(WorkflowWaits::CreatedAt))
                    .col(timestamp_with_time_zone(WorkflowWaits::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_workflow_waits")
                            .col(WorkflowWaits::OrganizationId)
                            .col(WorkflowWaits::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workflow_waits_execution")
                            .from(
                                WorkflowWaits::Table,
                                (WorkflowWaits::OrganizationId, WorkflowWaits::ExecutionId),
                            )
                            .to(
                                Parent::WorkflowExecutions,
                                (Parent::OrganizationId, Parent::Id),
                            )
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workflow_waits_task")
                            .from(
                                WorkflowWaits::Table,
                                (WorkflowWaits::OrganizationId, WorkflowWaits::TaskId),
                            )
                            .to(Parent::Tasks, (Parent::OrganizationId, Parent::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_workflow_waits_step")
                    .table(WorkflowWaits::Table)
                    .col(WorkflowWaits::OrganizationId)
                    .col(WorkflowWaits::ExecutionId)
                    .col(WorkflowWaits::StepName)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_workflow_waits_task")
                    .table(WorkflowWaits::Table)
                    .col(WorkflowWaits::OrganizationId)
                    .col(WorkflowWaits::TaskId)
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_workflow_waits_due",
                vec![WorkflowWaits::OrganizationId, WorkflowWaits::Deadline],
            ),
            ("idx_workflow_waits_deadline", vec![WorkflowWaits::Deadline]),
        ] {
            let mut index = Index::create();
            index
                .name(name)
                .table(WorkflowWaits::Table)
                .and_where(Expr::col(WorkflowWaits::Status).eq("waiting"));
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(WorkflowExecutionTasks::Table)
                    .add_column(boolean(WorkflowExecutionTasks::Skipped).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WorkflowExecutionTasks::Table)
                    .drop_column(WorkflowExecutionTasks::Skipped)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(WorkflowWaits::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkflowWaits {
    Table,
    OrganizationId,
    Id,
    ExecutionId,
    TaskId,
    StepName,
    SignalName,
    Wait,
    Status,
    Deadline,
    Payload,
    ReachedAt,
    ResolvedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkflowExecutionTasks {
    Table,
    Skipped,
}

#[derive(DeriveIden, Clone, Copy)]
enum Parent {
    WorkflowExecutions,
    Tasks,
    OrganizationId,
    Id,
}
