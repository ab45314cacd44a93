use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATUSES: [&str; 5] = ["pending", "running", "succeeded", "failed", "cancelled"];
const FINAL_STATUSES: [&str; 3] = ["succeeded", "failed", "cancelled"];

/// What a refused UPDATE of `workflow_versions` says.
const IMMUTABLE: &str = "workflow versions are immutable: write a new version instead";

/// Workflows, their numbered immutable versions (a DAG of steps each) and their executions.
///
/// Deleting a workflow takes its versions with it (ON DELETE CASCADE); its executions hold it
/// back (NO ACTION, checked at the end of the statement so that deleting an organization,
/// which cascades to all three tables, still works). A version refuses every UPDATE: a
/// trigger on both backends.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Workflows::Table)
                    .col(uuid(Workflows::OrganizationId))
                    .col(uuid(Workflows::Id))
                    .col(string_len(Workflows::Name, 200))
                    .col(string_len(Workflows::NameKey, 800))
                    .col(text(Workflows::Description))
                    .col(
                        integer_null(Workflows::LatestVersion)
                            .check(Expr::col(Workflows::LatestVersion).gte(1)),
                    )
                    .col(timestamp_with_time_zone(Workflows::CreatedAt))
                    .col(timestamp_with_time_zone(Workflows::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_workflows")
                            .col(Workflows::OrganizationId)
                            .col(Workflows::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workflows_organization")
                            .from(Workflows::Table, Workflows::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_workflows_organization_name_key")
                    .table(Workflows::Table)
                    .col(Workflows::OrganizationId)
                    .col(Workflows::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WorkflowVersions::Table)
                    .col(uuid(WorkflowVersions::OrganizationId))
                    .col(uuid(WorkflowVersions::Id))
                    .col(uuid(WorkflowVersions::WorkflowId))
                    .col(
                        integer(WorkflowVersions::Version)
                            .check(Expr::col(WorkflowVersions::Version).gte(1)),
                    )
                    .col(json_binary(WorkflowVersions::Definition))
                    .col(timestamp_with_time_zone(WorkflowVersions::CreatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_workflow_versions")
                            .col(WorkflowVersions::OrganizationId)
                            .col(WorkflowVersions::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workflow_versions_organization")
                            .from(WorkflowVersions::Table, WorkflowVersions::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workflow_versions_workflow")
                            .from(
                                WorkflowVersions::Table,
                                (
                                    WorkflowVersions::OrganizationId,
                                    WorkflowVersions::WorkflowId,
                                ),
                            )
                            .to(Workflows::Table, (Workflows::OrganizationId, Workflows::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One number per version of a workflow; also serves the version lists and lookups.
        manager
            .create_index(
                Index::create()
                    .name("idx_workflow_versions_organization_workflow_version")
                    .table(WorkflowVersions::Table)
                    .col(WorkflowVersions::OrganizationId)
                    .col(WorkflowVersions::WorkflowId)
                    .col(WorkflowVersions::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;

        let status = || Expr::col(WorkflowExecutions::Status);
        let started_at = || Expr::col(WorkflowExecutions::StartedAt);
        let finished_at = || Expr::col(WorkflowExecutions::FinishedAt);
        manager
            .create_table(
                Table::create()
                    .table(WorkflowExecutions::Table)
                    .col(uuid(WorkflowExecutions::OrganizationId))
                    .col(uuid(WorkflowExecutions::Id))
                    .col(uuid(WorkflowExecutions::WorkflowId))
                    .col(uuid(WorkflowExecutions::VersionId))
                    .col(
                        integer(WorkflowExecutions::Version)
                            .check(Expr::col(WorkflowExecutions::Version).gte(1)),
                    )
                    .col(string_len(WorkflowExecutions::Status, 16).check(status().is_in(STATUSES)))
                    .col(json_binary(WorkflowExecutions::Input))
                    .col(json_binary_null(WorkflowExecutions::Output))
                    .col(json_binary_null(WorkflowExecutions::Error))
                    .col(timestamp_with_time_zone_null(WorkflowExecutions::StartedAt))
                    .col(timestamp_with_time_zone_null(
                        WorkflowExecutions::FinishedAt,
                    ))
                    .col(timestamp_with_time_zone(WorkflowExecutions::CreatedAt))
                    .col(timestamp_with_time_zone(WorkflowExecutions::UpdatedAt))
                    // An execution has started unless it is pending or was cancelled before
                    // starting; it has finished exactly when its status is final.
                    .check((
                        "ck_workflow_executions_started",
                        Condition::any()
                            .add(status().eq("pending").and(started_at().is_null()))
                            .add(status().eq("cancelled"))
                            .add(
                                status()
                                    .is_in(["running", "succeeded", "failed"])
                                    .and(started_at().is_not_null()),
                            ),
                    ))
                    .check((
                        "ck_workflow_executions_finished",
                        Condition::any()
                            .add(
                                status()
                                    .is_in(FINAL_STATUSES)
                                    .and(finished_at().is_not_null()),
                            )
                            .add(
                                status()
                                    .is_in(["pending", "running"])
                                    .and(finished_at().is_null()),
                            ),
                    ))
                    .primary_key(
                        Index::create()
                            .name("pk_workflow_executions")
                            .col(WorkflowExecutions::OrganizationId)
                            .col(WorkflowExecutions::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workflow_executions_organization")
                            .from(
                                WorkflowExecutions::Table,
                                WorkflowExecutions::OrganizationId,
                            )
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workflow_executions_workflow")
                            .from(
                                WorkflowExecutions::Table,
                                (
                                    WorkflowExecutions::OrganizationId,
                                    WorkflowExecutions::WorkflowId,
                                ),
                            )
                            .to(Workflows::Table, (Workflows::OrganizationId, Workflows::Id))
                            .on_delete(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workflow_executions_version")
                            .from(
                                WorkflowExecutions::Table,
                                (
                                    WorkflowExecutions::OrganizationId,
                                    WorkflowExecutions::VersionId,
                                ),
                            )
                            .to(
                                WorkflowVersions::Table,
                                (WorkflowVersions::OrganizationId, WorkflowVersions::Id),
                            )
                            .on_delete(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        // A workflow's executions in id order; also whether a workflow has any.
        manager
            .create_index(
                Index::create()
                    .name("idx_workflow_executions_organization_workflow_id")
                    .table(WorkflowExecutions::Table)
                    .col(WorkflowExecutions::OrganizationId)
                    .col(WorkflowExecutions::WorkflowId)
                    .col(WorkflowExecutions::Id)
                    .to_owned(),
            )
            .await?;
        // Executions by status (which are running) in id order.
        manager
            .create_index(
                Index::create()
                    .name("idx_workflow_executions_organization_status_id")
                    .table(WorkflowExecutions::Table)
                    .col(WorkflowExecutions::OrganizationId)
                    .col(WorkflowExecutions::Status)
                    .col(WorkflowExecutions::Id)
                    .to_owned(),
            )
            .await?;
        // The foreign key to a version is checked through the versions' primary key; this
        // index serves the reverse check when a version is deleted with its workflow.
        manager
            .create_index(
                Index::create()
                    .name("idx_workflow_executions_organization_version")
                    .table(WorkflowExecutions::Table)
                    .col(WorkflowExecutions::OrganizationId)
                    .col(WorkflowExecutions::VersionId)
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "CREATE FUNCTION workflow_versions_immutable() RETURNS trigger \
                     LANGUAGE plpgsql AS $$ BEGIN \
                     RAISE EXCEPTION '{IMMUTABLE}' USING ERRCODE = 'restrict_violation'; \
                     END $$"
                ))
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER workflow_versions_immutable BEFORE UPDATE ON \
                     workflow_versions FOR EACH ROW EXECUTE FUNCTION \
                     workflow_versions_immutable()",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER workflow_versions_immutable BEFORE UPDATE ON \
                     workflow_versions BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Children first; the trigger goes with its table.
        manager
            .drop_table(Table::drop().table(WorkflowExecutions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WorkflowVersions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Workflows::Table).to_owned())
            .await?;
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION workflow_versions_immutable()")
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Workflows {
    Table,
    OrganizationId,
    Id,
    Name,
    NameKey,
    Description,
    LatestVersion,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WorkflowVersions {
    Table,
    OrganizationId,
    Id,
    WorkflowId,
    Version,
    Definition,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WorkflowExecutions {
    Table,
    OrganizationId,
    Id,
    WorkflowId,
    VersionId,
    Version,
    Status,
    Input,
    Output,
    Error,
    StartedAt,
    FinishedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}
