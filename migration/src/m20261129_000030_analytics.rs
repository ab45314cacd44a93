//! Indexes the analytics read their windows through, each leading with `organization_id` and
//! then the time a report ranges over: executions by the time they were started (of the
//! organization, and of one workflow), template uses by time. The kinds of task need none: the
//! tasks that ended in a window are read through `idx_tasks_organization_finished_at`
//! (migration 000008), and the queue's table gains no index.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(name, table, columns)`.
const INDEXES: [(&str, &str, &[&str]); 3] = [
    (
        "idx_workflow_executions_organization_created_at",
        "workflow_executions",
        &["organization_id", "created_at"],
    ),
    (
        "idx_workflow_executions_organization_workflow_created_at",
        "workflow_executions",
        &["organization_id", "workflow_id", "created_at"],
    ),
    (
        "idx_template_usages_organization_created_at",
        "template_usages",
        &["organization_id", "created_at"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in INDEXES {
            let mut index = Index::create();
            index.name(name).table(Alias::new(table));
            for column in columns {
                index.col(Alias::new(*column));
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
