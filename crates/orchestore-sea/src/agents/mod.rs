//! Agents.

mod repo;
pub(crate) mod entity;

crate::scoped::entities! {
    tenanted: entity::agents::Entity => "agent";
    audited:
}
