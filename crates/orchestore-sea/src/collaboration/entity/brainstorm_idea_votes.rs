use sea_orm::entity::prelude::*;

/// One voter's vote for one idea (the primary key allows no second).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "brainstorm_idea_votes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    pub brainstorm_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub idea_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub voter_id: Uuid,
    pub voter_agent_id: Option<Uuid>,
    pub voter_user_id: Option<Uuid>,
    pub voted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
