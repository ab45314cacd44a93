//! Agents: the workers that claim tasks and exchange messages.
//!
//! An agent is an AI model, a person or a bot, registered in one organization with the
//! capabilities it offers (a task is claimable by an agent whose capabilities cover the task's
//! `required_capabilities`). Its status and heartbeat tell the orchestrator whether it is
//! around; its counters feed statistics without scanning the task history.

mod agent;
mod kind;
mod values;

pub use agent::{Agent, AgentPatch, AgentStats, NewAgent, agent_capabilities};
pub use kind::{AgentKind, AgentStatus};
pub use values::{ModelName, ProviderName};
