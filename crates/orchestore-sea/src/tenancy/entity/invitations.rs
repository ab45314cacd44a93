use sea_orm::entity::prelude::*;

/// An invitation to join one organization: the SHA-256 of its token (unique per organization),
/// never the token. Pending until accepted (with the user it made), revoked or expired.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub email: String,
    pub token_hash: String,
    pub invited_by: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub accepted_user_id: Option<Uuid>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::invitation_roles::Entity")]
    InvitationRoles,
}

impl Related<super::invitation_roles::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::InvitationRoles.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
