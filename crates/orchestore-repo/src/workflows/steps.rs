//! The step log of workflow executions.

use orchestore_domain::{
    ExecutionStep, NewExecutionStep, StepName, StepOutcome, WorkflowExecutionId,
};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of an execution's step log.
    pub enum ExecutionStepSort for "execution_steps" {
        /// As recorded.
        CreatedAt = "created_at",
        /// The latest first.
        CreatedAtDesc = "-created_at",
    }
}

/// Which entries of a step log a list returns; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct ExecutionStepFilter {
    pub step: Option<StepName>,
    pub outcome: Option<StepOutcome>,
}

/// The operations executions ran, as their workers record them: append-only, one entry per
/// operation, never changed; they go with their execution.
///
/// An entry is not audited: the log is itself an append-only record of who did what (each
/// entry names who recorded it), written on the hot path of every worker, and an audit row per
/// entry would double its writes without adding anything the entry does not say.
#[async_trait::async_trait]
pub trait ExecutionStepRepo: Send + Sync {
    /// Appends an operation to the execution's log, in any status of the execution (a worker
    /// may report late). A missing execution is `NotFound`; a step its version does not have is
    /// a `Reference` error on `step`.
    async fn record_execution_step(
        &self,
        ctx: &Ctx,
        new: NewExecutionStep,
    ) -> RepoResult<ExecutionStep>;
    /// The execution's log; `NotFound` when the execution does not exist.
    async fn list_execution_steps(
        &self,
        ctx: &Ctx,
        execution: WorkflowExecutionId,
        filter: ExecutionStepFilter,
        page: PageRequest<ExecutionStepSort>,
    ) -> RepoResult<Page<ExecutionStep, ExecutionStepSort>>;
}
