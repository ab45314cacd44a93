use sea_orm::entity::prelude::*;

/// A component of one organization's system. `name_key` is the name normalized for
/// comparison: it is unique per organization.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "components")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub name_key: String,
    pub kind: String,
    pub version: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub endpoint: Option<String>,
    pub status: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub metadata: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// 1 when created, one more with every write of the row (migration 000052).
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "crate::tenancy::entity::organizations::Entity",
        from = "Column::OrganizationId",
        to = "crate::tenancy::entity::organizations::Column::Id",
        on_delete = "Cascade"
    )]
    Organization,
}

impl Related<crate::tenancy::entity::organizations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
