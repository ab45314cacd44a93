//! Projects and their tasks.

pub(crate) mod entity;
mod projects;
mod tasks;

crate::scoped::entities! {
    tenanted: entity::projects::Entity => "project", entity::tasks::Entity => "task";
    audited:
}
