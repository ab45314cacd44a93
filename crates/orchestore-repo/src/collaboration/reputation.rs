//! Agents' reputation: the events that move it, and the score they add up to.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentId, NewReputationEvent, OrganizationId, Reputation, ReputationEvent, TaskId,
};

use crate::{Ctx, Page, PageRequest, RepoError, RepoResult};

crate::list_sort! {
    /// The orders of an agent's reputation events.
    pub enum ReputationEventSort for "reputation_events" {
        /// Newest first.
        OccurredAtDesc = "-occurred_at",
        /// Oldest first.
        OccurredAt = "occurred_at",
    }
}

/// What one batch of the task-outcome feeder did in an organization.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FedOutcomes {
    /// Reliability events appended: one per run that ended `succeeded` or `failed` on an agent
    /// and had none yet.
    pub recorded: u32,
    /// Whether the batch was full: more outcomes may wait after it.
    pub more: bool,
}

/// The most task outcomes one feeder batch takes.
pub const MAX_FEED_BATCH: u32 = 10_000;

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
    /// [`NewReputationEvent::task_outcome`]). When the task's history has an ending of that
    /// outcome (`succeeded`, or `failed` for good), the event is tied to the latest such ending,
    /// which counts once: if the feeder ([`feed_task_outcomes`](Self::feed_task_outcomes)) or
    /// an earlier call recorded it already, the call answers that event and adds nothing.
    async fn record_task_outcome(
        &self,
        ctx: &Ctx,
        agent: AgentId,
        task: TaskId,
        succeeded: bool,
    ) -> RepoResult<ReputationEvent>;
    /// Feeds the organization's task outcomes into reputation: one batch, in one transaction,
    /// of up to `limit` (1 to [`MAX_FEED_BATCH`]) runs that ended `succeeded` or `failed` (the
    /// dead letter) after the organization's watermark in the task history, each appended as
    /// [`record_task_outcome`](Self::record_task_outcome) appends it (standing and audit row
    /// included) for the agent the task is assigned to, with the time the run ended. Cancelled
    /// tasks, attempts that are retried and tasks without an agent add nothing; an ending that
    /// has its event already (a client's call, another feeder) is left alone.
    async fn feed_task_outcomes(&self, ctx: &Ctx, limit: u32) -> RepoResult<FedOutcomes>;
    /// Instance-wide, for the server's feeder: organizations with task outcomes to feed, at
    /// most `limit` of them.
    async fn organizations_with_task_outcomes_to_feed(
        &self,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>>;
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

/// How far one round of [`feed_every_organization`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedRound {
    /// The most organizations it visits; the rest wait for the next round.
    pub organizations: u32,
    /// The size of each batch.
    pub batch: u32,
    /// The most batches per organization, so that one backlog does not hold up the others.
    pub batches_per_organization: u32,
}

impl Default for FeedRound {
    fn default() -> Self {
        Self {
            organizations: 100,
            batch: 500,
            batches_per_organization: 20,
        }
    }
}

/// One round of the task-outcome feeder over every organization that has outcomes to feed, as
/// the system: batch after batch per organization until it is fed or its share of the round is
/// spent. Answers what each organization's batches recorded, or the error that stopped them;
/// `Err` only when the organizations could not be listed.
pub async fn feed_every_organization<S: ReputationRepo + ?Sized>(
    store: &S,
    round: FeedRound,
) -> RepoResult<Vec<(OrganizationId, Result<FedOutcomes, RepoError>)>> {
    let organizations = store
        .organizations_with_task_outcomes_to_feed(round.organizations)
        .await?;
    let mut fed = Vec::with_capacity(organizations.len());
    for org in organizations {
        let ctx = Ctx::system(org);
        let mut total = FedOutcomes::default();
        let mut outcome = Ok(());
        for _ in 0..round.batches_per_organization.max(1) {
            match store.feed_task_outcomes(&ctx, round.batch).await {
                Ok(batch) => {
                    total.recorded += batch.recorded;
                    total.more = batch.more;
                    if !batch.more {
                        break;
                    }
                }
                Err(error) => {
                    outcome = Err(error);
                    break;
                }
            }
        }
        fed.push((org, outcome.map(|()| total)));
    }
    Ok(fed)
}
