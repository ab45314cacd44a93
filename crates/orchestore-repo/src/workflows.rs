//! Workflows, their immutable numbered versions, and their executions.
//!
//! An execution runs its version's steps as tasks, one per step, waiting for each other as the
//! steps depend on each other; its status follows its tasks (see
//! [`WorkflowRepo::create_execution`]).

use orchestore_domain::{
    ExecutionStatus, ExecutionTask, NewWorkflow, NewWorkflowExecution, Revision, TaskId, Workflow,
    WorkflowDefinition, WorkflowExecution, WorkflowExecutionId, WorkflowId, WorkflowPatch,
    WorkflowVersion,
};

use crate::{Ctx, Page, PageRequest, RepoResult};

mod learning;
mod steps;
mod waits;

pub use learning::{LearningFilter, LearningRepo, LearningSort};
pub use steps::{ExecutionStepFilter, ExecutionStepRepo, ExecutionStepSort};
pub use waits::WaitRepo;

crate::list_sort! {
    /// The orders of the workflow list.
    pub enum WorkflowSort for "workflows" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

crate::list_sort! {
    /// The orders of a workflow's versions.
    pub enum WorkflowVersionSort for "workflow_versions" {
        /// Version 1 first.
        Version = "version",
        /// The latest version first.
        VersionDesc = "-version",
    }
}

crate::list_sort! {
    /// The orders of the execution list.
    pub enum ExecutionSort for "workflow_executions" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

crate::list_sort! {
    /// The orders of an execution's tasks.
    pub enum ExecutionTaskSort for "workflow_execution_tasks" {
        /// As created: every step after the steps it depends on.
        CreatedAt = "created_at",
        /// The reverse.
        CreatedAtDesc = "-created_at",
    }
}

/// Which executions a list returns; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct ExecutionFilter {
    pub workflow_id: Option<WorkflowId>,
    pub status: Option<ExecutionStatus>,
}

/// Workflows of the context's organization. Names are unique per organization, compared
/// case-insensitively after Unicode normalization. A workflow's steps live in its versions,
/// numbered 1, 2, … and never changed once written; an execution runs one version.
#[async_trait::async_trait]
pub trait WorkflowRepo: Send + Sync {
    /// Creates a workflow with no version yet.
    async fn create_workflow(&self, ctx: &Ctx, new: NewWorkflow) -> RepoResult<Workflow>;
    async fn get_workflow(&self, ctx: &Ctx, id: WorkflowId) -> RepoResult<Workflow>;
    async fn list_workflows(
        &self,
        ctx: &Ctx,
        page: PageRequest<WorkflowSort>,
    ) -> RepoResult<Page<Workflow, WorkflowSort>>;
    /// Renames the workflow or changes its description; its steps change by a new version.
    async fn update_workflow(
        &self,
        ctx: &Ctx,
        id: WorkflowId,
        patch: WorkflowPatch,
        expected: Option<Revision>,
    ) -> RepoResult<Workflow>;
    /// Deletes the workflow and, with it, its versions (the audit row counts them). A
    /// workflow that has executions is kept: they record what ran, so deleting it is a
    /// `Conflict` that says how many there are.
    async fn delete_workflow(
        &self,
        ctx: &Ctx,
        id: WorkflowId,
        expected: Option<Revision>,
    ) -> RepoResult<()>;

    /// Writes the workflow's next version (its latest + 1, or 1) and makes it the latest. The
    /// workflow row is locked meanwhile, so concurrent calls get consecutive numbers.
    async fn create_version(
        &self,
        ctx: &Ctx,
        workflow: WorkflowId,
        definition: WorkflowDefinition,
    ) -> RepoResult<WorkflowVersion>;
    /// Version number `version` of the workflow; `NotFound` when the workflow or the version
    /// does not exist.
    async fn get_version(
        &self,
        ctx: &Ctx,
        workflow: WorkflowId,
        version: u32,
    ) -> RepoResult<WorkflowVersion>;
    /// The workflow's versions; `NotFound` when the workflow does not exist.
    async fn list_versions(
        &self,
        ctx: &Ctx,
        workflow: WorkflowId,
        page: PageRequest<WorkflowVersionSort>,
    ) -> RepoResult<Page<WorkflowVersion, WorkflowVersionSort>>;

    /// Starts an execution of the version named (the latest when `None`), in one transaction
    /// with its audit rows: the execution, `running`, and one task per step in
    /// `new.project_id` (as [`NewWorkflowExecution::step_tasks`] makes them, enqueued as one
    /// batch), each waiting for the tasks of the steps it depends on, so the steps that depend
    /// on none are queued and the others blocked.
    ///
    /// From then on the execution follows its tasks, in the transaction of each task's
    /// change: `succeeded` when the last of them succeeds, its `output` each step's result by
    /// step name (`null` when together they are over 1 MiB); `failed` when one fails for good
    /// (the dead letter, not a failed attempt that will be retried), its `error` naming the
    /// step and the task's error; `cancelled` when one is cancelled. The task of a step of an
    /// execution that ended is not retried ([`QueueRepo::retry_task`] is a `Conflict`: start a
    /// new execution), and the tasks of a running execution are not deleted.
    ///
    /// A missing workflow is `NotFound`; a missing version number is a `Reference` error on
    /// `version`, a project the organization does not have one on `project_id`; a workflow
    /// with no version yet is a `Conflict` that says so; an input too large to copy into every
    /// task is `Invalid` on `input`. A refused call writes nothing.
    ///
    /// [`QueueRepo::retry_task`]: crate::QueueRepo::retry_task
    async fn create_execution(
        &self,
        ctx: &Ctx,
        new: NewWorkflowExecution,
    ) -> RepoResult<WorkflowExecution>;
    /// Starts an execution as [`create_execution`](Self::create_execution) does, as a child
    /// of the task `parent`: cancelling that task, or an execution or a task it descends from,
    /// cancels the execution with its tasks (see
    /// [`QueueRepo::cancel_task`](crate::QueueRepo::cancel_task)). A parent the organization
    /// does not have is a `Reference` error on `parent_task_id`; one that succeeded or was
    /// cancelled is a `Conflict`, since its cancellation could no longer reach the child.
    async fn create_child_execution(
        &self,
        ctx: &Ctx,
        parent: TaskId,
        new: NewWorkflowExecution,
    ) -> RepoResult<WorkflowExecution>;
    async fn get_execution(
        &self,
        ctx: &Ctx,
        id: WorkflowExecutionId,
    ) -> RepoResult<WorkflowExecution>;
    async fn list_executions(
        &self,
        ctx: &Ctx,
        filter: ExecutionFilter,
        page: PageRequest<ExecutionSort>,
    ) -> RepoResult<Page<WorkflowExecution, ExecutionSort>>;
    /// The execution's steps with their tasks as they are now; `NotFound` when the execution
    /// does not exist. A task deleted after its execution ended is no longer listed.
    async fn list_execution_tasks(
        &self,
        ctx: &Ctx,
        id: WorkflowExecutionId,
        page: PageRequest<ExecutionTaskSort>,
    ) -> RepoResult<Page<ExecutionTask, ExecutionTaskSort>>;
    /// Cancels the execution and, in the same transaction, every task of it that has not
    /// ended (blocked, queued, running or failed; a running task's worker learns it at its next
    /// heartbeat), and their descendants as [`QueueRepo::cancel_task`](crate::QueueRepo::cancel_task)
    /// cancels a task's, and the executions started from any of its tasks with theirs; `error`
    /// records `reason`. Cancelling a
    /// cancelled execution changes nothing; a succeeded or failed one is an `Invalid`
    /// transition ([`ExecutionStatus::TRANSITIONS`]).
    async fn cancel_execution(
        &self,
        ctx: &Ctx,
        id: WorkflowExecutionId,
        reason: Option<String>,
        expected: Option<Revision>,
    ) -> RepoResult<WorkflowExecution>;
}
