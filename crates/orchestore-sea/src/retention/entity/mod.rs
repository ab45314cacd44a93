//! The table of retention policies.

pub(crate) mod retention_policies;
