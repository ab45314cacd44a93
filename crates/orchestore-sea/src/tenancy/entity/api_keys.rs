use sea_orm::entity::prelude::*;

/// An API key of one agent or one user (never both): its SHA-256 (unique per organization),
/// never the key.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub agent_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub name: String,
    pub key_hash: String,
    /// A JSON array of permission codes; NULL for all of the owner's.
    pub scopes: Option<Json>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "crate::agents::entity::agents::Entity",
        from = "(Column::OrganizationId, Column::AgentId)",
        to = "(crate::agents::entity::agents::Column::OrganizationId, crate::agents::entity::agents::Column::Id)",
        on_delete = "Cascade"
    )]
    Agent,
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "(Column::OrganizationId, Column::UserId)",
        to = "(super::users::Column::OrganizationId, super::users::Column::Id)",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<crate::agents::entity::agents::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Agent.def()
    }
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
