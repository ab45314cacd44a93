use sea_orm::entity::prelude::*;

/// An event of one organization, appended and never changed. It names its project, workflow
/// and task by id without a foreign key: it outlives them.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub source: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub payload: Json,
    pub correlation_id: Option<String>,
    pub project_id: Option<Uuid>,
    pub workflow_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    pub occurred_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "crate::tenancy::entity::organizations::Entity",
        from = "Column::OrganizationId",
        to = "crate::tenancy::entity::organizations::Column::Id",
        on_delete = "Cascade"
    )]
    Organization,
}

impl Related<crate::tenancy::entity::organizations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
