use sea_orm::entity::prelude::*;

/// One run of one workflow version; `version` repeats the version's number. The schema ties
/// `started_at` and `finished_at` to the status.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_executions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workflow_id: Uuid,
    pub version_id: Uuid,
    pub version: i32,
    pub status: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub input: Json,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub output: Option<Json>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub error: Option<Json>,
    /// The task it was started from; no foreign key (see migration 000048).
    pub parent_task_id: Option<Uuid>,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// 1 when created, one more with every write of the row (migration 000052).
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::workflows::Entity",
        from = "(Column::OrganizationId, Column::WorkflowId)",
        to = "(super::workflows::Column::OrganizationId, super::workflows::Column::Id)"
    )]
    Workflow,
    #[sea_orm(
        belongs_to = "super::workflow_versions::Entity",
        from = "(Column::OrganizationId, Column::VersionId)",
        to = "(super::workflow_versions::Column::OrganizationId, super::workflow_versions::Column::Id)"
    )]
    Version,
}

impl Related<super::workflows::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Workflow.def()
    }
}

impl Related<super::workflow_versions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Version.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
