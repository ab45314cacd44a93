use sea_orm::entity::prelude::*;

/// An organization's weights of the combined ranking; no row means the standard ones.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "leaderboard_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    pub weight_points: f64,
    pub weight_rating: f64,
    pub weight_reputation: f64,
    pub updated_at: DateTimeUtc,
    /// 2 when first written (the defaults, with no row, are 1), one more with every write of
    /// the row (migration 000053).
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
