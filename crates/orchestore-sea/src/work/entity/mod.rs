//! The tables of the work aggregate.

pub(crate) mod projects;
pub(crate) mod queue_shares;
pub(crate) mod rate_limits;
pub(crate) mod schedules;
pub(crate) mod task_bodies;
pub(crate) mod task_concurrency_keys;
pub(crate) mod task_dependencies;
pub(crate) mod task_events;
pub(crate) mod task_fairness_keys;
pub(crate) mod tasks;
