use sea_orm::entity::prelude::*;

/// A login: the SHA-256 of its current refresh token, until it expires or is revoked. A
/// refresh rewrites the hash in place and retires the old one (`session_retired_tokens`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub refresh_token_hash: String,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub refreshed_at: Option<DateTimeUtc>,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "(Column::OrganizationId, Column::UserId)",
        to = "(super::users::Column::OrganizationId, super::users::Column::Id)"
    )]
    User,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
