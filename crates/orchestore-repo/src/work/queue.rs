//! The queue: agents claim tasks under a lease and end each run with the lease's token.

use orchestore_domain::{
    AgentId, BatchTask, ClaimRequest, ClaimedTask, Completions, Enqueued, LeaseDuration,
    LeaseToken, NewTask, OrganizationId, Payload, Progress, QueueDepth, QueueStats, Revision, Task,
    TaskId,
};

use crate::{Ctx, RepoResult};

/// How a failed run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Retry {
    /// Queued again after a backoff while attempts are left, else `failed`.
    #[default]
    IfAttemptsLeft,
    /// `failed` at once, whatever attempts are left (an error retrying cannot fix).
    Never,
}

/// What a sweep of expired leases did in one organization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpiredLeases {
    /// Queued again: their attempts were not used up.
    pub requeued: Vec<TaskId>,
    /// Failed for good: that was their last attempt.
    pub failed: Vec<TaskId>,
}

impl ExpiredLeases {
    pub fn is_empty(&self) -> bool {
        self.requeued.is_empty() && self.failed.is_empty()
    }
}

/// What a cancellation did: the task, now `cancelled`, and what it carried along.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskCancellation {
    pub task: Task,
    pub descendants: CancelledDescendants,
}

/// How many of a cancelled task's descendants its cancellation ended, in the same transaction:
/// tasks (subtasks, the tasks waiting for it, the tasks of the workflow executions started
/// from them, and theirs in turn) and workflow executions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CancelledDescendants {
    pub tasks: u64,
    pub workflow_executions: u64,
}

/// The queue of the context's organization: claims hand out `queued` tasks under a lease, and
/// only the current lease's token ends a run. Every status change appends to the task's history
/// (actor and reason) in the same transaction; a run's end updates its agent's counters, and the
/// workflow execution the task is a step of follows it (see
/// [`WorkflowRepo::create_execution`](crate::WorkflowRepo::create_execution)).
///
/// A token that is not the task's current one — the lease expired and another worker claimed
/// the task, the task was cancelled, or the run already ended — is [`RepoError::Stale`]
/// (`409` over HTTP) and changes nothing.
///
/// [`RepoError::Stale`]: crate::RepoError::Stale
#[async_trait::async_trait]
pub trait QueueRepo: Send + Sync {
    /// Enqueues one task, idempotently: as [`TaskRepo::create_task`] creates it (with the same
    /// checks, its first history event and a `task.create` audit row), except that an
    /// `idempotency_key` the organization has used already is no error: the call answers the
    /// first task with that key as it is now, `created: false`, and writes nothing. Two calls
    /// racing with one key create one task; the other answers it.
    ///
    /// [`TaskRepo::create_task`]: crate::TaskRepo::create_task
    async fn enqueue_task(&self, ctx: &Ctx, task: NewTask) -> RepoResult<Enqueued>;

    /// Enqueues a batch of 1 to [`BatchTask::MAX_TASKS`] tasks in one transaction, all or
    /// nothing, and answers each in the order given: created, or (`created: false`) the first
    /// task with its `idempotency_key`, as [`enqueue_task`](Self::enqueue_task) does. A task
    /// may wait for existing tasks (`depends_on`) and for tasks listed before it in the batch
    /// (`depends_on_batch`, positions); it is `blocked` while one of them has not succeeded,
    /// else `queued`.
    ///
    /// The new tasks are written in multi-row statements (as many rows as the backend's limit
    /// on bound values allows per statement), with their history events, their dependency
    /// edges and one `task.enqueue` audit row for the batch (its count and the first ids,
    /// under the first created task's id); the references are checked by a few queries for
    /// the whole batch. A call that creates nothing writes nothing, the audit row included.
    ///
    /// A fault of one task is [`RepoError::InBatch`] with its position and the error
    /// [`create_task`](crate::TaskRepo::create_task) would give (`Reference` on `project_id`,
    /// `parent_id`, `assigned_agent_id` or `depends_on`; `Invalid` on `parent_id`; a
    /// `Conflict` for a cancelled dependency), or `Invalid` on `depends_on_batch` (not an
    /// earlier task) or on `idempotency_key` (an earlier task of the batch has it too); a
    /// fault of the whole batch (no task, too many tasks or dependencies) is `Invalid` on
    /// `tasks`. See [`BatchTask::check_batch`].
    ///
    /// [`RepoError::InBatch`]: crate::RepoError::InBatch
    async fn enqueue_tasks(&self, ctx: &Ctx, tasks: Vec<BatchTask>) -> RepoResult<Vec<Enqueued>>;

    /// Claims up to `request.limit` tasks for `request.agent`: `queued`, `run_after` passed,
    /// every required capability among the agent's, not assigned to another agent; highest
    /// priority first, then oldest. Each becomes `running` on the agent with one more attempt,
    /// a lease of `request.lease` and a fresh token. Concurrent claims never take the same task
    /// (PostgreSQL: `FOR NO KEY UPDATE SKIP LOCKED`; SQLite: one write transaction). A run
    /// starts when the claim holds its task, not when the claim was asked for: its lease runs
    /// from then, and its history comes after whatever the task went through before.
    ///
    /// With nothing to claim, it returns expired leases to the queue and looks again; then,
    /// with a `request.wait`, it waits for work to be queued (woken at once by a commit in
    /// this process and, on PostgreSQL, by `NOTIFY` from any process) and returns empty when
    /// the wait ends. An agent this organization does not have is a `Reference` error on
    /// `agent_id`.
    async fn claim_tasks(&self, ctx: &Ctx, request: ClaimRequest) -> RepoResult<Vec<ClaimedTask>>;

