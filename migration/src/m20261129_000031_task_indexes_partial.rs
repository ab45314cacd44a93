//! Four of `tasks`' indexes cover only the rows that have the value they index.
//!
//! A claim and a completion each write a new version of the task's row (its status is indexed,
//! so the update is never HOT), and every index gets an entry for it unless it is partial and
//! the row is outside it. Most tasks have no idempotency key, no parent and, until they end, no
//! finish time, and a queued task has no agent; every query that reads these four indexes names
//! a value of the column (`= $n`, a range, or `IS NOT NULL`), which the planner takes as the
//! predicate, so none of them needs the empty entries. Made partial, they skip three of the
//! eleven index entries a claim wrote, two of a completion's and four of an enqueue's. The
//! uniqueness of idempotency keys is unchanged: rows without a key never conflicted.
//! (`idx_tasks_organization_project_finished_at` stays whole: a project's statistics count its
//! tasks by status through it.)

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Name, `UNIQUE` or not, columns, and the column whose presence makes a row part of the index.
const INDEXES: [(&str, bool, &str, &str); 4] = [
    (
        "idx_tasks_organization_finished_at",
        false,
        "organization_id, finished_at",
        "finished_at",
    ),
    (
        "idx_tasks_organization_assigned_agent",
        false,
        "organization_id, assigned_agent_id",
        "assigned_agent_id",
    ),
    (
        "idx_tasks_organization_idempotency_key",
        true,
        "organization_id, idempotency_key",
        "idempotency_key",
    ),
    (
        "idx_tasks_organization_parent",
        false,
        "organization_id, parent_id",
        "parent_id",
    ),
];

/// Each index dropped and created again, partial (`partial`) or whole.
fn rebuild(partial: bool) -> String {
    let mut sql = String::new();
    for (name, unique, columns, present) in INDEXES {
        let unique = if unique { "UNIQUE " } else { "" };
        let predicate = if partial {
            format!(" WHERE {present} IS NOT NULL")
        } else {
            String::new()
        };
        sql.push_str(&format!(
            "DROP INDEX {name};\nCREATE {unique}INDEX {name} ON tasks ({columns}){predicate};\n"
        ));
    }
    sql
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&rebuild(true))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&rebuild(false))
            .await?;
        Ok(())
    }
}
