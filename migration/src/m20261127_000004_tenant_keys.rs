//! Tenant keys: every tenant-owned table carries `organization_id` in its primary key, in each
//! of its unique keys and in each foreign key to another tenant-owned table, so that a row can
//! never reference another organization's row and the schema distributes by organization.
//!
//! SQLite cannot change a primary key in place, so each table whose keys change is rebuilt on
//! both backends the same way: create `<table>_new` with the new keys, copy the rows, drop the
//! old tables children first (on SQLite a dropped parent runs an implicit `DELETE` that would
//! cascade into its children), rename `<table>_new` to `<table>` (SQLite rewrites the foreign
//! keys that name `<table>_new` when it is renamed), and create the indexes under their final
//! names. `down` rebuilds the earlier shape the same way, keeping the rows too.
//!
//! Every constraint is named, so that PostgreSQL does not keep a `<table>_new_…` name: this
//! migration's keys are named `pk_*` / `fk_*`, and `down` restores the names PostgreSQL gave
//! the earlier migrations' constraints (`<table>_pkey`, `<table>_<column>_fkey`, …).
//!
//! The whole migration runs in one transaction on both backends: it applies or it does not.

use std::collections::HashMap;

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The key under which a project name is unique in its organization: NFKC, then lowercase.
///
/// Frozen: this is the function the rows were backfilled with. The domain crate computes the
/// same key for new rows; if that ever changes, a later migration recomputes the column.
fn name_key(name: &str) -> String {
    name.nfkc().collect::<String>().to_lowercase()
}

/// The tables this migration rebuilds, children first (the order they are dropped in).
const CHILDREN_FIRST: [&str; 6] = [
    "sessions",
    "user_roles",
    "tasks",
    "audit_logs",
    "projects",
    "users",
];

/// Which keys a rebuilt table gets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keys {
    /// This migration's: `organization_id` leads every key.
    Tenant,
    /// The earlier migrations': global ids, global unique email and refresh token.
    Global,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        // SQLite too: a failed rebuild must leave the earlier tables as they were.
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        check_same_organization(manager, UserRoles::Table, UserRoles::UserId).await?;
        check_same_organization(manager, Sessions::Table, Sessions::UserId).await?;
        let projects = project_name_keys(manager).await?;

        for (_, table) in create_statements(Keys::Tenant) {
            manager.create_table(table).await?;
        }
        copy_rows(manager, Keys::Tenant).await?;
        for (organization_id, id, key) in projects {
            manager
                .exec_stmt(
                    Query::update()
                        .table(staged(Projects::Table))
                        .value(Projects::NameKey, key)
                        .and_where(Expr::col(Projects::OrganizationId).eq(organization_id))
                        .and_where(Expr::col(Projects::Id).eq(id))
                        .to_owned(),
                )
                .await?;
        }
        replace_tables(manager).await?;

        for index in [
            index(
                "idx_users_organization_email",
                Users::Table,
                [Users::OrganizationId, Users::Email],
            )
            .unique()
            .to_owned(),
            index("idx_user_roles_role", UserRoles::Table, [UserRoles::RoleId]),
            // A refresh names its token before the organization is known: look it up by hash.
            index(
                "idx_sessions_refresh_token",
                Sessions::Table,
                [Sessions::RefreshTokenHash],
            ),
            index(
                "idx_sessions_organization_refresh_token",
                Sessions::Table,
                [Sessions::OrganizationId, Sessions::RefreshTokenHash],
            )
            .unique()
            .to_owned(),
            index(
                "idx_sessions_organization_user",
                Sessions::Table,
                [Sessions::OrganizationId, Sessions::UserId],
            ),
            index(
                "idx_projects_organization_name_key",
                Projects::Table,
                [Projects::OrganizationId, Projects::NameKey],
            )
            .unique()
            .to_owned(),
            index(
                "idx_role_permissions_permission",
                RolePermissions::Table,
                [RolePermissions::PermissionCode],
            ),
        ]
        .into_iter()
        .chain(task_indexes())
        {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    /// Restores the earlier shape with its rows. Rows that the earlier global keys refuse
    /// (the same email in two organizations, say) make it fail with an error that names the
    /// key, before anything is changed.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        check_globally_unique(manager, Users::Table, &[Users::Id]).await?;
        check_globally_unique(manager, Users::Table, &[Users::Email]).await?;
        check_globally_unique(
            manager,
            UserRoles::Table,
            &[UserRoles::UserId, UserRoles::RoleId],
        )
        .await?;
        check_globally_unique(manager, Sessions::Table, &[Sessions::Id]).await?;
        check_globally_unique(manager, Sessions::Table, &[Sessions::RefreshTokenHash]).await?;
        check_globally_unique(manager, Projects::Table, &[Projects::Id]).await?;
        check_globally_unique(manager, Tasks::Table, &[Tasks::Id]).await?;
        check_globally_unique(manager, AuditLogs::Table, &[AuditLogs::Id]).await?;

        for (name, table) in create_statements(Keys::Global) {
            manager.create_table(table).await?;
            if name == "projects" {
                // Tasks refer to (organization, project): the unique index must exist first.
                manager
                    .create_index(
                        index(
                            "idx_projects_organization_id",
                            staged(Projects::Table),
                            [Projects::OrganizationId, Projects::Id],
                        )
                        .unique()
                        .to_owned(),
                    )
                    .await?;
            }
        }
        copy_rows(manager, Keys::Global).await?;
        replace_tables(manager).await?;

        manager
            .drop_index(
                Index::drop()
                    .name("idx_role_permissions_permission")
                    .table(RolePermissions::Table)
                    .to_owned(),
            )
            .await?;
        for index in [
            index(
                "idx_users_organization",
                Users::Table,
                [Users::OrganizationId, Users::Id],
            ),
            index(
                "idx_sessions_organization_user",
                Sessions::Table,
                [Sessions::OrganizationId, Sessions::UserId],
            ),
            index(
                "idx_projects_organization_name",
                Projects::Table,
                [Projects::OrganizationId, Projects::Name],
            )
            .unique()
            .to_owned(),
            index(
                "idx_audit_logs_organization_id",
                AuditLogs::Table,
                [AuditLogs::OrganizationId, AuditLogs::Id],
            ),
        ]
        .into_iter()
        .chain(task_indexes())
        {
            manager.create_index(index).await?;
        }
        Ok(())
    }
}

