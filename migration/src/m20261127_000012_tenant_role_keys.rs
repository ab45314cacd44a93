//! Tenant role keys: a user can hold only a system role or a custom role of their own
//! organization, and the schema, not only the repository, refuses anything else.
//!
//! `roles` is a reference table (the system roles are shared), so `user_roles` cannot refer to
//! it by `(organization_id, id)`: a system role has no organization. Each role gets a `scope`
//! instead: its organization for a custom role, the nil UUID for a system role
//! ([`SYSTEM_SCOPE`]), held by the check `ck_roles_scope` (a custom role's organization is
//! never the nil UUID, so the two cannot be mistaken), and unique with its id
//! (`idx_roles_scope_id`). `user_roles` gets `role_scope`, which the check
//! `ck_user_roles_role_scope` keeps to the row's organization or the system scope, and refers
//! to its role by `(role_scope, role_id) → roles (scope, id)` (`fk_user_roles_role`, which
//! replaces `role_id → roles (id)`, still `ON DELETE CASCADE`). Another organization's custom
//! role has neither scope, so no row can name it. Rows already there are backfilled; a row
//! that already names another organization's custom role stops the migration, naming it.
//!
//! A `match` on the backend (one each way: [`add_scopes`], [`drop_scopes`]) alters the tables
//! in place on PostgreSQL, and on SQLite, which can add neither a check nor a foreign key to
//! an existing table, rebuilds them as migration 000004 did: `roles` and the two tables that
//! refer to it (`role_permissions` unchanged), each created as `<table>_new`, the rows copied,
//! the old tables dropped children first (dropping `roles` first would cascade into them), then
//! renamed (which rewrites the references to `roles_new`), and their indexes created again
//! under their names. `down` restores the schema of migration 000011 with the rows.
//!
//! The whole migration runs in one transaction on both backends: it applies or it does not.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use uuid::Uuid;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The scope of every system role (frozen): the nil UUID, which no organization has.
const SYSTEM_SCOPE: Uuid = Uuid::nil();

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        // SQLite too: a failed rebuild must leave the earlier tables as they were.
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        refuse_roles_of_other_organizations(manager).await?;
        add_scopes(manager).await
    }

    /// The earlier schema holds every row of this one: nothing to refuse.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_scopes(manager).await
    }
}

/// [`SYSTEM_SCOPE`] as an SQL literal of the backend: a `uuid` on PostgreSQL, and on SQLite
/// the 16 bytes SQLx binds a `Uuid` as (a text literal would never equal them).
fn system_scope(backend: DatabaseBackend) -> String {
    match backend {
        DatabaseBackend::Sqlite => format!("X'{}'", SYSTEM_SCOPE.simple()),
        _ => format!("'{SYSTEM_SCOPE}'::uuid"),
    }
}

/// `ck_roles_scope`: a system role's scope is the system scope, a custom role's is its
/// organization, which is never the system scope.
fn roles_scope_check(backend: DatabaseBackend) -> String {
    let system = system_scope(backend);
    format!(
        "(organization_id IS NULL AND scope = {system}) OR \
         (organization_id IS NOT NULL AND scope = organization_id AND scope <> {system})"
    )
}

/// `ck_user_roles_role_scope`: a user's role is the organization's own or a system role.
fn user_roles_scope_check(backend: DatabaseBackend) -> String {
    format!(
        "role_scope = organization_id OR role_scope = {}",
        system_scope(backend)
    )
}

