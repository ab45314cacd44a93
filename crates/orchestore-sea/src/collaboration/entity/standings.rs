use sea_orm::entity::prelude::*;

/// A holder's totals, changed only by adding to them in the database.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "standings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub holder_id: Uuid,
    pub agent_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub points: i64,
    pub experience: i64,
    pub rating: i32,
    pub matches_played: i32,
    pub updated_at: DateTimeUtc,
    /// Σ delta × 2^((occurred_at − epoch) / half-life) of the agent's reputation events: its
    /// order is the reputation's (see `orchestore_domain::reputation_key_weight`).
    pub reputation_key: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