/// `<table>_new`: where a table is rebuilt before it takes its name back.
fn staged(table: impl Iden) -> Alias {
    Alias::new(format!("{}_new", table.to_string()))
}

/// A plain index on `columns`, in order.
fn index<T, C, const N: usize>(name: &str, table: T, columns: [C; N]) -> IndexCreateStatement
where
    T: IntoTableRef,
    C: IntoIndexColumn,
{
    let mut index = Index::create().name(name).table(table).to_owned();
    for column in columns {
        index.col(column);
    }
    index
}

/// The four task indexes, the same in both shapes (as migration 000002 created them).
fn task_indexes() -> Vec<IndexCreateStatement> {
    vec![
        index(
            "idx_tasks_organization_id",
            Tasks::Table,
            [Tasks::OrganizationId, Tasks::Id],
        ),
        index(
            "idx_tasks_organization_project_id",
            Tasks::Table,
            [Tasks::OrganizationId, Tasks::ProjectId, Tasks::Id],
        ),
        index(
            "idx_tasks_organization_status_id",
            Tasks::Table,
            [Tasks::OrganizationId, Tasks::Status, Tasks::Id],
        ),
        Index::create()
            .name("idx_tasks_organization_priority_id")
            .table(Tasks::Table)
            .col(Tasks::OrganizationId)
            .col((Tasks::Priority, IndexOrder::Desc))
            .col(Tasks::Id)
            .to_owned(),
    ]
}

/// The primary key, named.
fn primary_key<C, const N: usize>(name: &str, columns: [C; N]) -> IndexCreateStatement
where
    C: IntoIndexColumn,
{
    let mut key = Index::create().name(name).primary().to_owned();
    for column in columns {
        key.col(column);
    }
    key
}

/// A unique constraint, named.
fn unique<C, const N: usize>(name: &str, columns: [C; N]) -> IndexCreateStatement
where
    C: IntoIndexColumn,
{
    let mut key = Index::create().name(name).unique().to_owned();
    for column in columns {
        key.col(column);
    }
    key
}

