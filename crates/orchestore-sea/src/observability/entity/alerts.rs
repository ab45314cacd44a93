use sea_orm::entity::prelude::*;

/// An alert of one organization. `(organization_id, source, fingerprint)` is unique among the
/// alerts not resolved (a partial unique index).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub severity: String,
    pub source: String,
    pub fingerprint: String,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub details: Json,
    pub status: String,
    pub occurrences: i64,
    pub first_raised_at: DateTimeUtc,
    pub last_raised_at: DateTimeUtc,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
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
