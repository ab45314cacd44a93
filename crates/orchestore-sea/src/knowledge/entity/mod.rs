//! The tables of the knowledge aggregate. `knowledge_entries` also has a full-text index of its
//! backend (a generated `search_vector` on PostgreSQL, FTS5 tables on SQLite) that no model
//! names: the search reads it with its own SQL (`search.rs`).

pub(crate) mod knowledge_collections;
pub(crate) mod knowledge_embeddings;
pub(crate) mod knowledge_entries;
