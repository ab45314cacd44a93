//! PostgreSQL: rebuild `tasks`' primary key so that it is the table's newest index.
//!
//! Every history row, dependency, message and workflow step checks its foreign key to `tasks`
//! with `SELECT 1 FROM tasks WHERE organization_id = $1 AND id = $2`. A connection plans that
//! check once and keeps the plan (a generic plan, after five runs) until the table's
//! statistics change. On a fresh database the plan is made while `tasks` is nearly empty, when
//! every index that leads with `organization_id` costs the same as the primary key — and
//! PostgreSQL breaks that tie in favour of the newest index. The check then scans the whole
//! organization on `idx_tasks_organization_project_finished_at` for every row: 1,000 history
//! rows took 556 ms instead of 30 ms once the organization had 20,000 tasks, until the first
//! `ANALYZE`. With the primary key newest, the tie goes to it. `tests/task_stats_plans.rs`
//! fails if a later index takes the place back.
//!
//! The foreign keys that depend on the key are dropped and added again with the same
//! definitions (adding one checks the rows it covers). The schema is the same before and after,
//! so `down` has nothing to undo. SQLite plans no such check: nothing to do there.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The foreign keys that refer to `tasks (organization_id, id)`: table, name, definition.
const REFERRING: [(&str, &str, &str); 6] = [
    (
        "tasks",
        "fk_tasks_parent",
        "FOREIGN KEY (organization_id, parent_id) REFERENCES tasks (organization_id, id)",
    ),
    (
        "task_dependencies",
        "fk_task_dependencies_depends_on",
        "FOREIGN KEY (organization_id, depends_on_id) REFERENCES tasks (organization_id, id) \
         ON DELETE CASCADE",
    ),
    (
        "task_dependencies",
        "fk_task_dependencies_task",
        "FOREIGN KEY (organization_id, task_id) REFERENCES tasks (organization_id, id) \
         ON DELETE CASCADE",
    ),
    (
        "task_events",
        "fk_task_events_task",
        "FOREIGN KEY (organization_id, task_id) REFERENCES tasks (organization_id, id) \
         ON DELETE CASCADE",
    ),
    (
        "messages",
        "fk_messages_task",
        "FOREIGN KEY (organization_id, task_id) REFERENCES tasks (organization_id, id) \
         ON DELETE CASCADE",
    ),
    (
        "workflow_execution_tasks",
        "fk_workflow_execution_tasks_task",
        "FOREIGN KEY (organization_id, task_id) REFERENCES tasks (organization_id, id) \
         ON DELETE CASCADE",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let mut sql = String::new();
        for (table, name, _) in REFERRING {
            sql.push_str(&format!("ALTER TABLE {table} DROP CONSTRAINT {name};\n"));
        }
        sql.push_str("ALTER TABLE tasks DROP CONSTRAINT pk_tasks;\n");
        sql.push_str(
            "ALTER TABLE tasks ADD CONSTRAINT pk_tasks PRIMARY KEY (organization_id, id);\n",
        );
        for (table, name, definition) in REFERRING {
            sql.push_str(&format!(
                "ALTER TABLE {table} ADD CONSTRAINT {name} {definition};\n"
            ));
        }
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The same schema, with the key no longer the newest index: nothing to restore.
        Ok(())
    }
}
