//! Workflows, their versions and their executions.

pub(crate) mod entity;
mod repo;

pub(crate) use repo::version_number;

crate::scoped::entities! {
    tenanted:
        entity::workflows::Entity => "workflow",
        entity::workflow_versions::Entity => "workflow_version",
        entity::workflow_executions::Entity => "workflow_execution";
    audited:
}
