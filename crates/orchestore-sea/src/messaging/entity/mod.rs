//! The tables of the messaging aggregate.

pub(crate) mod messages;
