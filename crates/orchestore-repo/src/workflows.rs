//! Workflows, their immutable numbered versions, and their executions.
//!
//! Executions are records here: created `pending` and moved through their states by
//! [`WorkflowRepo::update_execution`]. Running an execution's steps as tasks comes with the task
//! queue.

use orchestore_domain::{
    ExecutionStatus, ExecutionUpdate, NewWorkflow, NewWorkflowExecution, Workflow,
    WorkflowDefinition, WorkflowExecution, WorkflowExecutionId, WorkflowId, WorkflowPatch,
    WorkflowVersion,
};

use crate::{Ctx, Page, PageRequest, RepoResult};

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
    ) -> RepoResult<Workflow>;
    /// Deletes the workflow and, with it, its versions (the audit row counts them). A
    /// workflow that has executions is kept: they record what ran, so deleting it is a
    /// `Conflict` that says how many there are.
    async fn delete_workflow(&self, ctx: &Ctx, id: WorkflowId) -> RepoResult<()>;

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

    /// Records a `pending` execution of the version named (the latest when `None`). A
    /// missing workflow is `NotFound`; a missing version number is a `Reference` error on
    /// `version`; a workflow with no version yet is a `Conflict` that says so.
    async fn create_execution(
        &self,
        ctx: &Ctx,
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
    /// Moves the execution to the update's status, following
    /// [`ExecutionStatus::TRANSITIONS`], with its output or error when it ends. Entering
    /// `running` sets `started_at`; a final status sets `finished_at`. An update that repeats
    /// the execution's state writes nothing.
    async fn update_execution(
        &self,
        ctx: &Ctx,
        id: WorkflowExecutionId,
        update: ExecutionUpdate,
    ) -> RepoResult<WorkflowExecution>;
}
