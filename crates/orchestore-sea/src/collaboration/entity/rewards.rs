use sea_orm::entity::prelude::*;

/// A reward allocated to a holder: `holder_id` is the agent or the user that is set; the
/// value's columns are those of its `kind`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "rewards")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub holder_id: Uuid,
    pub agent_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub kind: String,
    pub points: Option<i64>,
    pub badge: Option<String>,
    pub permission_code: Option<String>,
    pub duration_seconds: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub status: String,
    #[sea_orm(column_type = "Text")]
    pub allocated_by: String,
    pub allocated_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub redeemed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub redeemed_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
