//! What `orchestore seed` created, so that `orchestore seed clean` removes exactly that.
//!
//! The seed writes one organization per profile through the repositories, in one transaction,
//! and ends it by recording the key of every row that organization then holds, table by table.
//! `seed clean` compares the organization with these records: rows it does not find here were
//! added by someone else. `down` drops the table (the seeded rows themselves stay).

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
                    .table(SeedRecords::Table)
                    .col(uuid(SeedRecords::OrganizationId))
                    .col(string_len(SeedRecords::TableName, 63))
                    // The row's primary key, its columns as text joined by `|`.
                    .col(string_len(SeedRecords::RowKey, 512))
                    .col(string_len(SeedRecords::Profile, 32))
                    .col(timestamp_with_time_zone(SeedRecords::SeededAt))
                    .primary_key(
                        Index::create()
                            .name("pk_seed_records")
                            .col(SeedRecords::OrganizationId)
                            .col(SeedRecords::TableName)
                            .col(SeedRecords::RowKey),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_seed_records_organization")
                            .from(SeedRecords::Table, SeedRecords::OrganizationId)
                            .to(Organizations::Table, Organizations::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SeedRecords::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SeedRecords {
    Table,
    OrganizationId,
    TableName,
    RowKey,
    Profile,
    SeededAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}
