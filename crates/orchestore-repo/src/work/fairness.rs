//! The shared worker fleet: one pool of workers serving every organization that joined it,
//! fairly.

use orchestore_domain::{
    AgentId, OrganizationId, QueueShare, QueueShareWeight, SharedClaim, SharedClaimRequest,
};

use crate::RepoResult;

/// Deployment-wide, for the operators of a shared deployment and its shared workers: no
/// organization's context scopes these calls, and every row they write stays in its
/// organization.
///
/// An organization joins the shared fleet when it has a share (a row in `queue_shares`), which
/// names one of its own agents: a shared claim runs as that agent, so the claimed tasks, their
/// history and the agent's counters stay in the organization, and the organization decides
/// what the fleet may take through that agent's capabilities and status.
///
/// Shared claims serve organizations by weighted round robin (stride scheduling): each
/// organization has a `pass`, the tasks it was given divided by its share; a claim serves the
/// organization with claimable work and the lowest pass (the least recently served on a tie)
/// and adds what it took divided by the share. The passes live in the database, so the
/// rotation holds across calls, processes and replicas. An organization that had no work
/// while others were served comes back at most one full claim behind the others, so it cannot
/// take the fleet over to catch up.
#[async_trait::async_trait]
pub trait SharedQueueRepo: Send + Sync {
    /// Puts `organization` on the shared fleet, or changes its agent or share: the agent must
    /// be one of the organization's (else a `Reference` error on `agent_id`). A new member
    /// starts level with the lowest pass of the others. Audited in the organization, by the
    /// system.
    async fn set_queue_share(
        &self,
        organization: OrganizationId,
        agent: AgentId,
        share: QueueShareWeight,
    ) -> RepoResult<QueueShare>;

    /// Takes `organization` off the shared fleet (`NotFound` when it is not on it); its agent
    /// and tasks stay. Audited in the organization, by the system.
    async fn remove_queue_share(&self, organization: OrganizationId) -> RepoResult<()>;

    /// The organizations on the shared fleet, in the order they would be served.
    async fn list_queue_shares(&self) -> RepoResult<Vec<QueueShare>>;

    /// Claims up to `request.limit` tasks of one organization for the shared fleet: the
    /// organization with claimable work whose turn it is (see the trait), as its fleet agent,
    /// exactly as [`QueueRepo::claim_tasks`](crate::QueueRepo::claim_tasks) would for that
    /// agent (lease, token, history; concurrent claims never take the same task), without
    /// waiting. `None` when no member has work its agent can claim. An inactive fleet agent's
    /// organization is passed over.
    async fn claim_shared_tasks(
        &self,
        request: SharedClaimRequest,
    ) -> RepoResult<Option<SharedClaim>>;
}
