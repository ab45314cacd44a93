use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The append-only audit log. No foreign key to organizations: the log outlives what it
/// describes.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLogs::Table)
                    .col(pk_uuid(AuditLogs::Id))
                    .col(uuid(AuditLogs::OrganizationId))
                    .col(string_len(AuditLogs::Actor, 128))
                    .col(string_len(AuditLogs::Action, 64))
                    .col(string_len(AuditLogs::Entity, 64))
                    .col(string_len(AuditLogs::EntityId, 64))
                    .col(json_binary(AuditLogs::Changes))
                    .col(string_len_null(AuditLogs::RequestId, 128))
                    .col(timestamp_with_time_zone(AuditLogs::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_logs_organization_id")
                    .table(AuditLogs::Table)
                    .col(AuditLogs::OrganizationId)
                    .col(AuditLogs::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLogs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditLogs {
    Table,
    Id,
    OrganizationId,
    Actor,
    Action,
    Entity,
    EntityId,
    Changes,
    RequestId,
    CreatedAt,
}
