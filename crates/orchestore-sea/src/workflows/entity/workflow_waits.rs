use sea_orm::entity::prelude::*;

/// The durable wait of a waiting step of an execution: its step's `wait` as the definition
/// wrote it, its status (moved by a compare-and-set), its deadline once reached and the
/// payload of the signal that ended it. Rows go with their execution or their task.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_waits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub execution_id: Uuid,
    pub task_id: Uuid,
    pub step_name: String,
    pub signal_name: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub wait: Json,
    pub status: String,
    pub deadline: Option<DateTimeUtc>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub payload: Option<Json>,
    pub reached_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
