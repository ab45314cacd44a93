//! The tables of the observability aggregate.

pub(crate) mod audit_chain_heads;
pub(crate) mod audit_logs;
