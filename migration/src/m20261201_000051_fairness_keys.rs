//! Fairness keys: a task may name a key (`project:web`) under which an organization's claims
//! serve it in turn with the organization's other keys, so that one key's backlog does not hold
//! back another's tasks of the same priority.
//!
//! `task_fairness_keys` holds, per organization and key, the key's weight (the latest enqueue
//! naming it sets it) and its place in the rotation: `pass`, the tasks claims took from it
//! divided by its weight, and when it was last served, as `queue_shares` does across
//! organizations. The row whose key is `''` stands for the organization's tasks without a key,
//! which take their turn as one more key of weight 1 (a key itself is never empty). A task
//! carries its key and the weight it was enqueued with in two new nullable columns of `tasks`.
//! No index finds the queued tasks without a key (one would cost every organization's enqueues),
//! so whether that group has work is read by walking the claimable index past the tasks with a
//! key; `idle_until` is how long a claim that found none takes the group to have none without
//! looking again.
//!
//! The partial index holds only the queued tasks with a key, by key in claim order: a claim asks
//! it whether such a task waits (one probe; nothing is there in an organization that never uses
//! keys, so its claims and its enqueues pay nothing more), and a fair claim reads each key's head
//! from it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const FAIRNESS_INDEX: &str = "CREATE INDEX idx_tasks_fairness_queued \
    ON tasks (organization_id, fairness_key, priority DESC, created_at, id) \
    WHERE status = 'queued' AND fairness_key IS NOT NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Keys::Table)
                    .col(uuid(Keys::OrganizationId))
                    .col(string_len(Keys::Key, 128))
                    .col(integer(Keys::Weight).check(Expr::col(Keys::Weight).between(1, 1000)))
                    .col(double(Keys::Pass))
                    .col(timestamp_with_time_zone_null(Keys::LastServedAt))
                    .col(timestamp_with_time_zone_null(Keys::IdleUntil))
                    .col(timestamp_with_time_zone(Keys::CreatedAt))
                    .col(timestamp_with_time_zone(Keys::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_task_fairness_keys")
                            .col(Keys::OrganizationId)
                            .col(Keys::Key),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_task_fairness_keys_organization")
                            .from(Keys::Table, Keys::OrganizationId)
                            .to(Parent::Organizations, Parent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column a statement.
        for column in [
            string_len_null(Tasks::FairnessKey, 128),
            integer_null(Tasks::FairnessWeight)
                .check(Expr::col(Tasks::FairnessWeight).between(1, 1000))
                .to_owned(),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Tasks::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared(FAIRNESS_INDEX)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tasks_fairness_queued")
                    .table(Tasks::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Tasks::FairnessWeight, Tasks::FairnessKey] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tasks::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Keys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Keys {
    #[sea_orm(iden = "task_fairness_keys")]
    Table,
    OrganizationId,
    Key,
    Weight,
    Pass,
    LastServedAt,
    IdleUntil,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    FairnessKey,
    FairnessWeight,
}

#[derive(DeriveIden, Clone, Copy)]
enum Parent {
    Organizations,
    Id,
}
