use sea_orm::entity::prelude::*;

/// A voter's one vote on a proposal: `voter_id` is the agent or the user that is set, and
/// `option_position` the option it chose.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "votes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub proposal_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub voter_id: Uuid,
    pub agent_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub option_position: i32,
    pub cast_at: DateTimeUtc,
    pub changed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
