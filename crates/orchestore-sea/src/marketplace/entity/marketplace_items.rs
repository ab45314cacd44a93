use sea_orm::entity::prelude::*;

/// One published version of an item, owned by its publisher. `name_key` is the name as
/// compared ([`orchestore_domain::Name::key`]); versions are numbered per publisher and key.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "marketplace_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub name_key: String,
    pub version: i32,
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub tags: Json,
    #[sea_orm(column_type = "Text")]
    pub readme: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub content: Json,
    pub publisher: String,
    pub published_by: String,
    pub published_at: DateTimeUtc,
    pub unpublished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
