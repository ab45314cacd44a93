//! The tables of the workflows aggregate.

pub(crate) mod execution_steps;
pub(crate) mod learning_records;
pub(crate) mod workflow_execution_tasks;
pub(crate) mod workflow_executions;
pub(crate) mod workflow_versions;
pub(crate) mod workflow_waits;
pub(crate) mod workflows;
