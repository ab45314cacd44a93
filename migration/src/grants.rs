//! Granting new permissions to the system roles, for the migrations that introduce them.
//!
//! Frozen like a landed migration: migrations call it, so its behaviour never changes. A
//! different behaviour would be a new function.

use sea_orm_migration::prelude::*;

/// Inserts each permission code of `grants` and grants it to the named system roles.
pub(crate) async fn grant(
    manager: &SchemaManager<'_>,
    grants: &[(&str, &[&str])],
) -> Result<(), DbErr> {
    let codes = codes(grants);
    let mut permissions = Query::insert()
        .into_table(Permissions::Table)
        .columns([Permissions::Code])
        .to_owned();
    for code in &codes {
        permissions.values_panic([(*code).into()]);
    }
    manager.exec_stmt(permissions).await?;
    for (role, granted) in grants {
        for code in *granted {
            // INSERT INTO role_permissions SELECT id, '<code>' FROM roles WHERE system role.
            let select = Query::select()
                .column(Roles::Id)
                .expr(Expr::val(*code))
                .from(Roles::Table)
                .and_where(Expr::col(Roles::Code).eq(*role))
                .and_where(Expr::col(Roles::IsSystem).eq(true))
                .to_owned();
            let insert = Query::insert()
                .into_table(RolePermissions::Table)
                .columns([RolePermissions::RoleId, RolePermissions::PermissionCode])
                .select_from(select)
                .map_err(|e| DbErr::Migration(e.to_string()))?
                .to_owned();
            manager.exec_stmt(insert).await?;
        }
    }
    Ok(())
}

/// Removes the permission codes of `grants`; their grants go with them (ON DELETE CASCADE).
pub(crate) async fn revoke(
    manager: &SchemaManager<'_>,
    grants: &[(&str, &[&str])],
) -> Result<(), DbErr> {
    manager
        .exec_stmt(
            Query::delete()
                .from_table(Permissions::Table)
                .and_where(Expr::col(Permissions::Code).is_in(codes(grants)))
                .to_owned(),
        )
        .await
}

fn codes<'a>(grants: &[(&str, &[&'a str])]) -> Vec<&'a str> {
    let mut codes: Vec<&str> = grants
        .iter()
        .flat_map(|(_, codes)| codes.iter().copied())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes
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
    Code,
    IsSystem,
}

#[derive(DeriveIden)]
enum RolePermissions {
    Table,
    RoleId,
    PermissionCode,
}
