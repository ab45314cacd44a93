use sea_orm::entity::prelude::*;

/// An agent of one organization. `name_key` is the name normalized for comparison: it is
/// unique per organization. The counters are non-negative (checked by the schema).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "agents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub name_key: String,
    pub kind: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub capabilities: Json,
    pub status: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub config: Json,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub last_heartbeat_at: Option<DateTimeUtc>,
    pub tasks_completed: i64,
    pub tasks_failed: i64,
    pub messages_sent: i64,
    pub total_task_millis: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// 1 when created, one more with every write of the row (migration 000052).
    pub revision: i64,
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
