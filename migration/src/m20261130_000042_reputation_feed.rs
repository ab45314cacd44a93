//! Task outcomes feed reputation by themselves: a feeder reads the task history
//! (`task_events`) after a per-organization watermark and appends a reliability event for each
//! run that ended in `succeeded` or `failed`.
//!
//! `reputation_events.source_event_id`: the history event an outcome was recorded from, unique
//! per organization, so that one ending is counted once whoever records it first (the feeder,
//! a replayed batch, a second feeder, or a client's `record_task_outcome`); empty for every
//! other event (NULLs are distinct in a unique index on both backends).
//!
//! `reputation_feed_watermarks`: per organization, the history position (a time-ordered event
//! id) up to which the feeder has read everything. Organizations that already have history
//! start at their latest event: outcomes recorded by clients before the feeder existed are not
//! tied to their history events, and reading that history again would count them twice.
//!
//! `down` drops the watermarks, the index and the column.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SOURCE_INDEX: &str = "uq_reputation_events_source";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ReputationEvents::Table)
                    .add_column(uuid_null(ReputationEvents::SourceEventId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(SOURCE_INDEX)
                    .table(ReputationEvents::Table)
                    .col(ReputationEvents::OrganizationId)
                    .col(ReputationEvents::SourceEventId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Watermarks::Table)
                    .col(uuid(Watermarks::OrganizationId))
                    .col(uuid(Watermarks::LastEventId))
                    .primary_key(
                        Index::create()
                            .name("pk_reputation_feed_watermarks")
                            .col(Watermarks::OrganizationId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reputation_feed_watermarks_organization")
                            .from(Watermarks::Table, Watermarks::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Every organization with history starts at its latest event (the primary key's order).
        let latest = Query::select()
            .column((TaskEvents::Table, TaskEvents::Id))
            .from(TaskEvents::Table)
            .and_where(
                Expr::col((TaskEvents::Table, TaskEvents::OrganizationId))
                    .equals((Organizations::Table, Organizations::Id)),
            )
            .order_by((TaskEvents::Table, TaskEvents::Id), Order::Desc)
            .limit(1)
            .to_owned();
        let with_history = Query::select()
            .column((TaskEvents::Table, TaskEvents::Id))
            .from(TaskEvents::Table)
            .and_where(
                Expr::col((TaskEvents::Table, TaskEvents::OrganizationId))
                    .equals((Organizations::Table, Organizations::Id)),
            )
            .to_owned();
        let start = Query::insert()
            .into_table(Watermarks::Table)
            .columns([Watermarks::OrganizationId, Watermarks::LastEventId])
            .select_from(
                Query::select()
                    .column((Organizations::Table, Organizations::Id))
                    .expr(SubQueryStatement::SelectStatement(latest))
                    .from(Organizations::Table)
                    .and_where(Expr::exists(with_history))
                    .to_owned(),
            )
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(start).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Watermarks::Table).to_owned())
            .await?;
        // The index first: SQLite does not drop a column an index uses.
        manager
            .drop_index(
                Index::drop()
                    .name(SOURCE_INDEX)
                    .table(ReputationEvents::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ReputationEvents::Table)
                    .drop_column(ReputationEvents::SourceEventId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ReputationEvents {
    Table,
    OrganizationId,
    SourceEventId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Watermarks {
    #[sea_orm(iden = "reputation_feed_watermarks")]
    Table,
    OrganizationId,
    LastEventId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum TaskEvents {
    Table,
    OrganizationId,
    Id,
}
