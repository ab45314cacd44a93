use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const KINDS: [&str; 2] = ["task", "workflow"];

/// Templates (reusable task or workflow definitions with parameters) and their usage history.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Templates::Table)
                    .col(uuid(Templates::OrganizationId))
                    .col(uuid(Templates::Id))
                    .col(string_len(Templates::Name, 200))
                    .col(string_len(Templates::NameKey, 800))
                    .col(text(Templates::Description))
                    .col(
                        string_len(Templates::Kind, 16)
                            .check(Expr::col(Templates::Kind).is_in(KINDS)),
                    )
                    .col(json_binary(Templates::Parameters))
                    .col(json_binary(Templates::Body))
                    .col(
                        big_integer(Templates::UsageCount)
                            .default(0)
                            .check(Expr::col(Templates::UsageCount).gte(0)),
                    )
                    .col(timestamp_with_time_zone(Templates::CreatedAt))
                    .col(timestamp_with_time_zone(Templates::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_templates")
                            .col(Templates::OrganizationId)
                            .col(Templates::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_templates_organization")
                            .from(Templates::Table, Templates::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_templates_organization_name_key")
                    .table(Templates::Table)
                    .col(Templates::OrganizationId)
                    .col(Templates::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_templates_organization_kind_id")
                    .table(Templates::Table)
                    .col(Templates::OrganizationId)
                    .col(Templates::Kind)
                    .col(Templates::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TemplateUsages::Table)
                    .col(uuid(TemplateUsages::OrganizationId))
                    .col(uuid(TemplateUsages::Id))
                    .col(uuid(TemplateUsages::TemplateId))
                    .col(json_binary(TemplateUsages::Arguments))
                    .col(string_len(TemplateUsages::CreatedBy, 128))
                    .col(json_binary(TemplateUsages::CreatedEntities))
                    .col(timestamp_with_time_zone(TemplateUsages::CreatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_template_usages")
                            .col(TemplateUsages::OrganizationId)
                            .col(TemplateUsages::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_template_usages_organization")
                            .from(TemplateUsages::Table, TemplateUsages::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_template_usages_template")
                            .from(
                                TemplateUsages::Table,
                                (TemplateUsages::OrganizationId, TemplateUsages::TemplateId),
                            )
                            .to(Templates::Table, (Templates::OrganizationId, Templates::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_template_usages_organization_template_id")
                    .table(TemplateUsages::Table)
                    .col(TemplateUsages::OrganizationId)
                    .col(TemplateUsages::TemplateId)
                    .col(TemplateUsages::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TemplateUsages::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Templates::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Templates {
    Table,
    OrganizationId,
    Id,
    Name,
    NameKey,
    Description,
    Kind,
    Parameters,
    Body,
    UsageCount,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TemplateUsages {
    Table,
    OrganizationId,
    Id,
    TemplateId,
    Arguments,
    CreatedBy,
    CreatedEntities,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}