    /// Claims one given queued task for `agent`, as [`claim_tasks`](Self::claim_tasks) would:
    /// refused (`Conflict`) when it is not queued, before its `run_after`, assigned to another
    /// agent, or the agent lacks a required capability.
    async fn claim_task(
        &self,
        ctx: &Ctx,
        id: TaskId,
        agent: AgentId,
        lease: LeaseDuration,
    ) -> RepoResult<ClaimedTask>;

    /// Extends the lease of a running task to `lease` from now, optionally recording its
    /// progress. A cancelled task answers `Stale` saying so: that is how its worker learns.
    async fn heartbeat_task(
        &self,
        ctx: &Ctx,
        id: TaskId,
        token: LeaseToken,
        lease: LeaseDuration,
        progress: Option<Progress>,
    ) -> RepoResult<Task>;

    /// Ends the run in success with its `result`: the task is `succeeded`, and the blocked
    /// tasks for which it was the last open dependency are queued, in the same transaction.
    async fn complete_task(
        &self,
        ctx: &Ctx,
        id: TaskId,
        token: LeaseToken,
        result: Option<Payload>,
    ) -> RepoResult<Task>;

    /// Ends several runs in success — what one claim handed a worker — as
    /// [`complete_task`](Self::complete_task) ends each, and answers each in the order given:
    /// the succeeded task, or why that run could not end (`Stale`, `NotFound`). One refused
    /// completion does not hold up the others; an error of the whole call (the database) is
    /// the outer error.
    ///
    /// On PostgreSQL the runs of tasks that no task depends on and that run no workflow step
    /// end in one statement (the tasks, their history and their agents' counters), the others
    /// in one transaction after it — so after an outer error some runs may have ended, and
    /// completing them again answers `Stale`; on SQLite all in one transaction.
    async fn complete_tasks(
        &self,
        ctx: &Ctx,
        completions: Completions,
    ) -> RepoResult<Vec<RepoResult<Task>>>;

    /// Ends the run in failure with its `error`. With attempts left (and `retry` allowing it)
    /// the task is queued again after an exponential, jittered, capped backoff (`run_after`);
    /// otherwise it is `failed` — the dead letter — and the tasks waiting for it are cancelled.
    async fn fail_task(
        &self,
        ctx: &Ctx,
        id: TaskId,
        token: LeaseToken,
        error: Option<Payload>,
        retry: Retry,
    ) -> RepoResult<Task>;

    /// Gives the task back without using an attempt (a worker shutting down): it is queued
    /// again at once.
    async fn release_task(&self, ctx: &Ctx, id: TaskId, token: LeaseToken) -> RepoResult<Task>;

    /// Cancels a task that has not ended — blocked, queued, running or failed — with `reason`
    /// in its history, and in the same transaction every descendant that has not ended: its
    /// subtasks, the tasks waiting for it, the workflow executions started from it (see
    /// [`WorkflowRepo::create_child_execution`](crate::WorkflowRepo::create_child_execution))
    /// with their tasks, and theirs in turn; each descendant's history names the task or
    /// execution that carried the cancellation to it. The walk stops at a task that ended: what
    /// it finished stands. A running task's lease ends: its worker learns it at its next
    /// heartbeat, and its late completion is refused. A succeeded or cancelled task is
    /// `Invalid`, and the refusal changes nothing.
    async fn cancel_task(
        &self,
        ctx: &Ctx,
        id: TaskId,
        reason: Option<String>,
        expected: Option<Revision>,
    ) -> RepoResult<TaskCancellation>;

    /// Queues a `failed` task again by hand, with a fresh series of attempts (the history
    /// keeps the earlier ones). Any other status is `Invalid`.
    async fn retry_task(&self, ctx: &Ctx, id: TaskId) -> RepoResult<Task>;

    /// Returns the organization's running tasks whose lease has expired to the queue, or fails
    /// those that used their last attempt (cancelling the tasks waiting for them). At most
    /// `1000` tasks per call; the history names the expired lease.
    async fn expire_leases(&self, ctx: &Ctx) -> RepoResult<ExpiredLeases>;

    /// Instance-wide, for the server's periodic sweep: organizations that have running tasks
    /// whose lease has expired, at most `limit` of them.
    async fn organizations_with_expired_leases(
        &self,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>>;

    /// The queue right now: depth by state and by required capabilities, the oldest claimable
    /// task, and the runs that ended in the last minute. It reads the unfinished tasks (through
    /// indexes on status) and the last minute's ends (through the index on `finished_at`),
    /// never the whole table.
    async fn queue_stats(&self, ctx: &Ctx) -> RepoResult<QueueStats>;

    /// Instance-wide, for operators (`orchestore status`, the server's `/metrics`): the depth
    /// of every organization's queue together, by state. Like [`QueueRepo::queue_stats`] it
    /// reads only the unfinished tasks, through indexes: the queued and running ones through
    /// the partial indexes that hold only them, the blocked ones organization by organization.
    async fn queue_depth(&self) -> RepoResult<QueueDepth>;
}
