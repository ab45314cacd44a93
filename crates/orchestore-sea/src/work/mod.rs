//! Projects, their tasks, and the tasks' graph (dependencies, history, statistics).

pub(crate) mod entity;
mod projects;
mod task_graph;
mod tasks;
mod transitions;

crate::scoped::entities! {
    tenanted:
        entity::projects::Entity => "project",
        entity::tasks::Entity => "task",
        entity::task_events::Entity => "task_event";
    audited:
}
