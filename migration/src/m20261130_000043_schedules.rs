use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Schedules (`schedules`): a cron pattern in an IANA time zone that enqueues a task or starts
/// a workflow execution at each occurrence. `next_run_at` is the occurrence due next: firing
/// moves it with a compare-and-set on its old value, so each occurrence fires once whatever
/// the number of servers. Its project and workflow are foreign keys in the organization, and a
/// schedule goes with them. The due schedules are found through partial indexes on the enabled
/// ones: by organization (its sweep) and by instant (which organizations have one due).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Schedules::Table)
                    .col(uuid(Schedules::OrganizationId))
                    .col(uuid(Schedules::Id))
                    .col(string_len(Schedules::Name, 200))
                    .col(text(Schedules::NameKey))
                    .col(string_len(Schedules::Cron, 200))
                    .col(string_len(Schedules::TimeZone, 64))
                    .col(
                        string_len(Schedules::MisfirePolicy, 16).check(
                            Expr::col(Schedules::MisfirePolicy).is_in(["skip", "catch_up_one"]),
                        ),
                    )
                    .col(
                        string_len(Schedules::TargetKind, 16)
                            .check(Expr::col(Schedules::TargetKind).is_in(["task", "workflow"])),
                    )
                    .col(uuid(Schedules::ProjectId))
                    .col(uuid_null(Schedules::WorkflowId))
                    .col(json_binary(Schedules::Target))
                    .col(boolean(Schedules::Enabled))
                    .col(timestamp_with_time_zone_null(Schedules::NextRunAt))
                    .col(timestamp_with_time_zone_null(Schedules::LastRunAt))
                    .col(json_binary_null(Schedules::LastOutcome))
                    .col(timestamp_with_time_zone(Schedules::CreatedAt))
                    .col(timestamp_with_time_zone(Schedules::UpdatedAt))
                    // A workflow target names its workflow; a task target none.
                    .check((
                        Alias::new("ck_schedules_workflow"),
                        Expr::col(Schedules::TargetKind)
                            .eq("workflow")
                            .eq(Expr::col(Schedules::WorkflowId).is_not_null()),
                    ))
                    // A paused schedule has no occurrence due.
                    .check((
                        Alias::new("ck_schedules_paused"),
                        Expr::col(Schedules::Enabled)
                            .eq(true)
                            .or(Expr::col(Schedules::NextRunAt).is_null()),
                    ))
                    .primary_key(
                        Index::create()
                            .name("pk_schedules")
                            .col(Schedules::OrganizationId)
                            .col(Schedules::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_schedules_organization")
                            .from(Schedules::Table, Schedules::OrganizationId)
                            .to(Parent::Organizations, Parent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_schedules_project")
                            .from(
                                Schedules::Table,
                                (Schedules::OrganizationId, Schedules::ProjectId),
                            )
                            .to(Parent::Projects, (Parent::OrganizationId, Parent::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_schedules_workflow")
                            .from(
                                Schedules::Table,
                                (Schedules::OrganizationId, Schedules::WorkflowId),
                            )
                            .to(Parent::Workflows, (Parent::OrganizationId, Parent::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_schedules_name_key")
                    .table(Schedules::Table)
                    .col(Schedules::OrganizationId)
                    .col(Schedules::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_schedules_due",
                vec![Schedules::OrganizationId, Schedules::NextRunAt],
            ),
            ("idx_schedules_next_run_at", vec![Schedules::NextRunAt]),
        ] {
            let mut index = Index::create();
            index
                .name(name)
                .table(Schedules::Table)
                .and_where(Expr::col(Schedules::Enabled).eq(true));
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        // The foreign keys' own indexes, so that deleting a project or workflow finds its
        // schedules without a scan.
        for (name, column) in [
            ("idx_schedules_project", Schedules::ProjectId),
            ("idx_schedules_workflow", Schedules::WorkflowId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Schedules::Table)
                        .col(Schedules::OrganizationId)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Schedules::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Schedules {
    Table,
    OrganizationId,
    Id,
    Name,
    NameKey,
    Cron,
    TimeZone,
    MisfirePolicy,
    TargetKind,
    ProjectId,
    WorkflowId,
    Target,
    Enabled,
    NextRunAt,
    LastRunAt,
    LastOutcome,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Parent {
    Organizations,
    Projects,
    Workflows,
    OrganizationId,
    Id,
}
