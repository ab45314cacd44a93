//! Concurrency keys: a task may name a key (`repo:acme/web`) whose limit bounds how many tasks
//! of it run at once, in its organization.
//!
//! `task_concurrency_keys` holds each key's limit and strategy (the latest enqueue that names
//! the key sets them). A task carries its key, and the limit and strategy it was enqueued
//! with, in three new nullable columns of `tasks`; a partial index finds a key's tasks by
//! status.
//!
//! The limit is kept by a row trigger on `tasks` that fires only when a keyed task becomes
//! running, so a keyless claim pays nothing for it. On PostgreSQL it locks the key's row
//! (`FOR UPDATE SKIP LOCKED`) and then counts the key's running tasks in a fresh statement:
//! the count sees every claim of the key that committed before the lock was taken, so
//! concurrent claimers never admit more than the limit; a claimer that finds the key's row
//! locked by another claim skips the task, as the claim skips locked tasks. SQLite's writers
//! take turns, so its trigger only counts. A task over the limit is left queued: the trigger
//! drops its update (`RETURN NULL` / `RAISE(IGNORE)`) and the claim takes the others.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const ADMIT_POSTGRES: &str = "\
CREATE FUNCTION tasks_concurrency_admit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    allowed integer;
    running bigint;
BEGIN
    SELECT k.max_running INTO allowed FROM task_concurrency_keys k
    WHERE k.organization_id = NEW.organization_id AND k.key = NEW.concurrency_key
    FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT count(*) INTO running FROM tasks t
    WHERE t.organization_id = NEW.organization_id AND t.concurrency_key = NEW.concurrency_key
      AND t.status = 'running';
    IF running >= allowed THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER trg_tasks_concurrency_admit BEFORE UPDATE OF status ON tasks
    FOR EACH ROW
    WHEN (NEW.status = 'running' AND OLD.status <> 'running' AND NEW.concurrency_key IS NOT NULL)
    EXECUTE FUNCTION tasks_concurrency_admit();";

const UNADMIT_POSTGRES: &str = "\
DROP TRIGGER trg_tasks_concurrency_admit ON tasks;
DROP FUNCTION tasks_concurrency_admit();";

const ADMIT_SQLITE: &str = "\
CREATE TRIGGER trg_tasks_concurrency_admit BEFORE UPDATE OF status ON tasks
    FOR EACH ROW
    WHEN NEW.status = 'running' AND OLD.status <> 'running' AND NEW.concurrency_key IS NOT NULL
      AND (SELECT count(*) FROM tasks t
           WHERE t.organization_id = NEW.organization_id
             AND t.concurrency_key = NEW.concurrency_key AND t.status = 'running')
          >= coalesce((SELECT k.max_running FROM task_concurrency_keys k
           WHERE k.organization_id = NEW.organization_id AND k.key = NEW.concurrency_key), 0)
BEGIN
    SELECT RAISE(IGNORE);
END";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Keys::Table)
                    .col(uuid(Keys::OrganizationId))
                    .col(string_len(Keys::Key, 128))
                    .col(integer(Keys::MaxRunning).check(Expr::col(Keys::MaxRunning).gte(1)))
                    .col(
                        string_len(Keys::Strategy, 16)
                            .check(Expr::col(Keys::Strategy).is_in(["queue", "cancel_newest"])),
                    )
                    .col(timestamp_with_time_zone(Keys::CreatedAt))
                    .col(timestamp_with_time_zone(Keys::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_task_concurrency_keys")
                            .col(Keys::OrganizationId)
                            .col(Keys::Key),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_task_concurrency_keys_organization")
                            .from(Keys::Table, Keys::OrganizationId)
                            .to(Parent::Organizations, Parent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column a statement.
        for column in [
            string_len_null(Tasks::ConcurrencyKey, 128),
            integer_null(Tasks::ConcurrencyLimit)
                .check(Expr::col(Tasks::ConcurrencyLimit).gte(1))
                .to_owned(),
            string_len_null(Tasks::ConcurrencyStrategy, 16)
                .check(Expr::col(Tasks::ConcurrencyStrategy).is_in(["queue", "cancel_newest"]))
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
            .create_index(
                Index::create()
                    .name("idx_tasks_concurrency_key_status")
                    .table(Tasks::Table)
                    .col(Tasks::OrganizationId)
                    .col(Tasks::ConcurrencyKey)
                    .col(Tasks::Status)
                    .and_where(Expr::col(Tasks::ConcurrencyKey).is_not_null())
                    .to_owned(),
            )
            .await?;
        let admit = match manager.get_database_backend() {
            DatabaseBackend::Postgres => ADMIT_POSTGRES,
            _ => ADMIT_SQLITE,
        };
        manager.get_connection().execute_unprepared(admit).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let unadmit = match manager.get_database_backend() {
            DatabaseBackend::Postgres => UNADMIT_POSTGRES,
            _ => "DROP TRIGGER trg_tasks_concurrency_admit",
        };
        manager.get_connection().execute_unprepared(unadmit).await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tasks_concurrency_key_status")
                    .table(Tasks::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Tasks::ConcurrencyStrategy,
            Tasks::ConcurrencyLimit,
            Tasks::ConcurrencyKey,
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
        manager
            .drop_table(Table::drop().table(Keys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Keys {
    #[sea_orm(iden = "task_concurrency_keys")]
    Table,
    OrganizationId,
    Key,
    MaxRunning,
    Strategy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    OrganizationId,
    Status,
    ConcurrencyKey,
    ConcurrencyLimit,
    ConcurrencyStrategy,
}

#[derive(DeriveIden, Clone, Copy)]
enum Parent {
    Organizations,
    Id,
}
