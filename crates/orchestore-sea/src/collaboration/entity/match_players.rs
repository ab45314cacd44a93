use sea_orm::entity::prelude::*;

/// An agent in a match, in the order the match named it (`position`); place and ratings are
/// set when the match finishes, and the finished rows are the agent's rating history.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "match_players")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub match_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub agent_id: Uuid,
    pub position: i32,
    pub place: Option<i32>,
    pub rating_before: Option<i32>,
    pub rating_after: Option<i32>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
