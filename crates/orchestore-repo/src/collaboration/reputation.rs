//! Agents' reputation: the events that move it, and the score they add up to.

use chrono::{DateTime, Utc};
use orchestore_domain::{AgentId, NewReputationEvent, Reputation, ReputationEvent, TaskId};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of an agent's reputation events.
    pub enum ReputationEventSort for "reputation_events" {
        /// Newest first.
        OccurredAtDesc = "-occurred_at",
        /// Oldest first.
        OccurredAt = "occurred_at",
    }
}

#[async_trait::async_trait]
pub trait ReputationRepo: Send + Sync {
    /// Records an event. The agent and the task must exist in the organization, else a
    /// `Reference` error on `agent_id` or `task_id`.
    async fn record_reputation_event(
        &self,
        ctx: &Ctx,
        new: NewReputationEvent,
    ) -> RepoResult<ReputationEvent>;
    /// Records a task's outcome as a reliability event (see
    /// [`NewReputationEvent::task_outcome`]).
    async fn record_task_outcome(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        task: TaskId,
        succeeded: bool,
    ) -> RepoResult<ReputationEvent>;
    /// The agent's reputation at `as_of`, from the events up to then, with their decay. An
    /// agent the organization does not have is `NotFound`.
    async fn get_reputation(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        as_of: DateTime<Utc>,
    ) -> RepoResult<Reputation>;
    /// The agent's events: the history of its reputation.
    async fn list_reputation_events(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        page: PageRequest<ReputationEventSort>,
    ) -> RepoResult<Page<ReputationEvent, ReputationEventSort>>;
}
