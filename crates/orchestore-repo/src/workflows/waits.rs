//! Durable waits of workflow executions: steps that wait for a signal or a time.

use chrono::{DateTime, Utc};
use orchestore_domain::{OrganizationId, Payload, SignalName, WorkflowExecutionId, WorkflowWait};

use crate::{Ctx, RepoResult};

/// The waits of the executions of the context's organization.
///
/// An execution writes one wait per waiting step when it starts (`pending`); the wait is
/// `waiting` from the moment its step is reached (the steps it depends on succeeded), with its
/// deadline when it ends by itself. The step's task is never claimed: the wait ends it, in one
/// transaction with the wait's change and its audit row — succeeded with the signal's payload as
/// its result (`signalled`), succeeded when its time came (`elapsed`), or, when a signal did
/// not come in time (`timed_out`), succeeded with `{"timed_out": true}` so that its timeout
/// branch runs (its other dependents are skipped), or failed, failing the execution, when it
/// has no timeout branch. Each wait ends once: every ending is a compare-and-set on its
/// status. When the execution ends first, its open waits are `closed`.
#[async_trait::async_trait]
pub trait WaitRepo: Send + Sync {
    /// The execution's waits, in the order of its steps' tasks; `NotFound` when the execution
    /// does not exist.
    async fn list_execution_waits(
        &self,
        ctx: &Ctx,
        execution: WorkflowExecutionId,
    ) -> RepoResult<Vec<WorkflowWait>>;
    /// Sends signal `signal` to the execution: its waiting step succeeds with `payload` as
    /// its result, the steps of its timeout branch are skipped, and the steps that depend on it
    /// proceed. Returns the wait, `signalled`. `NotFound` when the execution does not exist or
    /// has no step waiting for `signal`; a `Conflict` when the execution has ended, when the
    /// step has not been reached yet (a signal is not kept for later: send it again once the
    /// wait is `waiting`), or when the wait has already ended.
    async fn signal_execution(
        &self,
        ctx: &Ctx,
        execution: WorkflowExecutionId,
        signal: &SignalName,
        payload: Payload,
    ) -> RepoResult<WorkflowWait>;
    /// Ends the organization's waits due at `now` (`waiting` with a deadline at or before it),
    /// at most `limit`, earliest first, each in its own transaction; returns those this call
    /// ended (a wait another caller ended first is left out). The server calls it every
    /// `workflows.wait_interval`; an embedder runs it on its own schedule.
    async fn fire_due_waits(
        &self,
        ctx: &Ctx,
        now: DateTime<Utc>,
        limit: u32,
    ) -> RepoResult<Vec<WorkflowWait>>;
    /// Instance-wide, for the server's periodic sweep: organizations with a wait due at
    /// `now`, at most `limit` of them.
    async fn organizations_with_due_waits(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>>;
}
