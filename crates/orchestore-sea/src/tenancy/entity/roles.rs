use sea_orm::entity::prelude::*;

/// A bundle of permissions: a system role every organization shares (`organization_id` is
/// NULL, `is_system`) or a custom role of one organization. `(organization_id, code)` is
/// unique; that a custom code differs from every system code is checked by the repository.
///
/// `scope` is the role's organization, or the nil UUID for a system role (a check holds it):
/// `user_roles` refers to a role by `(scope, id)`, so that the schema refuses a user another
/// organization's role.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "roles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub code: String,
    pub is_system: bool,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub created_at: DateTimeUtc,
    pub scope: Uuid,
    /// 1 when created, one more with every write of the row (migration 000052).
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::role_permissions::Entity")]
    RolePermissions,
}

impl Related<super::role_permissions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RolePermissions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
