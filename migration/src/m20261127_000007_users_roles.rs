//! Users and roles, administered: a user gets an optional username, unique in their
//! organization; a role gets a description and a creation time, so that an organization can
//! keep custom roles (`organization_id` set, `is_system` false) beside the system roles.
//!
//! `roles` stays a reference table, custom roles included: the system roles have no
//! organization and every organization shares them, so the table cannot be sharded by
//! organization, and one table keeps a role id meaning one thing. The unique index
//! `(organization_id, code)` of migration 000001 keeps a custom code unique in its
//! organization; that it also differs from every system code (whose `organization_id` is
//! NULL, which a unique index treats as distinct) is checked by the repository.
//!
//! Only columns are added, so nothing is rebuilt: SQLite adds a column with a CHECK or a
//! constant default in place, and a unique index on a nullable column admits any number of
//! NULLs on both backends.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The longest username, in characters (frozen here).
const USERNAME_MAX_CHARS: i32 = 64;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Stored lower-cased, so that uniqueness ignores case.
        let username = Expr::col(Users::Username);
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        string_len_null(Users::Username, USERNAME_MAX_CHARS as u32).check(
                            Func::lower(username.clone())
                                .eq(username.clone())
                                .and(Func::char_length(username).between(1, USERNAME_MAX_CHARS)),
                        ),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_organization_username")
                    .table(Users::Table)
                    .col(Users::OrganizationId)
                    .col(Users::Username)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Roles::Table)
                    .add_column(text(Roles::Description).default(""))
                    .to_owned(),
            )
            .await?;
        // SQLite adds a NOT NULL column only with a constant default; the rows there (the
        // system roles) then get the time of this migration.
        manager
            .alter_table(
                Table::alter()
                    .table(Roles::Table)
                    .add_column(
                        timestamp_with_time_zone(Roles::CreatedAt)
                            .default("1970-01-01T00:00:00+00:00"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(Roles::Table)
                    .value(Roles::CreatedAt, Expr::current_timestamp())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_users_organization_username")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite alters one thing at a time.
        for (table, column) in [
            (Users::Table.into_iden(), Users::Username.into_iden()),
            (Roles::Table.into_iden(), Roles::CreatedAt.into_iden()),
            (Roles::Table.into_iden(), Roles::Description.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    OrganizationId,
    Username,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Description,
    CreatedAt,
}
