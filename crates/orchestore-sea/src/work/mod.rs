//! Projects, their tasks, the queue that runs them, and the tasks' graph (dependencies,
//! history, statistics).

mod bodies;
mod cancellation;
pub(crate) mod claim;
pub(crate) mod claim_together;
pub(crate) mod complete;
mod concurrency;
pub(crate) mod create_one;
mod enqueue;
pub(crate) mod entity;
mod fairness;
mod fairness_keys;
mod import;
mod plain_batch;
mod projects;
mod queue;
mod queue_metrics;
mod queue_stats;
mod rate_limits;
mod schedules;
mod task_graph;
mod task_records;
mod tasks;
pub(crate) mod together;
mod transitions;
pub(crate) mod wakeups;

pub use bodies::DEFAULT_INLINE_PAYLOAD_LIMIT;
pub(crate) use enqueue::{Recorded, rows_per_statement};
pub use queue_metrics::describe as describe_queue_metrics;
pub(crate) use tasks::to_task;
pub(crate) use transitions::{CHUNK, Followed};

crate::scoped::entities! {
    tenanted:
        entity::projects::Entity => "project",
        entity::rate_limits::Entity => "rate_limit",
        entity::schedules::Entity => "schedule",
        entity::tasks::Entity => "task",
        entity::task_events::Entity => "task_event";
    audited:
        entity::queue_shares::Entity => "queue_share",
}

crate::revision::revised! {
    entity::projects::Entity,
    entity::rate_limits::Entity,
    entity::schedules::Entity,
    entity::tasks::Entity,
}
