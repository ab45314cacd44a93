//! Agents: the AI, human and bot workers of an organization.

use orchestore_domain::{
    Agent, AgentId, AgentKind, AgentPatch, AgentStats, AgentStatus, Capabilities, NewAgent,
    Revision,
};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the agent list.
    pub enum AgentSort for "agents" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

/// Which agents a list returns; `None` (or no capability) matches any.
#[derive(Debug, Clone, Default)]
pub struct AgentFilter {
    pub status: Option<AgentStatus>,
    pub kind: Option<AgentKind>,
    /// Agents that have every one of these capabilities (and maybe more).
    pub capabilities: Capabilities,
}

/// Agents of the context's organization. Names are unique per organization, compared
/// case-insensitively after Unicode normalization.
#[async_trait::async_trait]
pub trait AgentRepo: Send + Sync {
    async fn create_agent(&self, ctx: &Ctx, new: NewAgent) -> RepoResult<Agent>;
    async fn get_agent(&self, ctx: &Ctx, id: AgentId) -> RepoResult<Agent>;
    async fn list_agents(
        &self,
        ctx: &Ctx,
        filter: AgentFilter,
        page: PageRequest<AgentSort>,
    ) -> RepoResult<Page<Agent, AgentSort>>;
    async fn update_agent(
        &self,
        ctx: &Ctx,
        id: AgentId,
        patch: AgentPatch,
        expected: Option<Revision>,
    ) -> RepoResult<Agent>;
    /// Deletes the agent. Its counters and heartbeats go with it, and so do the messages it
    /// sent or received; the audit log keeps the snapshot and counts the messages. The tasks
    /// assigned to it are unassigned in the same transaction (the audit row counts them and
    /// lists the first ones), so that no task points at a missing agent.
    async fn delete_agent(
        &self,
        ctx: &Ctx,
        id: AgentId,
        expected: Option<Revision>,
    ) -> RepoResult<()>;
    /// Records that the agent is alive now. An `offline` agent becomes `active` again (an
    /// audited status change); the heartbeat itself is telemetry and is not audited.
    async fn record_heartbeat(&self, ctx: &Ctx, id: AgentId) -> RepoResult<Agent>;
    /// The agent's counters with its mean task time and success rate.
    async fn agent_stats(&self, ctx: &Ctx, id: AgentId) -> RepoResult<AgentStats>;
}
