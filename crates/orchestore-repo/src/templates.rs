//! Templates: reusable task or workflow definitions with parameters, and their usage history.

use orchestore_domain::{
    NewTemplate, NewWorkflow, ProjectId, Revision, Task, Template, TemplateId, TemplateKind,
    TemplatePatch, TemplateUsage, WorkflowId, WorkflowVersion,
};
use serde_json::{Map, Value};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the template list.
    pub enum TemplateSort for "templates" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

crate::list_sort! {
    /// The orders of a template's usage history.
    pub enum TemplateUsageSort for "template_usages" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

/// Which templates a list returns; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct TemplateFilter {
    pub kind: Option<TemplateKind>,
}

/// Where a workflow template writes its version.
#[derive(Debug, Clone)]
pub enum WorkflowTarget {
    /// The workflow's next version. A workflow this organization does not have is a
    /// `Reference` error on `workflow_id`.
    Existing(WorkflowId),
    /// Version 1 of a workflow created by the same call, so that a refused instantiation
    /// leaves no empty workflow behind. A taken name is a `Conflict` on `workflow.name`.
    New(NewWorkflow),
}

/// Templates of the context's organization. Names are unique per organization, compared
/// case-insensitively after Unicode normalization.
#[async_trait::async_trait]
pub trait TemplateRepo: Send + Sync {
    async fn create_template(&self, ctx: &Ctx, new: NewTemplate) -> RepoResult<Template>;
    async fn get_template(&self, ctx: &Ctx, id: TemplateId) -> RepoResult<Template>;
    async fn list_templates(
        &self,
        ctx: &Ctx,
        filter: TemplateFilter,
        page: PageRequest<TemplateSort>,
    ) -> RepoResult<Page<Template, TemplateSort>>;
    async fn update_template(
        &self,
        ctx: &Ctx,
        id: TemplateId,
        patch: TemplatePatch,
        expected: Option<Revision>,
    ) -> RepoResult<Template>;
    /// Deletes the template and its usage history (what it created stays; the audit row counts
    /// the usages).
    async fn delete_template(
        &self,
        ctx: &Ctx,
        id: TemplateId,
        expected: Option<Revision>,
    ) -> RepoResult<()>;
    /// Instantiates a `task` template with `arguments` into `project`: every task it yields is
    /// created, its usage recorded and the usage count raised, in one transaction. A workflow
    /// template, a bad argument or a missing project changes nothing.
    async fn instantiate_task_template(
        &self,
        ctx: &Ctx,
        id: TemplateId,
        project: ProjectId,
        arguments: Map<String, Value>,
    ) -> RepoResult<(TemplateUsage, Vec<Task>)>;
    /// Instantiates a `workflow` template with `arguments` as a new version of `target`: the
    /// filled-in body is checked as any workflow definition (unique step names, edges to known
    /// steps, no cycle), the version written (numbered as by
    /// [`WorkflowRepo::create_version`](crate::WorkflowRepo::create_version)), the usage
    /// recorded with the version it wrote and the usage count raised, in one transaction.
    /// A task template, a bad argument, a definition that does not check, a missing workflow or
    /// a taken name changes nothing.
    async fn instantiate_workflow_template(
        &self,
        ctx: &Ctx,
        id: TemplateId,
        target: WorkflowTarget,
        arguments: Map<String, Value>,
    ) -> RepoResult<(TemplateUsage, WorkflowVersion)>;
    async fn list_template_usages(
        &self,
        ctx: &Ctx,
        id: TemplateId,
        page: PageRequest<TemplateUsageSort>,
    ) -> RepoResult<Page<TemplateUsage, TemplateUsageSort>>;
}
