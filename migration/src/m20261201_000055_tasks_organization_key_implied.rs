//! On PostgreSQL, `tasks` no longer checks its `organization_id` against `organizations` on
//! its own: `fk_tasks_project` (`organization_id, project_id` → `projects`, `ON DELETE
//! CASCADE`) already holds every task to a project of its organization, `projects` holds its
//! organization (`fk_projects_organization`, `ON DELETE CASCADE`), and a task always has a
//! project. The organization's deletion still reaches every task, through its projects.
//!
//! The dropped check was a probe of `organizations` per inserted row: 7.3 ms of a 1,000-task
//! bulk insert's 50 (`auto_explain`, trigger times), as much as the project's own. SQLite keeps
//! the key: its check is an in-process b-tree probe, and dropping a key there means rebuilding
//! `tasks`.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE tasks DROP CONSTRAINT fk_tasks_organization")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE tasks ADD CONSTRAINT fk_tasks_organization \
                 FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE",
            )
            .await?;
        Ok(())
    }
}
