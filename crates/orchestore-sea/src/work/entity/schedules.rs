use sea_orm::entity::prelude::*;

/// A schedule: a cron pattern in a time zone that enqueues a task or starts a workflow at each
/// occurrence. `target` holds the task's fields or the execution's version and input;
/// `project_id` and `workflow_id` are columns for their foreign keys. `next_run_at` is moved by
/// a compare-and-set on its old value when an occurrence fires.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "schedules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub name_key: String,
    pub cron: String,
    pub time_zone: String,
    pub misfire_policy: String,
    pub target_kind: String,
    pub project_id: Uuid,
    pub workflow_id: Option<Uuid>,
    #[sea_orm(column_type = "JsonBinary")]
    pub target: Json,
    pub enabled: bool,
    pub next_run_at: Option<DateTimeUtc>,
    pub last_run_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub last_outcome: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// 1 when created, one more with every write of the row (migration 000052).
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
