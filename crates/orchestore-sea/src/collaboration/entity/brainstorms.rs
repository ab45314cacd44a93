use sea_orm::entity::prelude::*;

/// A brainstorm: `facilitator_id` is the agent or the user that is set.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "brainstorms")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub topic: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub facilitator_id: Uuid,
    pub facilitator_agent_id: Option<Uuid>,
    pub facilitator_user_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
