//! API keys for agents: a worker authenticates as its agent with a key (`osk_…`) that was shown
//! once and is kept only as a SHA-256 hash (a key is 256 random bits, so a fast hash is safe and
//! lets each request check it cheaply).
//!
//! A key names its organization and its id, so it is found by the primary key; the hash is
//! unique per organization. A key goes with its agent. Revocation keeps the row (`revoked_at`),
//! so the audit trail can still name the key.

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
                    .table(AgentApiKeys::Table)
                    .col(uuid(AgentApiKeys::OrganizationId))
                    .col(uuid(AgentApiKeys::Id))
                    .col(uuid(AgentApiKeys::AgentId))
                    .col(string_len(AgentApiKeys::Name, 200))
                    .col(string_len(AgentApiKeys::KeyHash, 64))
                    .col(string_len(AgentApiKeys::CreatedBy, 100))
                    .col(timestamp_with_time_zone(AgentApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(AgentApiKeys::LastUsedAt))
                    .col(timestamp_with_time_zone_null(AgentApiKeys::RevokedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_agent_api_keys")
                            .col(AgentApiKeys::OrganizationId)
                            .col(AgentApiKeys::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_api_keys_organization")
                            .from(AgentApiKeys::Table, AgentApiKeys::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_api_keys_agent")
                            .from(
                                AgentApiKeys::Table,
                                (AgentApiKeys::OrganizationId, AgentApiKeys::AgentId),
                            )
                            .to(Agents::Table, (Agents::OrganizationId, Agents::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_agent_api_keys_organization_hash")
                    .table(AgentApiKeys::Table)
                    .col(AgentApiKeys::OrganizationId)
                    .col(AgentApiKeys::KeyHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_agent_api_keys_organization_agent")
                    .table(AgentApiKeys::Table)
                    .col(AgentApiKeys::OrganizationId)
                    .col(AgentApiKeys::AgentId)
                    .col(AgentApiKeys::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AgentApiKeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AgentApiKeys {
    Table,
    OrganizationId,
    Id,
    AgentId,
    Name,
    KeyHash,
    CreatedBy,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    OrganizationId,
    Id,
}
