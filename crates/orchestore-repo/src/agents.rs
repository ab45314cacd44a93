//! Agents: the AI, human and bot workers of an organization.

use orchestore_domain::{
    Agent, AgentApiKey, AgentId, AgentKind, AgentPatch, AgentStats, AgentStatus, ApiKeyId,
    ApiKeySecret, Capabilities, IssuedApiKey, Name, NewAgent, OrganizationId, Permission,
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
    async fn update_agent(&self, ctx: &Ctx, id: AgentId, patch: AgentPatch) -> RepoResult<Agent>;
    /// Deletes the agent. Its counters and heartbeats go with it, and so do the messages it
    /// sent or received; the audit log keeps the snapshot and counts the messages. The tasks
    /// assigned to it are unassigned in the same transaction (the audit row counts them and
    /// lists the first ones), so that no task points at a missing agent.
    async fn delete_agent(&self, ctx: &Ctx, id: AgentId) -> RepoResult<()>;
    /// Records that the agent is alive now. An `offline` agent becomes `active` again (an
    /// audited status change); the heartbeat itself is telemetry and is not audited.
    async fn record_heartbeat(&self, ctx: &Ctx, id: AgentId) -> RepoResult<Agent>;
    /// The agent's counters with its mean task time and success rate.
    async fn agent_stats(&self, ctx: &Ctx, id: AgentId) -> RepoResult<AgentStats>;
}

crate::list_sort! {
    /// The orders of an agent's API keys.
    pub enum ApiKeySort for "agent_api_keys" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

/// What a valid API key lets its caller do: act as its agent, in its organization, with the
/// permissions of the `agent` system role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentKeyGrant {
    pub organization_id: OrganizationId,
    pub agent_id: AgentId,
    pub key_id: ApiKeyId,
    pub permissions: Vec<Permission>,
}

/// API keys of the context's organization's agents: a worker authenticates as its agent with
/// one. The key is returned once, at creation; the store keeps its SHA-256 only.
#[async_trait::async_trait]
pub trait AgentKeyRepo: Send + Sync {
    /// Creates a key for `agent` (a `Reference` error on `agent_id` when the organization has
    /// no such agent), audited without the secret.
    async fn create_agent_api_key(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        name: Name,
    ) -> RepoResult<IssuedApiKey>;
    async fn list_agent_api_keys(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        page: PageRequest<ApiKeySort>,
    ) -> RepoResult<Page<AgentApiKey, ApiKeySort>>;
    /// Stops the key working at once; revoking it again changes nothing. A key of another
    /// agent is `NotFound`.
    async fn revoke_agent_api_key(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        id: ApiKeyId,
    ) -> RepoResult<AgentApiKey>;
    /// Instance-wide, like a login: the grant of a presented key, or `NotFound` for a key that
    /// is unknown, revoked, or whose agent is `inactive`. Records when it was last used (at
    /// most once a minute).
    async fn authenticate_agent_api_key(&self, key: &ApiKeySecret) -> RepoResult<AgentKeyGrant>;
}
