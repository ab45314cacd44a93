use sea_orm::entity::prelude::*;

/// A fairness key of an organization and its place in the organization's rotation of claims:
/// its weight (the latest enqueue naming it sets it), `pass` (the tasks claims took from it
/// divided by its weight) and when a claim last took from it. The key `''` stands for the
/// organization's tasks without a key; for it, `idle_until` is until when claims take it to have
/// no work without looking (a look walks past the organization's tasks with a key).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "task_fairness_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub weight: i32,
    pub pass: f64,
    pub last_served_at: Option<DateTimeUtc>,
    pub idle_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
