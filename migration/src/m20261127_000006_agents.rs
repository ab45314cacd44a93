use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const KINDS: [&str; 3] = ["ai", "human", "bot"];
const STATUSES: [&str; 4] = ["active", "inactive", "busy", "offline"];

/// Agents: the workers of an organization, with their capabilities, status, heartbeat and
/// counters.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Agents::Table)
                    .col(uuid(Agents::OrganizationId))
                    .col(uuid(Agents::Id))
                    .col(string_len(Agents::Name, 200))
                    .col(string_len(Agents::NameKey, 800))
                    .col(string_len(Agents::Kind, 16).check(Expr::col(Agents::Kind).is_in(KINDS)))
                    .col(json_binary(Agents::Capabilities))
                    .col(
                        string_len(Agents::Status, 16)
                            .check(Expr::col(Agents::Status).is_in(STATUSES)),
                    )
                    .col(json_binary(Agents::Config))
                    .col(string_len_null(Agents::Model, 200))
                    .col(string_len_null(Agents::Provider, 200))
                    .col(timestamp_with_time_zone_null(Agents::LastHeartbeatAt))
                    .col(counter(Agents::TasksCompleted))
                    .col(counter(Agents::TasksFailed))
                    .col(counter(Agents::MessagesSent))
                    .col(counter(Agents::TotalTaskMillis))
                    .col(timestamp_with_time_zone(Agents::CreatedAt))
                    .col(timestamp_with_time_zone(Agents::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_agents")
                            .col(Agents::OrganizationId)
                            .col(Agents::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agents_organization")
                            .from(Agents::Table, Agents::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_agents_organization_name_key")
                    .table(Agents::Table)
                    .col(Agents::OrganizationId)
                    .col(Agents::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Lists by status (which agents are active) in id order.
        manager
            .create_index(
                Index::create()
                    .name("idx_agents_organization_status_id")
                    .table(Agents::Table)
                    .col(Agents::OrganizationId)
                    .col(Agents::Status)
                    .col(Agents::Id)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            // Finding agents by capability: `capabilities @> '["rust"]'`.
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE INDEX idx_agents_capabilities ON agents USING GIN (capabilities)",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Agents::Table).to_owned())
            .await
    }
}

/// A non-negative 64-bit counter starting at zero.
fn counter(column: Agents) -> ColumnDef {
    big_integer(column)
        .default(0)
        .check(Expr::col(column).gte(0))
        .to_owned()
}

#[derive(DeriveIden, Clone, Copy)]
enum Agents {
    Table,
    OrganizationId,
    Id,
    Name,
    NameKey,
    Kind,
    Capabilities,
    Status,
    Config,
    Model,
    Provider,
    LastHeartbeatAt,
    TasksCompleted,
    TasksFailed,
    MessagesSent,
    TotalTaskMillis,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}
