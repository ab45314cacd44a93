use sea_orm::entity::prelude::*;

/// An organization's level ladder and K-factors; no row means the standard ones.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "collaboration_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(column_type = "JsonBinary")]
    pub level_thresholds: Json,
    pub k_factor: i32,
    pub provisional_k_factor: i32,
    pub provisional_matches: i32,
    pub updated_at: DateTimeUtc,
    /// 2 when first written (the defaults, with no row, are 1), one more with every write of
    /// the row (migration 000053).
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
