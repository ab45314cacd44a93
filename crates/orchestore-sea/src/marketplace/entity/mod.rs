//! The tables of the marketplace aggregate. `marketplace_items` also has a full-text index of
//! its backend that no model names: the search reads it with its own SQL.

pub(crate) mod marketplace_installs;
pub(crate) mod marketplace_items;
