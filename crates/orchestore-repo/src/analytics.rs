//! Analytics of workflows, kinds of task and templates.
//!
//! Each report covers one [`AnalyticsWindow`] (at most 92 days) and is computed from the rows of
//! that window when asked, read through indexes that lead with the organization and the time:
//! no counter to keep in step, and no scan of the history beyond the window.

use orchestore_domain::{
    AnalyticsReport, AnalyticsWindow, TaskKindAnalytics, TemplateAnalytics, WorkflowAnalytics,
    WorkflowDaily, WorkflowId,
};

use crate::{Ctx, RepoResult};

/// Reports over the context's organization.
#[async_trait::async_trait]
pub trait AnalyticsRepo: Send + Sync {
    /// Each workflow with executions started in the window: how they ended, and how long
    /// those that ended took. By the workflow's name.
    async fn workflow_analytics(
        &self,
        ctx: &Ctx,
        window: AnalyticsWindow,
    ) -> RepoResult<AnalyticsReport<WorkflowAnalytics>>;
    /// One workflow's executions by the UTC day they started, every day of the window;
    /// `NotFound` when the workflow does not exist.
    async fn workflow_daily(
        &self,
        ctx: &Ctx,
        workflow: WorkflowId,
        window: AnalyticsWindow,
    ) -> RepoResult<WorkflowDaily>;
    /// The tasks that ended in the window, by kind (the capabilities they require): how they
    /// ended, their attempts, the time they waited and the time their last run took. By kind.
    async fn task_kind_analytics(
        &self,
        ctx: &Ctx,
        window: AnalyticsWindow,
    ) -> RepoResult<AnalyticsReport<TaskKindAnalytics>>;
    /// Each template used in the window: its uses, and how what those uses produced fared as
    /// it is now. By the template's name.
    async fn template_analytics(
        &self,
        ctx: &Ctx,
        window: AnalyticsWindow,
    ) -> RepoResult<AnalyticsReport<TemplateAnalytics>>;
}
