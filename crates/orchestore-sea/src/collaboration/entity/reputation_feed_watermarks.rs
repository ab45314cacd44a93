use sea_orm::entity::prelude::*;

/// How far the task-outcome feeder has read an organization's task history: every terminal
/// event up to `last_event_id` (a time-ordered id) has been fed.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reputation_feed_watermarks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    pub last_event_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