/// Refuses to go on when a user already holds another organization's custom role: the new
/// keys would refuse the row with a less helpful message.
async fn refuse_roles_of_other_organizations(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let select = Query::select()
        .expr_as(Func::count(Expr::col(Asterisk)), "n")
        .from(UserRoles::Table)
        .inner_join(
            Roles::Table,
            Expr::col((Roles::Table, Roles::Id)).equals((UserRoles::Table, UserRoles::RoleId)),
        )
        .and_where(Expr::col((Roles::Table, Roles::OrganizationId)).is_not_null())
        .and_where(
            Expr::col((Roles::Table, Roles::OrganizationId))
                .ne(Expr::col((UserRoles::Table, UserRoles::OrganizationId))),
        )
        .to_owned();
    let n: i64 = manager
        .get_connection()
        .query_one(&select)
        .await?
        .map(|row| row.try_get("", "n"))
        .transpose()?
        .ok_or_else(|| DbErr::Migration("a count returned no row".into()))?;
    if n > 0 {
        return Err(DbErr::Migration(format!(
            "cannot apply the tenant role keys: {n} row(s) of user_roles give a user a custom \
             role of another organization; delete them first"
        )));
    }
    Ok(())
}

/// Adds the scopes, their checks, the unique key and the scoped foreign key: in place on
/// PostgreSQL, by a rebuild on SQLite.
async fn add_scopes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    match manager.get_database_backend() {
        DatabaseBackend::Postgres => {
            let backend = DatabaseBackend::Postgres;
            let system = system_scope(backend);
            let statements = [
                "ALTER TABLE roles ADD COLUMN scope uuid".to_owned(),
                format!("UPDATE roles SET scope = COALESCE(organization_id, {system})"),
                format!(
                    "ALTER TABLE roles ALTER COLUMN scope SET NOT NULL, \
                     ADD CONSTRAINT ck_roles_scope CHECK ({})",
                    roles_scope_check(backend)
                ),
                "CREATE UNIQUE INDEX idx_roles_scope_id ON roles (scope, id)".to_owned(),
                "ALTER TABLE user_roles ADD COLUMN role_scope uuid".to_owned(),
                "UPDATE user_roles SET role_scope = \
                 (SELECT scope FROM roles WHERE roles.id = user_roles.role_id)"
                    .to_owned(),
                format!(
                    "ALTER TABLE user_roles ALTER COLUMN role_scope SET NOT NULL, \
                     ADD CONSTRAINT ck_user_roles_role_scope CHECK ({})",
                    user_roles_scope_check(backend)
                ),
                "ALTER TABLE user_roles DROP CONSTRAINT fk_user_roles_role".to_owned(),
                "ALTER TABLE user_roles ADD CONSTRAINT fk_user_roles_role \
                 FOREIGN KEY (role_scope, role_id) REFERENCES roles (scope, id) \
                 ON DELETE CASCADE"
                    .to_owned(),
            ];
            for sql in statements {
                manager.get_connection().execute_unprepared(&sql).await?;
            }
            Ok(())
        }
        _ => rebuild_sqlite(manager, Shape::Scoped).await,
    }
}

/// Removes what [`add_scopes`] added, keeping the rows, and restores the plain foreign key.
async fn drop_scopes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    match manager.get_database_backend() {
        DatabaseBackend::Postgres => {
            // The checks go with their columns.
            for sql in [
                "ALTER TABLE user_roles DROP CONSTRAINT fk_user_roles_role",
                "ALTER TABLE user_roles DROP COLUMN role_scope",
                "ALTER TABLE user_roles ADD CONSTRAINT fk_user_roles_role \
                 FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE CASCADE",
                "DROP INDEX idx_roles_scope_id",
                "ALTER TABLE roles DROP COLUMN scope",
            ] {
                manager.get_connection().execute_unprepared(sql).await?;
            }
            Ok(())
        }
        _ => rebuild_sqlite(manager, Shape::Earlier).await,
    }
}

/// Which shape a SQLite rebuild gives the tables.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Migration 000011's: `user_roles.role_id → roles (id)`.
    Earlier,
    /// This migration's: `scope` and `role_scope` after the earlier columns, with their checks,
    /// and `user_roles (role_scope, role_id) → roles (scope, id)`.
    Scoped,
}

/// The rebuilt tables, children first (the order they are dropped in).
const CHILDREN_FIRST: [&str; 3] = ["user_roles", "role_permissions", "roles"];

/// `<table>_new`: where a table is rebuilt before it takes its name back.
fn staged(table: impl Iden) -> Alias {
    Alias::new(format!("{}_new", table.to_string()))
}

