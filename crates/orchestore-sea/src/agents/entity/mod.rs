//! The tables of the agents aggregate.

pub(crate) mod agents;
