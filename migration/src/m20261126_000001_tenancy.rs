use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use uuid::Uuid;

use crate::SYSTEM_ROLE_PERMISSIONS;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .col(pk_uuid(Organizations::Id))
                    .col(string_len_uniq(Organizations::Slug, 63))
                    .col(string_len(Organizations::Name, 200))
                    .col(json_binary(Organizations::Settings))
                    .col(timestamp_with_time_zone(Organizations::CreatedAt))
                    .col(timestamp_with_time_zone(Organizations::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(uuid(Users::OrganizationId))
                    .col(string_len_uniq(Users::Email, 254))
                    .col(string_len(Users::DisplayName, 200))
                    .col(string_len(Users::PasswordHash, 60))
                    .col(boolean(Users::Active))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_organization")
                    .table(Users::Table)
                    .col(Users::OrganizationId)
                    .col(Users::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Permissions::Table)
                    .col(string_len(Permissions::Code, 64).primary_key())
                    .to_owned(),
            )
            .await?;

        // `organization_id` is NULL for the system roles every organization shares.
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(pk_uuid(Roles::Id))
                    .col(uuid_null(Roles::OrganizationId))
                    .col(string_len(Roles::Code, 64))
                    .col(boolean(Roles::IsSystem))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Roles::Table, Roles::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_roles_organization_code")
                    .table(Roles::Table)
                    .col(Roles::OrganizationId)
                    .col(Roles::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RolePermissions::Table)
                    .col(uuid(RolePermissions::RoleId))
                    .col(string_len(RolePermissions::PermissionCode, 64))
                    .primary_key(
                        Index::create()
                            .col(RolePermissions::RoleId)
                            .col(RolePermissions::PermissionCode),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RolePermissions::Table, RolePermissions::RoleId)
                            .to(Roles::Table, Roles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RolePermissions::Table, RolePermissions::PermissionCode)
                            .to(Permissions::Table, Permissions::Code)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UserRoles::Table)
                    .col(uuid(UserRoles::OrganizationId))
                    .col(uuid(UserRoles::UserId))
                    .col(uuid(UserRoles::RoleId))
                    .col(timestamp_with_time_zone(UserRoles::CreatedAt))
                    .primary_key(Index::create().col(UserRoles::UserId).col(UserRoles::RoleId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserRoles::Table, UserRoles::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserRoles::Table, UserRoles::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserRoles::Table, UserRoles::RoleId)
                            .to(Roles::Table, Roles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(uuid(Sessions::OrganizationId))
                    .col(uuid(Sessions::UserId))
                    .col(string_len_uniq(Sessions::RefreshTokenHash, 64))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_organization_user")
                    .table(Sessions::Table)
                    .col(Sessions::OrganizationId)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InstanceSettings::Table)
                    .col(string_len(InstanceSettings::Key, 128).primary_key())
                    .col(text(InstanceSettings::Value))
                    .col(timestamp_with_time_zone(InstanceSettings::CreatedAt))
                    .to_owned(),
            )
            .await?;

        seed_roles(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            InstanceSettings::Table.into_iden(),
            Sessions::Table.into_iden(),
            UserRoles::Table.into_iden(),
            RolePermissions::Table.into_iden(),
            Roles::Table.into_iden(),
            Permissions::Table.into_iden(),
            Users::Table.into_iden(),
            Organizations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn seed_roles(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut codes: Vec<&str> = SYSTEM_ROLE_PERMISSIONS
        .iter()
        .flat_map(|(_, permissions)| permissions.iter().copied())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let mut permissions = Query::insert()
        .into_table(Permissions::Table)
        .columns([Permissions::Code])
        .to_owned();
    for code in codes {
        permissions.values_panic([code.into()]);
    }
    manager.exec_stmt(permissions).await?;

    for (role, granted) in SYSTEM_ROLE_PERMISSIONS {
        let role_id = Uuid::now_v7();
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(Roles::Table)
                    .columns([Roles::Id, Roles::OrganizationId, Roles::Code, Roles::IsSystem])
                    .values_panic([
                        role_id.into(),
                        Option::<Uuid>::None.into(),
                        role.into(),
                        true.into(),
                    ])
                    .to_owned(),
            )
            .await?;
        let mut grants = Query::insert()
            .into_table(RolePermissions::Table)
            .columns([RolePermissions::RoleId, RolePermissions::PermissionCode])
            .to_owned();
        for permission in granted {
            grants.values_panic([role_id.into(), (*permission).into()]);
        }
        manager.exec_stmt(grants).await?;
    }
    Ok(())
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Slug,
    Name,
    Settings,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    OrganizationId,
    Email,
    DisplayName,
    PasswordHash,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Permissions {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    OrganizationId,
    Code,
    IsSystem,
}

#[derive(DeriveIden)]
enum RolePermissions {
    Table,
    RoleId,
    PermissionCode,
}

#[derive(DeriveIden)]
enum UserRoles {
    Table,
    OrganizationId,
    UserId,
    RoleId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    OrganizationId,
    UserId,
    RefreshTokenHash,
    ExpiresAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InstanceSettings {
    Table,
    Key,
    Value,
    CreatedAt,
}
