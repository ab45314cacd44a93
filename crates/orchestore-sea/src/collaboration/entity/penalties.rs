use sea_orm::entity::prelude::*;

/// A penalty for a violation, applied to its offender: points deducted through the ledger
/// entry `point_award_id`, or one permission suspended until `suspended_until`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "penalties")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub holder_id: Uuid,
    pub agent_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub violation_id: Uuid,
    pub kind: String,
    pub points: Option<i64>,
    pub point_award_id: Option<Uuid>,
    pub permission_code: Option<String>,
    pub suspended_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub status: String,
    #[sea_orm(column_type = "Text")]
    pub applied_by: String,
    pub applied_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    pub restored_award_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
