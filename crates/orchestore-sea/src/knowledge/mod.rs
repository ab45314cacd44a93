//! The knowledge base: entries, collections and their vectors (`entries.rs`), and search by
//! text, vector and both (`search.rs`).

pub(crate) mod entity;
mod entries;
pub(crate) mod search;

crate::scoped::entities! {
    tenanted: entity::knowledge_entries::Entity => "knowledge_entry",
        entity::knowledge_collections::Entity => "knowledge_collection";
    audited:
}

crate::revision::revised! {
    entity::knowledge_entries::Entity
}
