//! API keys for agents and for users: `agent_api_keys` becomes `api_keys`, whose rows belong to
//! exactly one of an agent (`agent_id`) or a user (`user_id`, a service account or a person's
//! personal access token), with the permissions the key is limited to (`scopes`, a JSON array
//! of codes, NULL for all of its owner's) and an optional `expires_at`.
//!
//! One table rather than a second one for users' keys: a presented key names its organization
//! and id and nothing else, so with one table its lookup stays one query by primary key, and a
//! key id means one key. The check `ck_api_keys_one_owner` keeps each row to one owner; both
//! owners are referred to by `(organization_id, …)`, and a key goes with its owner.
//!
//! The table is new and the rows are copied into it (every agent key keeps its id, hash and
//! times, with no scopes and no expiry: it grants what it granted), because SQLite can change a
//! column's nullability only by rebuilding the table. `down` copies the agents' keys back; a key
//! the earlier table cannot express (one with scopes or an expiry) goes back revoked, so that
//! going down never widens a key, and users' keys, which it has no place for, are dropped.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::prelude::ChronoUtc;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        // SQLite too: a failed copy must leave the earlier table as it was.
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(api_keys_table()).await?;
        for index in api_keys_indexes() {
            manager.create_index(index).await?;
        }
        let shared = shared_columns();
        let mut select = Query::select().from(AgentApiKeys::Table).to_owned();
        for column in shared {
            select.column(Alias::new(column));
        }
        let mut copy = Query::insert()
            .into_table(ApiKeys::Table)
            .columns(shared.map(Alias::new))
            .to_owned();
        copy.select_from(select)
            .map_err(|e| DbErr::Migration(format!("copying the agents' keys: {e}")))?;
        manager.exec_stmt(copy).await?;
        manager
            .drop_table(Table::drop().table(AgentApiKeys::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(agent_api_keys_table()).await?;
        for index in agent_api_keys_indexes() {
            manager.create_index(index).await?;
        }
        let shared = shared_columns();
        let now = ChronoUtc::now();
        let mut select = Query::select().from(ApiKeys::Table).to_owned();
        for column in shared {
            if column == "revoked_at" {
                // Revoked now unless it can grant no more in the earlier table than it did.
                let unrestricted = Expr::col(ApiKeys::Scopes)
                    .is_null()
                    .and(Expr::col(ApiKeys::ExpiresAt).is_null());
                select.expr(
                    Expr::case(unrestricted, Expr::col(ApiKeys::RevokedAt)).finally(
                        Func::coalesce([Expr::col(ApiKeys::RevokedAt), Expr::val(now)]),
                    ),
                );
            } else {
                select.column(Alias::new(column));
            }
        }
        select.and_where(Expr::col(ApiKeys::AgentId).is_not_null());
        let mut copy = Query::insert()
            .into_table(AgentApiKeys::Table)
            .columns(shared.map(Alias::new))
            .to_owned();
        copy.select_from(select)
            .map_err(|e| DbErr::Migration(format!("copying the agents' keys back: {e}")))?;
        manager.exec_stmt(copy).await?;
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await
    }
}

/// The columns both tables have, in `agent_api_keys`' order.
fn shared_columns() -> [&'static str; 9] {
    [
        "organization_id",
        "id",
        "agent_id",
        "name",
        "key_hash",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
}

fn api_keys_table() -> TableCreateStatement {
    let agent_only = Expr::col(ApiKeys::AgentId)
        .is_not_null()
        .and(Expr::col(ApiKeys::UserId).is_null());
    let user_only = Expr::col(ApiKeys::AgentId)
        .is_null()
        .and(Expr::col(ApiKeys::UserId).is_not_null());
    Table::create()
        .table(ApiKeys::Table)
        .col(uuid(ApiKeys::OrganizationId))
        .col(uuid(ApiKeys::Id))
        .col(uuid_null(ApiKeys::AgentId))
        .col(uuid_null(ApiKeys::UserId))
        .col(string_len(ApiKeys::Name, 200))
        .col(string_len(ApiKeys::KeyHash, 64))
        .col(json_binary_null(ApiKeys::Scopes))
        .col(string_len(ApiKeys::CreatedBy, 100))
        .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
        .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
        .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
        .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
        .primary_key(
            Index::create()
                .name("pk_api_keys")
                .col(ApiKeys::OrganizationId)
                .col(ApiKeys::Id),
        )
        .check(Check::named(
            "ck_api_keys_one_owner",
            agent_only.or(user_only),
        ))
        .foreign_key(
            ForeignKey::create()
                .name("fk_api_keys_organization")
                .from(ApiKeys::Table, ApiKeys::OrganizationId)
                .to(Organizations::Table, Organizations::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_api_keys_agent")
                .from(ApiKeys::Table, (ApiKeys::OrganizationId, ApiKeys::AgentId))
                .to(Agents::Table, (Agents::OrganizationId, Agents::Id))
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_api_keys_user")
                .from(ApiKeys::Table, (ApiKeys::OrganizationId, ApiKeys::UserId))
                .to(Users::Table, (Users::OrganizationId, Users::Id))
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn api_keys_indexes() -> [IndexCreateStatement; 3] {
    [
        Index::create()
            .name("idx_api_keys_organization_hash")
            .table(ApiKeys::Table)
            .col(ApiKeys::OrganizationId)
            .col(ApiKeys::KeyHash)
            .unique()
            .to_owned(),
        Index::create()
            .name("idx_api_keys_organization_agent")
            .table(ApiKeys::Table)
            .col(ApiKeys::OrganizationId)
            .col(ApiKeys::AgentId)
            .col(ApiKeys::Id)
            .to_owned(),
        Index::create()
            .name("idx_api_keys_organization_user")
            .table(ApiKeys::Table)
            .col(ApiKeys::OrganizationId)
            .col(ApiKeys::UserId)
            .col(ApiKeys::Id)
            .to_owned(),
    ]
}

/// `agent_api_keys` as migration 000015 created it.
fn agent_api_keys_table() -> TableCreateStatement {
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
        .to_owned()
}

fn agent_api_keys_indexes() -> [IndexCreateStatement; 2] {
    [
        Index::create()
            .name("idx_agent_api_keys_organization_hash")
            .table(AgentApiKeys::Table)
            .col(AgentApiKeys::OrganizationId)
            .col(AgentApiKeys::KeyHash)
            .unique()
            .to_owned(),
        Index::create()
            .name("idx_agent_api_keys_organization_agent")
            .table(AgentApiKeys::Table)
            .col(AgentApiKeys::OrganizationId)
            .col(AgentApiKeys::AgentId)
            .col(AgentApiKeys::Id)
            .to_owned(),
    ]
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    OrganizationId,
    Id,
    AgentId,
    UserId,
    Name,
    KeyHash,
    Scopes,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
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

#[derive(DeriveIden)]
enum Users {
    Table,
    OrganizationId,
    Id,
}