/// `column → organizations(id) ON DELETE CASCADE`, named.
fn to_organization(name: &str, table: Alias, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Organizations::Table, Organizations::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// The `<table>_new` tables in `keys`' shape, parents first, each after the name it takes
/// back. The columns are those of the earlier migrations in the same order; `projects` gains
/// `name_key` in the tenant shape.
fn create_statements(keys: Keys) -> Vec<(&'static str, TableCreateStatement)> {
    let tenant = keys == Keys::Tenant;

    let users = staged(Users::Table);
    let mut users_table = Table::create()
        .table(users.clone())
        .col(uuid(Users::Id))
        .col(uuid(Users::OrganizationId))
        .col(string_len(Users::Email, 254))
        .col(string_len(Users::DisplayName, 200))
        .col(string_len(Users::PasswordHash, 60))
        .col(boolean(Users::Active))
        .col(timestamp_with_time_zone(Users::CreatedAt))
        .col(timestamp_with_time_zone(Users::UpdatedAt))
        .to_owned();
    if tenant {
        users_table
            .primary_key(&mut primary_key(
                "pk_users",
                [Users::OrganizationId, Users::Id],
            ))
            .foreign_key(&mut to_organization(
                "fk_users_organization",
                users.clone(),
                Users::OrganizationId,
            ));
    } else {
        users_table
            .primary_key(&mut primary_key("users_pkey", [Users::Id]))
            .index(&mut unique("users_email_key", [Users::Email]))
            .foreign_key(&mut to_organization(
                "users_organization_id_fkey",
                users.clone(),
                Users::OrganizationId,
            ));
    }

    let user_roles = staged(UserRoles::Table);
    let mut user_roles_table = Table::create()
        .table(user_roles.clone())
        .col(uuid(UserRoles::OrganizationId))
        .col(uuid(UserRoles::UserId))
        .col(uuid(UserRoles::RoleId))
        .col(timestamp_with_time_zone(UserRoles::CreatedAt))
        .to_owned();
    let to_role = |name: &str| {
        ForeignKey::create()
            .name(name)
            .from(user_roles.clone(), UserRoles::RoleId)
            .to(Roles::Table, Roles::Id)
            .on_delete(ForeignKeyAction::Cascade)
            .to_owned()
    };
    if tenant {
        user_roles_table
            .primary_key(&mut primary_key(
                "pk_user_roles",
                [
                    UserRoles::OrganizationId,
                    UserRoles::UserId,
                    UserRoles::RoleId,
                ],
            ))
            .foreign_key(&mut to_organization(
                "fk_user_roles_organization",
                user_roles.clone(),
                UserRoles::OrganizationId,
            ))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_user_roles_user")
                    .from(
                        user_roles.clone(),
                        (UserRoles::OrganizationId, UserRoles::UserId),
                    )
                    .to(users.clone(), (Users::OrganizationId, Users::Id))
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(&mut to_role("fk_user_roles_role"));
    } else {
        user_roles_table
            .primary_key(&mut primary_key(
                "user_roles_pkey",
                [UserRoles::UserId, UserRoles::RoleId],
            ))
            .foreign_key(&mut to_organization(
                "user_roles_organization_id_fkey",
                user_roles.clone(),
                UserRoles::OrganizationId,
            ))
            .foreign_key(
                ForeignKey::create()
                    .name("user_roles_user_id_fkey")
                    .from(user_roles.clone(), UserRoles::UserId)
                    .to(users.clone(), Users::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(&mut to_role("user_roles_role_id_fkey"));
    }

    let sessions = staged(Sessions::Table);
    let mut sessions_table = Table::create()
        .table(sessions.clone())
        .col(uuid(Sessions::Id))
        .col(uuid(Sessions::OrganizationId))
        .col(uuid(Sessions::UserId))
        .col(string_len(Sessions::RefreshTokenHash, 64))
        .col(timestamp_with_time_zone(Sessions::ExpiresAt))
        .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
        .col(timestamp_with_time_zone(Sessions::CreatedAt))
        .to_owned();
    if tenant {
        sessions_table
            .primary_key(&mut primary_key(
                "pk_sessions",
                [Sessions::OrganizationId, Sessions::Id],
            ))
            .foreign_key(&mut to_organization(
                "fk_sessions_organization",
                sessions.clone(),
                Sessions::OrganizationId,
            ))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_sessions_user")
                    .from(
                        sessions.clone(),
                        (Sessions::OrganizationId, Sessions::UserId),
                    )
                    .to(users.clone(), (Users::OrganizationId, Users::Id))
                    .on_delete(ForeignKeyAction::Cascade),
            );
    } else {
        sessions_table
            .primary_key(&mut primary_key("sessions_pkey", [Sessions::Id]))
            .index(&mut unique(
                "sessions_refresh_token_hash_key",
                [Sessions::RefreshTokenHash],
            ))
            .foreign_key(&mut to_organization(
                "sessions_organization_id_fkey",
                sessions.clone(),
                Sessions::OrganizationId,
            ))
            .foreign_key(
                ForeignKey::create()
                    .name("sessions_user_id_fkey")
                    .from(sessions.clone(), Sessions::UserId)
                    .to(users.clone(), Users::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            );
    }

    let projects = staged(Projects::Table);
    let mut projects_table = Table::create()
        .table(projects.clone())
        .col(uuid(Projects::Id))
        .col(uuid(Projects::OrganizationId))
        .col(string_len(Projects::Name, 200))
        .to_owned();
    if tenant {
        // Unbounded: NFKC may lengthen a name.
        projects_table.col(string(Projects::NameKey));
    }
    projects_table
        .col(text(Projects::Description))
        .col(string_len_null(Projects::RepositoryUrl, 2048))
        .col(json_binary(Projects::Tags))
        .col(json_binary(Projects::Settings))
        .col(timestamp_with_time_zone(Projects::CreatedAt))
        .col(timestamp_with_time_zone(Projects::UpdatedAt));
    if tenant {
        projects_table
            .primary_key(&mut primary_key(
                "pk_projects",
                [Projects::OrganizationId, Projects::Id],
            ))
            .foreign_key(&mut to_organization(
                "fk_projects_organization",
                projects.clone(),
                Projects::OrganizationId,
            ));
    } else {
        projects_table
            .primary_key(&mut primary_key("projects_pkey", [Projects::Id]))
            .foreign_key(&mut to_organization(
                "projects_organization_id_fkey",
                projects.clone(),
                Projects::OrganizationId,
            ));
    }

    let tasks = staged(Tasks::Table);
    let mut tasks_table = Table::create()
        .table(tasks.clone())
        .col(uuid(Tasks::Id))
        .col(uuid(Tasks::OrganizationId))
        .col(uuid(Tasks::ProjectId))
        .col(string_len(Tasks::Title, 2000))
        .col(text(Tasks::Description))
        .col(string_len(Tasks::Status, 16))
        .col(integer(Tasks::Priority))
        .col(json_binary(Tasks::Payload))
        .col(json_binary(Tasks::RequiredCapabilities))
        .col(json_binary(Tasks::Metadata))
        .col(timestamp_with_time_zone(Tasks::CreatedAt))
        .col(timestamp_with_time_zone(Tasks::UpdatedAt))
        .to_owned();
    let (mut pk, tasks_org_fk, tasks_project_fk) = if tenant {
        (
            primary_key("pk_tasks", [Tasks::OrganizationId, Tasks::Id]),
            "fk_tasks_organization",
            "fk_tasks_project",
        )
    } else {
        (
            primary_key("tasks_pkey", [Tasks::Id]),
            "tasks_organization_id_fkey",
            "tasks_organization_id_project_id_fkey",
        )
    };
    tasks_table
        .primary_key(&mut pk)
        .foreign_key(&mut to_organization(
            tasks_org_fk,
            tasks.clone(),
            Tasks::OrganizationId,
        ))
        .foreign_key(
            ForeignKey::create()
                .name(tasks_project_fk)
                .from(tasks.clone(), (Tasks::OrganizationId, Tasks::ProjectId))
                .to(projects.clone(), (Projects::OrganizationId, Projects::Id))
                .on_delete(ForeignKeyAction::Cascade),
        );

    // No foreign key to organizations: the log outlives what it describes.
    let mut audit_logs_table = Table::create()
        .table(staged(AuditLogs::Table))
        .col(uuid(AuditLogs::Id))
        .col(uuid(AuditLogs::OrganizationId))
        .col(string_len(AuditLogs::Actor, 128))
        .col(string_len(AuditLogs::Action, 64))
        .col(string_len(AuditLogs::Entity, 64))
        .col(string_len(AuditLogs::EntityId, 64))
        .col(json_binary(AuditLogs::Changes))
        .col(string_len_null(AuditLogs::RequestId, 128))
        .col(timestamp_with_time_zone(AuditLogs::CreatedAt))
        .to_owned();
    if tenant {
        audit_logs_table.primary_key(&mut primary_key(
            "pk_audit_logs",
            [AuditLogs::OrganizationId, AuditLogs::Id],
        ));
    } else {
        audit_logs_table.primary_key(&mut primary_key("audit_logs_pkey", [AuditLogs::Id]));
    }

    vec![
        ("users", users_table),
        ("user_roles", user_roles_table),
        ("sessions", sessions_table),
        ("projects", projects_table),
        ("tasks", tasks_table),
        ("audit_logs", audit_logs_table),
    ]
}

/// Copies every row of each rebuilt table into its `<table>_new`. In the tenant shape
/// `name_key` starts as the name; the caller then sets the key of each project.
async fn copy_rows(manager: &SchemaManager<'_>, keys: Keys) -> Result<(), DbErr> {
    for table in CHILDREN_FIRST.iter().rev() {
        let columns = columns_of(table);
        let mut select = Query::select().from(Alias::new(*table)).to_owned();
        for column in &columns {
            select.column(Alias::new(*column));
        }
        let mut inserted: Vec<Alias> = columns.iter().map(|c| Alias::new(*c)).collect();
        if *table == "projects" && keys == Keys::Tenant {
            inserted.push(Alias::new("name_key"));
            select.column(Alias::new("name"));
        }
        let mut insert = Query::insert()
            .into_table(Alias::new(format!("{table}_new")))
            .columns(inserted)
            .to_owned();
        insert
            .select_from(select)
            .map_err(|e| DbErr::Migration(format!("copying {table}: {e}")))?;
        manager.exec_stmt(insert).await?;
    }
    Ok(())
}

/// The columns both shapes of a rebuilt table share (all of them but `projects.name_key`).
fn columns_of(table: &str) -> Vec<&'static str> {
    match table {
        "users" => vec![
            "id",
            "organization_id",
            "email",
            "display_name",
            "password_hash",
            "active",
            "created_at",
            "updated_at",
        ],
        "user_roles" => vec!["organization_id", "user_id", "role_id", "created_at"],
        "sessions" => vec![
            "id",
            "organization_id",
            "user_id",
            "refresh_token_hash",
            "expires_at",
            "revoked_at",
            "created_at",
        ],
        "projects" => vec![
            "id",
            "organization_id",
            "name",
            "description",
            "repository_url",
            "tags",
            "settings",
            "created_at",
            "updated_at",
        ],
        "tasks" => vec![
            "id",
            "organization_id",
            "project_id",
            "title",
            "description",
            "status",
            "priority",
            "payload",
            "required_capabilities",
            "metadata",
            "created_at",
            "updated_at",
        ],
        "audit_logs" => vec![
            "id",
            "organization_id",
            "actor",
            "action",
            "entity",
            "entity_id",
            "changes",
            "request_id",
            "created_at",
        ],
        other => unreachable!("{other} is not rebuilt"),
    }
}

/// Drops the old tables children first, then gives each `<table>_new` its name.
async fn replace_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
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
    Ok(())
}

/// Refuses to go on when a row of `table` names a user of another organization: the new
/// foreign key `(organization_id, user_id)` would refuse it with a less helpful message.
async fn check_same_organization(
    manager: &SchemaManager<'_>,
    table: impl Iden + Copy + 'static,
    user_column: impl Iden + Copy + 'static,
) -> Result<(), DbErr> {
    let count = Query::select()
        .expr_as(Func::count(Expr::col(Asterisk)), "n")
        .from(table)
        .inner_join(
            Users::Table,
            Expr::col((Users::Table, Users::Id)).equals((table, user_column)),
        )
        .and_where(
            Expr::col((Users::Table, Users::OrganizationId))
                .ne(Expr::col((table, Alias::new("organization_id")))),
        )
        .to_owned();
    let n = count_of(manager, count).await?;
    if n > 0 {
        return Err(DbErr::Migration(format!(
            "cannot apply the tenant keys: {n} row(s) of {} name a user of another \
             organization; delete or fix them first",
            table.to_string()
        )));
    }
    Ok(())
}

/// The `(organization_id, id, name_key)` of every project whose key is not its name as it
/// stands, refusing two projects of one organization whose names share a key (they would
/// break the new unique key).
async fn project_name_keys(
    manager: &SchemaManager<'_>,
) -> Result<Vec<(Uuid, Uuid, String)>, DbErr> {
    let rows = manager
        .get_connection()
        .query_all(
            &Query::select()
                .columns([Projects::OrganizationId, Projects::Id, Projects::Name])
                .from(Projects::Table)
                .order_by(Projects::OrganizationId, Order::Asc)
                .order_by(Projects::Id, Order::Asc)
                .to_owned(),
        )
        .await?;
    let mut seen: HashMap<(Uuid, String), String> = HashMap::new();
    let mut keys = Vec::new();
    for row in rows {
        let organization_id: Uuid = row.try_get("", "organization_id")?;
        let id: Uuid = row.try_get("", "id")?;
        let name: String = row.try_get("", "name")?;
        let key = name_key(&name);
        if let Some(first) = seen.insert((organization_id, key.clone()), name.clone()) {
            return Err(DbErr::Migration(format!(
                "cannot apply the tenant keys: organization {organization_id} has projects \
                 named {first:?} and {name:?}, which are the same name ignoring case and \
                 Unicode compatibility forms; rename one of them first"
            )));
        }
        if key != name {
            keys.push((organization_id, id, key));
        }
    }
    Ok(keys)
}

/// Refuses to roll back when `columns` of `table` repeat across organizations: the earlier
/// shape keeps them unique over the whole instance.
async fn check_globally_unique<C>(
    manager: &SchemaManager<'_>,
    table: impl Iden + Copy + 'static,
    columns: &[C],
) -> Result<(), DbErr>
where
    C: Iden + Copy + 'static,
{
    let duplicates = Query::select()
        .columns(columns.iter().copied())
        .from(table)
        .group_by_columns(columns.iter().copied())
        .and_having(Expr::expr(Func::count(Expr::col(Asterisk))).gt(1))
        .to_owned();
    let count = Query::select()
        .expr_as(Func::count(Expr::col(Asterisk)), "n")
        .from_subquery(duplicates, "duplicates")
        .to_owned();
    let n = count_of(manager, count).await?;
    if n > 0 {
        let names: Vec<String> = columns.iter().map(Iden::to_string).collect();
        return Err(DbErr::Migration(format!(
            "cannot roll back the tenant keys: {n} value(s) of {}({}) are used more than once \
             (in several organizations), and the earlier schema keeps them unique over the \
             whole instance; remove or change those rows first",
            table.to_string(),
            names.join(", ")
        )));
    }
    Ok(())
}

async fn count_of(manager: &SchemaManager<'_>, select: SelectStatement) -> Result<i64, DbErr> {
    manager
        .get_connection()
        .query_one(&select)
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .ok_or_else(|| DbErr::Migration("a count returned no row".into()))
}

#[derive(DeriveIden, Clone, Copy)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
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

#[derive(DeriveIden, Clone, Copy)]
enum Roles {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum RolePermissions {
    Table,
    PermissionCode,
}

#[derive(DeriveIden, Clone, Copy)]
enum UserRoles {
    Table,
    OrganizationId,
    UserId,
    RoleId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
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

#[derive(DeriveIden, Clone, Copy)]
enum Projects {
    Table,
    Id,
    OrganizationId,
    Name,
    NameKey,
    Description,
    RepositoryUrl,
    Tags,
    Settings,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    Id,
    OrganizationId,
    ProjectId,
    Title,
    Description,
    Status,
    Priority,
    Payload,
    RequiredCapabilities,
    Metadata,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
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
