//! Sessions that can be listed and revoked, and access tokens that stop at once.
//!
//! - `users.access_version`: raised whenever what a user's access tokens grant shrinks
//!   (deactivation, a role taken away, a role's permissions cut). A token carries the version
//!   it was signed with; the server refuses one whose version is no longer the user's.
//! - A session is now one row for the life of a login: a refresh rewrites its token hash in
//!   place (`refreshed_at`, `client_address` of the last use, `user_agent` of the login), and
//!   the hash it replaces goes to `session_retired_tokens`. A retired token offered again means
//!   the token was stolen: the whole session is revoked (`revoked_reason`).
//!
//! Sessions rotated before this migration stay as they were: one revoked row per rotation,
//! with no retired tokens. `down` drops the table and the columns.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(big_integer(Users::AccessVersion).default(0))
                    .to_owned(),
            )
            .await?;
        for column in [
            timestamp_with_time_zone_null(Sessions::RefreshedAt),
            string_len_null(Sessions::ClientAddress, 64),
            string_len_null(Sessions::UserAgent, 512),
            string_len_null(Sessions::RevokedReason, 64),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(SessionRetiredTokens::Table)
                    .col(uuid(SessionRetiredTokens::OrganizationId))
                    .col(string_len(SessionRetiredTokens::TokenHash, 64))
                    .col(uuid(SessionRetiredTokens::SessionId))
                    .col(timestamp_with_time_zone(SessionRetiredTokens::RetiredAt))
                    .primary_key(
                        Index::create()
                            .name("pk_session_retired_tokens")
                            .col(SessionRetiredTokens::OrganizationId)
                            .col(SessionRetiredTokens::TokenHash),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_retired_tokens_session")
                            .from(
                                SessionRetiredTokens::Table,
                                (
                                    SessionRetiredTokens::OrganizationId,
                                    SessionRetiredTokens::SessionId,
                                ),
                            )
                            .to(Sessions::Table, (Sessions::OrganizationId, Sessions::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A replayed token names no tenant, like a live one: look it up by hash alone.
        manager
            .create_index(
                Index::create()
                    .name("idx_session_retired_tokens_hash")
                    .table(SessionRetiredTokens::Table)
                    .col(SessionRetiredTokens::TokenHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_session_retired_tokens_session")
                    .table(SessionRetiredTokens::Table)
                    .col(SessionRetiredTokens::OrganizationId)
                    .col(SessionRetiredTokens::SessionId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SessionRetiredTokens::Table).to_owned())
            .await?;
        for column in [
            Sessions::RevokedReason,
            Sessions::UserAgent,
            Sessions::ClientAddress,
            Sessions::RefreshedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::AccessVersion)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    AccessVersion,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    OrganizationId,
    Id,
    RefreshedAt,
    ClientAddress,
    UserAgent,
    RevokedReason,
}

#[derive(DeriveIden)]
enum SessionRetiredTokens {
    Table,
    OrganizationId,
    TokenHash,
    SessionId,
    RetiredAt,
}
