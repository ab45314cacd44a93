//! Workflows, their versions and their executions, the tasks executions run their steps as,
//! their step logs (`execution_steps.rs`), learning records (`learning_records.rs`), and the
//! executions started from a task, cancelled with it (`child_executions.rs`).

mod child_executions;
pub(crate) mod entity;
mod execution_steps;
mod execution_tasks;
mod learning_records;
mod repo;
mod waits;

pub(crate) use repo::version_number;

crate::scoped::entities! {
    tenanted:
        entity::workflows::Entity => "workflow",
        entity::workflow_versions::Entity => "workflow_version",
        entity::workflow_executions::Entity => "workflow_execution",
        entity::execution_steps::Entity => "execution_step",
        entity::learning_records::Entity => "learning_record",
        entity::workflow_waits::Entity => "workflow_wait";
    audited:
}

crate::revision::revised! {
    entity::workflows::Entity, entity::workflow_executions::Entity
}

/// An execution's tasks page by their task's id: UUIDv7, made in the order the steps run.
impl crate::scoped::Keyed for entity::workflow_execution_tasks::Entity {
    fn id_column() -> entity::workflow_execution_tasks::Column {
        entity::workflow_execution_tasks::Column::TaskId
    }
}
