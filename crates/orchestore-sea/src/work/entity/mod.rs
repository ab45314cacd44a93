//! The tables of the work aggregate.

pub(crate) mod projects;
pub(crate) mod tasks;
