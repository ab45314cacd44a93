use sea_orm::entity::prelude::*;

/// Where an installed copy came from. `item_id` names another organization's row, so it has
/// no foreign key; the copy (exactly one of `workflow_id`, `template_id`) does, and the record
/// goes with it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "marketplace_installs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub item_id: Uuid,
    pub item_name: String,
    pub item_version: i32,
    pub kind: String,
    pub workflow_id: Option<Uuid>,
    pub template_id: Option<Uuid>,
    pub installed_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
