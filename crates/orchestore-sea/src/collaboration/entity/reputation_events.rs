use sea_orm::entity::prelude::*;

/// An event that moved one dimension of an agent's reputation.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reputation_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub agent_id: Uuid,
    pub dimension: String,
    pub delta: i32,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub task_id: Option<Uuid>,
    pub occurred_at: DateTimeUtc,
    /// The task history event this outcome was recorded from, unique per organization.
    pub source_event_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
