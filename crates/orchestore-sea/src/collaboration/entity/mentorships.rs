use sea_orm::entity::prelude::*;

/// A mentorship: `mentor_id` and `mentee_id` are the agent or the user that is set of each.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "mentorships")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub mentor_id: Uuid,
    pub mentor_agent_id: Option<Uuid>,
    pub mentor_user_id: Option<Uuid>,
    pub mentee_id: Uuid,
    pub mentee_agent_id: Option<Uuid>,
    pub mentee_user_id: Option<Uuid>,
    #[sea_orm(column_type = "JsonBinary")]
    pub goals: Json,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
