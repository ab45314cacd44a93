use sea_orm::entity::prelude::*;

/// An organization's retention policy: a maximum age in seconds per kind of row, NULL to keep
/// them forever. No row keeps everything.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    pub succeeded_tasks_seconds: Option<i64>,
    pub failed_tasks_seconds: Option<i64>,
    pub cancelled_tasks_seconds: Option<i64>,
    pub events_seconds: Option<i64>,
    pub metrics_seconds: Option<i64>,
    pub messages_seconds: Option<i64>,
    pub sessions_seconds: Option<i64>,
    pub audit_logs_seconds: Option<i64>,
    pub updated_at: DateTimeUtc,
    /// 2 when first written (the defaults, with no row, are 1), one more with every write of
    /// the row (migration 000053).
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
