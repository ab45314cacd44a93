use sea_orm::entity::prelude::*;

/// A rate limit: a token bucket of `capacity` tokens that refills from empty to full in
/// `period_seconds`, evenly. `tokens` is its balance at `refilled_at`; the balance now is
/// computed from the time since (see `work::rate_limits`). Names are unique per organization.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "rate_limits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub capacity: i64,
    pub period_seconds: i64,
    pub tokens: i64,
    pub refilled_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// 1 when created, one more with every write of the row (migration 000052).
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
