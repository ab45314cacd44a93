use sea_orm::entity::prelude::*;

/// A task's payload or result kept out of its row because it is larger than the store's inline
/// limit (see `work::bodies`); `tasks.payload_bytes` / `tasks.result_bytes` point here. Bodies go
/// with their task.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "task_bodies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub task_id: Uuid,
    /// `payload` or `result`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub body: Json,
    /// The size of `body` serialized, in bytes.
    pub bytes: i64,
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
}

impl Related<super::tasks::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Task.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
