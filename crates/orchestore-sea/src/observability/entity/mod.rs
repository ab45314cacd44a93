//! The tables of the observability aggregate.

pub(crate) mod audit_logs;
