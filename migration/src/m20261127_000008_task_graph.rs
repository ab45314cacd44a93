//! The task graph: tasks gain subtasks (`parent_id`), an assigned agent, an estimate, progress,
//! tags, attempts, a not-before time, an idempotency key, a result and an error, and run
//! timing; `task_dependencies` holds the dependency edges and `task_events` the state history.
//!
//! Tasks gain foreign keys and checks, and SQLite cannot add either to an existing table. So a
//! `match` on the backend (one each way: [`add_task_columns`], [`drop_task_columns`]) does it in
//! place on PostgreSQL (`ALTER TABLE`: no copy of the table, and tables that refer to `tasks`
//! keep referring to it) and rebuilds `tasks` on SQLite (create `tasks_new`, copy the rows, drop
//! `tasks`, rename; foreign keys deferred to the commit so that a table referring to `tasks`
//! does not refuse the moment it is gone). Either way the table keeps its rows, its earlier
//! indexes and their names, and its keys; `down` restores the shape of migration 000006 with
//! the rows.
//!
//! The foreign keys to the parent task and the assigned agent have no `ON DELETE` action: both
//! keys include `organization_id`, which is `NOT NULL`, so `SET NULL` cannot apply, and a
//! cascade would delete work. The repository decides instead: a task with subtasks cannot be
//! deleted (409), and deleting an agent unassigns its tasks in the same transaction.
//!
//! The whole migration runs in one transaction on both backends: it applies or it does not.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The task states, frozen here for the checks.
const STATUSES: [&str; 6] = [
    "blocked",
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        // SQLite too: a failed rebuild must leave the earlier table as it was.
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        refuse_unknown_statuses(manager).await?;
        add_task_columns(manager).await?;
        for index in new_task_indexes() {
            manager.create_index(index).await?;
        }
        create_dependencies(manager).await?;
        create_events(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TaskEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TaskDependencies::Table).to_owned())
            .await?;
        drop_task_columns(manager).await
    }
}

/// The status check would refuse the copy of a row whose status the domain does not know:
/// name the problem instead.
async fn refuse_unknown_statuses(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let select = Query::select()
        .expr_as(Func::count(Expr::col(Asterisk)), "n")
        .from(Tasks::Table)
        .and_where(Expr::col(Tasks::Status).is_not_in(STATUSES))
        .to_owned();
    let n: i64 = manager
        .get_connection()
        .query_one(&select)
        .await?
        .map(|row| row.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    if n > 0 {
        return Err(DbErr::Migration(format!(
            "cannot apply the task graph: {n} task(s) have a status other than {}; fix them first",
            STATUSES.join(", ")
        )));
    }
    Ok(())
}

/// Adds the new columns, the status check and the two foreign keys: in place on PostgreSQL,
/// by a rebuild on SQLite.
async fn add_task_columns(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    match manager.get_database_backend() {
        DatabaseBackend::Postgres => {
            let mut alter = Table::alter().table(Tasks::Table).to_owned();
            for column in new_columns() {
                alter.add_column(column);
            }
            for key in new_foreign_keys(Alias::new("tasks")) {
                alter.add_foreign_key(key.get_foreign_key());
            }
            manager.alter_table(alter).await?;
            let statuses: Vec<String> = STATUSES.iter().map(|s| format!("'{s}'")).collect();
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "ALTER TABLE tasks ADD CONSTRAINT ck_tasks_status CHECK (status IN ({}))",
                    statuses.join(", ")
                ))
                .await?;
            manager
                .get_connection()
                .execute_unprepared("CREATE INDEX idx_tasks_tags ON tasks USING GIN (tags)")
                .await?;
            Ok(())
        }
        _ => rebuild_sqlite(manager, Shape::Graph).await,
    }
}

/// Removes what [`add_task_columns`] added, keeping the rows.
async fn drop_task_columns(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    match manager.get_database_backend() {
        DatabaseBackend::Postgres => {
            let mut alter = Table::alter()
                .table(Tasks::Table)
                .drop_foreign_key("fk_tasks_parent")
                .drop_foreign_key("fk_tasks_assigned_agent")
                .drop_constraint("ck_tasks_status")
                .to_owned();
            // Their indexes and checks go with them.
            for column in new_column_names() {
                alter.drop_column(column);
            }
            manager.alter_table(alter).await
        }
        _ => rebuild_sqlite(manager, Shape::Earlier).await,
    }
}

