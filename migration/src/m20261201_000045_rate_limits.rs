//! Rate limits (`rate_limits`): named token buckets, and what each task consumes of them
//! (`tasks.rate_limits`).
//!
//! A bucket holds at most `capacity` tokens and refills from empty to full in `period_seconds`,
//! evenly. `tokens` is its balance at `refilled_at`: a claim locks the row, adds what the time
//! since then earned, takes what the tasks it hands out consume, and writes both back in its
//! transaction, so the balance is shared by every server and never falls below zero.
//!
//! `tasks.rate_limits` lists the buckets a task consumes (`[{"name": …, "units": …}]`, empty for
//! most tasks). The partial index holds only the queued tasks that consume some, in claim order:
//! a claim asks it whether such a task waits, and reads the candidates from it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const RATE_LIMITED_INDEX: &str = "CREATE INDEX idx_tasks_rate_limited_queued \
    ON tasks (organization_id, priority DESC, created_at, id) \
    WHERE status = 'queued' AND rate_limits <> '[]'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateLimits::Table)
                    .col(uuid(RateLimits::OrganizationId))
                    .col(uuid(RateLimits::Id))
                    .col(string_len(RateLimits::Name, 100))
                    .col(
                        big_integer(RateLimits::Capacity)
                            .check(Expr::col(RateLimits::Capacity).gte(1)),
                    )
                    .col(
                        big_integer(RateLimits::PeriodSeconds)
                            .check(Expr::col(RateLimits::PeriodSeconds).gte(1)),
                    )
                    .col(big_integer(RateLimits::Tokens))
                    .col(timestamp_with_time_zone(RateLimits::RefilledAt))
                    .col(timestamp_with_time_zone(RateLimits::CreatedAt))
                    .col(timestamp_with_time_zone(RateLimits::UpdatedAt))
                    // Never a negative balance, never more than a full bucket.
                    .check((
                        Alias::new("ck_rate_limits_tokens"),
                        Expr::col(RateLimits::Tokens).gte(0).and(
                            Expr::col(RateLimits::Tokens).lte(Expr::col(RateLimits::Capacity)),
                        ),
                    ))
                    .primary_key(
                        Index::create()
                            .name("pk_rate_limits")
                            .col(RateLimits::OrganizationId)
                            .col(RateLimits::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_rate_limits_organization")
                            .from(RateLimits::Table, RateLimits::OrganizationId)
                            .to(Parent::Organizations, Parent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_rate_limits_name")
                    .table(RateLimits::Table)
                    .col(RateLimits::OrganizationId)
                    .col(RateLimits::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .add_column(json_binary(Tasks::RateLimits).default("[]"))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(RATE_LIMITED_INDEX)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tasks_rate_limited_queued")
                    .table(Tasks::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .drop_column(Tasks::RateLimits)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(RateLimits::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum RateLimits {
    Table,
    OrganizationId,
    Id,
    Name,
    Capacity,
    PeriodSeconds,
    Tokens,
    RefilledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    RateLimits,
}

#[derive(DeriveIden, Clone, Copy)]
enum Parent {
    Organizations,
    Id,
}
