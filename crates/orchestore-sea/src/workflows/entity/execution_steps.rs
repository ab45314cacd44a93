use sea_orm::entity::prelude::*;

/// One operation of an execution, as its worker recorded it; rows are never updated and go
/// with their execution.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "execution_steps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub execution_id: Uuid,
    pub step: String,
    pub operation: String,
    pub input_bytes: i64,
    pub output_bytes: i64,
    pub outcome: String,
    pub started_at: DateTimeUtc,
    pub finished_at: DateTimeUtc,
    pub duration_ms: i64,
    pub recorded_by: String,
    pub created_at: DateTimeUtc,
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
}

impl Related<super::workflow_executions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Execution.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
