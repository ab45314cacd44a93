use sea_orm::entity::prelude::*;

/// An edge of the dependency graph: `task_id` waits for `depends_on_id`, both tasks of the
/// organization. The schema refuses an edge from a task to itself; edges go with either task.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "task_dependencies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub task_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub depends_on_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::tasks::Entity",
        from = "(Column::OrganizationId, Column::TaskId)",
        to = "(super::tasks::Column::OrganizationId, super::tasks::Column::Id)",
        on_delete = "Cascade"
    )]
    Task,
    #[sea_orm(
        belongs_to = "super::tasks::Entity",
        from = "(Column::OrganizationId, Column::DependsOnId)",
        to = "(super::tasks::Column::OrganizationId, super::tasks::Column::Id)",
        on_delete = "Cascade"
    )]
    DependsOn,
}

impl ActiveModelBehavior for ActiveModel {}
