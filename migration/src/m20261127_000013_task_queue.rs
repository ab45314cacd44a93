//! The task queue: a running task holds a lease — a token that every heartbeat, completion or
//! failure must present (fencing) and a time it expires at.
//!
//! - `tasks.lease_token` and `tasks.lease_expires_at`, set exactly while the task is `running`
//!   (a check refuses anything else). Before the queue, a task ran without a lease (started by
//!   hand): such tasks go back to `queued`, with an event in their history saying why, and an
//!   agent claims them again.
//! - `tasks.claim_assigned`: whether the claim assigned the task to its agent (it had no
//!   assigned agent before). When the run goes back to the queue, such a task is unassigned so
//!   that any capable agent may take it; a task a person assigned to an agent stays with it.
//! - `idx_tasks_claimable`: the queued tasks of an organization in claim order (highest priority
//!   first, then oldest). Partial, so it holds only queued tasks: a claim reads the head of it,
//!   however many finished tasks the table keeps.
//! - `idx_tasks_lease_expiry`: the running tasks of an organization by lease expiry, for the
//!   sweep that returns expired leases to the queue.
//!
//! Columns are added in place on both backends (SQLite adds a nullable column with a check
//! without rebuilding the table, checking the rows it has); the indexes are plain SQL both
//! backends read alike. `down` drops them; the requeued tasks stay queued.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::prelude::ChronoUtc;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CLAIMABLE_INDEX: &str = "CREATE INDEX idx_tasks_claimable ON tasks \
     (organization_id, priority DESC, created_at, id) WHERE status = 'queued'";
const LEASE_EXPIRY_INDEX: &str = "CREATE INDEX idx_tasks_lease_expiry ON tasks \
     (organization_id, lease_expires_at) WHERE status = 'running'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        requeue_running_tasks(manager).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .add_column(boolean(Tasks::ClaimAssigned).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .add_column(uuid_null(Tasks::LeaseToken))
                    .to_owned(),
            )
            .await?;
        // The check sits on the second column, so that it sees both when SQLite checks it.
        let running = Expr::col(Tasks::Status).eq("running");
        let leased = Expr::col(Tasks::LeaseToken)
            .is_not_null()
            .and(Expr::col(Tasks::LeaseExpiresAt).is_not_null());
        let unleased = Expr::col(Tasks::LeaseToken)
            .is_null()
            .and(Expr::col(Tasks::LeaseExpiresAt).is_null());
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .add_column(timestamp_with_time_zone_null(Tasks::LeaseExpiresAt).check((
                        "ck_tasks_lease",
                        running.clone().and(leased).or(running.not().and(unleased)),
                    )))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(CLAIMABLE_INDEX).await?;
        db.execute_unprepared(LEASE_EXPIRY_INDEX).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_tasks_lease_expiry", "idx_tasks_claimable"] {
            manager
                .drop_index(Index::drop().name(name).table(Tasks::Table).to_owned())
                .await?;
        }
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            Tasks::LeaseExpiresAt,
            Tasks::LeaseToken,
            Tasks::ClaimAssigned,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tasks::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Tasks started by hand before the queue ran without a lease: queue them again, each with an
/// event in its history.
async fn requeue_running_tasks(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let fresh_id = match manager.get_database_backend() {
        DatabaseBackend::Postgres => "gen_random_uuid()",
        _ => "randomblob(16)",
    };
    let now = ChronoUtc::now();
    let events = Query::insert()
        .into_table(TaskEvents::Table)
        .columns([
            TaskEvents::OrganizationId,
            TaskEvents::Id,
            TaskEvents::TaskId,
            TaskEvents::FromStatus,
            TaskEvents::ToStatus,
            TaskEvents::Actor,
            TaskEvents::Reason,
            TaskEvents::CreatedAt,
        ])
        .select_from(
            Query::select()
                .column(Tasks::OrganizationId)
                .expr(Expr::cust(fresh_id))
                .column(Tasks::Id)
                .expr(Expr::val("running"))
                .expr(Expr::val("queued"))
                .expr(Expr::val("system"))
                .expr(Expr::val(
                    "the task queue took over: a task started without a lease is queued again",
                ))
                .expr(Expr::val(now))
                .from(Tasks::Table)
                .and_where(Expr::col(Tasks::Status).eq("running"))
                .to_owned(),
        )
        .map_err(|e| DbErr::Migration(e.to_string()))?
        .to_owned();
    manager.exec_stmt(events).await?;
    manager
        .exec_stmt(
            Query::update()
                .table(Tasks::Table)
                .value(Tasks::Status, "queued")
                .value(Tasks::UpdatedAt, now)
                .and_where(Expr::col(Tasks::Status).eq("running"))
                .to_owned(),
        )
        .await
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    OrganizationId,
    Id,
    Status,
    UpdatedAt,
    ClaimAssigned,
    LeaseToken,
    LeaseExpiresAt,
}

#[derive(DeriveIden)]
enum TaskEvents {
    Table,
    OrganizationId,
    Id,
    TaskId,
    FromStatus,
    ToStatus,
    Actor,
    Reason,
    CreatedAt,
}
