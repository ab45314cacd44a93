use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The shared worker fleet (`queue_shares`): one row per organization that joined it, naming
/// the organization's agent the fleet's claims run as, its share (1 to 1,000) and its place in
/// the fleet's rotation (`pass`, tasks taken divided by the share, and when it was last
/// served). The agent is a foreign key in the organization: deleting it takes the organization
/// off the fleet.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(QueueShares::Table)
                    .col(uuid(QueueShares::OrganizationId))
                    .col(uuid(QueueShares::AgentId))
                    .col(
                        integer(QueueShares::Share)
                            .check(Expr::col(QueueShares::Share).between(1, 1000)),
                    )
                    .col(double(QueueShares::Pass))
                    .col(timestamp_with_time_zone_null(QueueShares::LastServedAt))
                    .col(timestamp_with_time_zone(QueueShares::CreatedAt))
                    .col(timestamp_with_time_zone(QueueShares::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_queue_shares")
                            .col(QueueShares::OrganizationId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_queue_shares_organization")
                            .from(QueueShares::Table, QueueShares::OrganizationId)
                            .to(Parent::Organizations, Parent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_queue_shares_agent")
                            .from(
                                QueueShares::Table,
                                (QueueShares::OrganizationId, QueueShares::AgentId),
                            )
                            .to(Parent::Agents, (Parent::OrganizationId, Parent::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The foreign key's own index, so that deleting an agent finds its share without a
        // scan.
        manager
            .create_index(
                Index::create()
                    .name("idx_queue_shares_agent")
                    .table(QueueShares::Table)
                    .col(QueueShares::OrganizationId)
                    .col(QueueShares::AgentId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(QueueShares::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum QueueShares {
    Table,
    OrganizationId,
    AgentId,
    Share,
    Pass,
    LastServedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Parent {
    Organizations,
    Agents,
    OrganizationId,
    Id,
}
