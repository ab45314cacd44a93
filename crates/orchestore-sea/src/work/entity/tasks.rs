use sea_orm::entity::prelude::*;

/// A task of one project. The composite foreign keys keep its project, its parent task and its
/// assigned agent in its organization; the schema checks progress (0–100), attempts (≥ 0),
/// max attempts (1–100), the estimate and the status, and that a task holds a lease (token and
/// expiry) exactly while it is running.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub project_id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub status: String,
    pub priority: i32,
    #[sea_orm(column_type = "JsonBinary")]
    pub payload: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub required_capabilities: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub metadata: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub parent_id: Option<Uuid>,
    pub assigned_agent_id: Option<Uuid>,
    pub estimated_minutes: Option<i32>,
    pub progress: i16,
    #[sea_orm(column_type = "JsonBinary")]
    pub tags: Json,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: Option<DateTimeUtc>,
    pub idempotency_key: Option<String>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub result: Option<Json>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub error: Option<Json>,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    /// Whether the current assignment came from a claim, not from a person: undone when the
    /// run goes back to the queue.
    pub claim_assigned: bool,
    pub lease_token: Option<Uuid>,
    pub lease_expires_at: Option<DateTimeUtc>,
    /// Whether a task was ever made to depend on this one: a completion of a task without
    /// dependents is one statement on PostgreSQL (see `work::complete`).
    pub has_dependents: bool,
    /// The rate limits each claim consumes, `[{"name": …, "units": …}]` in name order; `[]`
    /// for most tasks (see `work::rate_limits`).
    #[sea_orm(column_type = "JsonBinary")]
    pub rate_limits: Json,
    /// The key whose limit bounds how many of its tasks run at once (see
    /// `work::concurrency`), with the limit and strategy the task was enqueued with.
    pub concurrency_key: Option<String>,
    pub concurrency_limit: Option<i32>,
    pub concurrency_strategy: Option<String>,
    /// The key under which claims serve the task in turn with its organization's other keys
    /// (see `work::fairness_keys`), with the weight it was enqueued with.
    pub fairness_key: Option<String>,
    pub fairness_weight: Option<i32>,
    /// Set when the payload is larger than the store's inline limit: its size in bytes. The
    /// payload is then a row of `task_bodies` and `payload` holds JSON `null`.
    pub payload_bytes: Option<i64>,
    /// The same for the result: `result` is then `NULL`.
    pub result_bytes: Option<i64>,
    /// 1 when created, one more with every write of the row (migration 000052).
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::projects::Entity",
        from = "(Column::OrganizationId, Column::ProjectId)",
        to = "(super::projects::Column::OrganizationId, super::projects::Column::Id)",
        on_delete = "Cascade"
    )]
    Project,
    #[sea_orm(
        belongs_to = "crate::agents::entity::agents::Entity",
        from = "(Column::OrganizationId, Column::AssignedAgentId)",
        to = "(crate::agents::entity::agents::Column::OrganizationId, crate::agents::entity::agents::Column::Id)"
    )]
    AssignedAgent,
    #[sea_orm(has_many = "super::task_events::Entity")]
    Events,
}

impl Related<super::projects::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Project.def()
    }
}

impl Related<crate::agents::entity::agents::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AssignedAgent.def()
    }
}

impl Related<super::task_events::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Events.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
