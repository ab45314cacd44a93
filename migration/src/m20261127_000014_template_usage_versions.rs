//! A template usage names the workflow version it wrote: `workflow_id` and `workflow_version`
//! (the number), as the API's paths name a version, both NULL for a task template's usage
//! and for every usage written before. A check keeps them set together, the number from 1.
//!
//! No foreign key: a usage is history and outlives what it made (a task template's usages
//! keep the ids of tasks since deleted too). Deleting a workflow must neither take the usage
//! with it (the template's `usage_count` counts its usage rows) nor be refused because of it,
//! and `SET NULL` cannot apply to a key that includes `organization_id`.
//!
//! Only nullable columns are added, so nothing is rebuilt: SQLite adds a column with a CHECK in
//! place. `down` drops the number first, since its check names `workflow_id`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        // SQLite too: the two columns come together or not at all.
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let (workflow, number) = (
            Expr::col(TemplateUsages::WorkflowId),
            Expr::col(TemplateUsages::WorkflowVersion),
        );
        // Written so that it is never NULL (a CHECK lets NULL through): both absent, or both
        // present with a number from 1.
        let together = workflow
            .clone()
            .is_null()
            .and(number.clone().is_null())
            .or(workflow
                .is_not_null()
                .and(number.clone().is_not_null())
                .and(number.gte(1)));
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(TemplateUsages::Table)
                    .add_column(uuid_null(TemplateUsages::WorkflowId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(TemplateUsages::Table)
                    .add_column(integer_null(TemplateUsages::WorkflowVersion).check(together))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [TemplateUsages::WorkflowVersion, TemplateUsages::WorkflowId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(TemplateUsages::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum TemplateUsages {
    Table,
    WorkflowId,
    WorkflowVersion,
}
