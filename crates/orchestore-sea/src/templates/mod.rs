//! Templates and their usage history.

pub(crate) mod entity;
mod repo;

crate::scoped::entities! {
    tenanted: entity::templates::Entity => "template",
        entity::template_usages::Entity => "template_usage";
    audited:
}

crate::revision::revised! {
    entity::templates::Entity
}
