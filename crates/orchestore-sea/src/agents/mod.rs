//! Agents.

pub(crate) mod entity;
mod repo;

crate::scoped::entities! {
    tenanted:
        entity::agents::Entity => "agent";
    audited:
}

crate::revision::revised! {
    entity::agents::Entity
}
