use sea_orm::entity::prelude::*;

/// A role an invitation grants. `role_scope` is the role's scope (`roles.scope`): the
/// organization for a custom role, the nil UUID for a system role; a check allows no other.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "invitation_roles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub invitation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub role_id: Uuid,
    pub role_scope: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::invitations::Entity",
        from = "(Column::OrganizationId, Column::InvitationId)",
        to = "(super::invitations::Column::OrganizationId, super::invitations::Column::Id)",
        on_delete = "Cascade"
    )]
    Invitation,
    #[sea_orm(
        belongs_to = "super::roles::Entity",
        from = "(Column::RoleScope, Column::RoleId)",
        to = "(super::roles::Column::Scope, super::roles::Column::Id)",
        on_delete = "Cascade"
    )]
    Role,
}

impl Related<super::invitations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Invitation.def()
    }
}

impl Related<super::roles::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Role.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
