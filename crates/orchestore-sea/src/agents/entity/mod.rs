//! The tables of the agents aggregate.

pub(crate) mod agent_api_keys;
pub(crate) mod agents;
