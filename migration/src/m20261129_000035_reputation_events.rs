use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Reputation: events that move one of an agent's four dimensions by a delta, optionally for a
/// task (a task outcome). Append-only; the score is computed from them when read, with its
/// decay, as of the instant asked for. An event goes with its agent and its task.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(uuid(Events::OrganizationId))
                    .col(uuid(Events::Id))
                    .col(uuid(Events::AgentId))
                    .col(string_len(Events::Dimension, 16).check(
                        Expr::col(Events::Dimension).is_in([
                            "trust",
                            "reliability",
                            "quality",
                            "collaboration",
                        ]),
                    ))
                    .col(
                        integer(Events::Delta).check(
                            Expr::col(Events::Delta)
                                .between(-100, 100)
                                .and(Expr::col(Events::Delta).ne(0)),
                        ),
                    )
                    .col(text(Events::Reason))
                    .col(uuid_null(Events::TaskId))
                    .col(timestamp_with_time_zone(Events::OccurredAt))
                    .primary_key(
                        Index::create()
                            .name("pk_reputation_events")
                            .col(Events::OrganizationId)
                            .col(Events::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reputation_events_organization")
                            .from(Events::Table, Events::OrganizationId)
                            .to(Parent::Organizations, Parent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reputation_events_agent")
                            .from(Events::Table, (Events::OrganizationId, Events::AgentId))
                            .to(Parent::Agents, (Parent::OrganizationId, Parent::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reputation_events_task")
                            .from(Events::Table, (Events::OrganizationId, Events::TaskId))
                            .to(Parent::Tasks, (Parent::OrganizationId, Parent::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // An agent's events in order (its score and its history); a task's (the cascade).
        for (name, column) in [
            ("idx_reputation_events_agent", Events::AgentId),
            ("idx_reputation_events_task", Events::TaskId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Events::Table)
                        .col(Events::OrganizationId)
                        .col(column)
                        .col(Events::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Events::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Events {
    #[sea_orm(iden = "reputation_events")]
    Table,
    OrganizationId,
    Id,
    AgentId,
    Dimension,
    Delta,
    Reason,
    TaskId,
    OccurredAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Parent {
    Organizations,
    Agents,
    Tasks,
    OrganizationId,
    Id,
}
