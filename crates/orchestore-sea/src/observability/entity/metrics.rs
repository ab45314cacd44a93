use sea_orm::entity::prelude::*;

/// One metric sample of a component of one organization, appended and never changed.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "metrics")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub component_id: Uuid,
    pub name: String,
    pub value: f64,
    pub unit: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub tags: Json,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::components::Entity",
        from = "(Column::OrganizationId, Column::ComponentId)",
        to = "(super::components::Column::OrganizationId, super::components::Column::Id)",
        on_delete = "Cascade"
    )]
    Component,
}

impl Related<super::components::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Component.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
