//! Invitations: a one-time token by which one person joins an organization as a user with the
//! e-mail address and the roles the inviter chose.
//!
//! - `invitations`: the token's SHA-256 (`token_hash`; the token is 256 random bits, so a fast
//!   hash is safe), unique per organization and indexed alone too (`idx_invitations_token`),
//!   since a token names no organization and is looked up before one is known, as a refresh
//!   token is. It is pending until `accepted_at` (with the user it made, `accepted_user_id`,
//!   which `ck_invitations_accepted` keeps together), `revoked_at`, or `expires_at`. Rows stay
//!   after acceptance and revocation, so that the audit trail can still name them.
//! - `invitation_roles`: the roles to grant, referred to as `user_roles` refers to them, by
//!   `(role_scope, role_id) → roles (scope, id)` with the check that the scope is the row's
//!   organization or the system scope, so that no invitation can name another organization's
//!   custom role. A custom role deleted before acceptance leaves the invitations that offered
//!   it (`ON DELETE CASCADE`): the invited person gets the others.
//!
//! `down` drops both tables.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `ck_invitation_roles_role_scope`: the organization's own role or a system role, whose scope
/// is the nil UUID — a `uuid` literal on PostgreSQL, and on SQLite the 16 bytes SQLx binds a
/// `Uuid` as.
fn role_scope_check(backend: DatabaseBackend) -> String {
    let system = match backend {
        DatabaseBackend::Sqlite => "X'00000000000000000000000000000000'",
        _ => "'00000000-0000-0000-0000-000000000000'::uuid",
    };
    format!("role_scope = organization_id OR role_scope = {system}")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .col(uuid(Invitations::OrganizationId))
                    .col(uuid(Invitations::Id))
                    .col(string_len(Invitations::Email, 254))
                    .col(string_len(Invitations::TokenHash, 64))
                    .col(string_len(Invitations::InvitedBy, 100))
                    .col(timestamp_with_time_zone(Invitations::CreatedAt))
                    .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                    .col(uuid_null(Invitations::AcceptedUserId))
                    .col(timestamp_with_time_zone_null(Invitations::RevokedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_invitations")
                            .col(Invitations::OrganizationId)
                            .col(Invitations::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_invitations_organization")
                            .from(Invitations::Table, Invitations::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_invitations_accepted_user")
                            .from(
                                Invitations::Table,
                                (Invitations::OrganizationId, Invitations::AcceptedUserId),
                            )
                            .to(Users::Table, (Users::OrganizationId, Users::Id)),
                    )
                    .check((
                        "ck_invitations_accepted",
                        Expr::cust(
                            "(accepted_at IS NULL AND accepted_user_id IS NULL) OR \
                             (accepted_at IS NOT NULL AND accepted_user_id IS NOT NULL)",
                        ),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_invitations_organization_token")
                    .table(Invitations::Table)
                    .col(Invitations::OrganizationId)
                    .col(Invitations::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // A presented token names no tenant: it is looked up by its hash alone.
        manager
            .create_index(
                Index::create()
                    .name("idx_invitations_token")
                    .table(Invitations::Table)
                    .col(Invitations::TokenHash)
                    .to_owned(),
            )
            .await?;

        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(InvitationRoles::Table)
                    .col(uuid(InvitationRoles::OrganizationId))
                    .col(uuid(InvitationRoles::InvitationId))
                    .col(uuid(InvitationRoles::RoleId))
                    .col(uuid(InvitationRoles::RoleScope))
                    .primary_key(
                        Index::create()
                            .name("pk_invitation_roles")
                            .col(InvitationRoles::OrganizationId)
                            .col(InvitationRoles::InvitationId)
                            .col(InvitationRoles::RoleId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_invitation_roles_organization")
                            .from(InvitationRoles::Table, InvitationRoles::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_invitation_roles_invitation")
                            .from(
                                InvitationRoles::Table,
                                (
                                    InvitationRoles::OrganizationId,
                                    InvitationRoles::InvitationId,
                                ),
                            )
                            .to(
                                Invitations::Table,
                                (Invitations::OrganizationId, Invitations::Id),
                            )
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_invitation_roles_role")
                            .from(
                                InvitationRoles::Table,
                                (InvitationRoles::RoleScope, InvitationRoles::RoleId),
                            )
                            .to(Roles::Table, (Roles::Scope, Roles::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check((
                        "ck_invitation_roles_role_scope",
                        Expr::cust(role_scope_check(backend)),
                    ))
                    .to_owned(),
            )
            .await?;
        // Deleting a role finds the invitations that offer it.
        manager
            .create_index(
                Index::create()
                    .name("idx_invitation_roles_role")
                    .table(InvitationRoles::Table)
                    .col(InvitationRoles::RoleId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InvitationRoles::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Invitations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    OrganizationId,
    Id,
    Email,
    TokenHash,
    InvitedBy,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
    AcceptedUserId,
    RevokedAt,
}

#[derive(DeriveIden)]
enum InvitationRoles {
    Table,
    OrganizationId,
    InvitationId,
    RoleId,
    RoleScope,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    OrganizationId,
    Id,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Scope,
    Id,
}
