//! The audit log.

mod audit_logs;
pub(crate) mod entity;
