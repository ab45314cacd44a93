//! Messages between agents and users.
//!
//! A message goes from one participant (an agent or a user) to another, optionally about a
//! task and within a thread, and is marked read by its recipient. Sender and recipient are
//! kept as a kind plus an id so one table serves agent↔agent and user↔agent traffic alike.

mod message;
mod participant;

pub use message::{Message, MessageContent, MessageIds, NewMessage};
pub use participant::{Participant, ParticipantKind};
