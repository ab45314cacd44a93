//! The audit log: its rows, the secrets kept out of them, and the hash chain that seals them.

mod audit_logs;
mod chain;
pub(crate) mod entity;
pub(crate) mod redact;
