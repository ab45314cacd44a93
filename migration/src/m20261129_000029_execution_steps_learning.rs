//! The step log of workflow executions (`execution_steps`), learning records
//! (`learning_records`), and the permissions that reach them, the analytics and the database's
//! own figures.
//!
//! A step entry belongs to its execution (a composite foreign key, so it cannot name another
//! organization's) and goes with it. A learning record's pattern is indexed in byte order
//! (PostgreSQL: `COLLATE "C"`, SQLite's default), so that an exact pattern and a prefix are
//! both a range of one index; its context is indexed for `@>` on PostgreSQL (GIN,
//! `jsonb_path_ops`). A score is kept as whole millionths from 0 to 1,000,000.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::grants;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The new permissions and the system roles granted them.
const GRANTS: [(&str, &[&str]); 5] = [
    (
        "owner",
        &[
            "steps:write",
            "learning:read",
            "learning:write",
            "analytics:read",
            "system:read",
        ],
    ),
    (
        "admin",
        &[
            "steps:write",
            "learning:read",
            "learning:write",
            "analytics:read",
            "system:read",
        ],
    ),
    (
        "developer",
        &[
            "steps:write",
            "learning:read",
            "learning:write",
            "analytics:read",
        ],
    ),
    ("viewer", &["learning:read", "analytics:read"]),
    ("agent", &["steps:write", "learning:read", "learning:write"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_execution_steps(manager).await?;
        create_learning_records(manager).await?;
        grants::grant(manager, &GRANTS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        grants::revoke(manager, &GRANTS).await?;
        manager
            .drop_table(Table::drop().table(LearningRecords::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ExecutionSteps::Table).to_owned())
            .await
    }
}

async fn create_execution_steps(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let not_negative = |column: ExecutionSteps| Expr::col(column).gte(0);
    manager
        .create_table(
            Table::create()
                .table(ExecutionSteps::Table)
                .col(uuid(ExecutionSteps::OrganizationId))
                .col(uuid(ExecutionSteps::Id))
                .col(uuid(ExecutionSteps::ExecutionId))
                .col(string_len(ExecutionSteps::Step, 100))
                .col(string_len(ExecutionSteps::Operation, 200))
                .col(big_integer(ExecutionSteps::InputBytes))
                .col(big_integer(ExecutionSteps::OutputBytes))
                .col(string_len(ExecutionSteps::Outcome, 16))
                .col(timestamp_with_time_zone(ExecutionSteps::StartedAt))
                .col(timestamp_with_time_zone(ExecutionSteps::FinishedAt))
                .col(big_integer(ExecutionSteps::DurationMs))
                .col(string_len(ExecutionSteps::RecordedBy, 100))
                .col(timestamp_with_time_zone(ExecutionSteps::CreatedAt))
                .check((
                    Alias::new("ck_execution_steps_outcome"),
                    Expr::col(ExecutionSteps::Outcome).is_in(["succeeded", "failed", "skipped"]),
                ))
                .check((
                    Alias::new("ck_execution_steps_sizes"),
                    not_negative(ExecutionSteps::InputBytes)
                        .and(not_negative(ExecutionSteps::OutputBytes))
                        .and(not_negative(ExecutionSteps::DurationMs)),
                ))
                .check((
                    Alias::new("ck_execution_steps_timing"),
                    Expr::col(ExecutionSteps::FinishedAt).gte(Expr::col(ExecutionSteps::StartedAt)),
                ))
                .primary_key(
                    Index::create()
                        .name("pk_execution_steps")
                        .col(ExecutionSteps::OrganizationId)
                        .col(ExecutionSteps::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_execution_steps_organization")
                        .from(ExecutionSteps::Table, ExecutionSteps::OrganizationId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_execution_steps_execution")
                        .from(
                            ExecutionSteps::Table,
                            (ExecutionSteps::OrganizationId, ExecutionSteps::ExecutionId),
                        )
                        .to(
                            WorkflowExecutions::Table,
                            (WorkflowExecutions::OrganizationId, WorkflowExecutions::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    // An execution's log in order; also what the foreign key's cascade looks rows up by.
    manager
        .create_index(
            Index::create()
                .name("idx_execution_steps_organization_execution_id")
                .table(ExecutionSteps::Table)
                .col(ExecutionSteps::OrganizationId)
                .col(ExecutionSteps::ExecutionId)
                .col(ExecutionSteps::Id)
                .to_owned(),
        )
        .await
}

async fn create_learning_records(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(LearningRecords::Table)
                .col(uuid(LearningRecords::OrganizationId))
                .col(uuid(LearningRecords::Id))
                .col(string_len(LearningRecords::Pattern, 200))
                .col(json_binary(LearningRecords::Context))
                .col(string_len(LearningRecords::Outcome, 16))
                .col(big_integer(LearningRecords::ScoreMillionths))
                .col(string_len(LearningRecords::CreatedBy, 100))
                .col(timestamp_with_time_zone(LearningRecords::CreatedAt))
                .check((
                    Alias::new("ck_learning_records_outcome"),
                    Expr::col(LearningRecords::Outcome).is_in(["success", "partial", "failure"]),
                ))
                .check((
                    Alias::new("ck_learning_records_score"),
                    Expr::col(LearningRecords::ScoreMillionths).between(0, 1_000_000),
                ))
                .primary_key(
                    Index::create()
                        .name("pk_learning_records")
                        .col(LearningRecords::OrganizationId)
                        .col(LearningRecords::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_learning_records_organization")
                        .from(LearningRecords::Table, LearningRecords::OrganizationId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    // The best first: `score_millionths DESC, id` is the order of that sort.
    manager
        .create_index(
            Index::create()
                .name("idx_learning_records_organization_score")
                .table(LearningRecords::Table)
                .col(LearningRecords::OrganizationId)
                .col((LearningRecords::ScoreMillionths, IndexOrder::Desc))
                .col(LearningRecords::Id)
                .to_owned(),
        )
        .await?;
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_unprepared(
                "CREATE INDEX idx_learning_records_organization_pattern ON learning_records \
                 (organization_id, pattern COLLATE \"C\", id)",
            )
            .await?;
            db.execute_unprepared(
                "CREATE INDEX idx_learning_records_context ON learning_records \
                 USING GIN (context jsonb_path_ops)",
            )
            .await?;
        }
        _ => {
            // SQLite compares text bytewise unless told otherwise.
            db.execute_unprepared(
                "CREATE INDEX idx_learning_records_organization_pattern ON learning_records \
                 (organization_id, pattern, id)",
            )
            .await?;
        }
    }
    Ok(())
}

#[derive(DeriveIden)]
enum ExecutionSteps {
    Table,
    OrganizationId,
    Id,
    ExecutionId,
    Step,
    Operation,
    InputBytes,
    OutputBytes,
    Outcome,
    StartedAt,
    FinishedAt,
    DurationMs,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LearningRecords {
    Table,
    OrganizationId,
    Id,
    Pattern,
    Context,
    Outcome,
    ScoreMillionths,
    CreatedBy,
    CreatedAt,
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
