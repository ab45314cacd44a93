use sea_orm::entity::prelude::*;

/// One message between two components of one organization, appended and never changed; each
/// end refers to its component by `(organization_id, id)`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "component_communications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub from_component_id: Uuid,
    pub to_component_id: Uuid,
    pub kind: String,
    pub payload_bytes: i64,
    pub latency_ms: f64,
    pub outcome: String,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::components::Entity",
        from = "(Column::OrganizationId, Column::FromComponentId)",
        to = "(super::components::Column::OrganizationId, super::components::Column::Id)",
        on_delete = "Cascade"
    )]
    From,
    #[sea_orm(
        belongs_to = "super::components::Entity",
        from = "(Column::OrganizationId, Column::ToComponentId)",
        to = "(super::components::Column::OrganizationId, super::components::Column::Id)",
        on_delete = "Cascade"
    )]
    To,
}

impl ActiveModelBehavior for ActiveModel {}
