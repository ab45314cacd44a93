use sea_orm::entity::prelude::*;

/// A template of one organization: parameters and a body with placeholders. `name_key` is the
/// name normalized for comparison: it is unique per organization.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub name_key: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub kind: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub parameters: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub body: Json,
    pub usage_count: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// 1 when created, one more with every write of the row (migration 000052).
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::template_usages::Entity")]
    Usages,
}

impl Related<super::template_usages::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Usages.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
