use sea_orm::entity::prelude::*;

/// The task that step `step_name` of an execution runs as: a step once per execution, a task
/// for one step. Rows go with their execution or their task.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_execution_tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub execution_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub step_name: String,
    pub task_id: Uuid,
    /// Its task was cancelled because the branch of a wait it is on was not taken.
    pub skipped: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::workflow_executions::Entity",
        from = "(Column::OrganizationId, Column::ExecutionId)",
        to = "(super::workflow_executions::Column::OrganizationId, super::workflow_executions::Column::Id)",
        on_delete = "Cascade"
    )]
    Execution,
    #[sea_orm(
        belongs_to = "crate::work::entity::tasks::Entity",
        from = "(Column::OrganizationId, Column::TaskId)",
        to = "(crate::work::entity::tasks::Column::OrganizationId, crate::work::entity::tasks::Column::Id)",
        on_delete = "Cascade"
    )]
    Task,
}

impl Related<super::workflow_executions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Execution.def()
    }
}

impl Related<crate::work::entity::tasks::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Task.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
