use sea_orm::entity::prelude::*;

/// A role held by a user. `role_scope` is the role's scope (`roles.scope`): the user's
/// organization for a custom role, the nil UUID for a system role; a check allows no other.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "user_roles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub role_id: Uuid,
    pub created_at: DateTimeUtc,
    pub role_scope: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "(Column::OrganizationId, Column::UserId)",
        to = "(super::users::Column::OrganizationId, super::users::Column::Id)"
    )]
    User,
    #[sea_orm(
        belongs_to = "super::roles::Entity",
        from = "(Column::RoleScope, Column::RoleId)",
        to = "(super::roles::Column::Scope, super::roles::Column::Id)"
    )]
    Role,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::roles::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Role.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