/// Rebuilds `roles`, `role_permissions` and `user_roles` in `shape` on SQLite, keeping their
/// rows, then creates their indexes under their names.
async fn rebuild_sqlite(manager: &SchemaManager<'_>, shape: Shape) -> Result<(), DbErr> {
    let backend = DatabaseBackend::Sqlite;
    let db = manager.get_connection();

    manager.create_table(roles_table(shape)).await?;
    let mut roles_columns = ROLES_COLUMNS.join(", ");
    let mut roles_values = roles_columns.clone();
    if shape == Shape::Scoped {
        roles_columns.push_str(", scope");
        roles_values.push_str(&format!(
            ", COALESCE(organization_id, {})",
            system_scope(backend)
        ));
    }
    db.execute_unprepared(&format!(
        "INSERT INTO roles_new ({roles_columns}) SELECT {roles_values} FROM roles"
    ))
    .await?;
    if shape == Shape::Scoped {
        // Before the copy of user_roles, whose foreign key it answers.
        manager
            .create_index(
                Index::create()
                    .name("idx_roles_scope_id")
                    .table(staged(Roles::Table))
                    .col(Roles::Scope)
                    .col(Roles::Id)
                    .unique()
                    .to_owned(),
            )
            .await?;
    }

    manager.create_table(role_permissions_table()).await?;
    db.execute_unprepared(
        "INSERT INTO role_permissions_new (role_id, permission_code) \
         SELECT role_id, permission_code FROM role_permissions",
    )
    .await?;

    manager.create_table(user_roles_table(shape)).await?;
    let mut user_roles_columns = USER_ROLES_COLUMNS.join(", ");
    let mut user_roles_values = user_roles_columns.clone();
    if shape == Shape::Scoped {
        user_roles_columns.push_str(", role_scope");
        user_roles_values
            .push_str(", (SELECT scope FROM roles_new WHERE roles_new.id = user_roles.role_id)");
    }
    db.execute_unprepared(&format!(
        "INSERT INTO user_roles_new ({user_roles_columns}) \
         SELECT {user_roles_values} FROM user_roles"
    ))
    .await?;

    for table in CHILDREN_FIRST {
        manager
            .drop_table(Table::drop().table(Alias::new(table)).to_owned())
            .await?;
    }
    for table in CHILDREN_FIRST.iter().rev() {
        manager
            .rename_table(
                Table::rename()
                    .table(Alias::new(format!("{table}_new")), Alias::new(*table))
                    .to_owned(),
            )
            .await?;
    }

    for index in earlier_indexes() {
        manager.create_index(index).await?;
    }
    Ok(())
}

/// The columns of `roles` in migration 000011's shape, in order.
const ROLES_COLUMNS: [&str; 6] = [
    "id",
    "organization_id",
    "code",
    "is_system",
    "description",
    "created_at",
];

/// The columns of `user_roles` in migration 000011's shape, in order.
const USER_ROLES_COLUMNS: [&str; 4] = ["organization_id", "user_id", "role_id", "created_at"];

