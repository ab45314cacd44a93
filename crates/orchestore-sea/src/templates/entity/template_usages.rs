use sea_orm::entity::prelude::*;

/// One use of a template: its arguments, who used it and what it created.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "template_usages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub template_id: Uuid,
    #[sea_orm(column_type = "JsonBinary")]
    pub arguments: Json,
    pub created_by: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub created_entities: Json,
    /// The version a workflow template wrote, by workflow and number; both NULL otherwise
    /// (a check keeps them together). No foreign key: the usage outlives the version.
    pub workflow_id: Option<Uuid>,
    pub workflow_version: Option<i32>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::templates::Entity",
        from = "(Column::OrganizationId, Column::TemplateId)",
        to = "(super::templates::Column::OrganizationId, super::templates::Column::Id)",
        on_delete = "Cascade"
    )]
    Template,
}

impl Related<super::templates::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Template.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
