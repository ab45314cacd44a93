//! The tables of the observability aggregate.

pub(crate) mod alerts;
pub(crate) mod audit_chain_heads;
pub(crate) mod audit_logs;
pub(crate) mod component_communications;
pub(crate) mod component_health;
pub(crate) mod components;
pub(crate) mod events;
pub(crate) mod metrics;
