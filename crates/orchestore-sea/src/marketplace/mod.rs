//! The marketplace: publishing, browsing and searching items across organizations, and
//! installing them (`repo.rs`).

pub(crate) mod entity;
mod repo;

crate::scoped::entities! {
    tenanted: entity::marketplace_items::Entity => "marketplace_item",
        entity::marketplace_installs::Entity => "marketplace_install";
    audited:
}
