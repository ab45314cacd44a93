use sea_orm::entity::prelude::*;

/// A learning record; `score_millionths` is the score in whole millionths (0 to 1,000,000).
/// Rows are never updated.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "learning_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub pattern: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub context: Json,
    pub outcome: String,
    pub score_millionths: i64,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
