//! The task history without foreign keys: its rows follow their tasks by a trigger instead.
//!
//! Every transition of a task appends a `task_events` row, so a job that is enqueued, claimed
//! and completed writes three. Each row's two foreign keys were checked one by one: a probe of
//! `tasks`' primary key that also locks the task's row (`FOR KEY SHARE`, a write of the row's
//! header and a WAL record), and a lock of the organization's row, which concurrent writers of
//! one organization share through a multixact. The history is written only by the store, in
//! the statement or transaction that moves its task, so the checks never found anything; they
//! cost a third of a drained job's time. And a connection keeps its plan of the check to
//! `tasks`: planned on a table analyzed while empty, that plan is a sequential scan, kept as the
//! table grows (1,000 history rows took 900 ms in a bulk enqueue of 20,000 tasks).
//!
//! What the foreign keys also did was delete a task's history with the task (and with its
//! project or organization, whose deletion deletes their tasks). A trigger on `tasks` does that
//! now, on both backends: per deleted row on SQLite, per statement on PostgreSQL (one
//! `DELETE … USING` the deleted rows). `down` restores the foreign keys and drops the trigger.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const DROP_KEYS: &str = "\
ALTER TABLE task_events DROP CONSTRAINT fk_task_events_task;
ALTER TABLE task_events DROP CONSTRAINT fk_task_events_organization;";

const FOLLOW_POSTGRES: &str = "\
CREATE FUNCTION task_events_follow_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM task_events e USING deleted_tasks d
    WHERE e.organization_id = d.organization_id AND e.task_id = d.id;
    RETURN NULL;
END $$;
CREATE TRIGGER trg_task_events_follow_tasks AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS deleted_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION task_events_follow_tasks();";

const UNFOLLOW_POSTGRES: &str = "\
DROP TRIGGER trg_task_events_follow_tasks ON tasks;
DROP FUNCTION task_events_follow_tasks();";

const RESTORE_KEYS_POSTGRES: &str = "\
ALTER TABLE task_events ADD CONSTRAINT fk_task_events_organization
    FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE;
ALTER TABLE task_events ADD CONSTRAINT fk_task_events_task
    FOREIGN KEY (organization_id, task_id) REFERENCES tasks (organization_id, id)
    ON DELETE CASCADE;";

const FOLLOW_SQLITE: &str = "\
CREATE TRIGGER trg_task_events_follow_tasks AFTER DELETE ON tasks
BEGIN
    DELETE FROM task_events WHERE organization_id = OLD.organization_id AND task_id = OLD.id;
END";

/// SQLite alters no constraint: the table is rebuilt without (`up`) or with (`down`) its
/// foreign keys, as migration 000008 declared it, rows and index kept.
fn rebuild_sqlite(with_keys: bool) -> String {
    let keys = if with_keys {
        r#", FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE CASCADE, FOREIGN KEY ("organization_id", "task_id") REFERENCES "tasks" ("organization_id", "id") ON DELETE CASCADE"#
    } else {
        ""
    };
    format!(
        r#"CREATE TABLE "task_events_rebuilt" ( "organization_id" uuid_text NOT NULL, "id" uuid_text NOT NULL, "task_id" uuid_text NOT NULL, "from_status" varchar(16) NULL CONSTRAINT "ck_task_events_from_status" CHECK ("from_status" IN ('blocked', 'queued', 'running', 'succeeded', 'failed', 'cancelled')), "to_status" varchar(16) NOT NULL CONSTRAINT "ck_task_events_to_status" CHECK ("to_status" IN ('blocked', 'queued', 'running', 'succeeded', 'failed', 'cancelled')), "actor" varchar(128) NOT NULL, "reason" text NOT NULL, "created_at" timestamp_with_timezone_text NOT NULL, CONSTRAINT "pk_task_events" PRIMARY KEY ("organization_id", "id"){keys} );
INSERT INTO "task_events_rebuilt" SELECT "organization_id", "id", "task_id", "from_status", "to_status", "actor", "reason", "created_at" FROM "task_events";
DROP TABLE "task_events";
ALTER TABLE "task_events_rebuilt" RENAME TO "task_events";
CREATE INDEX "idx_task_events_organization_task_id" ON "task_events" ("organization_id", "task_id", "id");"#
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(DROP_KEYS).await?;
                db.execute_unprepared(FOLLOW_POSTGRES).await?;
            }
            _ => {
                db.execute_unprepared(&rebuild_sqlite(false)).await?;
                db.execute_unprepared(FOLLOW_SQLITE).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(UNFOLLOW_POSTGRES).await?;
                db.execute_unprepared(RESTORE_KEYS_POSTGRES).await?;
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER trg_task_events_follow_tasks")
                    .await?;
                db.execute_unprepared(&rebuild_sqlite(true)).await?;
            }
        }
        Ok(())
    }
}
