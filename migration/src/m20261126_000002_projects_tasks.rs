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
                    .table(Projects::Table)
                    .col(pk_uuid(Projects::Id))
                    .col(uuid(Projects::OrganizationId))
                    .col(string_len(Projects::Name, 200))
                    .col(text(Projects::Description))
                    .col(string_len_null(Projects::RepositoryUrl, 2048))
                    .col(json_binary(Projects::Tags))
                    .col(json_binary(Projects::Settings))
                    .col(timestamp_with_time_zone(Projects::CreatedAt))
                    .col(timestamp_with_time_zone(Projects::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Projects::Table, Projects::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_projects_organization_name")
                    .table(Projects::Table)
                    .col(Projects::OrganizationId)
                    .col(Projects::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Unique so that tasks can refer to (organization, project): the schema itself keeps a
        // task in its project's organization.
        manager
            .create_index(
                Index::create()
                    .name("idx_projects_organization_id")
                    .table(Projects::Table)
                    .col(Projects::OrganizationId)
                    .col(Projects::Id)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .col(pk_uuid(Tasks::Id))
                    .col(uuid(Tasks::OrganizationId))
                    .col(uuid(Tasks::ProjectId))
                    .col(string_len(Tasks::Title, 2000))
                    .col(text(Tasks::Description))
                    .col(string_len(Tasks::Status, 16))
                    .col(integer(Tasks::Priority))
                    .col(json_binary(Tasks::Payload))
                    .col(json_binary(Tasks::RequiredCapabilities))
                    .col(json_binary(Tasks::Metadata))
                    .col(timestamp_with_time_zone(Tasks::CreatedAt))
                    .col(timestamp_with_time_zone(Tasks::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tasks::Table, Tasks::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tasks::Table, (Tasks::OrganizationId, Tasks::ProjectId))
                            .to(Projects::Table, (Projects::OrganizationId, Projects::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Listing by organization (and project / status) in id order, the keyset of every page.
        for (name, columns) in [
            (
                "idx_tasks_organization_id",
                vec![Tasks::OrganizationId, Tasks::Id],
            ),
            (
                "idx_tasks_organization_project_id",
                vec![Tasks::OrganizationId, Tasks::ProjectId, Tasks::Id],
            ),
            (
                "idx_tasks_organization_status_id",
                vec![Tasks::OrganizationId, Tasks::Status, Tasks::Id],
            ),
        ] {
            let mut index = Index::create().name(name).table(Tasks::Table).to_owned();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index).await?;
        }
        // `sort=-priority`: highest priority first, then oldest.
        manager
            .create_index(
                Index::create()
                    .name("idx_tasks_organization_priority_id")
                    .table(Tasks::Table)
                    .col(Tasks::OrganizationId)
                    .col((Tasks::Priority, IndexOrder::Desc))
                    .col(Tasks::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Tasks::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Projects::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
    OrganizationId,
    Name,
    Description,
    RepositoryUrl,
    Tags,
    Settings,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
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
}
