use sea_orm::entity::prelude::*;

/// A session of a mentorship.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "mentorship_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub mentorship_id: Uuid,
    pub held_at: DateTimeUtc,
    pub duration_minutes: i32,
    #[sea_orm(column_type = "Text")]
    pub notes: String,
    pub progress: i32,
    pub recorded_by: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