/// `roles_new`: the columns of migrations 000001 and 000007 with their defaults, then `scope`.
fn roles_table(shape: Shape) -> TableCreateStatement {
    let roles = staged(Roles::Table);
    let mut table = Table::create()
        .table(roles.clone())
        .col(pk_uuid(Roles::Id))
        .col(uuid_null(Roles::OrganizationId))
        .col(string_len(Roles::Code, 64))
        .col(boolean(Roles::IsSystem))
        .col(text(Roles::Description).default(""))
        .col(timestamp_with_time_zone(Roles::CreatedAt).default("1970-01-01T00:00:00+00:00"))
        .foreign_key(
            ForeignKey::create()
                .from(roles, Roles::OrganizationId)
                .to(Organizations::Table, Organizations::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned();
    if shape == Shape::Scoped {
        table.col(uuid(Roles::Scope)).check((
            "ck_roles_scope",
            Expr::cust(roles_scope_check(DatabaseBackend::Sqlite)),
        ));
    }
    table
}

/// `role_permissions_new`, as migration 000001 created `role_permissions`.
fn role_permissions_table() -> TableCreateStatement {
    let role_permissions = staged(RolePermissions::Table);
    Table::create()
        .table(role_permissions.clone())
        .col(uuid(RolePermissions::RoleId))
        .col(string_len(RolePermissions::PermissionCode, 64))
        .primary_key(
            Index::create()
                .col(RolePermissions::RoleId)
                .col(RolePermissions::PermissionCode),
        )
        .foreign_key(
            ForeignKey::create()
                .from(role_permissions.clone(), RolePermissions::RoleId)
                .to(staged(Roles::Table), Roles::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(role_permissions, RolePermissions::PermissionCode)
                .to(Permissions::Table, Permissions::Code)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

/// `user_roles_new`, with the tenant keys of migration 000004 and the role's key of `shape`.
fn user_roles_table(shape: Shape) -> TableCreateStatement {
    let user_roles = staged(UserRoles::Table);
    let mut table = Table::create()
        .table(user_roles.clone())
        .col(uuid(UserRoles::OrganizationId))
        .col(uuid(UserRoles::UserId))
        .col(uuid(UserRoles::RoleId))
        .col(timestamp_with_time_zone(UserRoles::CreatedAt))
        .primary_key(
            Index::create()
                .name("pk_user_roles")
                .col(UserRoles::OrganizationId)
                .col(UserRoles::UserId)
                .col(UserRoles::RoleId),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_user_roles_organization")
                .from(user_roles.clone(), UserRoles::OrganizationId)
                .to(Organizations::Table, Organizations::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_user_roles_user")
                .from(
                    user_roles.clone(),
                    (UserRoles::OrganizationId, UserRoles::UserId),
                )
                .to(Users::Table, (Users::OrganizationId, Users::Id))
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned();
    let mut to_role = ForeignKey::create()
        .name("fk_user_roles_role")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned();
    match shape {
        Shape::Earlier => {
            to_role
                .from(user_roles, UserRoles::RoleId)
                .to(staged(Roles::Table), Roles::Id);
        }
        Shape::Scoped => {
            table.col(uuid(UserRoles::RoleScope)).check((
                "ck_user_roles_role_scope",
                Expr::cust(user_roles_scope_check(DatabaseBackend::Sqlite)),
            ));
            to_role
                .from(user_roles, (UserRoles::RoleScope, UserRoles::RoleId))
                .to(staged(Roles::Table), (Roles::Scope, Roles::Id));
        }
    }
    table.foreign_key(&mut to_role);
    table
}

/// The indexes of the three tables as migrations 000001 and 000004 named them, which go with
/// the tables a rebuild drops.
fn earlier_indexes() -> [IndexCreateStatement; 3] {
    [
        Index::create()
            .name("idx_roles_organization_code")
            .table(Roles::Table)
            .col(Roles::OrganizationId)
            .col(Roles::Code)
            .unique()
            .to_owned(),
        Index::create()
            .name("idx_role_permissions_permission")
            .table(RolePermissions::Table)
            .col(RolePermissions::PermissionCode)
            .to_owned(),
        Index::create()
            .name("idx_user_roles_role")
            .table(UserRoles::Table)
            .col(UserRoles::RoleId)
            .to_owned(),
    ]
}

#[derive(DeriveIden, Clone, Copy)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    OrganizationId,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Permissions {
    Table,
    Code,
}

#[derive(DeriveIden, Clone, Copy)]
enum Roles {
    Table,
    Id,
    OrganizationId,
    Code,
    IsSystem,
    Description,
    CreatedAt,
    Scope,
}

#[derive(DeriveIden, Clone, Copy)]
enum RolePermissions {
    Table,
    RoleId,
    PermissionCode,
}

#[derive(DeriveIden, Clone, Copy)]
enum UserRoles {
    Table,
    OrganizationId,
    UserId,
    RoleId,
    CreatedAt,
    RoleScope,
}