/// Which shape a SQLite rebuild gives `tasks`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Migration 000006's: the columns of migration 000002, the tenant keys of 000004.
    Earlier,
    /// This migration's: the new columns after those, with their checks and foreign keys.
    Graph,
}

/// Rebuilds `tasks` in `shape` on SQLite: `tasks_new`, the rows copied (the columns both
/// shapes share; the new ones take their defaults), `tasks` dropped, `tasks_new` renamed (which
/// rewrites the self-reference of the parent key), then the indexes under their names.
async fn rebuild_sqlite(manager: &SchemaManager<'_>, shape: Shape) -> Result<(), DbErr> {
    // A table that refers to `tasks` sees it gone between the drop and the rename: check its
    // keys at the commit, when `tasks` holds the same rows again.
    manager
        .get_connection()
        .execute_unprepared("PRAGMA defer_foreign_keys = ON")
        .await?;
    let staged = Alias::new("tasks_new");
    let mut table = Table::create()
        .table(staged.clone())
        .col(uuid(Tasks::Id))
        .col(uuid(Tasks::OrganizationId))
        .col(uuid(Tasks::ProjectId))
        .col(string_len(Tasks::Title, 2000))
        .col(text(Tasks::Description))
        .to_owned();
    if shape == Shape::Graph {
        table.col(string_len(Tasks::Status, 16).check(Check::named(
            "ck_tasks_status",
            Expr::col(Tasks::Status).is_in(STATUSES),
        )));
    } else {
        table.col(string_len(Tasks::Status, 16));
    }
    table
        .col(integer(Tasks::Priority))
        .col(json_binary(Tasks::Payload))
        .col(json_binary(Tasks::RequiredCapabilities))
        .col(json_binary(Tasks::Metadata))
        .col(timestamp_with_time_zone(Tasks::CreatedAt))
        .col(timestamp_with_time_zone(Tasks::UpdatedAt))
        .primary_key(
            Index::create()
                .name("pk_tasks")
                .col(Tasks::OrganizationId)
                .col(Tasks::Id),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_tasks_organization")
                .from(staged.clone(), Tasks::OrganizationId)
                .to(Organizations::Table, Organizations::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_tasks_project")
                .from(staged.clone(), (Tasks::OrganizationId, Tasks::ProjectId))
                .to(Projects::Table, (Projects::OrganizationId, Projects::Id))
                .on_delete(ForeignKeyAction::Cascade),
        );
    if shape == Shape::Graph {
        for column in new_columns() {
            table.col(column);
        }
        for mut key in new_foreign_keys(staged.clone()) {
            table.foreign_key(&mut key);
        }
    }
    manager.create_table(table).await?;

    let shared = [
        Tasks::Id,
        Tasks::OrganizationId,
        Tasks::ProjectId,
        Tasks::Title,
        Tasks::Description,
        Tasks::Status,
        Tasks::Priority,
        Tasks::Payload,
        Tasks::RequiredCapabilities,
        Tasks::Metadata,
        Tasks::CreatedAt,
        Tasks::UpdatedAt,
    ];
    let mut copy = Query::insert()
        .into_table(staged.clone())
        .columns(shared)
        .to_owned();
    copy.select_from(
        Query::select()
            .columns(shared)
            .from(Tasks::Table)
            .to_owned(),
    )
    .map_err(|e| DbErr::Migration(format!("copying tasks: {e}")))?;
    manager.exec_stmt(copy).await?;
    manager
        .drop_table(Table::drop().table(Tasks::Table).to_owned())
        .await?;
    manager
        .rename_table(Table::rename().table(staged, Tasks::Table).to_owned())
        .await?;

    // The new indexes are `up`'s, on both backends alike; in the earlier shape they went with
    // the old table.
    for index in earlier_task_indexes() {
        manager.create_index(index).await?;
    }
    Ok(())
}

/// The columns this migration adds to `tasks`, in order, with their checks.
fn new_columns() -> Vec<ColumnDef> {
    vec![
        uuid_null(Tasks::ParentId),
        uuid_null(Tasks::AssignedAgentId),
        integer_null(Tasks::EstimatedMinutes)
            .check((
                "ck_tasks_estimated_minutes",
                Expr::col(Tasks::EstimatedMinutes).between(1, 1_000_000),
            ))
            .to_owned(),
        small_integer(Tasks::Progress)
            .default(0)
            .check((
                "ck_tasks_progress",
                Expr::col(Tasks::Progress).between(0, 100),
            ))
            .to_owned(),
        json_binary(Tasks::Tags).default("[]").to_owned(),
        integer(Tasks::Attempts)
            .default(0)
            .check(("ck_tasks_attempts", Expr::col(Tasks::Attempts).gte(0)))
            .to_owned(),
        integer(Tasks::MaxAttempts)
            .default(3)
            .check((
                "ck_tasks_max_attempts",
                Expr::col(Tasks::MaxAttempts).between(1, 100),
            ))
            .to_owned(),
        timestamp_with_time_zone_null(Tasks::RunAfter),
        string_len_null(Tasks::IdempotencyKey, 255),
        json_binary_null(Tasks::Result),
        json_binary_null(Tasks::Error),
        timestamp_with_time_zone_null(Tasks::StartedAt),
        timestamp_with_time_zone_null(Tasks::FinishedAt),
    ]
}

fn new_column_names() -> [Tasks; 13] {
    [
        Tasks::ParentId,
        Tasks::AssignedAgentId,
        Tasks::EstimatedMinutes,
        Tasks::Progress,
        Tasks::Tags,
        Tasks::Attempts,
        Tasks::MaxAttempts,
        Tasks::RunAfter,
        Tasks::IdempotencyKey,
        Tasks::Result,
        Tasks::Error,
        Tasks::StartedAt,
        Tasks::FinishedAt,
    ]
}

/// The parent task and the assigned agent, each in the task's organization. No `ON DELETE`
/// action (see the module documentation).
fn new_foreign_keys(tasks: Alias) -> [ForeignKeyCreateStatement; 2] {
    [
        ForeignKey::create()
            .name("fk_tasks_parent")
            .from(tasks.clone(), (Tasks::OrganizationId, Tasks::ParentId))
            .to(tasks.clone(), (Tasks::OrganizationId, Tasks::Id))
            .on_delete(ForeignKeyAction::NoAction)
            .to_owned(),
        ForeignKey::create()
            .name("fk_tasks_assigned_agent")
            .from(tasks, (Tasks::OrganizationId, Tasks::AssignedAgentId))
            .to(Agents::Table, (Agents::OrganizationId, Agents::Id))
            .on_delete(ForeignKeyAction::NoAction)
            .to_owned(),
    ]
}

/// A plain index on `columns` of `tasks`, in order.
fn task_index<const N: usize>(name: &str, columns: [Tasks; N]) -> IndexCreateStatement {
    let mut index = Index::create().name(name).table(Tasks::Table).to_owned();
    for column in columns {
        index.col(column);
    }
    index
}

/// The indexes `tasks` had before, as migrations 000002 and 000004 named them.
fn earlier_task_indexes() -> Vec<IndexCreateStatement> {
    vec![
        task_index(
            "idx_tasks_organization_id",
            [Tasks::OrganizationId, Tasks::Id],
        ),
        task_index(
            "idx_tasks_organization_project_id",
            [Tasks::OrganizationId, Tasks::ProjectId, Tasks::Id],
        ),
        task_index(
            "idx_tasks_organization_status_id",
            [Tasks::OrganizationId, Tasks::Status, Tasks::Id],
        ),
        Index::create()
            .name("idx_tasks_organization_priority_id")
            .table(Tasks::Table)
            .col(Tasks::OrganizationId)
            .col((Tasks::Priority, IndexOrder::Desc))
            .col(Tasks::Id)
            .to_owned(),
    ]
}

/// Subtasks of a task, tasks of an agent (and the checks of the two foreign keys when a parent
/// or an agent goes), one idempotency key per organization (NULLs are distinct on both
/// backends), and the most recently finished tasks of an organization or a project, which the
/// run-time statistics read.
fn new_task_indexes() -> Vec<IndexCreateStatement> {
    vec![
        task_index(
            "idx_tasks_organization_parent",
            [Tasks::OrganizationId, Tasks::ParentId],
        ),
        task_index(
            "idx_tasks_organization_assigned_agent",
            [Tasks::OrganizationId, Tasks::AssignedAgentId],
        ),
        task_index(
            "idx_tasks_organization_idempotency_key",
            [Tasks::OrganizationId, Tasks::IdempotencyKey],
        )
        .unique()
        .to_owned(),
        task_index(
            "idx_tasks_organization_finished_at",
            [Tasks::OrganizationId, Tasks::FinishedAt],
        ),
        task_index(
            "idx_tasks_organization_project_finished_at",
            [Tasks::OrganizationId, Tasks::ProjectId, Tasks::FinishedAt],
        ),
    ]
}

/// `task_dependencies`: `task_id` waits for `depends_on_id`, both tasks of the organization.
/// The edges go with either task.
async fn create_dependencies(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(TaskDependencies::Table)
                .col(uuid(TaskDependencies::OrganizationId))
                .col(uuid(TaskDependencies::TaskId))
                .col(uuid(TaskDependencies::DependsOnId))
                .primary_key(
                    Index::create()
                        .name("pk_task_dependencies")
                        .col(TaskDependencies::OrganizationId)
                        .col(TaskDependencies::TaskId)
                        .col(TaskDependencies::DependsOnId),
                )
                .check((
                    "ck_task_dependencies_not_itself",
                    Expr::col(TaskDependencies::TaskId)
                        .ne(Expr::col(TaskDependencies::DependsOnId)),
                ))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_task_dependencies_organization")
                        .from(TaskDependencies::Table, TaskDependencies::OrganizationId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_task_dependencies_task")
                        .from(
                            TaskDependencies::Table,
                            (TaskDependencies::OrganizationId, TaskDependencies::TaskId),
                        )
                        .to(Tasks::Table, (Tasks::OrganizationId, Tasks::Id))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_task_dependencies_depends_on")
                        .from(
                            TaskDependencies::Table,
                            (
                                TaskDependencies::OrganizationId,
                                TaskDependencies::DependsOnId,
                            ),
                        )
                        .to(Tasks::Table, (Tasks::OrganizationId, Tasks::Id))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    // The dependents of a task (who waits for it), read without the table.
    manager
        .create_index(
            Index::create()
                .name("idx_task_dependencies_organization_depends_on")
                .table(TaskDependencies::Table)
                .col(TaskDependencies::OrganizationId)
                .col(TaskDependencies::DependsOnId)
                .col(TaskDependencies::TaskId)
                .to_owned(),
        )
        .await
}

/// `task_events`: the append-only state history of each task, going with it.
async fn create_events(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let from_check = (
        "ck_task_events_from_status",
        Expr::col(TaskEvents::FromStatus).is_in(STATUSES),
    );
    let to_check = (
        "ck_task_events_to_status",
        Expr::col(TaskEvents::ToStatus).is_in(STATUSES),
    );
    manager
        .create_table(
            Table::create()
                .table(TaskEvents::Table)
                .col(uuid(TaskEvents::OrganizationId))
                .col(uuid(TaskEvents::Id))
                .col(uuid(TaskEvents::TaskId))
                .col(string_len_null(TaskEvents::FromStatus, 16).check(from_check))
                .col(string_len(TaskEvents::ToStatus, 16).check(to_check))
                .col(string_len(TaskEvents::Actor, 128))
                .col(text(TaskEvents::Reason))
                .col(timestamp_with_time_zone(TaskEvents::CreatedAt))
                .primary_key(
                    Index::create()
                        .name("pk_task_events")
                        .col(TaskEvents::OrganizationId)
                        .col(TaskEvents::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_task_events_organization")
                        .from(TaskEvents::Table, TaskEvents::OrganizationId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_task_events_task")
                        .from(
                            TaskEvents::Table,
                            (TaskEvents::OrganizationId, TaskEvents::TaskId),
                        )
                        .to(Tasks::Table, (Tasks::OrganizationId, Tasks::Id))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    // A task's history in order.
    manager
        .create_index(
            Index::create()
                .name("idx_task_events_organization_task_id")
                .table(TaskEvents::Table)
                .col(TaskEvents::OrganizationId)
                .col(TaskEvents::TaskId)
                .col(TaskEvents::Id)
                .to_owned(),
        )
        .await
}

#[derive(DeriveIden, Clone, Copy)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Projects {
    Table,
    OrganizationId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Agents {
    Table,
    OrganizationId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    Id,
    OrganizationId,
    ProjectId,
    Title,
    Description,
    Status,
    Priority,
    Payload,
    RequiredCapabilities,
    Metadata,
    CreatedAt,
    UpdatedAt,
    ParentId,
    AssignedAgentId,
    EstimatedMinutes,
    Progress,
    Tags,
    Attempts,
    MaxAttempts,
    RunAfter,
    IdempotencyKey,
    Result,
    Error,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TaskDependencies {
    Table,
    OrganizationId,
    TaskId,
    DependsOnId,
}

#[derive(DeriveIden, Clone, Copy)]
enum TaskEvents {
    Table,
    OrganizationId,
    Id,
    TaskId,
    FromStatus,
    ToStatus,
    Actor,
    Reason,
    CreatedAt,
}
