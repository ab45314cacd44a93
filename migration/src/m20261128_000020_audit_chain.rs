//! The audit log's hash chain, and who wrote each row from where.
//!
//! `audit_logs` gains `client_addr` (the address of the connection a request came in on) and
//! `credential` (`session:<id>` or `api_key:<id>`), both empty for rows written before, and
//! `seq` and `hash`, empty until a sealer chains the row: the organization's rows are numbered
//! 1, 2, … in the order they are sealed, and each `hash` is the SHA-256 of the previous row's
//! hash and of the row itself. `audit_chain_heads` keeps each organization's last link; a
//! sealer locks it while it extends the chain. Like the log, it has no foreign key to
//! `organizations`: it outlives what it describes.
//!
//! Indexes: the rows still to seal, in sealing order (partial: it holds only unsealed rows);
//! the chain, one row per place (unique); and the list's filters by entity, actor and time.
//! Rows written before are sealed by the first sealer that runs, oldest first.
//!
//! `down` drops the head table, the indexes and the columns, and with them the chain.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UNSEALED_INDEX: &str = "idx_audit_logs_unsealed";
const CHAIN_INDEX: &str = "idx_audit_logs_chain";
const ENTITY_INDEX: &str = "idx_audit_logs_entity";
const ACTOR_INDEX: &str = "idx_audit_logs_actor";
const CREATED_AT_INDEX: &str = "idx_audit_logs_created_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite adds one at a time.
        for column in [
            string_len_null(AuditLogs::ClientAddr, 64),
            string_len_null(AuditLogs::Credential, 64),
            big_integer_null(AuditLogs::Seq),
            string_len_null(AuditLogs::Hash, 64),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditLogs::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(UNSEALED_INDEX)
                    .table(AuditLogs::Table)
                    .col(AuditLogs::OrganizationId)
                    .col(AuditLogs::CreatedAt)
                    .col(AuditLogs::Id)
                    .and_where(Expr::col(AuditLogs::Seq).is_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(CHAIN_INDEX)
                    .table(AuditLogs::Table)
                    .col(AuditLogs::OrganizationId)
                    .col(AuditLogs::Seq)
                    .unique()
                    .and_where(Expr::col(AuditLogs::Seq).is_not_null())
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                ENTITY_INDEX,
                &[
                    AuditLogs::OrganizationId,
                    AuditLogs::Entity,
                    AuditLogs::EntityId,
                    AuditLogs::Id,
                ][..],
            ),
            (
                ACTOR_INDEX,
                &[AuditLogs::OrganizationId, AuditLogs::Actor, AuditLogs::Id][..],
            ),
            (
                CREATED_AT_INDEX,
                &[
                    AuditLogs::OrganizationId,
                    AuditLogs::CreatedAt,
                    AuditLogs::Id,
                ][..],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(AuditLogs::Table);
            for column in columns {
                index.col(column.clone());
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AuditChainHeads::Table)
                    .col(uuid(AuditChainHeads::OrganizationId))
                    .col(big_integer(AuditChainHeads::Seq))
                    .col(string_len(AuditChainHeads::Hash, 64))
                    .col(timestamp_with_time_zone(AuditChainHeads::SealedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_audit_chain_heads")
                            .col(AuditChainHeads::OrganizationId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditChainHeads::Table).to_owned())
            .await?;
        // The indexes first: SQLite does not drop a column an index uses.
        for name in [
            CREATED_AT_INDEX,
            ACTOR_INDEX,
            ENTITY_INDEX,
            CHAIN_INDEX,
            UNSEALED_INDEX,
        ] {
            manager
                .drop_index(Index::drop().name(name).table(AuditLogs::Table).to_owned())
                .await?;
        }
        for column in [
            AuditLogs::Hash,
            AuditLogs::Seq,
            AuditLogs::Credential,
            AuditLogs::ClientAddr,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditLogs::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone)]
enum AuditLogs {
    Table,
    OrganizationId,
    Id,
    Actor,
    Entity,
    EntityId,
    CreatedAt,
    ClientAddr,
    Credential,
    Seq,
    Hash,
}

#[derive(DeriveIden)]
enum AuditChainHeads {
    Table,
    OrganizationId,
    Seq,
    Hash,
    SealedAt,
}
